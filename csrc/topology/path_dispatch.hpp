// The packet path's hop dispatch (hyperplane/topology/path.py), in the core so that
// handing packets between nodes costs a few passes over index arrays, not numpy's
// fancy indexing, masks, concatenations and sorts.
//
// The path keeps per-packet state in arrays over the whole batch (the packets, their
// `ts` beside them, verdicts, deciding hops, delays) and moves packets between nodes
// as arrays of indices into them, as VPP hands a frame of buffer indices from node to
// node. These routines are what the scheduler does between two node calls:
//
// - order(): a node's pending parts as one index array in order of `ts` (ties in the
//   order the parts came), merging parts already in order instead of sorting them.
// - dispatch(): after a node's call, every packet either done (verdict and hop
//   written) or grouped by its next node, keeping its order, in one counting pass;
//   each group's earliest `ts` comes with it for the scheduler.
// - gather() / scatter(): a node's packets as a contiguous batch for a stage, and
//   back.
// - move_on(): a hop's delays added to the packets' `ts` and to their delay so far.
//
// Indices are checked against the batch (std::invalid_argument), never trusted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/packet.hpp"

namespace hp::path {

struct Part {
    const std::int64_t* idx;
    std::size_t n;
    bool ordered;  // known to be in order of ts already
};

// The parts' indices in order of ts[idx], stably (ties: earlier parts first, then
// their own order), into `out` (room for every part's indices).
void order(const std::vector<Part>& parts, const std::uint64_t* ts, std::size_t batch, std::int64_t* out);

// Whether ts[idx] never decreases (idx checked against the batch).
bool in_order(const std::int64_t* idx, std::size_t n, const std::uint64_t* ts, std::size_t batch);

struct Groups {
    std::vector<std::int64_t> targets;  // the next nodes, in increasing order
    std::vector<std::size_t> starts;    // group k is grouped[starts[k], starts[k+1])
    std::vector<std::uint64_t> heads;   // each group's earliest ts
    bool whole = false;                 // one group holds every packet, in idx's order: grouped is not written
};

// After node `hop` decided packets `idx` (verdict v, next node nxt, or `single` for all
// when nxt is null): a packet whose verdict is not forward, or whose next node is < 0,
// is done (verdict[idx] = v, hop_out[idx] = hop); the others go to `grouped`, grouped by
// next node (< nodes) in their order. `indirect`: nxt is per packet of the batch (the next node
// of idx[i] is nxt[idx[i]]). counts[v] counts every packet. `ordered`: idx is in
// order of ts (then each group's head is its first packet's). Returns how many packets were
// grouped.
std::size_t dispatch(const std::int64_t* idx, std::size_t n, const std::uint8_t* v, const std::int64_t* nxt,
                     std::int64_t single, bool indirect, std::int32_t hop, std::size_t nodes, const std::uint64_t* ts,
                     bool ordered, std::size_t batch, std::uint8_t* verdict, std::int32_t* hop_out,
                     std::uint64_t* counts, std::size_t n_counts, std::int64_t* grouped, Groups& groups);

void gather(const Packet* pk, std::size_t batch, const std::int64_t* idx, std::size_t n, Packet* out);
void scatter(Packet* pk, std::size_t batch, const std::int64_t* idx, std::size_t n, const Packet* in);

// pk[idx[i]].ts, ts[idx[i]] and delay[idx[i]] moved on by d[i]; so is gathered[i].ts, the same
// packets gathered, unless null.
void move_on(Packet* pk, std::uint64_t* ts, std::uint64_t* delay, std::size_t batch, const std::int64_t* idx,
             std::size_t n, const std::uint64_t* d, Packet* gathered);

// Where each packet's destination is: 1 in `local` (answered at the interface), else 0 in
// `inside` (the network's VPCs), else 2 (beyond the region). Networks as (base, mask).
void classify_destinations(const Packet* pk, std::size_t n, const std::vector<std::uint32_t>& local_base,
                           const std::vector<std::uint32_t>& local_mask, const std::vector<std::uint32_t>& inside_base,
                           const std::vector<std::uint32_t>& inside_mask, std::uint8_t* out);

}  // namespace hp::path
