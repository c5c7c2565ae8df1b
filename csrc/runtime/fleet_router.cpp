#include "runtime/fleet_router.hpp"

#include <stdexcept>

#include "core/random.hpp"

namespace hp {

void FleetRouter::Map::put(std::uint32_t key, std::int32_t value) {
    if (2 * (size_ + 1) > vals_.size()) {
        // Grow to twice the size and put everything back (only when tenants are added).
        std::vector<std::uint32_t> keys = std::move(keys_);
        std::vector<std::int32_t> vals = std::move(vals_);
        const std::size_t cap = vals.empty() ? 16 : 2 * vals.size();
        keys_.assign(cap, 0), vals_.assign(cap, -1);
        mask_ = cap - 1, shift_ = 64 - static_cast<unsigned>(__builtin_ctzll(cap)), size_ = 0;
        for (std::size_t i = 0; i < vals.size(); ++i)
            if (vals[i] >= 0) put(keys[i], vals[i]);
    }
    std::size_t i = home(key);
    while (vals_[i] >= 0 && keys_[i] != key) i = (i + 1) & mask_;
    if (vals_[i] < 0) ++size_;
    keys_[i] = key, vals_[i] = value;
}

void FleetRouter::add_tenant(std::uint32_t base, std::uint32_t slots, FleetKind kind) {
    if (slots == 0) throw std::invalid_argument("slots must be positive");
    tenants_.push_back(Tenant{base, slots, kind});
}

void FleetRouter::add_address(std::uint32_t address, std::uint32_t tenant, bool from_too) {
    if (tenant >= tenants_.size()) throw std::invalid_argument("no such tenant");
    to_.put(address, static_cast<std::int32_t>(tenant));
    if (from_too) from_.put(address, static_cast<std::int32_t>(tenant));
}

void FleetRouter::add_network(std::uint32_t base, unsigned prefix, std::uint32_t tenant) {
    if (tenant >= tenants_.size()) throw std::invalid_argument("no such tenant");
    if (prefix > 32) throw std::invalid_argument("prefix must be in 0..32");
    const std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
    for (Networks& n : networks_)
        if (n.prefix == prefix) return n.map.put(base & mask, static_cast<std::int32_t>(tenant));
    networks_.push_back(Networks{prefix, mask, Map{}});
    networks_.back().map.put(base & mask, static_cast<std::int32_t>(tenant));
}

void FleetRouter::route(const Packet* in, std::size_t n, std::int32_t* tenant, std::int32_t* slot,
                        std::uint64_t* hash) const {
    for (std::size_t i = 0; i < n; ++i) {
        const Packet& p = in[i];
        std::int32_t t = to_.get(p.dst_ip);
        const bool by_dst = t >= 0;
        if (t < 0) t = from_.get(p.src_ip);
        for (std::size_t k = 0; t < 0 && k < networks_.size(); ++k)
            t = networks_[k].map.get(p.src_ip & networks_[k].mask);
        std::uint64_t a = static_cast<std::uint64_t>(p.src_ip) << 16 | p.src_port;
        std::uint64_t b = static_cast<std::uint64_t>(p.dst_ip) << 16 | p.dst_port;
        if (t >= 0 && tenants_[static_cast<std::size_t>(t)].kind == FleetKind::efs && b < a) std::swap(a, b);
        const std::uint64_t h = splitmix(a * 0x9E3779B97F4A7C15ULL ^ b * 0xC2B2AE3D27D4EB4FULL ^ p.proto);
        hash[i] = h;
        tenant[i] = t;
        if (t < 0) {
            slot[i] = -1;
            continue;
        }
        const Tenant& x = tenants_[static_cast<std::size_t>(t)];
        // The hash's high half scaled to the slots: a multiply, not a division.
        std::uint32_t s = static_cast<std::uint32_t>(((h >> 32) * x.slots) >> 32);
        if (by_dst && x.kind == FleetKind::nat) {
            const std::uint16_t port = p.proto == proto::icmp ? p.src_port : p.dst_port;
            s = port >= 1024 ? (port - 1024U) % x.slots : 0;
        }
        slot[i] = static_cast<std::int32_t>(x.base + s);
    }
}

void FleetRouter::group(const std::int32_t* slot, std::size_t n, std::size_t slots, std::uint32_t* order,
                        std::uint32_t* counts) {
    std::vector<std::uint32_t> next(slots + 1, 0);
    for (std::size_t k = 0; k <= slots; ++k) counts[k] = 0;
    for (std::size_t i = 0; i < n; ++i) ++counts[static_cast<std::size_t>(slot[i] + 1)];
    for (std::size_t k = 1; k <= slots; ++k) next[k] = next[k - 1] + counts[k - 1];
    for (std::size_t i = 0; i < n; ++i)
        order[next[static_cast<std::size_t>(slot[i] + 1)]++] = static_cast<std::uint32_t>(i);
}

}  // namespace hp
