// Record layouts as the reader (reader.cpp) reads them; the pcap header is the
// nanosecond one (magic 0xa1b23c4d, version 2.4, snaplen 262144), pcapng's SHB
// has section length -1 (unknown) and each IDB sets if_tsresol to 9 (ns).
#include "pcap/writer.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "pcap/bytes.hpp"
#include "pcap/rewrite.hpp"
#include "verdict.gen.hpp"

namespace hp::pcap {

namespace {

constexpr std::uint32_t kSnaplen = 262144;

void put16(std::vector<std::uint8_t>& b, std::uint16_t v) {
    const std::size_t at = b.size();
    b.resize(at + 2);
    store_le16(b.data() + at, v);
}

void put32(std::vector<std::uint8_t>& b, std::uint32_t v) {
    const std::size_t at = b.size();
    b.resize(at + 4);
    store_le32(b.data() + at, v);
}

}  // namespace

CaptureWriter::CaptureWriter(const std::string& path, Format format)
    : path_(path), format_(format), iface_of_link_(65536, -1) {
    file_ = std::fopen(path.c_str(), "wb");
    if (!file_) throw std::system_error(errno, std::generic_category(), path);
    buf_.reserve(1 << 20);
    scratch_.resize(kSnaplen + 64);
}

CaptureWriter::~CaptureWriter() {
    try {
        close();
    } catch (...) {
    }
}

void CaptureWriter::header(std::uint32_t link) {
    if (format_ == Format::pcap) {
        if (started_) return;
        put32(buf_, 0xa1b23c4d);
        put16(buf_, 2), put16(buf_, 4);
        put32(buf_, 0), put32(buf_, 0);
        put32(buf_, kSnaplen), put32(buf_, link);
        pcap_link_ = link;
        started_ = true;
        return;
    }
    if (!started_) {
        put32(buf_, 0x0a0d0d0a), put32(buf_, 28), put32(buf_, 0x1a2b3c4d);
        put16(buf_, 1), put16(buf_, 0);
        put32(buf_, 0xffffffff), put32(buf_, 0xffffffff);
        put32(buf_, 28);
        started_ = true;
    }
    if (link > 0xffff || iface_of_link_[link] >= 0) return;
    iface_of_link_[link] = ifaces_++;
    put32(buf_, 1), put32(buf_, 32);
    put16(buf_, static_cast<std::uint16_t>(link)), put16(buf_, 0);
    put32(buf_, 0);                                      // snaplen: no limit
    put16(buf_, 9), put16(buf_, 1), put32(buf_, 9);      // if_tsresol = 10^-9, padded
    put16(buf_, 0), put16(buf_, 0);                      // opt_endofopt
    put32(buf_, 32);
}

void CaptureWriter::frame(const std::uint8_t* data, std::uint32_t caplen, std::uint32_t wirelen, std::uint32_t link,
                          std::uint64_t ts) {
    header(link);
    if (format_ == Format::pcap) {
        put32(buf_, static_cast<std::uint32_t>(ts / 1'000'000'000u));
        put32(buf_, static_cast<std::uint32_t>(ts % 1'000'000'000u));
        put32(buf_, caplen), put32(buf_, wirelen);
        buf_.insert(buf_.end(), data, data + caplen);
    } else {
        const std::uint32_t padded = (caplen + 3u) & ~3u, len = 32 + padded;
        put32(buf_, 6), put32(buf_, len);
        put32(buf_, static_cast<std::uint32_t>(iface_of_link_[link]));
        put32(buf_, static_cast<std::uint32_t>(ts >> 32)), put32(buf_, static_cast<std::uint32_t>(ts));
        put32(buf_, caplen), put32(buf_, wirelen);
        buf_.insert(buf_.end(), data, data + caplen);
        buf_.resize(buf_.size() + (padded - caplen), 0);
        put32(buf_, len);
    }
    ++stats_.written;
    if (buf_.size() >= (1u << 20)) flush();
}

void CaptureWriter::flush() {
    if (buf_.empty() || !file_) return;
    if (std::fwrite(buf_.data(), 1, buf_.size(), file_) != buf_.size())
        throw std::system_error(errno, std::generic_category(), path_);
    buf_.clear();
}

void CaptureWriter::close() {
    if (!file_) return;
    if (!started_) header(linktype::ethernet);  // an empty capture is still a capture
    flush();
    const int rc = std::fclose(file_);
    file_ = nullptr;
    if (rc != 0) throw std::system_error(errno, std::generic_category(), path_);
}

void CaptureWriter::write(const FramesIn& in, const Packet* packets, const std::uint8_t* keep,
                          const std::uint8_t* verdict) {
    if (!file_) throw std::invalid_argument(path_ + ": the writer is closed");
    std::uint32_t link = pcap_link_;
    if (!started_)
        for (std::size_t i = 0; i < in.n; ++i)
            if (!keep || keep[i]) {
                link = in.linktypes[i];
                break;
            }
    for (std::size_t i = 0; i < in.n; ++i) {
        if (in.lengths[i] > kSnaplen)
            throw std::invalid_argument("frames: frame " + std::to_string(i) + " is longer than 262144 bytes");
        if (in.offsets[i] > in.bytes_size || in.lengths[i] > in.bytes_size - in.offsets[i])
            throw std::invalid_argument("frames: frame " + std::to_string(i) + " lies outside its bytes");
        if (format_ == Format::pcap && (!keep || keep[i]) && in.linktypes[i] != link)
            throw std::invalid_argument("frames: frame " + std::to_string(i) + " has link type " +
                                        std::to_string(in.linktypes[i]) + " but this pcap file holds " +
                                        std::to_string(link) + "; pcapng holds several");
    }
    for (std::size_t i = 0; i < in.n; ++i) {
        if (keep && !keep[i]) {
            ++stats_.dropped;
            continue;
        }
        const std::uint8_t* src = in.bytes + in.offsets[i];
        const std::uint32_t caplen = in.lengths[i];
        const std::uint32_t wirelen = in.wire_lengths[i] < caplen ? caplen : in.wire_lengths[i];
        Packet orig;
        orig.ts = 0;
        FrameInfo info;
        const bool sound = decode_frame(src, caplen, wirelen, in.linktypes[i], orig, info) == Malformed::none;
        const Packet& out = packets[i];
        if (verdict && verdict[i] == static_cast<std::uint8_t>(Verdict::reset)) {
            const std::uint32_t len = sound ? build_rst(src, in.linktypes[i], info, orig, out, scratch_.data()) : 0;
            if (len == 0) {
                ++stats_.no_reset;
                continue;
            }
            frame(scratch_.data(), len, len, in.linktypes[i], out.ts);
            ++stats_.resets;
            continue;
        }
        if (!sound || info.kind != FrameKind::ipv4) {
            frame(src, caplen, wirelen, in.linktypes[i], out.ts);
            continue;
        }
        std::memcpy(scratch_.data(), src, caplen);
        stats_.rewritten += apply_rewrite(scratch_.data(), caplen, info, orig, out);
        frame(scratch_.data(), caplen, wirelen, in.linktypes[i], out.ts);
    }
}

}  // namespace hp::pcap
