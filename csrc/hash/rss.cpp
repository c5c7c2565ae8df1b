#include "hash/rss.hpp"

#include "core/cpu.hpp"

#include <stdexcept>
#include <utility>

namespace hp {
namespace {

void put_be32(std::uint8_t* out, std::uint32_t v) {
    out[0] = static_cast<std::uint8_t>(v >> 24);
    out[1] = static_cast<std::uint8_t>(v >> 16);
    out[2] = static_cast<std::uint8_t>(v >> 8);
    out[3] = static_cast<std::uint8_t>(v);
}

void put_be16(std::uint8_t* out, std::uint16_t v) {
    out[0] = static_cast<std::uint8_t>(v >> 8);
    out[1] = static_cast<std::uint8_t>(v);
}

}  // namespace

std::size_t rss_input(const Packet& p, FragmentHash fragments, std::uint8_t out[12]) {
    put_be32(out, p.src_ip);
    put_be32(out + 4, p.dst_ip);
    if (!rss_hashes_ports(p, fragments)) return 8;
    put_be16(out + 8, p.src_port);
    put_be16(out + 10, p.dst_port);
    return 12;
}

ToeplitzImpl best_toeplitz_impl() { return cpu_has_avx512_gfni() ? ToeplitzImpl::gfni : ToeplitzImpl::table; }

bool toeplitz_impl_available(ToeplitzImpl impl) { return impl != ToeplitzImpl::gfni || cpu_has_avx512_gfni(); }

Rss::Rss(const RssKey& key, std::vector<std::uint16_t> indirection, FragmentHash fragments)
    : key_(key),
      table_(key.data(), key.size(), 12),
      gfni_(toeplitz_gfni_matrices(key.data(), key.size())),
      mask_(0),
      fragments_(fragments) {
    set_indirection(std::move(indirection));
}

void Rss::set_indirection(std::vector<std::uint16_t> indirection) {
    const std::size_t size = indirection.size();
    if (size == 0 || (size & (size - 1)) != 0)
        throw std::invalid_argument("indirection table size must be a power of two");
    indirection_ = std::move(indirection);
    mask_ = static_cast<std::uint32_t>(size - 1);
}

void Rss::hash(const Packet* pkts, std::size_t n, std::uint32_t* out, ToeplitzImpl impl) const {
    if (!toeplitz_impl_available(impl))
        throw std::invalid_argument("toeplitz implementation not available on this CPU");
    std::size_t done = 0;
    switch (impl) {
        case ToeplitzImpl::bitserial: {
            std::uint8_t input[12];
            for (; done < n; ++done) {
                const std::size_t len = rss_input(pkts[done], fragments_, input);
                out[done] = toeplitz_bitserial(key_.data(), key_.size(), input, len);
            }
            return;
        }
        case ToeplitzImpl::gfni:
            done = toeplitz_gfni_ipv4(gfni_, pkts, n, out, fragments_ == FragmentHash::whole_datagram);
            break;
        case ToeplitzImpl::table:
            break;
    }
    for (; done < n; ++done) {
        __builtin_prefetch(pkts + done + kPrefetchAhead);
        out[done] = hash_one(pkts[done]);
    }
}

void Rss::queue(const Packet* pkts, std::size_t n, std::uint16_t* out) const {
    // Hash a burst at a time into a buffer that stays in L1, then map it.
    constexpr std::size_t kBurst = 256;
    std::uint32_t hashes[kBurst];
    const ToeplitzImpl impl = best_toeplitz_impl();
    for (std::size_t base = 0; base < n; base += kBurst) {
        const std::size_t count = n - base < kBurst ? n - base : kBurst;
        hash(pkts + base, count, hashes, impl);
        for (std::size_t i = 0; i < count; ++i) out[base + i] = indirection_[hashes[i] & mask_];
    }
}

}  // namespace hp
