// What a router does to each frame, in batches: see router.hpp. Frames are
// copied out of the ring once, into the batch's slot, and rewritten and sent
// from there; nothing is allocated per frame.
#include "live/router.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "pcap/bytes.hpp"
#include "pcap/checksum.hpp"
#include "pcap/rewrite.hpp"
#include "verdict.gen.hpp"

namespace hp::live {
namespace {

using pcap::load_be16;
using pcap::store_be16;

constexpr std::size_t kSlot = 2048;               // a frame of a 1500-byte MTU and more
constexpr std::size_t kChunk = 128;               // a frame the router builds: ARP (60) or an RST (54)
constexpr std::size_t kPending = 128;             // frames held while their next hop is resolved
constexpr std::uint64_t kArpRetryNs = 250000000;  // a request again after 250 ms without an answer
constexpr std::uint64_t kHoldNs = 1000000000;     // frames held 1 s at most (Linux: one retransmit time)
constexpr std::uint8_t kBroadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
constexpr std::uint8_t kZeroMac[6] = {};

std::uint64_t monotonic_ns() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count());
}

// A frame handed over with CHECKSUM_PARTIAL (a sender's offload that a veth
// keeps): its TCP or UDP checksum field holds the pseudo-header's sum, and the
// checksum is the complement of the sum over the whole segment from there, as
// the kernel's skb_checksum_help completes it.
bool complete_checksum(std::uint8_t* f, std::uint32_t caplen) {
    if (caplen < 34 || load_be16(f + 12) != kEtherIpv4) return false;
    std::uint8_t* ip = f + 14;
    const std::uint32_t ihl = (ip[0] & 0x0fu) * 4u, total = load_be16(ip + 2);
    if ((ip[0] >> 4) != 4 || ihl < 20 || total < ihl || 14 + total > caplen || (load_be16(ip + 6) & 0x3fff))
        return false;
    const std::uint32_t at = ip[9] == proto::tcp ? 16 : ip[9] == proto::udp ? 6 : 0;
    const std::uint32_t segment = total - ihl;
    if (at == 0 || segment < at + 2) return false;
    std::uint8_t* l4 = ip + ihl;
    std::uint16_t c = pcap::csum_fold(pcap::csum_add(0, l4, segment));
    if (ip[9] == proto::udp && c == 0) c = 0xffff;
    store_be16(l4 + at, c);
    return true;
}

}  // namespace

Router::Link::Link(const LinkConfig& c, int ring)
    : cfg(c), sock(c.ifname, ring), mask(c.prefix ? ~std::uint32_t{0} << (32 - c.prefix) : 0) {}

bool Router::Link::owns(std::uint32_t ip) const {
    return ip == cfg.address || std::find(cfg.owned.begin(), cfg.owned.end(), ip) != cfg.owned.end();
}

Router::Router(const RouterConfig& cfg) : cfg_(cfg) {
    if (cfg.links.empty()) throw std::invalid_argument("links must not be empty");
    if (cfg.batch == 0 || cfg.batch > 65536) throw std::invalid_argument("batch must be 1 to 65536 frames");
    for (const LinkConfig& l : cfg.links) {
        if (l.prefix > 32) throw std::invalid_argument("prefix of " + l.ifname + " must be 0 to 32");
        if (l.address == 0) throw std::invalid_argument("link " + l.ifname + " needs an address");
    }
    for (const LinkConfig& l : cfg.links) links_.push_back(std::make_unique<Link>(l, cfg.ring));
    for (const auto& l : links_) fds_.push_back(pollfd{l->sock.fd(), POLLIN | POLLERR, 0});
    slots_.resize(cfg.batch * kSlot);
    caplen_.resize(cfg.batch), ingress_.resize(cfg.batch), orig_.resize(cfg.batch), info_.resize(cfg.batch);
    scratch_.resize((2 * cfg.batch + 64) * kChunk);
    pending_store_.resize(kPending * kSlot);
    pending_.assign(kPending, Pending{0, 0, 0, 0, false});
    for (auto& l : links_) l->tx.reserve(2 * cfg.batch + 64), l->tx_len.reserve(2 * cfg.batch + 64);
}

std::size_t Router::receive(Packet* out, int timeout_ms) {
    age_pending();
    bool ready = false;
    for (const auto& l : links_) ready |= l->sock.ready();
    if (!ready && timeout_ms != 0) {
        for (pollfd& p : fds_) p.revents = 0;
        ::poll(fds_.data(), fds_.size(), timeout_ms);  // EINTR (a signal) returns early: nothing to read then
    }
    std::size_t n = 0;
    for (std::uint32_t l = 0; l < links_.size() && n < cfg_.batch; ++l)
        links_[l]->sock.drain(cfg_.batch - n, [&](const RxFrame& f) { take(l, f, out, n); });
    flush();
    received_ = n;
    return n;
}

