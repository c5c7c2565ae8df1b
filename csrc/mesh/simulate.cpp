// The event loop (simulate.hpp). Four time-ordered sources are merged: status
// changes (sorted up front), a binary heap of network and service events, a FIFO
// of attempt deadlines (the timeout is one constant, so deadlines come in send
// order and need no heap) and the next arrival. Stale events (a response after
// its attempt timed out, a service completion from before an outage) are
// recognised by the attempt's generation and the endpoint's epoch and dropped.
#include "mesh/simulate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "mesh/balancer.hpp"
#include "mesh/random.hpp"

namespace hp::mesh {

namespace {

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

enum EventKind : std::uint8_t { kAtServer, kServed, kAtClient };
constexpr std::uint32_t kEndpointMask = (1U << 28) - 1;

// 32 bytes: the heap moves these at every level, so the kind and the outcome ride in the top
// bits of the endpoint's index (check() keeps endpoints below 2^28).
struct Event {
    std::int64_t t;
    std::uint32_t seq, slot, gen, tagged, client, epoch;
    std::uint32_t endpoint() const { return tagged & kEndpointMask; }
    EventKind kind() const { return static_cast<EventKind>(tagged >> 30); }
    bool ok() const { return (tagged >> 29) & 1U; }
};

struct Later {
    bool operator()(const Event& a, const Event& b) const { return a.t != b.t ? a.t > b.t : a.seq > b.seq; }
};

struct Slot {
    std::int64_t arrival = 0, sent = 0;
    std::uint32_t gen = 0, client = 0, endpoint = 0, tries_left = 0;
    bool live = false;
};

struct Waiting {
    std::uint32_t slot, gen, client;
};

// A FIFO that grows by doubling and is reused: an endpoint's waiting requests.
template <class T>
class Ring {
public:
    bool empty() const { return size_ == 0; }
    std::size_t size() const { return size_; }
    void clear() { head_ = size_ = 0; }
    void push(const T& v) {
        if (size_ == buf_.size()) grow();
        buf_[(head_ + size_) & (buf_.size() - 1)] = v;
        ++size_;
    }
    const T& front() const { return buf_[head_]; }
    void pop() {
        head_ = (head_ + 1) & (buf_.size() - 1);
        --size_;
    }

private:
    void grow() {
        std::vector<T> next(buf_.empty() ? 16 : buf_.size() * 2);
        for (std::size_t i = 0; i < size_; ++i) next[i] = buf_[(head_ + i) & (buf_.size() - 1)];
        buf_.swap(next);
        head_ = 0;
    }
    std::vector<T> buf_;
    std::size_t head_ = 0, size_ = 0;
};

struct Deadline {
    std::int64_t t;
    std::uint32_t slot, gen;
};

enum ChangeKind : std::uint8_t { kDown, kUp, kUnhealthy, kHealthy };

struct Change {
    std::int64_t t;
    std::uint32_t index;
    bool client;
    std::uint8_t what;
};

std::int64_t ns(double v) { return static_cast<std::int64_t>(v + 0.5); }  // v >= 0

std::vector<Place> places_of(const std::vector<Endpoint>& endpoints) {
    std::vector<Place> out;
    out.reserve(endpoints.size());
    for (const Endpoint& e : endpoints) out.push_back(e.place);
    return out;
}

class Sim {
public:
    Sim(const std::vector<Place>& clients, const std::vector<Endpoint>& endpoints, const Network& net,
        const BalancerSpec& spec, const Load& load, const std::vector<Down>& down)
        : clients_(clients),
          eps_(endpoints),
          net_(net),
          load_(load),
          bal_(spec, clients, places_of(endpoints), net),
          rng_(load.seed ^ 0x3c6ef372fe94f82bULL),
          arrivals_(load.seed),
          picks_(load.seed ^ 0xa54ff53a5f1d36f1ULL),
          busy_(endpoints.size(), 0),
          epoch_(endpoints.size(), 0),
          down_count_(endpoints.size(), 0),
          unhealthy_count_(endpoints.size(), 0),
          client_down_(clients.size(), 0),
          client_unhealthy_(clients.size(), 0),
          ep_healthy_(endpoints.size(), 1),
          client_healthy_(clients.size(), 1),
          queues_(endpoints.size()) {
        for (const Down& d : down) {
            changes_.push_back({d.start_ns, d.index, d.client, kDown});
            changes_.push_back({d.end_ns, d.index, d.client, kUp});
            changes_.push_back({d.start_ns + load.health_delay_ns, d.index, d.client, kUnhealthy});
            changes_.push_back({d.end_ns + load.health_delay_ns, d.index, d.client, kHealthy});
        }
        std::stable_sort(changes_.begin(), changes_.end(), [](const Change& a, const Change& b) { return a.t < b.t; });
        for (std::uint32_t c = 0; c < clients.size(); ++c) up_clients_.push_back(c);
        res_.endpoint_attempts.assign(endpoints.size(), 0);
        res_.endpoint_served.assign(endpoints.size(), 0);
        const double expected = load.rps * static_cast<double>(load.duration_ns) * 1e-9;
        res_.latency_s.reserve(static_cast<std::size_t>(expected * 1.01) + 16);
        heap_.reserve(1024);
        slots_.reserve(1024);
    }

