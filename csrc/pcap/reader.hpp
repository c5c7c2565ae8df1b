// A streaming reader of pcap and pcapng captures over a memory-mapped file.
//
// next() fills caller-owned arrays (one batch) from where the last call
// stopped: the packet record of each frame, and where the frame's bytes are in
// the file, so that a writer can rewrite the original bytes later. Container
// errors that leave no way to find the next record (a truncated file, a bad
// pcap record length, a pcapng block length that disagrees with itself) end the
// stream and are counted; frames that are malformed inside a sound container
// are counted by reason and skipped. Nothing reads outside the mapping.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/packet.hpp"
#include "pcap/decode.hpp"
#include "pcap/mapped_file.hpp"

namespace hp::pcap {

enum class Format : std::uint8_t { pcap, pcapng };

struct ReaderStats {
    std::uint64_t frames = 0, bytes = 0;  // frames put in batches; their captured bytes
    std::uint64_t ipv4 = 0, ipv6 = 0, other = 0;
    std::uint64_t fragments = 0, vlan = 0;
    std::uint64_t snapped = 0;          // frames captured shorter than on the wire
    std::uint64_t snapped_headers = 0;  // ... so short that a header was cut off
    std::uint64_t blocks_skipped = 0;   // pcapng blocks of types not read (statistics, names, ...)
    std::uint64_t sections = 0, interfaces = 0;
    std::array<std::uint64_t, static_cast<std::size_t>(Malformed::count)> malformed{};
    std::map<std::uint32_t, std::uint64_t> linktypes;  // frames by link type
};

// Where each frame of a batch is (arrays of the batch's capacity, owned by the caller).
struct FrameArrays {
    Packet* packets;
    std::uint64_t* offsets;       // of the frame's first byte in the file
    std::uint32_t* lengths;       // captured
    std::uint32_t* wire_lengths;  // on the wire (>= captured)
    std::uint16_t* linktypes;
    std::uint8_t* kinds;  // FrameKind
};

class CaptureReader {
public:
    // Throws std::invalid_argument (naming `name`) when the file is not a pcap or pcapng capture.
    CaptureReader(std::shared_ptr<const MappedFile> file, const std::string& name);

    // Up to `n` frames into `out`; returns how many (0 at the end of the capture).
    std::size_t next(std::size_t n, const FrameArrays& out);
    void rewind();

    Format format() const { return format_; }
    ReaderStats stats() const;
    const std::shared_ptr<const MappedFile>& file() const { return file_; }

private:
    struct Interface {
        std::uint32_t linktype = 0, snaplen = 0;
        std::uint64_t mult = 1000, div = 1;  // ns = ts * mult / div
        std::int64_t offset_ns = 0;          // if_tsoffset
        std::uint64_t frames = 0;
    };

    // The next frame's place, lengths, interface and time; false at the end of the stream.
    bool next_pcap(std::uint64_t& at, std::uint32_t& caplen, std::uint32_t& wirelen, Interface*& iface,
                   std::uint64_t& ts);
    bool next_pcapng(std::uint64_t& at, std::uint32_t& caplen, std::uint32_t& wirelen, Interface*& iface,
                     std::uint64_t& ts);
    bool read_idb(std::uint64_t pos, std::uint32_t len);
    void stop(Malformed why);
    void close_section();

    std::shared_ptr<const MappedFile> file_;
    const std::uint8_t* data_;
    std::uint64_t size_;
    Format format_;
    bool swap_ = false;
    bool nanos_ = false;  // pcap: nanosecond timestamps
    std::uint32_t pcap_link_ = 0, pcap_snaplen_ = 0;
    std::uint64_t start_ = 0, pos_ = 0;
    std::uint64_t populated_ = 0;  // the page tables are populated up to here
    bool done_ = false;
    std::uint64_t last_ts_ = 0;  // pcapng simple packet blocks carry no time: they take the last one
    std::vector<Interface> ifaces_;
    ReaderStats stats_;
};

}  // namespace hp::pcap
