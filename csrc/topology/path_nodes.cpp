#include "topology/path_nodes.hpp"

#include <algorithm>
#include <initializer_list>
#include <stdexcept>
#include <string>

namespace hp::path {
namespace {

constexpr std::uint8_t kForward = 0;

void check(const std::int64_t* idx, std::size_t n, std::size_t batch) {
    for (std::size_t i = 0; i < n; ++i)
        if (idx[i] < 0 || static_cast<std::size_t>(idx[i]) >= batch)
            throw std::invalid_argument("idx holds " + std::to_string(idx[i]) + ", outside the batch of " +
                                        std::to_string(batch));
}

template <class K>
std::int64_t position(const std::vector<K>& keys, K a) {
    const auto it = std::lower_bound(keys.begin(), keys.end(), a);
    return it != keys.end() && *it == a ? it - keys.begin() : -1;
}

}  // namespace

std::int64_t Addresses::find(std::uint32_t a) const { return position(keys, a); }

void check(const Tables& t) {
    const std::size_t zones = t.subnet_zone.size();
    auto subnets = [&](const std::vector<std::int64_t>& v, const char* what) {
        for (const std::int64_t x : v)
            if (x >= static_cast<std::int64_t>(zones))
                throw std::invalid_argument(std::string(what) + " names subnet " + std::to_string(x) + " of " +
                                            std::to_string(zones));
    };
    auto table = [&](const Addresses& a, const char* what, std::initializer_list<std::size_t> sizes) {
        if (!std::is_sorted(a.keys.begin(), a.keys.end()))
            throw std::invalid_argument(std::string(what) + ": keys unsorted");
        for (const std::size_t k : sizes)
            if (k != a.keys.size()) throw std::invalid_argument(std::string(what) + ": a value per key is needed");
        subnets(a.subnet, what);
    };
    table(t.priv, "priv", {t.priv.start.size(), t.priv.next.size(), t.priv.then.size(), t.priv.subnet.size()});
    table(t.lb_nodes, "lb_nodes", {t.lb_nodes.next.size(), t.lb_nodes.then.size(), t.lb_nodes.subnet.size()});
    table(t.pub, "pub",
          {t.pub.next.size(), t.pub.then.size(), t.pub.rewrite.size(), t.pub.nat.size(), t.pub.gateway.size()});
    table(t.eip, "eip", {t.eip.rewrite.size()});
    const std::size_t b = t.lb_node_next.size();
    if (t.lb_node_then.size() != b || t.lb_node_subnet.size() != b)
        throw std::invalid_argument("lb nodes: a value per node is needed");
    subnets(t.lb_node_subnet, "lb nodes");
    if (t.vpc_base.size() != t.vpc_mask.size()) throw std::invalid_argument("vpc_base and vpc_mask differ in size");
    for (const std::int64_t z : t.subnet_zone)
        if (z < 0 || z >= static_cast<std::int64_t>(zones)) throw std::invalid_argument("subnet_zone out of range");
}

void source(const Tables& t, const State& s, const std::int64_t* idx, std::size_t n, std::uint8_t* v,
            std::int64_t* nxt) {
    check(idx, n, s.batch);
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t src = s.pk[idx[i]].src_ip;
        std::int64_t to = -1;
        const std::int64_t k = t.priv.find(src);
        if (k >= 0) {
            to = t.priv.start[static_cast<std::size_t>(k)];
        } else {
            bool inside = false;
            for (std::size_t j = 0; j < t.vpc_base.size(); ++j) inside |= (src & t.vpc_mask[j]) == t.vpc_base[j];
            // From outside every VPC and no public address of the network: the internet's.
            if (!inside && t.pub.find(src) < 0) to = t.internet;
        }
        nxt[i] = to;
        v[i] = to >= 0 ? kForward : t.drop_not_routed;
    }
}

void internet(const Tables& t, const State& s, const std::int64_t* idx, std::size_t n, std::uint8_t* v,
              std::int64_t* nxt) {
    check(idx, n, s.batch);
    for (std::size_t i = 0; i < n; ++i) {
        const auto p = static_cast<std::size_t>(idx[i]);
        if (s.leaving[p]) {  // arrived
            v[i] = kForward, nxt[i] = -1;
            continue;
        }
        s.entering[p] = true;
        const std::int64_t k = t.pub.find(s.pk[p].dst_ip);
        const std::int64_t gw = k >= 0 ? t.pub.gateway[static_cast<std::size_t>(k)] : -1;
        nxt[i] = gw;
        v[i] = gw >= 0 ? kForward : t.drop_unreachable;
    }
}