    Result run() {
        const double mean_gap_ns = 1e9 / load_.rps;
        double next_arrival = arrivals_.exponential(mean_gap_ns);
        std::size_t ci = 0;
        for (;;) {
            const std::int64_t t_arr = next_arrival < static_cast<double>(load_.duration_ns)
                                           ? static_cast<std::int64_t>(next_arrival)
                                           : kNever;
            const std::int64_t t_change = ci < changes_.size() ? changes_[ci].t : kNever;
            const std::int64_t t_heap = heap_.empty() ? kNever : heap_.front().t;
            const std::int64_t t_dead = deadlines_.empty() ? kNever : deadlines_.front().t;
            const std::int64_t now = std::min(std::min(t_arr, t_change), std::min(t_heap, t_dead));
            if (now == kNever) break;
            ++res_.events;
            if (t_change == now) {
                apply(changes_[ci++]);
            } else if (t_heap == now) {
                std::pop_heap(heap_.begin(), heap_.end(), Later{});
                const Event ev = heap_.back();
                heap_.pop_back();
                handle(ev);
            } else if (t_dead == now) {
                const Deadline d = deadlines_.front();
                deadlines_.pop();
                timed_out(d);
            } else {
                arrive(now);
                next_arrival += arrivals_.exponential(mean_gap_ns);
            }
        }
        return std::move(res_);
    }

private:
    void push(std::int64_t t, EventKind kind, std::uint32_t slot, std::uint32_t gen, std::uint32_t endpoint,
              std::uint32_t client, std::uint32_t epoch, std::uint8_t ok) {
        const std::uint32_t tagged =
            endpoint | static_cast<std::uint32_t>(kind) << 30 | static_cast<std::uint32_t>(ok) << 29;
        heap_.push_back({t, seq_++, slot, gen, tagged, client, epoch});
        std::push_heap(heap_.begin(), heap_.end(), Later{});
    }

    std::int64_t one_way(std::uint32_t client, std::uint32_t endpoint) {
        const Tier t = bal_.tier(client, endpoint);
        return ns(rng_.lognormal(net_.one_way_ns[t], net_.jitter_sigma));
    }

    std::int64_t service(std::uint32_t e) {
        const Endpoint& ep = eps_[e];
        return ns(rng_.lognormal(ep.median_ns, ep.sigma) * ep.slow);
    }

    std::uint32_t alloc() {
        if (!free_.empty()) {
            const std::uint32_t s = free_.back();
            free_.pop_back();
            return s;
        }
        slots_.emplace_back();
        return static_cast<std::uint32_t>(slots_.size() - 1);
    }

    void release(std::uint32_t s) {
        slots_[s].live = false;
        free_.push_back(s);
    }

    void arrive(std::int64_t now) {
        ++res_.sent;
        if (up_clients_.empty()) {
            ++res_.failed;
            return;
        }
        const std::uint32_t c = up_clients_[arrivals_.below(static_cast<std::uint32_t>(up_clients_.size()))];
        const std::uint32_t s = alloc();
        Slot& slot = slots_[s];
        slot.arrival = now;
        slot.client = c;
        slot.tries_left = load_.retries;
        slot.live = true;
        attempt(s, now);
    }

    void attempt(std::uint32_t s, std::int64_t now) {
        Slot& slot = slots_[s];
        const std::uint32_t c = slot.client;
        const std::uint32_t e = bal_.pick(c, now, picks_);
        bal_.sent(c, e);
        slot.endpoint = e;
        slot.sent = now;
        ++slot.gen;
        ++res_.attempts;
        ++res_.endpoint_attempts[e];
        const Tier t = bal_.tier(c, e);
        ++res_.tier_attempts[t];
        if (t == kCrossAz) res_.cross_az_bytes += load_.request_bytes;
        push(now + one_way(c, e), kAtServer, s, slot.gen, e, c, 0, 0);
        deadlines_.push({now + load_.timeout_ns, s, slot.gen});
    }

