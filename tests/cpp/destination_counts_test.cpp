// The per-destination counts (NAT's 55,000 limit) against std::map as the
// model: random adds and removes over few destinations in a small map, so runs
// of collisions form and backward-shift deletion is exercised; and the
// earliest-deadline bound, which must never be later than a live deadline.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <vector>

#include "table/destination_counts.hpp"

namespace hp {
namespace {

TEST(DestinationCounts, KeysAreNeverZero) {
    EXPECT_NE(DestinationCounts::key_of(0, 0, 0, 0), 0u);
    EXPECT_NE(DestinationCounts::key_of(1, 0, 0, 0), DestinationCounts::key_of(0, 0, 0, 0));
}

class DestinationChurn : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(DestinationChurn, MatchesTheModel) {
    std::mt19937_64 rng(GetParam());
    DestinationCounts counts(40, HashKey{{GetParam(), 5, 6, 7}});  // 96 slots for up to 60 keys
    std::map<std::uint64_t, std::vector<std::uint64_t>> model;     // key -> deadlines of its connections
    auto key = [](std::uint64_t d) {
        return DestinationCounts::key_of(static_cast<std::uint8_t>(d % 3), 0xc6336400u + static_cast<std::uint32_t>(d),
                                         443, 6);
    };
    for (int step = 0; step < 100'000; ++step) {
        const std::uint64_t k = key(rng() % 60);
        auto& live = model[k];
        if (rng() % 2 || live.empty()) {
            const std::uint64_t deadline = 1000 + rng() % 1000;
            counts.add(k, deadline);
            live.push_back(deadline);
        } else {
            live.erase(live.begin() + static_cast<std::ptrdiff_t>(rng() % live.size()));
            counts.remove(k);
        }
        if (step % 97 == 0) {
            for (const auto& [mk, deadlines] : model) {
                ASSERT_EQ(counts.count(mk), deadlines.size());
                if (!deadlines.empty()) {
                    EXPECT_LE(counts.earliest(mk), *std::min_element(deadlines.begin(), deadlines.end()));
                }
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Seeds, DestinationChurn, ::testing::Values(1, 2, 3));

TEST(DestinationCounts, RebuiltBoundsAreExact) {
    DestinationCounts counts(10, HashKey{{1, 2, 3, 4}});
    const std::uint64_t a = DestinationCounts::key_of(0, 1, 80, 6), b = DestinationCounts::key_of(0, 2, 80, 6);
    counts.add(a, 100);
    counts.add(a, 300);
    counts.add(b, 200);
    EXPECT_EQ(counts.earliest(a), 100u);
    counts.remove(a);  // the connection with deadline 100 left: the bound may stay early ...
    counts.forget_deadlines();
    counts.note(a, 300);  // ... until it is rebuilt from the live ones
    counts.note(b, 200);
    EXPECT_EQ(counts.earliest(a), 300u);
    EXPECT_EQ(counts.earliest(b), 200u);
    EXPECT_EQ(counts.count(a), 1u);
    counts.remove(a);
    EXPECT_EQ(counts.count(a), 0u);
    EXPECT_EQ(counts.earliest(a), ~std::uint64_t{0});
}

}  // namespace
}  // namespace hp
