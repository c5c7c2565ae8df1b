// The stages' one pseudo-random generator: SplitMix64, seeded from the
// configuration, so a run's random choices (NAT ports, source-NAT ports) are
// the same every time the same seed is given. Its state is one word, cheap to
// keep per shard; its output passes BigCrush, more than port choice needs.
#pragma once

#include <cstdint>

namespace hp {

inline std::uint64_t splitmix(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

class SplitMix {
public:
    explicit SplitMix(std::uint64_t seed) : state_(seed) {}
    std::uint64_t operator()() { return state_ = splitmix(state_); }

private:
    std::uint64_t state_;
};

}  // namespace hp
