// A fixed-capacity open-addressing table of connection records, after
// abseil's Swiss tables and folly's F14: slots come in groups of 15 behind a
// 16-byte control word of 7-bit tags, so one SSE2 compare tests a whole group
// and only slots whose tag matches are read. The 16th control byte counts the
// keys that probed past the group (F14's overflow count): a lookup stops at the
// first group that no key ever passed, so erasing needs no tombstones and a
// table with heavy churn keeps its probe lengths.
//
// Capacity is fixed at construction, as a NIC's connection allowance is; the
// table never grows in the packet path.
#pragma once

#include "core/machine.hpp"

#if defined(HP_SSE2)
#include <emmintrin.h>
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <type_traits>

#include "core/flow_key.hpp"
#include "core/prefetch.hpp"

namespace hp {

// 64 bytes: one cache line per connection.
struct alignas(64) FlowRecord {
    std::uint32_t ip_lo, ip_hi;  // the key (FlowKey's fields, without its padding)
    std::uint16_t port_lo, port_hi;
    std::uint8_t proto;
    std::uint8_t state;          // TcpState for TCP
    std::uint8_t flags;          // flow_flag bits
    std::uint8_t timeout_class;  // index into Timeouts::ns, kept with state and flags
    std::uint64_t first_ts;
    std::uint64_t last_ts;
    std::uint64_t bytes[2];    // [original, reply]
    std::uint32_t packets[2];  // [original, reply], modulo 2^32
    std::uint64_t ext;         // the stage's own per-connection data: read and written as its type

    // The stage's extension, a trivially copyable struct of at most 8 bytes
    // (NatExt, NlbExt, AliasExt): typed, so no stage packs bits by hand.
    template <class Ext>
    Ext ext_as() const {
        static_assert(sizeof(Ext) <= sizeof(ext) && std::is_trivially_copyable_v<Ext>, "an extension fits in 8 bytes");
        Ext e;
        std::memcpy(&e, &ext, sizeof(Ext));
        return e;
    }
    template <class Ext>
    void set_ext(const Ext& e) {
        static_assert(sizeof(Ext) <= sizeof(ext) && std::is_trivially_copyable_v<Ext>, "an extension fits in 8 bytes");
        ext = 0;
        std::memcpy(&ext, &e, sizeof(Ext));
    }

    FlowKey key() const { return FlowKey::of(ip_lo, ip_hi, port_lo, port_hi, proto); }
    bool has_key(const FlowKey& k) const {
        std::uint64_t w[2];
        std::memcpy(w, this, sizeof(w));
        return w[0] == k.ips && (w[1] & 0xff'ffff'ffffULL) == k.rest;
    }
    void set_key(const FlowKey& k) {
        ip_lo = static_cast<std::uint32_t>(k.ips), ip_hi = static_cast<std::uint32_t>(k.ips >> 32);
        port_lo = static_cast<std::uint16_t>(k.rest), port_hi = static_cast<std::uint16_t>(k.rest >> 16);
        proto = static_cast<std::uint8_t>(k.rest >> 32);
    }
};
static_assert(sizeof(FlowRecord) == 64, "a flow record is one cache line");
static_assert(offsetof(FlowRecord, port_lo) == 8 && offsetof(FlowRecord, proto) == 12,
              "the key is the record's first 13 bytes, as FlowKey's two words lay it out");

namespace flow_flag {
inline constexpr std::uint8_t orig_lo = 0x01;  // the originator is the key's lower endpoint
inline constexpr std::uint8_t seen_reply = 0x02;
inline constexpr std::uint8_t stream = 0x04;  // UDP: more than one request-response
inline constexpr std::uint8_t alias = 0x08;   // a connection's second key (alias.hpp), not a connection
}  // namespace flow_flag

class FlowTable {
public:
    static constexpr unsigned kGroupSlots = 15;
    static constexpr std::size_t npos = ~std::size_t{0};

    // Room for `capacity` records at a load of at most 80%.
    FlowTable(std::size_t capacity, const HashKey& key);
    FlowTable(FlowTable&&) noexcept = default;
    FlowTable& operator=(FlowTable&&) noexcept = default;

    std::uint64_t hash(const FlowKey& k) const { return flow_hash(k, key_); }

    void prefetch_group(std::uint64_t h) const { prefetch(&ctrl_[home(h)]); }
    // Prefetches the record of the first slot in the home group whose tag matches or, when
    // none does (a new connection, most likely), the slot insert() would take there: a new
    // connection writes its record, and at millions of flows that line is otherwise a miss
    // of its own after the decision.
    void prefetch_record(std::uint64_t h) const {
        const std::size_t g = home(h);
        const unsigned m = match(g, tag(h));
        if (const unsigned slots = m ? m : empties(g))
            prefetch(&records_[g * kGroupSlots + static_cast<unsigned>(__builtin_ctz(slots))]);
    }

