#include "topology/path_dispatch.hpp"

#include <algorithm>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <string>

#include "core/prefetch.hpp"

namespace hp::path {
namespace {

void check(const std::int64_t* idx, std::size_t n, std::size_t batch) {
    for (std::size_t i = 0; i < n; ++i)
        if (idx[i] < 0 || static_cast<std::size_t>(idx[i]) >= batch)
            throw std::invalid_argument("idx holds " + std::to_string(idx[i]) + ", outside the batch of " +
                                        std::to_string(batch));
}

bool sorted_by(const std::int64_t* idx, std::size_t n, const std::uint64_t* ts) {
    for (std::size_t i = 1; i < n; ++i)
        if (ts[idx[i]] < ts[idx[i - 1]]) return false;
    return true;
}

}  // namespace

bool in_order(const std::int64_t* idx, std::size_t n, const std::uint64_t* ts, std::size_t batch) {
    check(idx, n, batch);
    return sorted_by(idx, n, ts);
}

void order(const std::vector<Part>& parts, const std::uint64_t* ts, std::size_t batch, std::int64_t* out) {
    auto by_ts = [ts](std::int64_t a, std::int64_t b) { return ts[a] < ts[b]; };
    std::vector<std::int64_t> scratch;
    std::size_t done = 0;
    for (const Part& p : parts) {
        check(p.idx, p.n, batch);
        std::int64_t* dst = out + done;
        std::copy(p.idx, p.idx + p.n, dst);
        if (!p.ordered && !sorted_by(dst, p.n, ts)) std::stable_sort(dst, dst + p.n, by_ts);
        if (done && p.n && ts[dst[0]] < ts[out[done - 1]]) {
            // std::merge keeps the first range's element first on a tie: the earlier part's.
            scratch.assign(out, out + done);
            std::merge(scratch.begin(), scratch.end(), dst, dst + p.n, out, by_ts);
        }
        done += p.n;
    }
}

std::size_t dispatch(const std::int64_t* idx, std::size_t n, const std::uint8_t* v, const std::int64_t* nxt,
                     std::int64_t single, bool indirect, std::int32_t hop, std::size_t nodes, const std::uint64_t* ts,
                     bool ordered, std::size_t batch, std::uint8_t* verdict, std::int32_t* hop_out,
                     std::uint64_t* counts, std::size_t n_counts, std::int64_t* grouped, Groups& groups) {
    check(idx, n, batch);
    groups.targets.clear(), groups.starts.assign(1, 0), groups.heads.clear(), groups.whole = false;
    // The common case first, in a pass that only reads: every packet forwarded to one node.
    auto next_of = [&](std::size_t i) { return nxt ? nxt[indirect ? static_cast<std::size_t>(idx[i]) : i] : single; };
    const std::int64_t first = n ? next_of(0) : -1;
    bool uniform = first >= 0 && static_cast<std::size_t>(first) < nodes;
    for (std::size_t lo = 0; lo < n && uniform; lo += 1024) {  // in blocks the compiler vectorises
        const std::size_t hi = std::min(n, lo + 1024);
        unsigned bad = 0;
        for (std::size_t i = lo; i < hi; ++i) bad |= v[i];
        if (nxt && !indirect)
            for (std::size_t i = lo; i < hi; ++i) bad |= static_cast<unsigned>(nxt[i] != first);
        else if (nxt)
            for (std::size_t i = lo; i < hi; ++i) bad |= static_cast<unsigned>(nxt[idx[i]] != first);
        uniform = bad == 0;
    }
    if (uniform) {
        counts[0] += n;
        std::uint64_t head = ts[idx[0]];
        if (!ordered)
            for (std::size_t i = 1; i < n; ++i) head = std::min(head, ts[idx[i]]);
        groups.targets.push_back(first), groups.starts.push_back(n), groups.heads.push_back(head);
        groups.whole = true;
        return n;
    }
    constexpr std::uint64_t none = std::numeric_limits<std::uint64_t>::max();
    std::vector<std::size_t> per(nodes + 1, 0);
    std::vector<std::uint64_t> head(nodes, none);
    // First pass: verdicts of the packets done; how many go to each node, and their earliest ts.
    for (std::size_t i = 0; i < n; ++i) {
        if (v[i] >= n_counts) throw std::invalid_argument("verdict " + std::to_string(v[i]) + " is not a verdict");
        ++counts[v[i]];
        const std::int64_t to = next_of(i);
        if (v[i] != 0 || to < 0) {
            verdict[idx[i]] = v[i];
            hop_out[idx[i]] = hop;
            continue;
        }
        if (static_cast<std::size_t>(to) >= nodes)
            throw std::invalid_argument("next node " + std::to_string(to) + " is not a node");
        if (per[static_cast<std::size_t>(to) + 1]++ && ordered) continue;  // a later packet: not earlier
        const std::uint64_t t = ts[idx[i]];
        if (t < head[static_cast<std::size_t>(to)]) head[static_cast<std::size_t>(to)] = t;
    }
    for (std::size_t k = 0; k < nodes; ++k) {
        if (per[k + 1]) {
            groups.targets.push_back(static_cast<std::int64_t>(k));
            groups.starts.push_back(groups.starts.back() + per[k + 1]);
            groups.heads.push_back(head[k]);
        }
        per[k + 1] += per[k];  // now: where node k's group starts
    }
    if (groups.targets.size() == 1 && groups.starts.back() == n) {
        groups.whole = true;  // all to one node: the caller hands on idx itself
        return n;
    }
    // Second pass: each forwarded packet to its node's group, in order.
    for (std::size_t i = 0; i < n; ++i) {
        const std::int64_t to = next_of(i);
        if (v[i] == 0 && to >= 0) grouped[per[static_cast<std::size_t>(to)]++] = idx[i];
    }
    return groups.starts.back();
}

void gather(const Packet* pk, std::size_t batch, const std::int64_t* idx, std::size_t n, Packet* out) {
    check(idx, n, batch);
    constexpr std::size_t ahead = 16;
    for (std::size_t i = 0; i < n; ++i) {
        if (i + ahead < n) prefetch(&pk[idx[i + ahead]]);
        out[i] = pk[idx[i]];
    }
}

void scatter(Packet* pk, std::size_t batch, const std::int64_t* idx, std::size_t n, const Packet* in) {
    check(idx, n, batch);
    constexpr std::size_t ahead = 16;
    for (std::size_t i = 0; i < n; ++i) {
        if (i + ahead < n) prefetch(&pk[idx[i + ahead]]);
        pk[idx[i]] = in[i];
    }
}

void move_on(Packet* pk, std::uint64_t* ts, std::uint64_t* delay, std::size_t batch, const std::int64_t* idx,
             std::size_t n, const std::uint64_t* d, Packet* gathered) {
    check(idx, n, batch);
    for (std::size_t i = 0; i < n; ++i) {
        const auto k = static_cast<std::size_t>(idx[i]);
        ts[k] += d[i];
        pk[k].ts = ts[k];
        delay[k] += d[i];
        if (gathered) gathered[i].ts += d[i];
    }
}

void classify_destinations(const Packet* pk, std::size_t n, const std::vector<std::uint32_t>& local_base,
                           const std::vector<std::uint32_t>& local_mask, const std::vector<std::uint32_t>& inside_base,
                           const std::vector<std::uint32_t>& inside_mask, std::uint8_t* out) {
    if (local_base.size() != local_mask.size() || inside_base.size() != inside_mask.size())
        throw std::invalid_argument("each network needs a base and a mask");
    auto in = [](std::uint32_t a, const std::vector<std::uint32_t>& base, const std::vector<std::uint32_t>& mask) {
        for (std::size_t j = 0; j < base.size(); ++j)
            if ((a & mask[j]) == base[j]) return true;
        return false;
    };
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t a = pk[i].dst_ip;
        out[i] = in(a, local_base, local_mask) ? 1 : in(a, inside_base, inside_mask) ? 0 : 2;
    }
}

}  // namespace hp::path
