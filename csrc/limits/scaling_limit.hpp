// A limit that starts at a base rate and scales up under sustained load to a
// maximum, then drops beyond it: AWS's NAT gateway "can process one million
// packets per second and automatically scales up to ten million packets per
// second. Beyond this limit, a NAT gateway will drop packets", and "supports
// 5 Gbps of bandwidth and automatically scales up to 100 Gbps".
//
// AWS publishes the two ends, not how fast it scales. The model here (every
// figure an estimate, documented in docs/nat.md): packet time is cut in
// intervals of kIntervalNs; an interval whose offered load reached
// kScaleUpLoad of the rate doubles the rate (up to the maximum); kQuietIntervals
// in a row below kScaleDownLoad halve it (down to the base). A token bucket
// holding kBurstNs of the current rate enforces it in between. Everything
// advances with packet time, so a run replays exactly.
#pragma once

#include <algorithm>
#include <cstdint>

#include "limits/token_bucket.hpp"

namespace hp {

class ScalingLimit {
public:
    static constexpr std::uint64_t kIntervalNs = 10'000'000'000ULL;  // estimate: 10 s to react
    static constexpr double kScaleUpLoad = 0.8;                      // estimate
    static constexpr double kScaleDownLoad = 0.2;                    // estimate
    static constexpr unsigned kQuietIntervals = 6;                   // estimate: a minute of low load
    static constexpr double kBurstNs = 1e6;                          // 1 ms of the rate in the bucket

    ScalingLimit() = default;  // no limit
    // `base` and `max` per second (max >= base > 0); `least_depth` the smallest bucket (one packet, one jumbo frame).
    ScalingLimit(double base, double max, double least_depth)
        : base_(base), max_(max), least_depth_(least_depth), bucket_(base, depth(base)) {}

    bool unlimited() const { return bucket_.unlimited(); }
    double rate_per_s() const { return bucket_.rate_per_s(); }

    // Takes `cost` at `now` if the limit allows it (everything offered counts toward scaling).
    bool take(std::uint64_t now, double cost) {
        if (unlimited()) return true;
        if (now >= window_end_) roll(now);
        offered_ += cost;
        return bucket_.take(now, cost);
    }

private:
    double depth(double rate) const { return std::max(least_depth_, rate * kBurstNs / 1e9); }

    // t + by, held at the end of time (a trace may be stamped up to 2^64 - 1 ns).
    static std::uint64_t later(std::uint64_t t, std::uint64_t by) { return t > kEnd - by ? kEnd : t + by; }

    void roll(std::uint64_t now) {
        if (window_end_ == 0) {  // the first packet starts the first interval
            window_end_ = later(now, kIntervalNs);
            return;
        }
        // The interval just ended, then any empty ones up to now.
        double rate = bucket_.rate_per_s();
        for (bool first = true; now >= window_end_ && window_end_ != kEnd; first = false) {
            const double load = first ? offered_ / (rate * static_cast<double>(kIntervalNs) / 1e9) : 0.0;
            if (load >= kScaleUpLoad) {
                rate = std::min(max_, rate * 2), quiet_ = 0;
            } else if (load < kScaleDownLoad && ++quiet_ >= kQuietIntervals) {
                rate = std::max(base_, rate / 2), quiet_ = 0;
            } else if (load >= kScaleDownLoad) {
                quiet_ = 0;
            }
            window_end_ = later(window_end_, kIntervalNs);
            if (rate == base_ && !first && now >= window_end_) {  // nothing changes through more empty intervals
                window_end_ = later(window_end_, (now - window_end_) / kIntervalNs * kIntervalNs);
            }
        }
        offered_ = 0;
        bucket_.set_rate(rate, depth(rate));
    }

    static constexpr std::uint64_t kEnd = ~std::uint64_t{0};
    double base_ = 0, max_ = 0, least_depth_ = 0;
    TokenBucket bucket_;
    std::uint64_t window_end_ = 0;
    double offered_ = 0;
    unsigned quiet_ = 0;
};

}  // namespace hp
