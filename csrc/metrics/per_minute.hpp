// Counters per minute of packet time, CloudWatch's period: a row of N counters
// for each minute from the stage's first packet on, and one of them a gauge
// (the most of some level, e.g. connections held, seen during the minute).
// A gauge keeps its value through minutes no packet falls in: the stage sets
// those minutes' levels (raise_gauge) from the state it holds, before it
// moves on (FlowShard::carry_gauge).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace hp {

inline constexpr std::uint64_t kMinuteNs = 60'000'000'000ULL;

// The minute of the earliest of n packets (n > 0): minute 0 of a stage's metrics.
template <class PacketT>
std::uint64_t earliest_minute(const PacketT* pkts, std::size_t n) {
    std::uint64_t first = pkts[0].ts;
    for (std::size_t i = 1; i < n; ++i) first = std::min(first, pkts[i].ts);
    return first / kMinuteNs;
}

template <std::size_t N>
class PerMinute {
public:
    using Row = std::array<std::uint64_t, N>;

    // `start_minute` is read at each use: a stage sets it when its first batch arrives.
    PerMinute(const std::uint64_t* start_minute, std::size_t gauge) : start_(start_minute), gauge_(gauge) {}

    // Whether a packet at `ts` starts a later minute than the current one.
    bool leaving(std::uint64_t ts) const {
        return minute_start_ != kNone && ts >= minute_start_ && ts - minute_start_ >= kMinuteNs;  // no overflow
    }
    // Moves to ts's minute; a packet from before the latest minute counts in the latest.
    void advance(std::uint64_t ts) {
        // The common case, no division (not before the first minute: a packet at 2^64 - 1 ns
        // would pass for one inside it, minute_start_ being kNone).
        if (ts >= minute_start_ && ts - minute_start_ < kMinuteNs && minute_start_ != kNone) return;
        const std::size_t at = minute_of(ts);
        grow(at);
        if (minute_start_ != kNone && at <= minute_) return;
        minute_ = at;
        minute_start_ = (*start_ + at) * kMinuteNs;
    }
    std::size_t current() const { return minute_; }
    bool started() const { return minute_start_ != kNone; }
    std::size_t minute_of(std::uint64_t ts) const {
        const std::uint64_t minute = ts / kMinuteNs;
        return minute > *start_ ? static_cast<std::size_t>(minute - *start_) : 0;
    }
    std::uint64_t start_ns(std::size_t m) const { return (*start_ + m) * kMinuteNs; }
    void raise_gauge(std::size_t m, std::uint64_t level) {
        grow(m);
        rows_[m][gauge_] = std::max(rows_[m][gauge_], level);
    }

    void add(std::size_t metric, std::uint64_t amount = 1) { rows_[minute_][metric] += amount; }
    void add_at(std::size_t metric, std::uint64_t ts) {
        const std::size_t at = minute_of(ts);
        grow(at);
        ++rows_[at][metric];
    }
    void gauge(std::uint64_t level) { rows_[minute_][gauge_] = std::max(rows_[minute_][gauge_], level); }

    // A copy's history: rows counted before it was made, added to these.
    void add_rows(const std::vector<Row>& rows) {
        if (!rows.empty()) grow(rows.size() - 1);
        for (std::size_t m = 0; m < rows.size(); ++m)
            for (std::size_t k = 0; k < N; ++k) rows_[m][k] += rows[m][k];
    }

    // Where a copy resumes: the current minute, as started() and current() give it.
    void resume(std::size_t m) {
        grow(m);
        minute_ = m;
        minute_start_ = (*start_ + m) * kMinuteNs;
    }

    void add_to(std::vector<Row>& out) const {
        if (out.size() < rows_.size()) out.resize(rows_.size(), Row{});
        for (std::size_t m = 0; m < rows_.size(); ++m)
            for (std::size_t k = 0; k < N; ++k) out[m][k] += rows_[m][k];
    }

private:
    static constexpr std::uint64_t kNone = ~std::uint64_t{0};
    void grow(std::size_t at) {
        if (at >= rows_.size()) rows_.resize(at + 1, Row{});
    }

    const std::uint64_t* start_;
    std::size_t gauge_;
    std::vector<Row> rows_;
    std::size_t minute_ = 0;
    std::uint64_t minute_start_ = kNone;
};

}  // namespace hp
