// The port slices: every port of 1024-65535 belongs to exactly one shard, the
// shard that owns it is the one a reply is sharded to, and find() returns a
// free port whenever one exists, with a number of draws that depends only on
// what is free (so runs replay).
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "core/random.hpp"
#include "table/port_slice.hpp"

namespace hp {
namespace {

class PortSlices : public ::testing::TestWithParam<unsigned> {};

TEST_P(PortSlices, PartitionTheRange) {
    const unsigned queues = GetParam();
    std::vector<unsigned> owners(65536, queues);  // queues: nobody
    std::uint64_t total = 0;
    for (unsigned s = 0; s < queues; ++s) {
        const PortSlice slice(s, queues);
        total += slice.size();
        for (std::uint64_t k = 0; k < slice.size(); ++k) {
            const std::uint16_t p = slice.port(k);
            ASSERT_GE(p, PortSlice::kFirst);
            ASSERT_EQ(owners[p], queues) << "port " << p << " in two slices";
            owners[p] = s;
            EXPECT_TRUE(slice.owns(p));
            EXPECT_EQ(PortSlice::owner(p, queues), s);
        }
    }
    EXPECT_EQ(total, PortSlice::kPorts);
    for (unsigned p = 0; p < PortSlice::kFirst; ++p) EXPECT_EQ(owners[p], queues);
    for (unsigned p = PortSlice::kFirst; p < 65536; ++p) EXPECT_LT(owners[p], queues);
}

INSTANTIATE_TEST_SUITE_P(Queues, PortSlices, ::testing::Values(1u, 2u, 3u, 8u, 127u, 128u));

TEST(PortSlice, FindsTheOnlyFreePort) {
    const PortSlice slice(2, 4);
    for (std::uint64_t only : {std::uint64_t{0}, std::uint64_t{5000}, std::uint64_t{slice.size() - 1}}) {
        const std::uint16_t free_port = slice.port(only);
        SplitMix random(42);
        std::uint16_t got = 0;
        ASSERT_TRUE(slice.find([&](std::uint16_t p) { return p == free_port; }, random, got));
        EXPECT_EQ(got, free_port);
    }
}

TEST(PortSlice, SaysSoWhenNoneIsFree) {
    const PortSlice slice(0, 8);
    SplitMix random(1);
    std::uint16_t got = 0;
    unsigned asked = 0;
    EXPECT_FALSE(slice.find([&](std::uint16_t) { return ++asked, false; }, random, got));
    EXPECT_EQ(asked, PortSlice::kRandomProbes + slice.size());  // every draw, then the whole scan
}

TEST(PortSlice, TheSameSeedDrawsTheSamePorts) {
    const PortSlice slice(1, 3);
    std::set<std::uint16_t> taken;
    auto run = [&](std::uint64_t seed) {
        SplitMix random(seed);
        std::vector<std::uint16_t> got;
        std::set<std::uint16_t> used;
        for (int i = 0; i < 1000; ++i) {
            std::uint16_t p = 0;
            EXPECT_TRUE(slice.find([&](std::uint16_t q) { return !used.count(q); }, random, p));
            used.insert(p);
            got.push_back(p);
        }
        return got;
    };
    EXPECT_EQ(run(7), run(7));
    EXPECT_NE(run(7), run(8));
}

}  // namespace
}  // namespace hp
