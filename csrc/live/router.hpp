// The engine's links as a router sees them: frames in from every link's
// receive ring, ARP answered and learned on the spot, IPv4 frames decoded into
// one batch of packet records for a stage; then the stage's verdicts carried
// out on the same frames — FORWARD rewritten (RFC 1624 checksums, TTL down by
// one) and sent on the link toward the destination or its gateway with the
// next hop's MAC address (resolved by ARP, frames held meanwhile), RESET turned
// into the TCP RST sent back to where the segment came from, the rest dropped.
//
// The stage runs between receive() and transmit() on the same batch, so the
// frames of a batch stay in the router's slots (2048 bytes each) until then.
// Time: packets carry the kernel's receive time stamps, made non-decreasing
// across links (a batch drains links in turn); ARP retries and the wait for a
// neighbour use the monotonic clock, since they are the I/O's, not the stage's.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <poll.h>
#include <string>
#include <vector>

#include "core/packet.hpp"
#include "counters.gen.hpp"
#include "live/arp.hpp"
#include "live/packet_socket.hpp"
#include "pcap/decode.hpp"

namespace hp::live {

struct LinkConfig {
    std::string ifname;
    std::uint32_t address = 0;         // the engine's address on the link: ARP requests come from it
    unsigned prefix = 32;              // the on-link network is address/prefix
    std::vector<std::uint32_t> owned;  // further addresses the engine answers ARP for (public IPs, listeners)
    std::uint32_t gateway = 0;         // next hop for destinations on no link (0: none); the first link with one wins
};

struct RouterConfig {
    std::vector<LinkConfig> links;
    // Addresses that are the engine's own (not the stage's): packets to them are not forwarded.
    std::vector<std::uint32_t> local;
    std::size_t batch = 256;  // frames per receive() at most
    int ring = 3;             // TPACKET_V3 (blocks) or 2 (frame by frame: no block timer to wait for)
};

using LiveCounts = std::array<std::uint64_t, kLiveCounterCount>;

class Router {
public:
    explicit Router(const RouterConfig& cfg);

    // Waits up to timeout_ms for frames, then reads what the rings hold (at most
    // cfg.batch frames): answers ARP, and writes the IPv4 frames' records to
    // `out` (room for cfg.batch). Returns how many records were written.
    std::size_t receive(Packet* out, int timeout_ms);
    // Carries out the stage's result for the last receive()'s records: `out` as
    // the stage left them and a verdict each (n = what receive() returned).
    void transmit(const Packet* out, const std::uint8_t* verdicts, std::size_t n);

    LiveCounts counts();
    std::size_t links() const { return links_.size(); }
    const std::string& link_name(std::size_t i) const { return links_[i]->sock.name(); }
    const std::uint8_t* link_mac(std::size_t i) const { return links_[i]->sock.mac(); }
    // Which link the i-th record of the last receive() came in on.
    std::uint32_t ingress(std::size_t i) const { return ingress_[i]; }
    std::size_t received() const { return received_; }
    std::size_t batch() const { return cfg_.batch; }

private:
    struct Link {
        LinkConfig cfg;
        PacketSocket sock;
        NeighbourTable neighbours;
        std::uint32_t mask;
        std::vector<std::pair<std::uint32_t, std::uint64_t>> asked;  // next hop, last request (monotonic ns)
        std::vector<const std::uint8_t*> tx;
        std::vector<std::uint32_t> tx_len;
        Link(const LinkConfig& c, int ring);
        bool on_link(std::uint32_t ip) const { return (ip & mask) == (cfg.address & mask); }
        bool owns(std::uint32_t ip) const;
    };
    struct Pending {
        std::uint32_t link, next_hop, len;
        std::uint64_t since;  // monotonic ns
        bool used;
    };

    void take(std::uint32_t link, const RxFrame& f, Packet* out, std::size_t& n);
    void on_arp(std::uint32_t link, const std::uint8_t* f, std::uint32_t caplen);
    void forward(std::size_t i, const Packet& p);
    void hold(std::uint32_t link, std::uint32_t next_hop, const std::uint8_t* f, std::uint32_t len);
    void ask(std::uint32_t link, std::uint32_t next_hop, std::uint64_t now);
    void release(std::uint32_t link, std::uint32_t ip, const std::uint8_t* mac);
    void age_pending();
    void flush();
    std::uint8_t* scratch();
    void count(LiveCounter c, std::uint64_t n = 1) { counts_[static_cast<std::size_t>(c)] += n; }

    RouterConfig cfg_;
    std::vector<std::unique_ptr<Link>> links_;
    std::vector<pollfd> fds_;          // one per link, for the wait in receive()
    std::vector<std::uint8_t> slots_;  // cfg.batch frames of the current batch
    std::vector<std::uint32_t> caplen_, ingress_;
    std::vector<Packet> orig_;
    std::vector<pcap::FrameInfo> info_;
    std::vector<std::uint8_t> scratch_;  // frames the router builds (ARP, RSTs) until the next flush
    std::size_t scratch_used_ = 0;
    std::vector<std::uint8_t> pending_store_;
    std::vector<Pending> pending_;
    std::uint64_t last_ts_ = 0;
    std::size_t received_ = 0;  // records of the last receive()
    LiveCounts counts_{};
};

}  // namespace hp::live
