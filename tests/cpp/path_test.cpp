// The packet path's hop dispatch (topology/path_dispatch.hpp) and the packet-rate allowance
// two directions share (limits/shared_allowance.hpp): ordering pending parts is a stable sort
// by time; dispatch groups by next node in order and hands a uniform batch on whole; the
// shared bucket lets the side behind meet the side ahead's packets in time order.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "limits/shared_allowance.hpp"
#include "topology/path_dispatch.hpp"

namespace hp {
namespace {

TEST(PathOrder, MergesPartsStablyByTime) {
    const std::vector<std::uint64_t> ts = {5, 1, 3, 3, 2, 9};
    const std::vector<std::int64_t> a = {1, 2, 5}, b = {4, 3, 0};  // a in order; b not
    std::vector<std::int64_t> out(6);
    path::order({{a.data(), a.size(), true}, {b.data(), b.size(), false}}, ts.data(), ts.size(), out.data());
    EXPECT_EQ(out, (std::vector<std::int64_t>{1, 4, 2, 3, 0, 5}));  // ts 3: part a's 2 before part b's 3
    const std::vector<std::int64_t> bad = {6};
    EXPECT_THROW(path::order({{bad.data(), 1, true}}, ts.data(), ts.size(), out.data()), std::invalid_argument);
}

TEST(PathDispatch, GroupsByNextNodeAndWritesTheDone) {
    const std::vector<std::uint64_t> ts = {10, 11, 12, 13, 14};
    const std::vector<std::int64_t> idx = {0, 1, 2, 3, 4}, nxt = {2, 1, -1, 2, 1};
    const std::vector<std::uint8_t> v = {0, 0, 0, 0, 7};
    std::vector<std::uint8_t> verdict(5, 255);
    std::vector<std::int32_t> hop(5, -1);
    std::vector<std::uint64_t> counts(16, 0);
    std::vector<std::int64_t> grouped(5);
    path::Groups g;
    const std::size_t m = path::dispatch(idx.data(), 5, v.data(), nxt.data(), -1, false, 3, 4, ts.data(), true, 5,
                                         verdict.data(), hop.data(), counts.data(), counts.size(), grouped.data(), g);
    ASSERT_EQ(m, 3u);
    EXPECT_EQ(g.targets, (std::vector<std::int64_t>{1, 2}));
    EXPECT_EQ(g.heads, (std::vector<std::uint64_t>{11, 10}));
    EXPECT_EQ(std::vector<std::int64_t>(grouped.begin(), grouped.begin() + 3), (std::vector<std::int64_t>{1, 0, 3}));
    EXPECT_EQ(verdict, (std::vector<std::uint8_t>{255, 255, 0, 255, 7}));
    EXPECT_EQ(hop, (std::vector<std::int32_t>{-1, -1, 3, -1, 3}));
    EXPECT_EQ(counts[0], 4u);
    EXPECT_EQ(counts[7], 1u);
    EXPECT_FALSE(g.whole);
    // All forwarded to one node: handed on whole.
    const std::vector<std::uint8_t> ok(5, 0);
    path::dispatch(idx.data(), 5, ok.data(), nullptr, 2, false, 3, 4, ts.data(), true, 5, verdict.data(), hop.data(),
                   counts.data(), counts.size(), grouped.data(), g);
    EXPECT_TRUE(g.whole);
    EXPECT_EQ(g.targets, (std::vector<std::int64_t>{2}));
    // Next nodes per packet of the batch (`indirect`): packet idx[i]'s is then[idx[i]].
    const std::vector<std::int64_t> some = {3, 4}, then = {0, 0, 0, 1, 2};
    path::dispatch(some.data(), 2, ok.data(), then.data(), -1, true, 3, 4, ts.data(), true, 5, verdict.data(),
                   hop.data(), counts.data(), counts.size(), grouped.data(), g);
    EXPECT_EQ(g.targets, (std::vector<std::int64_t>{1, 2}));
    const std::vector<std::int64_t> far = {0, 9, 0, 0, 0};
    EXPECT_THROW(path::dispatch(idx.data(), 5, v.data(), far.data(), -1, false, 3, 4, ts.data(), true, 5,
                                verdict.data(), hop.data(), counts.data(), counts.size(), grouped.data(), g),
                 std::invalid_argument);
}

TEST(SharedAllowance, TheSideBehindMeetsTheSideAheadInTimeOrder) {
    constexpr std::uint64_t one = kUnitsPerToken;
    SharedAllowance s(1000, 2 * one);  // 1000 per second, two deep
    s.start(0);
    // Side 0 runs ahead: two packets at 0 and one at 1 ms take the bucket's three tokens.
    for (const std::uint64_t t : {0ULL, 0ULL, 1'000'000ULL}) {
        Allowance& b = s.at(0, t);
        ASSERT_TRUE(b.has(t, one));
        b.take(t, one);
        s.took(0, t);
    }
    s.done();
    // Side 1 comes later with a packet at 0.5 ms: it meets side 0's two takes at 0, not the one at 1 ms.
    Allowance& b = s.at(1, 500'000);
    EXPECT_FALSE(b.has(500'000, one));             // empty at 0.5 ms: both tokens went at 0
    EXPECT_EQ(b.ready(500'000, one), 1'000'000u);  // the first one back at 1 ms
    b.take(500'000, one);
    s.took(1, 500'000);
    s.done();
    // Side 0 now sees side 1's take too: four tokens gone by 1 ms (two held, one a ms), so the
    // next is there at 3 ms, not at 2 ms as side 0's own three would leave it.
    EXPECT_FALSE(s.at(0, 1'000'000).has(2'999'999, one));
    EXPECT_TRUE(s.at(0, 1'000'000).has(3'000'000, one));
}

}  // namespace
}  // namespace hp