    void handle(const Event& ev) {
        const std::uint32_t e = ev.endpoint();
        switch (ev.kind()) {
            case kAtServer:
                if (down_count_[e]) {
                    if (load_.refuse_when_down)
                        push(ev.t + one_way(ev.client, e), kAtClient, ev.slot, ev.gen, e, ev.client, 0, 0);
                } else if (busy_[e] < eps_[e].concurrency) {
                    ++busy_[e];
                    push(ev.t + service(e), kServed, ev.slot, ev.gen, e, ev.client, epoch_[e], 0);
                } else if (queues_[e].size() < eps_[e].queue_limit) {
                    queues_[e].push({ev.slot, ev.gen, ev.client});
                } else {
                    push(ev.t + one_way(ev.client, e), kAtClient, ev.slot, ev.gen, e, ev.client, 0, 0);
                }
                break;
            case kServed:
                if (ev.epoch != epoch_[e]) break;  // lost when the endpoint went down
                ++res_.endpoint_served[e];
                if (bal_.tier(ev.client, e) == kCrossAz) res_.cross_az_bytes += load_.response_bytes;
                push(ev.t + one_way(ev.client, e), kAtClient, ev.slot, ev.gen, e, ev.client, 0, 1);
                if (!queues_[e].empty()) {
                    const Waiting w = queues_[e].front();
                    queues_[e].pop();
                    push(ev.t + service(e), kServed, w.slot, w.gen, e, w.client, epoch_[e], 0);
                } else {
                    --busy_[e];
                }
                break;
            case kAtClient:
                answered(ev);
                break;
        }
    }

    void answered(const Event& ev) {
        Slot& slot = slots_[ev.slot];
        if (!slot.live || slot.gen != ev.gen) return;  // its attempt already timed out
        bal_.done(slot.client, slot.endpoint, slot.sent, ev.t);
        if (ev.ok()) {
            ++res_.completed;
            res_.latency_s.push_back(static_cast<double>(ev.t - slot.arrival) * 1e-9);
            release(ev.slot);
        } else {
            ++res_.attempt_failures;
            retry_or(ev.slot, ev.t, res_.failed);
        }
    }

    void timed_out(const Deadline& d) {
        Slot& slot = slots_[d.slot];
        if (!slot.live || slot.gen != d.gen) return;
        bal_.done(slot.client, slot.endpoint, slot.sent, d.t);
        ++res_.attempt_timeouts;
        retry_or(d.slot, d.t, res_.timed_out);
    }

    void retry_or(std::uint32_t s, std::int64_t now, std::uint64_t& outcome) {
        Slot& slot = slots_[s];
        if (slot.tries_left > 0) {
            --slot.tries_left;
            ++res_.retries;
            attempt(s, now);
        } else {
            ++outcome;
            release(s);
        }
    }

    void apply(const Change& ch) {
        const std::uint32_t i = ch.index;
        if (ch.client) {
            switch (ch.what) {
                case kDown:
                case kUp:
                    client_down_[i] = ch.what == kDown ? client_down_[i] + 1 : client_down_[i] - 1;
                    up_clients_.clear();
                    for (std::uint32_t c = 0; c < clients_.size(); ++c)
                        if (!client_down_[c]) up_clients_.push_back(c);
                    break;
                case kUnhealthy:
                case kHealthy:
                    client_unhealthy_[i] = ch.what == kUnhealthy ? client_unhealthy_[i] + 1 : client_unhealthy_[i] - 1;
                    client_healthy_[i] = client_unhealthy_[i] == 0;
                    bal_.set_health(ep_healthy_, client_healthy_);
                    break;
            }
            return;
        }
        switch (ch.what) {
            case kDown:
                if (down_count_[i]++ == 0) {
                    ++epoch_[i];
                    busy_[i] = 0;
                    queues_[i].clear();
                }
                break;
            case kUp:
                --down_count_[i];
                break;
            case kUnhealthy:
                ++unhealthy_count_[i];
                ep_healthy_[i] = 0;
                bal_.set_health(ep_healthy_, client_healthy_);
                break;
            case kHealthy:
                if (--unhealthy_count_[i] == 0) {
                    ep_healthy_[i] = 1;
                    bal_.rediscover(i, ch.t);
                    bal_.set_health(ep_healthy_, client_healthy_);
                }
                break;
        }
    }