void Router::take(std::uint32_t link, const RxFrame& f, Packet* out, std::size_t& n) {
    count(LiveCounter::rx_frames);
    if (f.caplen < 14) {
        count(LiveCounter::rx_malformed);
        return;
    }
    const std::uint8_t* d = f.data;
    const Link& l = *links_[link];
    const bool mine = std::memcmp(d, l.sock.mac(), 6) == 0;
    const std::uint16_t type = load_be16(d + 12);
    if (type == kEtherArp) {
        count(LiveCounter::rx_arp);
        if (mine || std::memcmp(d, kBroadcast, 6) == 0) on_arp(link, d, f.caplen);
        return;
    }
    if (!mine) {
        count(LiveCounter::rx_not_for_us);
        return;
    }
    if (type != kEtherIpv4) {
        count(LiveCounter::rx_other);
        return;
    }
    if (f.caplen > kSlot || f.caplen < f.wirelen) {
        count(LiveCounter::rx_oversize);
        return;
    }
    std::uint8_t* s = &slots_[n * kSlot];
    std::memcpy(s, d, f.caplen);
    if (f.csum_partial && complete_checksum(s, f.caplen)) count(LiveCounter::checksums_completed);
    Packet& p = out[n];
    p.ts = std::max(f.ts, last_ts_);
    pcap::FrameInfo info;
    if (pcap::decode_frame(s, f.caplen, f.caplen, pcap::linktype::ethernet, p, info) != pcap::Malformed::none ||
        info.kind != pcap::FrameKind::ipv4) {
        count(LiveCounter::rx_malformed);
        return;
    }
    if (info.vlan) {
        count(LiveCounter::rx_other);
        return;
    }
    if (std::find(cfg_.local.begin(), cfg_.local.end(), p.dst_ip) != cfg_.local.end()) {
        count(LiveCounter::rx_to_router);
        return;
    }
    last_ts_ = p.ts;
    orig_[n] = p, info_[n] = info, caplen_[n] = f.caplen, ingress_[n] = link;
    ++n;
    count(LiveCounter::rx_to_stage);
}

void Router::on_arp(std::uint32_t link, const std::uint8_t* f, std::uint32_t caplen) {
    ArpMessage m;
    if (!parse_arp(f, caplen, m)) {
        count(LiveCounter::rx_malformed);
        return;
    }
    Link& l = *links_[link];
    // RFC 826: a sender is recorded when the message is for us (or already known, to refresh it).
    if (m.spa != 0 && l.on_link(m.spa) && !l.owns(m.spa) &&
        (m.op == kArpReply || l.owns(m.tpa) || l.neighbours.find(m.spa))) {
        if (l.neighbours.learn(m.spa, m.sha, monotonic_ns())) count(LiveCounter::arp_learned);
        release(link, m.spa, m.sha);
    }
    if (m.op == kArpRequest && l.owns(m.tpa)) {
        ArpMessage r{kArpReply, {}, m.tpa, {}, m.spa};
        std::memcpy(r.sha, l.sock.mac(), 6);
        std::memcpy(r.tha, m.sha, 6);
        std::uint8_t* d = scratch();
        build_arp(d, m.sha, r);
        l.tx.push_back(d), l.tx_len.push_back(kArpFrameLength);
        count(LiveCounter::arp_replies);
    }
}

void Router::transmit(const Packet* out, const std::uint8_t* verdicts, std::size_t n) {
    if (n != received_) throw std::invalid_argument("transmit() takes the records of the last receive()");
    for (std::size_t i = 0; i < n; ++i) {
        const auto v = static_cast<Verdict>(verdicts[i]);
        if (v == Verdict::forward) {
            forward(i, out[i]);
        } else if (v == Verdict::reset) {
            std::uint8_t* d = scratch();
            const std::uint32_t len =
                pcap::build_rst(&slots_[i * kSlot], pcap::linktype::ethernet, info_[i], orig_[i], out[i], d);
            if (len == 0) {
                count(LiveCounter::stage_dropped);
                continue;
            }
            Link& l = *links_[ingress_[i]];
            l.tx.push_back(d), l.tx_len.push_back(len);
            count(LiveCounter::tx_resets);
        } else {
            count(LiveCounter::stage_dropped);
        }
    }
    flush();
}

