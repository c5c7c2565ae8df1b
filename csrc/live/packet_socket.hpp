// One interface's frames in and out through an AF_PACKET socket: a TPACKET_V3
// receive ring (blocks of frames the kernel fills and hands over whole, read in
// place through a shared mapping, one poll() per block rather than one
// recvmsg() per frame) and sendmmsg() for a burst of frames in one system call.
//
// A V3 block that does not fill is handed over when its retire timer fires
// (1 ms at least, in jiffies), which every frame of a quiet link waits for; a
// TPACKET_V2 ring (the same mapping, frame by frame, each handed over as it
// lands) has no such wait, for links where latency matters more than bursts.
//
// TPACKET_V3 is the ring tcpdump and Suricata use: no copy into the process
// but the one the engine makes itself into its batch, and frames keep the
// kernel's receive time stamp, which is the packet time the stages advance
// with. The socket ignores the frames it (or anything in its namespace) sends,
// so the engine never sees its own output.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace hp::live {

// A frame as the ring holds it, valid until the next call that reads the ring.
struct RxFrame {
    const std::uint8_t* data;
    std::uint32_t caplen;   // bytes in the ring
    std::uint32_t wirelen;  // bytes on the wire
    std::uint64_t ts;       // the kernel's receive time, ns since the epoch
    bool csum_partial;      // the transport checksum is a partial sum to complete (TP_STATUS_CSUMNOTREADY)
};

struct SocketStats {
    std::uint64_t received = 0;     // frames read from the ring
    std::uint64_t sent = 0;         // frames handed to the kernel
    std::uint64_t send_errors = 0;  // frames the kernel refused (ENOBUFS, ...)
    std::uint64_t ring_drops = 0;   // frames the kernel dropped with the ring full (PACKET_STATISTICS)
};

class PacketSocket {
public:
    // Opens and binds a socket to the interface `ifname`; the ring has `blocks`
    // blocks of `block_size` bytes (a power of two, a multiple of the page size).
    // Throws std::invalid_argument for an unknown interface, std::system_error otherwise.
    // `version` is 3 (TPACKET_V3, blocks) or 2 (TPACKET_V2, frames).
    explicit PacketSocket(const std::string& ifname, int version = 3, std::size_t block_size = 1 << 18,
                          std::size_t blocks = 16, unsigned retire_ms = 1);
    ~PacketSocket();
    PacketSocket(const PacketSocket&) = delete;
    PacketSocket& operator=(const PacketSocket&) = delete;

    int fd() const { return fd_; }
    int ifindex() const { return ifindex_; }
    const std::uint8_t* mac() const { return mac_; }
    const std::string& name() const { return name_; }

    // Whether a block is ready to read without waiting.
    bool ready() const;
    // Calls on_frame(const RxFrame&) for up to `max` frames of the ready blocks;
    // returns how many. A block is given back to the kernel once all of its frames are read.
    template <class F>
    std::size_t drain(std::size_t max, F&& on_frame);
    // Sends `n` frames (pointers and lengths) with sendmmsg; returns how many the kernel took.
    std::size_t send(const std::uint8_t* const* frames, const std::uint32_t* lengths, std::size_t n);
    // Counters, the kernel's ring drops read (and added) now.
    SocketStats stats();

private:
    struct Cursor {
        bool open = false;
        std::uint32_t left = 0;
        std::uint32_t offset = 0;
    };
    bool next(RxFrame& out);  // the next frame to read, skipping frames sent from this host
    bool next_v2(RxFrame& out);

    int fd_ = -1;
    int ifindex_ = 0;
    std::uint8_t mac_[6] = {};
    std::string name_;
    std::uint8_t* ring_ = nullptr;
    std::size_t block_size_, blocks_;
    std::size_t block_ = 0;
    Cursor cursor_;
    int version_;
    std::size_t frame_ = 0, frames_ = 0;  // V2: the frame to read next, and how many the ring holds
    bool held_ = false;                   // V2: frame_ was handed out and goes back at the next read
    SocketStats stats_;
};

template <class F>
std::size_t PacketSocket::drain(std::size_t max, F&& on_frame) {
    std::size_t n = 0;
    RxFrame f;
    while (n < max && next(f)) {
        on_frame(f);
        ++n;
    }
    return n;
}

}  // namespace hp::live
