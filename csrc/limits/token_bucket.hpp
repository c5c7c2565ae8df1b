// A token bucket in packet time: `rate` tokens per second, at most `depth`
// held. Time only moves forward; a packet from the past refills nothing.
#pragma once

#include <algorithm>
#include <cstdint>

namespace hp {

class TokenBucket {
public:
    TokenBucket() = default;
    TokenBucket(double rate_per_s, double depth) : rate_(rate_per_s / 1e9), depth_(depth), tokens_(depth) {}

    bool unlimited() const { return rate_ <= 0; }
    double rate_per_s() const { return rate_ * 1e9; }
    // A new rate and depth from now on; the tokens held stay (at most the new depth).
    void set_rate(double rate_per_s, double depth) {
        rate_ = rate_per_s / 1e9, depth_ = depth;
        tokens_ = std::min(tokens_, depth_);
    }

    // Takes `cost` tokens at time `now` (ns) if the bucket holds them.
    bool take(std::uint64_t now, double cost) {
        if (unlimited()) return true;
        if (now > last_) {
            tokens_ = std::min(depth_, tokens_ + static_cast<double>(now - last_) * rate_);
            last_ = now;
        }
        if (tokens_ < cost) return false;
        tokens_ -= cost;
        return true;
    }

private:
    double rate_ = 0;  // tokens per ns; 0: no limit
    double depth_ = 0;
    double tokens_ = 0;
    std::uint64_t last_ = 0;
};

}  // namespace hp
