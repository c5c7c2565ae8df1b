// One allowance shared by two sequences of events that reach it in separate calls: the
// packets-per-second allowance of an ENA interface, which AWS counts over both directions
// together, met by the packet path (hyperplane/topology) at the interface's way out and its
// way in in different node calls, each call in order of time but the two directions' calls
// not in time order with each other (a node takes every packet pending at it).
//
// The side whose clock is ahead (the leader) takes from `lead_`, and each of its takes is
// recorded. The other side (the lagger) takes from `committed_`, the bucket as it was at the
// lagger's clock, into which the leader's recorded takes are applied as the lagger's packets
// pass their times: so the lagger sees both sides' packets in time order, exactly. After a
// lagger's call the leader's bucket is rebuilt from `committed_` and the records left. What
// the model cannot do is let the leader see the lagger's packets that were earlier than its
// own but reached the interface later: those count for the leader from its next call on.
// Once the lagger passes the leader's clock they swap. At most kMaxRecords takes are
// recorded (8 MB); older ones are applied to `committed_` at once (a lagger's packet older
// than those counts at their time, as a clock that never goes back).
//
// The buckets are GCRA states (allowance.hpp), so applying a take is one max and one add,
// and a state rebuilt from records is the state the takes would have left.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>

#include "limits/allowance.hpp"

namespace hp {

class SharedAllowance {
public:
    static constexpr std::size_t kMaxRecords = std::size_t{1} << 20;

    SharedAllowance(std::uint64_t rate_per_s, uint128 depth_units) : committed_(rate_per_s, depth_units) {
        lead_ = committed_;
    }
    const BucketShape& shape() const { return committed_.shape(); }

    // Full at the first packet of either side.
    void start(std::uint64_t now) {
        if (started_) return;
        started_ = true;
        committed_.start(now, committed_.shape().depth);
        lead_ = committed_;
    }
    // The bucket side `side` (0 or 1) holds at `now` (its packets come in order of time).
    Allowance& at(int side, std::uint64_t now) {
        if (side == leader_) return lead_;
        while (!records_.empty() && records_.front() <= now) {
            committed_.take(records_.front(), kUnitsPerToken);
            records_.pop_front();
        }
        if (records_.empty()) {  // past the leader's clock: this side leads now
            leader_ = side;
            lead_ = committed_;
            dirty_ = false;
            return lead_;
        }
        return committed_;
    }
    // Side `side` took a token at `now` from the bucket at() gave it.
    void took(int side, std::uint64_t now) {
        if (side != leader_) {
            dirty_ = true;
            return;
        }
        records_.push_back(now);
        if (records_.size() > kMaxRecords) {
            committed_.take(records_.front(), kUnitsPerToken);
            records_.pop_front();
        }
    }
    // After a call of either side: the leader's bucket with the lagger's takes in it.
    void done() {
        if (!dirty_) return;
        lead_ = committed_;
        for (const std::uint64_t t : records_) lead_.take(t, kUnitsPerToken);
        dirty_ = false;
    }

private:
    Allowance committed_, lead_;
    std::deque<std::uint64_t> records_;
    int leader_ = -1;
    bool dirty_ = false, started_ = false;
};

}  // namespace hp