    const std::vector<Place>& clients_;
    const std::vector<Endpoint>& eps_;
    const Network& net_;
    const Load& load_;
    Balancer bal_;
    Rng rng_, arrivals_, picks_;  // the world (delays), arrivals, balancer samples: separate streams
    std::vector<std::uint32_t> busy_, epoch_, down_count_, unhealthy_count_, client_down_, client_unhealthy_;
    std::vector<std::uint8_t> ep_healthy_, client_healthy_;
    std::vector<Ring<Waiting>> queues_;
    Ring<Deadline> deadlines_;
    std::vector<Event> heap_;
    std::vector<Slot> slots_;
    std::vector<std::uint32_t> free_, up_clients_;
    std::vector<Change> changes_;
    std::uint32_t seq_ = 0;  // ties at one nanosecond go in push order (wraps after 4G events: still deterministic)
    Result res_;
};

void fail(const std::string& what) { throw std::invalid_argument(what); }

bool finite_at_least(double v, double lo) { return std::isfinite(v) && v >= lo; }

}  // namespace

void check(const std::vector<Place>& clients, const std::vector<Endpoint>& endpoints, const Network& net,
           const BalancerSpec& spec, const Load& load, const std::vector<Down>& down) {
    if (clients.empty()) fail("client: the client service has no tasks");
    if (endpoints.empty()) fail("server: the server service has no tasks");
    if (endpoints.size() >= (1U << 28)) fail("server: at most 2^28 - 1 tasks");
    for (std::size_t e = 0; e < endpoints.size(); ++e) {
        const Endpoint& ep = endpoints[e];
        const std::string at = "[" + std::to_string(e) + "]";
        if (!finite_at_least(ep.median_ns, 0.0)) fail("service_time" + at + ": median must be finite and >= 0");
        if (!finite_at_least(ep.sigma, 0.0)) fail("service_time" + at + ": sigma must be finite and >= 0");
        if (!(std::isfinite(ep.slow) && ep.slow > 0.0)) fail("factor" + at + ": must be finite and > 0");
        if (ep.concurrency == 0) fail("concurrency" + at + ": must be at least 1");
    }
    for (double v : net.one_way_ns)
        if (!finite_at_least(v, 0.0)) fail("latency: each tier's delay must be finite and >= 0");
    if (!finite_at_least(net.jitter_sigma, 0.0)) fail("jitter: sigma must be finite and >= 0");
    if (spec.choices == 0) fail("choices: must be at least 1");
    if (!(std::isfinite(spec.decay_ns) && spec.decay_ns > 0.0)) fail("decay: must be finite and > 0");
    if (!(std::isfinite(spec.default_rtt_ns) && spec.default_rtt_ns > 0.0)) fail("default_rtt: must be finite and > 0");
    for (double w : spec.tier_weight)
        if (!(std::isfinite(w) && w > 0.0)) fail("tier_weight: each weight must be finite and > 0");
    if (!(spec.panic_threshold >= 0.0 && spec.panic_threshold <= 1.0)) fail("panic_threshold: must be in 0..1");
    if (!(std::isfinite(load.rps) && load.rps > 0.0)) fail("rps: must be finite and > 0");
    if (load.duration_ns <= 0) fail("seconds: must be > 0");
    if (load.rps * static_cast<double>(load.duration_ns) * 1e-9 > 1e9)
        fail("rps: rps x seconds must be at most 1e9 requests");
    if (load.timeout_ns <= 0) fail("timeout: must be > 0");
    if (load.health_delay_ns < 0) fail("health_delay: must be >= 0");
    for (const Down& d : down) {
        const std::size_t n = d.client ? clients.size() : endpoints.size();
        if (d.index >= n) fail("outage: task index " + std::to_string(d.index) + " out of range");
        if (d.start_ns < 0 || d.end_ns <= d.start_ns) fail("outage: needs 0 <= start < end");
    }
}

Result simulate(const std::vector<Place>& clients, const std::vector<Endpoint>& endpoints, const Network& net,
                const BalancerSpec& spec, const Load& load, const std::vector<Down>& down) {
    check(clients, endpoints, net, spec, load, down);
    Sim sim(clients, endpoints, net, spec, load, down);
    return sim.run();
}

}  // namespace hp::mesh
