// Token buckets and the NAT gateway's scaling limit, in packet time: a
// bucket's depth passes at once and then its rate; a scaling limit doubles
// after a busy interval, holds at its maximum, and halves after quiet ones.
#include <gtest/gtest.h>

#include "limits/scaling_limit.hpp"
#include "limits/token_bucket.hpp"

namespace hp {
namespace {

constexpr std::uint64_t kS = 1'000'000'000;

TEST(TokenBucket, DepthAtOnceThenTheRate) {
    TokenBucket b(1000, 10);  // 1000 per second, 10 deep
    int passed = 0;
    for (int i = 0; i < 20; ++i) passed += b.take(0, 1);
    EXPECT_EQ(passed, 10);
    EXPECT_FALSE(b.take(999'999, 1));  // a token takes 1 ms
    EXPECT_TRUE(b.take(1'000'000, 1));
    // Time never runs back: a packet from the past refills nothing.
    EXPECT_FALSE(b.take(0, 1));
    EXPECT_TRUE(TokenBucket().unlimited() && TokenBucket().take(0, 1e12));
}

TEST(TokenBucket, ANewRateKeepsTheTokensHeld) {
    TokenBucket b(1000, 10);
    b.set_rate(2000, 4);  // fewer tokens fit: 4 held
    int passed = 0;
    for (int i = 0; i < 10; ++i) passed += b.take(0, 1);
    EXPECT_EQ(passed, 4);
    EXPECT_DOUBLE_EQ(b.rate_per_s(), 2000);
}

// Offers `pps` for `seconds` from `start` (ns), one packet at a time; returns those that passed.
std::uint64_t offer(ScalingLimit& l, double pps, double seconds, std::uint64_t start) {
    const auto n = static_cast<std::uint64_t>(pps * seconds);
    std::uint64_t passed = 0;
    for (std::uint64_t i = 0; i < n; ++i) passed += l.take(start + static_cast<std::uint64_t>(i * 1e9 / pps), 1);
    return passed;
}

TEST(ScalingLimit, ScalesUpAfterABusyIntervalUpToItsMaximum) {
    ScalingLimit l(1000, 5000, 1);
    EXPECT_DOUBLE_EQ(l.rate_per_s(), 1000);
    // 10 s at 2,000/s: load 2 >= 0.8, so the next interval runs at 2,000.
    offer(l, 2000, 10, 0);
    EXPECT_EQ(offer(l, 2000, 0.001, 10 * kS), 2u);
    EXPECT_DOUBLE_EQ(l.rate_per_s(), 2000);
    offer(l, 4000, 10, 10 * kS + kS / 100);  // busy again: 4,000
    offer(l, 4000, 10, 20 * kS + kS / 100);  // and again: 8,000, held to the maximum
    l.take(30 * kS + kS / 2, 1);
    EXPECT_DOUBLE_EQ(l.rate_per_s(), 5000);
}

TEST(ScalingLimit, AModestLoadNeitherScalesUpNorDown) {
    ScalingLimit l(1000, 8000, 1);
    offer(l, 2000, 10, 0);            // up to 2,000
    offer(l, 1000, 70, 10 * kS + 1);  // load 0.5 for seven intervals
    EXPECT_DOUBLE_EQ(l.rate_per_s(), 2000);
}

TEST(ScalingLimit, ScalesDownAfterSixQuietIntervalsToItsBase) {
    ScalingLimit l(1000, 8000, 1);
    offer(l, 2000, 10, 0);
    offer(l, 4000, 10, 10 * kS + 1);
    l.take(20 * kS + 1, 1);
    ASSERT_DOUBLE_EQ(l.rate_per_s(), 4000);
    // Silence from 20 s: the 6th quiet interval ends at 80 s, halving to 2,000;
    // six more (140 s) to 1,000; never below the base.
    l.take(79 * kS, 1);
    EXPECT_DOUBLE_EQ(l.rate_per_s(), 4000);
    l.take(80 * kS + 1, 1);
    EXPECT_DOUBLE_EQ(l.rate_per_s(), 2000);
    l.take(1000 * kS, 1);
    EXPECT_DOUBLE_EQ(l.rate_per_s(), 1000);
}

TEST(ScalingLimit, TimeMayEndAtTwoToTheSixtyFour) {
    // The fuzzer's find: an interval's end past 2^64 wrapped round, and the roll never ended.
    ScalingLimit l(1000, 8000, 1);
    const std::uint64_t end = ~std::uint64_t{0};
    EXPECT_TRUE(l.take(end - 5 * kS, 1));
    for (int i = 0; i < 3; ++i) l.take(end, 1);  // returns: the intervals stop at the end of time
    EXPECT_DOUBLE_EQ(l.rate_per_s(), 1000);
    ScalingLimit fresh(1000, 8000, 1);
    EXPECT_TRUE(fresh.take(end, 1));
    EXPECT_FALSE(fresh.take(end, 5));  // the bucket holds one packet at the end of time too
}

TEST(ScalingLimit, UnlimitedTakesEverything) {
    ScalingLimit l;
    EXPECT_TRUE(l.unlimited());
    EXPECT_EQ(offer(l, 1e6, 0.01, 0), 10'000u);
}

}  // namespace
}  // namespace hp