    std::size_t find(const FlowKey& k, std::uint64_t h) const {
        const std::uint8_t t = tag(h);
        std::size_t g = home(h);
        for (std::size_t probed = 0; probed < groups_; ++probed) {
            for (unsigned m = match(g, t); m; m &= m - 1) {
                const std::size_t slot = g * kGroupSlots + static_cast<unsigned>(__builtin_ctz(m));
                if (records_[slot].has_key(k)) return slot;
            }
            if (ctrl_[g].bytes[kGroupSlots] == 0) return npos;
            g = next(g);
        }
        return npos;
    }
    // A free slot for a key known to be absent, with its tag set; npos when full.
    std::size_t insert(const FlowKey& k, std::uint64_t h);
    void erase(std::size_t slot);

    FlowRecord& record(std::size_t slot) { return records_[slot]; }
    const FlowRecord& record(std::size_t slot) const { return records_[slot]; }
    bool occupied(std::size_t slot) const { return !(ctrl_[slot / kGroupSlots].bytes[slot % kGroupSlots] & 0x80); }

    // The incremental sweep: visit(slot) for every occupied slot of the `slots`
    // from `cursor` on (visit may erase it), prefetching the run after so the
    // next call finds its records in cache; wrapped() each time the cursor
    // goes round the table.
    template <class Visit, class Wrapped>
    void sweep(std::size_t& cursor, std::size_t slots, Visit visit, Wrapped wrapped) {
        const std::size_t total = this->slots();
        for (std::size_t k = 0, at = cursor + slots; k < slots; ++k, ++at) {
            while (at >= total) at -= total;
            prefetch(&records_[at]);
        }
        for (std::size_t k = 0; k < slots; ++k) {
            if (occupied(cursor)) visit(cursor);
            if (++cursor == total) {
                cursor = 0;
                wrapped();
            }
        }
    }

    std::size_t size() const { return size_; }
    std::size_t capacity() const { return capacity_; }
    std::size_t slots() const { return groups_ * kGroupSlots; }
    std::size_t memory_bytes() const { return bytes_for_groups(groups_); }
    // What a table of `capacity` records takes (no overflow: capacities past memory saturate).
    static std::size_t bytes_for(std::size_t capacity) {
        if (capacity > (~std::size_t{0} >> 8)) return ~std::size_t{0};
        return bytes_for_groups(groups_for(capacity));
    }

    // The group a hash starts probing at, and the next one after `g`.
    std::size_t home(std::uint64_t h) const {
        return static_cast<std::size_t>((static_cast<uint128>(h) * groups_) >> 64);
    }
    std::size_t next(std::size_t g) const { return g + 1 == groups_ ? 0 : g + 1; }

private:
    static std::size_t groups_for(std::size_t capacity) {
        // At most 80% of slots used: probes stay within a group or two.
        return (capacity + capacity / 4 + kGroupSlots + kGroupSlots - 1) / kGroupSlots;
    }
    static std::size_t bytes_for_groups(std::size_t groups);

    struct alignas(16) Group {
        std::uint8_t bytes[16];  // 15 tags (0x80: empty; else the hash's low 7 bits), overflow count
    };
    static constexpr std::uint8_t kEmpty = 0x80;
    static std::uint8_t tag(std::uint64_t h) { return static_cast<std::uint8_t>(h & 0x7f); }
    // Bit i set: slot i of group g has tag t (or, for empties, is empty). One
    // SSE2 compare where there is SSE2; a byte loop (same result) elsewhere.
#if defined(HP_SSE2)
    unsigned match(std::size_t g, std::uint8_t t) const {
        const __m128i ctrl = _mm_load_si128(reinterpret_cast<const __m128i*>(ctrl_[g].bytes));
        const __m128i want = _mm_set1_epi8(static_cast<char>(t));
        return static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(ctrl, want))) & kSlotMask;
    }
    unsigned empties(std::size_t g) const {
        const __m128i ctrl = _mm_load_si128(reinterpret_cast<const __m128i*>(ctrl_[g].bytes));
        return static_cast<unsigned>(_mm_movemask_epi8(ctrl)) & kSlotMask;
    }
#else
    unsigned match(std::size_t g, std::uint8_t t) const {
        unsigned bits = 0;
        for (unsigned i = 0; i < kGroupSlots; ++i) bits |= static_cast<unsigned>(ctrl_[g].bytes[i] == t) << i;
        return bits;
    }
    unsigned empties(std::size_t g) const {
        unsigned bits = 0;
        for (unsigned i = 0; i < kGroupSlots; ++i) bits |= static_cast<unsigned>(ctrl_[g].bytes[i] >> 7) << i;
        return bits;
    }
#endif
    static constexpr unsigned kSlotMask = (1U << kGroupSlots) - 1;

    struct FreeDeleter {
        void operator()(void* p) const;
    };

    HashKey key_;
    std::size_t capacity_;
    std::size_t groups_;
    std::size_t size_ = 0;
    std::unique_ptr<Group[], FreeDeleter> ctrl_;
    std::unique_ptr<FlowRecord[], FreeDeleter> records_;
};

}  // namespace hp
