// The latency a flow sees crossing the network, below its instance type's
// latency class. AWS publishes the class as a bound ("under 50 µs" between two
// instances in a placement group), not a distribution; a constant at the bound
// would make every quantile the same number. The model (an estimate,
// docs/ena.md): each flow (its directed 5-tuple) takes one path, so one
// latency, drawn from the seed and the tuple — its packets stay in order, and
// the draw does not depend on batches or threads:
//
//     latency = bound × (kFloor + (1 − kFloor) × U³),   U uniform in [0, 1)
//
// kFloor is the fixed part (the cards' processing and the wire); U³ leaves most
// flows near the floor and a tail up to the bound: median 0.475 × bound,
// p99 0.98 × bound, never above it.
#pragma once

#include <cstdint>

#include "core/packet.hpp"
#include "core/random.hpp"

namespace hp {

class PathLatency {
public:
    static constexpr double kFloor = 0.4;  // estimate

    PathLatency(std::uint64_t bound_ns, std::uint64_t seed) : bound_(static_cast<double>(bound_ns)), seed_(seed) {}

    std::uint64_t of(const Packet& p) const {
        if (bound_ == 0) return 0;
        std::uint64_t h = splitmix(seed_ ^ (std::uint64_t{p.src_ip} << 32 | p.dst_ip));
        h = splitmix(h ^ (std::uint64_t{p.src_port} << 24 | std::uint64_t{p.dst_port} << 8 | p.proto));
        const double u = static_cast<double>(h >> 11) * 0x1.0p-53;
        return static_cast<std::uint64_t>(bound_ * (kFloor + (1 - kFloor) * u * u * u));
    }

private:
    double bound_;
    std::uint64_t seed_;
};

}  // namespace hp
