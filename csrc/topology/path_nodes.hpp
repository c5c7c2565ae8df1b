// The packet path's address nodes (hyperplane/topology/nodes.py): where a packet starts,
// the route tables, the internet gateways and the internet, each decided for a whole batch
// in one pass over the packets' indices, with the network's address tables.
//
// The tables are the network compiled (path.py, Runtime.compile) into sorted arrays: an
// address found by binary search gives, already resolved, what the Python side would look
// up in two or three arrays one after the other (the next node, the node after the ACL in,
// the subnet). Each node writes its verdicts and next nodes for the scheduler
// (path_dispatch.hpp) and the per-packet state it owns (route lookups, the subnet a packet
// was routed from, where it goes after an ACL in, whether it is entering or leaving).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/packet.hpp"

namespace hp::path {

// Sorted keys and, per key, what they resolve to (a struct of arrays).
struct Addresses {
    std::vector<std::uint32_t> keys;
    std::vector<std::int64_t> next, then, subnet;  // per key; unused ones left empty
    std::vector<std::int64_t> start;               // the node a packet from the address starts at
    std::vector<std::int64_t> gateway;             // the internet gateway a packet to it enters by
    std::vector<std::int64_t> rewrite;             // a new address, or -1 to keep it
    std::vector<std::uint8_t> nat;                 // a NAT gateway's public address
    std::int64_t find(std::uint32_t a) const;      // the key's position, or -1
};

struct Route {
    std::uint32_t base = 0, mask = 0;
    bool local = false;  // to an interface or a load balancer node holding the address
    std::uint8_t verdict = 0;
    std::int64_t next = -1, then = -1, subnet = -1;  // the target's, when not local
};

struct Tables {
    Addresses priv;      // interfaces' private addresses: start (ena-out); next (ACL in), then (sg-in), subnet
    Addresses lb_nodes;  // load balancer nodes' private addresses: next (ACL in), then (the NLB node), subnet
    Addresses pub;       // public addresses: next (ACL in), then, rewrite, nat, gateway
    Addresses eip;       // private addresses with a public one: rewrite (the public one)
    // Per load balancer node (State::via): its subnet's ACL in, the NLB node, its subnet.
    std::vector<std::int64_t> lb_node_next, lb_node_then, lb_node_subnet;
    std::vector<std::uint32_t> vpc_base, vpc_mask;
    std::vector<std::int64_t> subnet_zone;
    std::int64_t internet = -1;
    std::uint8_t max_lookups = 4;
    std::uint8_t drop_not_routed = 0, drop_unreachable = 0, drop_no_public_ip = 0, drop_loop = 0, drop_no_route = 0;
};

// std::invalid_argument unless every table's arrays have a value per key, keys are sorted,
// and the subnets named have a zone.
void check(const Tables& t);

// Per-packet state over the whole batch (nodes.py, Run).
struct State {
    Packet* pk;
    std::size_t batch;
    std::int64_t* then;
    std::int64_t* from_subnet;
    std::uint8_t* lookups;
    bool* leaving;
    bool* entering;
    const std::int64_t* via;  // a target's reply to a flow of load balancer node via[p], or -1 (null: none)
};

// Each node: the packets idx[0..n), a verdict and a next node each.
void source(const Tables& t, const State& s, const std::int64_t* idx, std::size_t n, std::uint8_t* v,
            std::int64_t* nxt);
void internet(const Tables& t, const State& s, const std::int64_t* idx, std::size_t n, std::uint8_t* v,
              std::int64_t* nxt);
void internet_gateway(const Tables& t, const State& s, const std::int64_t* idx, std::size_t n, std::uint8_t* v,
                      std::int64_t* nxt);
// A subnet's route table (`routes` most specific first), for subnet `me`; packets and bytes
// routed into another zone are added to zone_packets/zone_bytes by destination zone.
void route(const Tables& t, const State& s, const std::vector<Route>& routes, std::int64_t me, const std::int64_t* idx,
           std::size_t n, std::uint8_t* v, std::int64_t* nxt, std::uint64_t* zone_packets, std::uint64_t* zone_bytes);

}  // namespace hp::path
