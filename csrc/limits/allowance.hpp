// Allowances: token buckets in packet time, in exact integer arithmetic.
//
// A bucket with a rate of r tokens per second and a depth of b tokens is kept
// as the instant it will be full again (the "theoretical arrival time" of the
// ATM Forum's GCRA), not as a token count: one number, updated with one max
// and one add per packet. All arithmetic is integral. A token is
// kUnitsPerToken (10^9) units, so the bucket refills exactly r units per
// nanosecond, and its state is V = (the ns at which it is full) * r, in units;
// at time t it holds b - max(0, V - t*r) units. With doubles, a packet sent at
// exactly the allowed rate could be held up by a rounding error of a
// femtosecond, and counted as over the allowance; with integers it never is,
// and a run replays bit for bit.
//
// Debt is allowed: a packet that must wait takes its tokens when it arrives
// (the bucket goes below zero), and the next packet waits behind it. For one
// bucket, taking at arrival and taking at departure give the same state (the
// packet departs before the bucket would be full again), so a FIFO shaper and
// this bucket agree exactly.
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/flow_key.hpp"  // uint128

namespace hp {

inline constexpr std::uint64_t kUnitsPerToken = 1'000'000'000;

// The rate and depth a bucket is held to; the state (V) lives with its owner,
// so a table of per-flow buckets shares one shape.
struct BucketShape {
    std::uint64_t rate = 0;  // tokens per second = units per ns; 0: no limit
    uint128 depth = 0;       // units

    bool limited() const { return rate != 0; }

    // `cost` units are in the bucket at `now`.
    bool has(uint128 v, std::uint64_t now, std::uint64_t cost) const {
        // b - max(0, V - t*r) >= cost  <=>  V + cost <= t*r + b  (and cost <= b)
        return rate == 0 || v + cost <= static_cast<uint128>(now) * rate + depth;
    }
    // The first ns (>= now) at which `cost` units are in the bucket.
    std::uint64_t ready(uint128 v, std::uint64_t now, std::uint64_t cost) const {
        if (has(v, now, cost)) return now;
        // Smallest t with V + cost <= t*r + b: ceil((V + cost - b) / r); only packets
        // that wait get here, so the 128-bit division stays off the common path.
        const uint128 lead = v + cost - depth;
        return static_cast<std::uint64_t>((lead + rate - 1) / rate);
    }
    // Takes `cost` units at `now`, into debt if need be.
    void take(uint128& v, std::uint64_t now, std::uint64_t cost) const {
        if (rate == 0) return;
        v = std::max(v, static_cast<uint128>(now) * rate) + cost;
    }
    // Units held at `now` (0 while in debt).
    uint128 held(uint128 v, std::uint64_t now) const {
        const uint128 floor = static_cast<uint128>(now) * rate;
        if (v <= floor) return depth;
        const uint128 lack = v - floor;
        return lack >= depth ? 0 : depth - lack;
    }
    // The state of a bucket holding `units` at `now`.
    uint128 state_holding(std::uint64_t now, uint128 units) const {
        return static_cast<uint128>(now) * rate + (depth - std::min(units, depth));
    }
};

// One bucket with its state: an instance-wide allowance (pps, bandwidth, link-local).
class Allowance {
public:
    Allowance() = default;  // no limit
    Allowance(std::uint64_t rate_per_s, uint128 depth_units) : shape_{rate_per_s, depth_units} {}

    bool limited() const { return shape_.limited(); }
    const BucketShape& shape() const { return shape_; }

    // The bucket as it is at `now`, holding `units` (full by default).
    void start(std::uint64_t now, uint128 units) { v_ = shape_.state_holding(now, units); }
    bool has(std::uint64_t now, std::uint64_t cost) const { return shape_.has(v_, now, cost); }
    std::uint64_t ready(std::uint64_t now, std::uint64_t cost) const { return shape_.ready(v_, now, cost); }
    void take(std::uint64_t now, std::uint64_t cost) { shape_.take(v_, now, cost); }
    uint128 held(std::uint64_t now) const { return limited() ? shape_.held(v_, now) : 0; }

private:
    BucketShape shape_;
    uint128 v_ = 0;  // full from time 0 until start()
};

}  // namespace hp
