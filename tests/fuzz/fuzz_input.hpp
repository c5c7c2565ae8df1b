// What the core's libFuzzer targets share: the fuzzer's bytes read as the choices of one run
// (configuration knobs first, then packets), and the checks every target makes. A target that
// finds an invariant broken aborts with what broke, so libFuzzer keeps the input.
//
// Packets are the bytes themselves, 32 at a time, with two nudges so the interesting paths are
// reached often: the protocol is TCP, UDP or ICMP three times in four (else whatever the bytes
// say, 255 included), and one timestamp in eight is an edge of time (0, 1, 2^62, 2^63, 2^64 - 1),
// the others within 18 minutes, in any order.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/packet.hpp"
#include "verdict.gen.hpp"

namespace hp::fuzz {

class Input {
public:
    Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

    template <class T>
    T take() {
        T v{};
        const std::size_t n = std::min(sizeof(T), size_ - at_);
        std::memcpy(&v, data_ + at_, n);
        at_ += n;
        return v;
    }
    // A value in [lo, hi].
    std::size_t in(std::size_t lo, std::size_t hi) { return lo + take<std::uint16_t>() % (hi - lo + 1); }
    bool flag() { return take<std::uint8_t>() & 1; }

    // Up to `max` packets from the rest of the bytes (as many as there are, else none).
    std::vector<Packet> packets(std::size_t max) {
        static constexpr std::uint64_t kEdges[] = {0, 1, 1ULL << 62, 1ULL << 63, ~0ULL};
        static constexpr std::uint8_t kProtos[] = {6, 17, 1};
        std::vector<Packet> out;
        while (out.size() < max && size_ - at_ >= sizeof(Packet)) {
            Packet p;
            std::memcpy(&p, data_ + at_, sizeof(Packet));
            at_ += sizeof(Packet);
            if ((p.reserved & 3) != 3) p.proto = kProtos[p.reserved & 3];
            // Most packets within 2^40 ns (18 minutes), so a run's metrics stay a few rows; the rest
            // at the edges of time.
            p.ts = (p.mark & 7) == 0 ? kEdges[(p.mark >> 3) % 5] : p.ts & ((1ULL << 40) - 1);
            p.reserved = 0, p.mark = 0;
            out.push_back(p);
        }
        return out;
    }
    bool done() const { return at_ >= size_; }

private:
    const std::uint8_t* data_;
    std::size_t size_, at_ = 0;
};

[[noreturn]] inline void fail(const char* what) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
}
inline void check(bool ok, const char* what) {
    if (!ok) fail(what);
}

// Packets in = forwarded + dropped by reason: the stage's tallies moved by exactly the verdicts
// it returned, every verdict one of the list's.
inline void check_conserved(const VerdictCounts& before, const VerdictCounts& after, const std::uint8_t* verdicts,
                            std::size_t n) {
    VerdictCounts seen{};
    for (std::size_t i = 0; i < n; ++i) {
        check(verdicts[i] < kVerdictCount, "a verdict outside the list");
        ++seen[verdicts[i]];
    }
    for (std::size_t v = 0; v < kVerdictCount; ++v)
        check(after[v] - before[v] == seen[v], "the tallies differ from the verdicts returned");
}

}  // namespace hp::fuzz
