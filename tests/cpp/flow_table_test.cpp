// The flow table under churn, against std::unordered_map as the model: random
// inserts, finds and erases far past the table's capacity in total, with every
// answer checked. Erasing leaves no tombstones (F14's overflow counts), so the
// table must stay correct however long the churn runs; a colliding hash key
// (all zeros) and a full table are the boundaries.
#include <gtest/gtest.h>

#include <random>
#include <unordered_map>
#include <vector>

#include "table/flow_table.hpp"

namespace hp {
namespace {

FlowKey key_of(std::uint64_t i) {
    return FlowKey::of(0x0a000000u + static_cast<std::uint32_t>(i), 0xc6336407u, static_cast<std::uint16_t>(i * 7919),
                       443, 6);
}

struct Model {
    FlowTable table;
    std::unordered_map<std::uint64_t, std::size_t> slots;  // key index -> slot

    bool find(std::uint64_t i) const {
        const FlowKey k = key_of(i);
        const std::size_t slot = table.find(k, table.hash(k));
        const auto it = slots.find(i);
        EXPECT_EQ(slot == FlowTable::npos, it == slots.end()) << "key " << i;
        if (it != slots.end()) {
            EXPECT_EQ(slot, it->second);
        }
        return slot != FlowTable::npos;
    }
    void insert(std::uint64_t i) {
        const FlowKey k = key_of(i);
        const std::size_t slot = table.insert(k, table.hash(k));
        if (slots.size() >= table.capacity()) {
            EXPECT_EQ(slot, FlowTable::npos);
            return;
        }
        ASSERT_NE(slot, FlowTable::npos);
        EXPECT_TRUE(table.record(slot).has_key(k));
        slots[i] = slot;
    }
    void erase(std::uint64_t i) {
        table.erase(slots.at(i));
        slots.erase(i);
    }
};

class FlowTableChurn : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(FlowTableChurn, MatchesTheModel) {
    const HashKey key{{GetParam(), GetParam() * 3, GetParam() * 5, GetParam() * 7}};
    Model m{FlowTable(1000, key), {}};
    std::mt19937_64 rng(GetParam());
    std::vector<std::uint64_t> live;
    for (int step = 0; step < 200'000; ++step) {
        const std::uint64_t r = rng() % 100;
        if (r < 45 || live.empty()) {  // insert a new key (a no-op beyond capacity)
            const std::uint64_t i = rng() % 1'000'000;
            if (m.slots.count(i)) continue;
            m.insert(i);
            if (m.slots.count(i)) live.push_back(i);
        } else if (r < 90) {  // erase a live key
            const std::size_t j = rng() % live.size();
            m.erase(live[j]);
            live[j] = live.back();
            live.pop_back();
        } else {  // look up a key, live or not
            m.find(rng() % 2 ? live[rng() % live.size()] : rng() % 1'000'000);
        }
        ASSERT_EQ(m.table.size(), m.slots.size());
    }
    for (std::uint64_t i : live) EXPECT_TRUE(m.find(i));
}

INSTANTIATE_TEST_SUITE_P(Keys, FlowTableChurn, ::testing::Values(1, 2, 0));  // 0: an all-zero key

TEST(FlowTable, FullRefusesThenTakesAgainAfterAnErase) {
    Model m{FlowTable(64, HashKey{{1, 2, 3, 4}}), {}};
    for (std::uint64_t i = 0; i < 64; ++i) m.insert(i);
    EXPECT_EQ(m.table.size(), 64u);
    m.insert(1000);  // full: npos
    EXPECT_FALSE(m.find(1000));
    m.erase(17);
    m.insert(1000);
    EXPECT_TRUE(m.find(1000));
    for (std::uint64_t i = 0; i < 64; ++i) EXPECT_EQ(m.find(i), i != 17);
}

TEST(FlowTable, SweepVisitsEveryRecordOncePerRound) {
    Model m{FlowTable(500, HashKey{{9, 8, 7, 6}}), {}};
    for (std::uint64_t i = 0; i < 400; ++i) m.insert(i);
    std::size_t cursor = 0, visited = 0, rounds = 0;
    while (rounds == 0) m.table.sweep(cursor, 37, [&](std::size_t) { ++visited; }, [&] { ++rounds; });
    // One round, plus whatever the last call visited past its end.
    EXPECT_GE(visited, 400u);
    EXPECT_LE(visited, 400u + 37u);
}

}  // namespace
}  // namespace hp
