// The ring's layout and handshake are the kernel's (Documentation/networking/
// packet_mmap.rst): a block belongs to the process while its block_status has
// TP_STATUS_USER and goes back by writing TP_STATUS_KERNEL; its frames are a
// chain of tpacket3_hdr, each followed by the sockaddr_ll that says which way
// the frame went.
#include "live/packet_socket.hpp"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace hp::live {
namespace {

[[noreturn]] void fail(const std::string& what) { throw std::system_error(errno, std::generic_category(), what); }

tpacket_block_desc* block_at(std::uint8_t* ring, std::size_t size, std::size_t i) {
    return reinterpret_cast<tpacket_block_desc*>(ring + i * size);
}

}  // namespace

PacketSocket::PacketSocket(const std::string& ifname, int version, std::size_t block_size, std::size_t blocks,
                           unsigned retire_ms)
    : name_(ifname), block_size_(block_size), blocks_(blocks), version_(version) {
    if (version != 2 && version != 3) throw std::invalid_argument("ring must be TPACKET_V2 or TPACKET_V3");
    if (ifname.empty() || ifname.size() >= IFNAMSIZ) throw std::invalid_argument("bad interface name '" + ifname + "'");
    ifindex_ = static_cast<int>(if_nametoindex(ifname.c_str()));
    if (ifindex_ == 0) throw std::invalid_argument("no interface named '" + ifname + "' in this network namespace");
    // Protocol 0: nothing is received until bind() names the interface.
    fd_ = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (fd_ < 0) fail("socket(AF_PACKET) on " + ifname);
    try {
        ifreq ifr{};
        std::memcpy(ifr.ifr_name, ifname.c_str(), ifname.size());
        if (::ioctl(fd_, SIOCGIFHWADDR, &ifr) < 0) fail("SIOCGIFHWADDR on " + ifname);
        if (ifr.ifr_hwaddr.sa_family != 1 /* ARPHRD_ETHER */)
            throw std::invalid_argument("'" + ifname + "' is not an Ethernet interface");
        std::memcpy(mac_, ifr.ifr_hwaddr.sa_data, 6);
        int v = version == 3 ? TPACKET_V3 : TPACKET_V2;
        if (::setsockopt(fd_, SOL_PACKET, PACKET_VERSION, &v, sizeof v) < 0) fail("PACKET_VERSION");
        int one = 1;
        // Frames this host sends on the interface (ours included) are not received.
        if (::setsockopt(fd_, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) < 0) fail("PACKET_IGNORE_OUTGOING");
        // Sent frames skip the queueing discipline: the engine paces nothing.
        if (::setsockopt(fd_, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) < 0) fail("PACKET_QDISC_BYPASS");
        tpacket_req3 req{};
        req.tp_block_size = static_cast<unsigned>(block_size);
        req.tp_block_nr = static_cast<unsigned>(blocks);
        req.tp_frame_size = 2048;
        req.tp_frame_nr = static_cast<unsigned>(block_size * blocks / 2048);
        req.tp_retire_blk_tov = retire_ms;  // a block partly filled is handed over after this long
        frames_ = req.tp_frame_nr;
        if (version == 3) {
            if (::setsockopt(fd_, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0) fail("PACKET_RX_RING");
        } else {
            tpacket_req req2{req.tp_block_size, req.tp_block_nr, req.tp_frame_size, req.tp_frame_nr};
            if (::setsockopt(fd_, SOL_PACKET, PACKET_RX_RING, &req2, sizeof req2) < 0) fail("PACKET_RX_RING");
        }
        void* map = ::mmap(nullptr, block_size * blocks, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
        if (map == MAP_FAILED) fail("mmap of the receive ring");
        ring_ = static_cast<std::uint8_t*>(map);
        sockaddr_ll sll{};
        sll.sll_family = AF_PACKET;
        sll.sll_protocol = htons(ETH_P_ALL);
        sll.sll_ifindex = ifindex_;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0) fail("bind to " + ifname);
    } catch (...) {
        if (ring_) ::munmap(ring_, block_size_ * blocks_);
        ::close(fd_);
        throw;
    }
}

PacketSocket::~PacketSocket() {
    if (ring_) ::munmap(ring_, block_size_ * blocks_);
    if (fd_ >= 0) ::close(fd_);
}

bool PacketSocket::ready() const {
    if (version_ == 2) {
        const auto* h = reinterpret_cast<const tpacket2_hdr*>(ring_ + ((held_ ? frame_ + 1 : frame_) % frames_) * 2048);
        return __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER;
    }
    if (cursor_.open && cursor_.left) return true;
    const std::size_t b = cursor_.open ? (block_ + 1) % blocks_ : block_;
    const tpacket_block_desc* d = block_at(ring_, block_size_, b);
    return __atomic_load_n(&d->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER;
}

namespace {

// A received frame's place, lengths, time and checksum state, from its ring header (TPACKET_V2 or
// V3, which name these fields alike); false for a frame of our own sending.
template <class Header>
bool read_frame(const Header* h, RxFrame& out) {
    const auto* sll =
        reinterpret_cast<const sockaddr_ll*>(reinterpret_cast<const std::uint8_t*>(h) + TPACKET_ALIGN(sizeof *h));
    if (sll->sll_pkttype == PACKET_OUTGOING) return false;
    out.data = reinterpret_cast<const std::uint8_t*>(h) + h->tp_mac;
    out.caplen = h->tp_snaplen;
    out.wirelen = h->tp_len;
    out.ts = static_cast<std::uint64_t>(h->tp_sec) * 1000000000ULL + h->tp_nsec;
    out.csum_partial = h->tp_status & TP_STATUS_CSUMNOTREADY;
    return true;
}

}  // namespace

bool PacketSocket::next_v2(RxFrame& out) {
    for (;;) {
        auto* h = reinterpret_cast<tpacket2_hdr*>(ring_ + frame_ * 2048);
        if (held_) {
            __atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
            held_ = false;
            frame_ = (frame_ + 1) % frames_;
            h = reinterpret_cast<tpacket2_hdr*>(ring_ + frame_ * 2048);
        }
        if (!(__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) return false;
        held_ = true;
        if (!read_frame(h, out)) continue;  // one the engine sent
        ++stats_.received;
        return true;
    }
}

bool PacketSocket::next(RxFrame& out) {
    if (version_ == 2) return next_v2(out);
    for (;;) {
        if (cursor_.open && cursor_.left == 0) {
            // Every frame of this block has been read (and used): give it back.
            tpacket_block_desc* d = block_at(ring_, block_size_, block_);
            __atomic_store_n(&d->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
            cursor_ = Cursor{};
            block_ = (block_ + 1) % blocks_;
        }
        if (!cursor_.open) {
            tpacket_block_desc* d = block_at(ring_, block_size_, block_);
            if (!(__atomic_load_n(&d->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) return false;
            cursor_ = Cursor{true, d->hdr.bh1.num_pkts, d->hdr.bh1.offset_to_first_pkt};
            continue;
        }
        std::uint8_t* base = ring_ + block_ * block_size_;
        const auto* h = reinterpret_cast<const tpacket3_hdr*>(base + cursor_.offset);
        cursor_.offset += h->tp_next_offset;
        --cursor_.left;
        if (!read_frame(h, out)) continue;  // one the engine sent
        ++stats_.received;
        return true;
    }
}

std::size_t PacketSocket::send(const std::uint8_t* const* frames, const std::uint32_t* lengths, std::size_t n) {
    constexpr std::size_t kBurst = 64;
    mmsghdr msgs[kBurst];
    iovec iov[kBurst];
    std::size_t sent = 0, taken = 0;
    while (sent < n) {
        const std::size_t m = std::min(kBurst, n - sent);
        for (std::size_t i = 0; i < m; ++i) {
            iov[i].iov_base = const_cast<std::uint8_t*>(frames[sent + i]);
            iov[i].iov_len = lengths[sent + i];
            msgs[i] = mmsghdr{};
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        const int r = ::sendmmsg(fd_, msgs, static_cast<unsigned>(m), 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            // The first frame was refused (a full queue, a frame too long): count it and go on.
            ++stats_.send_errors;
            ++sent;
            continue;
        }
        sent += static_cast<std::size_t>(r);
        taken += static_cast<std::size_t>(r);
        stats_.sent += static_cast<std::uint64_t>(r);
    }
    return taken;
}

SocketStats PacketSocket::stats() {
    tpacket_stats_v3 s{};
    socklen_t len = sizeof s;
    // Reading the kernel's counters resets them: they are added up here.
    if (::getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &s, &len) == 0) stats_.ring_drops += s.tp_drops;
    return stats_;
}

}  // namespace hp::live