void internet_gateway(const Tables& t, const State& s, const std::int64_t* idx, std::size_t n, std::uint8_t* v,
                      std::int64_t* nxt) {
    check(idx, n, s.batch);
    for (std::size_t i = 0; i < n; ++i) {
        const auto p = static_cast<std::size_t>(idx[i]);
        Packet& pk = s.pk[p];
        v[i] = kForward;
        if (!s.entering[p]) {
            // Out: a private source becomes its public address; a NAT gateway's is public already.
            const std::int64_t k = t.eip.find(pk.src_ip);
            if (k >= 0) {
                pk.src_ip = static_cast<std::uint32_t>(t.eip.rewrite[static_cast<std::size_t>(k)]);
            } else {
                const std::int64_t q = t.pub.find(pk.src_ip);
                if (q < 0 || !t.pub.nat[static_cast<std::size_t>(q)]) v[i] = t.drop_no_public_ip;
            }
            s.leaving[p] = true;
            nxt[i] = t.internet;
            continue;
        }
        // In: to an interface's public address, a NAT gateway's, or a load balancer node's.
        s.entering[p] = false;
        s.from_subnet[p] = -1;
        const std::int64_t k = t.pub.find(pk.dst_ip);
        if (k < 0) {
            v[i] = t.drop_unreachable, nxt[i] = -1;
            continue;
        }
        const auto q = static_cast<std::size_t>(k);
        if (t.pub.rewrite[q] >= 0) pk.dst_ip = static_cast<std::uint32_t>(t.pub.rewrite[q]);
        s.then[p] = t.pub.then[q];
        nxt[i] = t.pub.next[q];
    }
}

void route(const Tables& t, const State& s, const std::vector<Route>& routes, std::int64_t me, const std::int64_t* idx,
           std::size_t n, std::uint8_t* v, std::int64_t* nxt, std::uint64_t* zone_packets, std::uint64_t* zone_bytes) {
    check(idx, n, s.batch);
    if (me < 0 || static_cast<std::size_t>(me) >= t.subnet_zone.size()) throw std::invalid_argument("no such subnet");
    const std::int64_t my_zone = t.subnet_zone[static_cast<std::size_t>(me)];
    for (const Route& r : routes)
        if (r.subnet >= static_cast<std::int64_t>(t.subnet_zone.size()))
            throw std::invalid_argument("a route names subnet " + std::to_string(r.subnet));
    for (std::size_t i = 0; i < n; ++i) {
        const auto p = static_cast<std::size_t>(idx[i]);
        const Packet& pk = s.pk[p];
        const std::uint8_t lookups = ++s.lookups[p];
        s.from_subnet[p] = me;
        std::uint8_t verdict = t.drop_no_route;
        std::int64_t to = -1, then = -1, subnet = -1;
        bool sets_then = false;
        // A load balancer's target answering one of its flows: the reply goes back through the node.
        const std::int64_t b = s.via ? s.via[p] : -1;
        if (b >= 0) {
            if (static_cast<std::size_t>(b) >= t.lb_node_next.size()) throw std::invalid_argument("via: no such node");
            const auto q = static_cast<std::size_t>(b);
            verdict = kForward, to = t.lb_node_next[q], then = t.lb_node_then[q], subnet = t.lb_node_subnet[q];
            sets_then = true;
        } else {
            for (const Route& r : routes) {
                if ((pk.dst_ip & r.mask) != r.base) continue;
                if (!r.local) {
                    verdict = r.verdict, to = r.next, then = r.then, subnet = r.subnet;
                    sets_then = then >= 0;
                    break;
                }
                const std::int64_t e = t.priv.find(pk.dst_ip);
                const Addresses& a = e >= 0 ? t.priv : t.lb_nodes;
                const std::int64_t k = e >= 0 ? e : t.lb_nodes.find(pk.dst_ip);
                if (k < 0) {
                    verdict = t.drop_unreachable;
                } else {
                    const auto q = static_cast<std::size_t>(k);
                    verdict = kForward, to = a.next[q], then = a.then[q], subnet = a.subnet[q];
                    sets_then = true;
                }
                break;
            }
        }
        if (sets_then) s.then[p] = then;
        if (lookups > t.max_lookups) verdict = t.drop_loop;
        v[i] = verdict, nxt[i] = to;
        if (verdict == kForward && subnet >= 0) {
            const std::int64_t zone = t.subnet_zone[static_cast<std::size_t>(subnet)];
            if (zone != my_zone) {
                ++zone_packets[static_cast<std::size_t>(zone)];
                zone_bytes[static_cast<std::size_t>(zone)] += pk.length;
            }
        }
    }
}

}  // namespace hp::path
