// Writes frames to a pcap or pcapng file, applying a stage's rewrites.
//
// Each call takes one batch: the frames as the reader gave them (their bytes
// and lengths), the packet records as they left a stage, which frames to keep
// and, optionally, the stage's verdicts (RESET frames become the RST the stage
// sends back). The writer decodes every frame again from its own bytes to find
// its headers, so offsets handed in cannot make it read or write out of bounds.
// Output is the host's byte order with nanosecond timestamps; a pcapng file
// gets one interface per link type, described when the first frame of it comes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "core/packet.hpp"
#include "pcap/reader.hpp"

namespace hp::pcap {

struct FramesIn {
    const std::uint8_t* bytes;
    std::size_t bytes_size;
    const std::uint64_t* offsets;
    const std::uint32_t* lengths;
    const std::uint32_t* wire_lengths;
    const std::uint16_t* linktypes;
    std::size_t n;
};

struct WriterStats {
    std::uint64_t written = 0;    // frames written (rewritten, untouched and resets)
    std::uint64_t rewritten = 0;  // ... whose bytes a rewrite changed
    std::uint64_t resets = 0;     // ... RSTs built for RESET verdicts
    std::uint64_t dropped = 0;    // frames not kept
    std::uint64_t no_reset = 0;   // RESET verdicts on frames without a whole TCP header: nothing written
};

class CaptureWriter {
public:
    CaptureWriter(const std::string& path, Format format);  // throws std::system_error naming the path
    ~CaptureWriter();
    CaptureWriter(const CaptureWriter&) = delete;
    CaptureWriter& operator=(const CaptureWriter&) = delete;

    // Checks the frames (std::invalid_argument naming the frame), then writes them.
    // `keep` and `verdict` may be null (keep all; no resets).
    void write(const FramesIn& frames, const Packet* packets, const std::uint8_t* keep, const std::uint8_t* verdict);
    void close();
    const WriterStats& stats() const { return stats_; }
    Format format() const { return format_; }

private:
    void header(std::uint32_t link);
    // Appends a record for a frame of `caplen` bytes and returns where its bytes go.
    std::uint8_t* frame(std::uint32_t caplen, std::uint32_t wirelen, std::uint32_t link, std::uint64_t ts);
    std::uint8_t* room(std::size_t n);  // n bytes at the end of the buffer (flushing it first if full)
    void flush();

    std::string path_;
    std::FILE* file_ = nullptr;
    Format format_;
    bool started_ = false;
    std::uint32_t pcap_link_ = 0;
    std::vector<std::int32_t> iface_of_link_;  // pcapng: interface number by link type, -1 when none yet
    std::int32_t ifaces_ = 0;
    std::vector<std::uint8_t> buf_, scratch_;  // buf_ holds used_ bytes to write
    std::size_t used_ = 0;
    WriterStats stats_;
};

}  // namespace hp::pcap
