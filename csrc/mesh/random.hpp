// The mesh simulation's random numbers: one SplitMix64 stream per run, seeded
// from the caller's seed, so the same seed gives the same arrivals, latencies
// and balancer samples every time. Draws are inline and allocation-free: the
// event loop takes several per request and runs millions of requests a second.
#pragma once

#include <cmath>
#include <cstdint>

namespace hp::mesh {

class Rng {
public:
    explicit Rng(std::uint64_t seed) : state_(seed ^ 0x6a09e667f3bcc909ULL) {}

    std::uint64_t next() {
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

    // Uniform in [0, 1): the top 53 bits.
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

    // Uniform in 0..n-1 (Lemire's multiply-shift; the bias for n < 2^32 is below 2^-32).
    std::uint32_t below(std::uint32_t n) {
        return static_cast<std::uint32_t>(((next() >> 32) * static_cast<std::uint64_t>(n)) >> 32);
    }

    // Exponential with the given mean.
    double exponential(double mean) { return -mean * std::log1p(-uniform()); }

    // Standard normal by Marsaglia's polar method; the second value of each pair is kept.
    double normal() {
        if (have_spare_) {
            have_spare_ = false;
            return spare_;
        }
        double u, v, s;
        do {
            u = 2.0 * uniform() - 1.0;
            v = 2.0 * uniform() - 1.0;
            s = u * u + v * v;
        } while (s >= 1.0 || s == 0.0);
        const double f = std::sqrt(-2.0 * std::log(s) / s);
        spare_ = v * f;
        have_spare_ = true;
        return u * f;
    }

    // Lognormal with the given median and shape sigma (median * exp(sigma * N(0,1))).
    double lognormal(double median, double sigma) {
        return sigma == 0.0 ? median : median * std::exp(sigma * normal());
    }

private:
    std::uint64_t state_;
    double spare_ = 0.0;
    bool have_spare_ = false;
};

}  // namespace hp::mesh