void Router::forward(std::size_t i, const Packet& p) {
    std::uint8_t* s = &slots_[i * kSlot];
    pcap::apply_rewrite(s, caplen_[i], info_[i], orig_[i], p);
    std::uint8_t* ip = s + info_[i].l3;
    if (ip[8] <= 1) {
        count(LiveCounter::ttl_expired);
        return;
    }
    const std::uint16_t old_word = load_be16(ip + 8);
    --ip[8];
    store_be16(ip + 10, pcap::csum_update16(load_be16(ip + 10), old_word, load_be16(ip + 8)));
    std::uint32_t egress = static_cast<std::uint32_t>(links_.size()), next_hop = p.dst_ip;
    for (std::uint32_t l = 0; l < links_.size() && egress == links_.size(); ++l)
        if (links_[l]->on_link(p.dst_ip)) egress = l;
    for (std::uint32_t l = 0; l < links_.size() && egress == links_.size(); ++l)
        if (links_[l]->cfg.gateway) egress = l, next_hop = links_[l]->cfg.gateway;
    if (egress == links_.size()) {
        count(LiveCounter::no_route);
        return;
    }
    Link& l = *links_[egress];
    const std::uint8_t* mac = l.neighbours.find(next_hop);
    if (!mac) {
        hold(egress, next_hop, s, caplen_[i]);
        return;
    }
    std::memcpy(s, mac, 6);
    std::memcpy(s + 6, l.sock.mac(), 6);
    l.tx.push_back(s), l.tx_len.push_back(caplen_[i]);
    count(LiveCounter::tx_forwarded);
}

void Router::hold(std::uint32_t link, std::uint32_t next_hop, const std::uint8_t* f, std::uint32_t len) {
    const std::uint64_t now = monotonic_ns();
    for (std::size_t k = 0; k < kPending; ++k) {
        if (pending_[k].used) continue;
        std::memcpy(&pending_store_[k * kSlot], f, len);
        pending_[k] = Pending{link, next_hop, len, now, true};
        ask(link, next_hop, now);
        return;
    }
    count(LiveCounter::pending_full);
}

void Router::ask(std::uint32_t link, std::uint32_t next_hop, std::uint64_t now) {
    Link& l = *links_[link];
    auto it = std::find_if(l.asked.begin(), l.asked.end(), [&](const auto& a) { return a.first == next_hop; });
    if (it != l.asked.end() && now - it->second < kArpRetryNs) return;
    if (it == l.asked.end())
        l.asked.emplace_back(next_hop, now);
    else
        it->second = now;
    ArpMessage m{kArpRequest, {}, l.cfg.address, {}, next_hop};
    std::memcpy(m.sha, l.sock.mac(), 6);
    std::memcpy(m.tha, kZeroMac, 6);
    std::uint8_t* d = scratch();
    build_arp(d, kBroadcast, m);
    l.tx.push_back(d), l.tx_len.push_back(kArpFrameLength);
    count(LiveCounter::arp_requests);
}

void Router::release(std::uint32_t link, std::uint32_t ip, const std::uint8_t* mac) {
    Link& l = *links_[link];
    l.asked.erase(std::remove_if(l.asked.begin(), l.asked.end(), [&](const auto& a) { return a.first == ip; }),
                  l.asked.end());
    for (Pending& q : pending_) {
        if (!q.used || q.link != link || q.next_hop != ip) continue;
        std::uint8_t* f = &pending_store_[static_cast<std::size_t>(&q - pending_.data()) * kSlot];
        std::memcpy(f, mac, 6);
        std::memcpy(f + 6, l.sock.mac(), 6);
        const std::uint8_t* frames[1] = {f};
        // Sent now: the slot is free again as soon as the kernel has the frame.
        l.sock.send(frames, &q.len, 1);
        q.used = false;
        count(LiveCounter::tx_forwarded);
    }
}

void Router::age_pending() {
    const std::uint64_t now = monotonic_ns();
    for (Pending& q : pending_) {
        if (!q.used) continue;
        if (now - q.since > kHoldNs) {
            q.used = false;
            count(LiveCounter::unresolved);
        } else {
            ask(q.link, q.next_hop, now);
        }
    }
    for (auto& l : links_) {
        l->asked.erase(std::remove_if(l->asked.begin(), l->asked.end(),
                                      [&](const auto& a) { return now - a.second > 4 * kHoldNs; }),
                       l->asked.end());
    }
}

std::uint8_t* Router::scratch() {
    if ((scratch_used_ + 1) * kChunk > scratch_.size()) flush();
    return &scratch_[kChunk * scratch_used_++];
}

void Router::flush() {
    for (auto& l : links_) {
        if (!l->tx.empty()) l->sock.send(l->tx.data(), l->tx_len.data(), l->tx.size());
        l->tx.clear(), l->tx_len.clear();
    }
    scratch_used_ = 0;
}

LiveCounts Router::counts() {
    LiveCounts c = counts_;
    c[static_cast<std::size_t>(LiveCounter::ring_drops)] = 0;
    c[static_cast<std::size_t>(LiveCounter::send_errors)] = 0;
    for (auto& l : links_) {
        const SocketStats s = l->sock.stats();
        c[static_cast<std::size_t>(LiveCounter::ring_drops)] += s.ring_drops;
        c[static_cast<std::size_t>(LiveCounter::send_errors)] += s.send_errors;
    }
    return c;
}

}  // namespace hp::live
