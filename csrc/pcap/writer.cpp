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
constexpr std::size_t kBuffer = 4u << 20;

}  // namespace

CaptureWriter::CaptureWriter(const std::string& path, Format format)
    : path_(path), format_(format), iface_of_link_(65536, -1) {
    file_ = std::fopen(path.c_str(), "wb");
    if (!file_) throw std::system_error(errno, std::generic_category(), path);
    buf_.resize(kBuffer);
    scratch_.resize(kSnaplen + 64);
}

CaptureWriter::~CaptureWriter() {
    try {
        close();
    } catch (...) {
    }
}

std::uint8_t* CaptureWriter::room(std::size_t n) {
    if (used_ + n > buf_.size()) flush();
    std::uint8_t* at = buf_.data() + used_;
    used_ += n;
    return at;
}

void CaptureWriter::header(std::uint32_t link) {
    if (format_ == Format::pcap) {
        if (started_) return;
        std::uint8_t* h = room(24);
        store_le32(h, 0xa1b23c4d);
        store_le16(h + 4, 2), store_le16(h + 6, 4);
        store_le32(h + 8, 0), store_le32(h + 12, 0);
        store_le32(h + 16, kSnaplen), store_le32(h + 20, link);
        pcap_link_ = link;
        started_ = true;
        return;
    }
    if (!started_) {
        std::uint8_t* h = room(28);
        store_le32(h, 0x0a0d0d0a), store_le32(h + 4, 28), store_le32(h + 8, 0x1a2b3c4d);
        store_le16(h + 12, 1), store_le16(h + 14, 0);
        store_le32(h + 16, 0xffffffff), store_le32(h + 20, 0xffffffff);  // section length: unknown
        store_le32(h + 24, 28);
        started_ = true;
    }
    if (link > 0xffff || iface_of_link_[link] >= 0) return;
    iface_of_link_[link] = ifaces_++;
    std::uint8_t* h = room(32);
    store_le32(h, 1), store_le32(h + 4, 32);
    store_le16(h + 8, static_cast<std::uint16_t>(link)), store_le16(h + 10, 0);
    store_le32(h + 12, 0);                                                // snaplen: no limit
    store_le16(h + 16, 9), store_le16(h + 18, 1), store_le32(h + 20, 9);  // if_tsresol = 10^-9, padded
    store_le32(h + 24, 0);                                                // opt_endofopt
    store_le32(h + 28, 32);
}

std::uint8_t* CaptureWriter::frame(std::uint32_t caplen, std::uint32_t wirelen, std::uint32_t link, std::uint64_t ts) {
    header(link);
    ++stats_.written;
    if (format_ == Format::pcap) {
        std::uint8_t* r = room(16 + std::size_t{caplen});
        store_le32(r, static_cast<std::uint32_t>(ts / 1'000'000'000u));
        store_le32(r + 4, static_cast<std::uint32_t>(ts % 1'000'000'000u));
        store_le32(r + 8, caplen), store_le32(r + 12, wirelen);
        return r + 16;
    }
    const std::uint32_t padded = (caplen + 3u) & ~3u, len = 32 + padded;
    std::uint8_t* r = room(len);
    store_le32(r, 6), store_le32(r + 4, len);
    store_le32(r + 8, static_cast<std::uint32_t>(iface_of_link_[link]));
    store_le32(r + 12, static_cast<std::uint32_t>(ts >> 32)), store_le32(r + 16, static_cast<std::uint32_t>(ts));
    store_le32(r + 20, caplen), store_le32(r + 24, wirelen);
    std::memset(r + 28 + caplen, 0, padded - caplen);
    store_le32(r + 28 + padded, len);
    return r + 28;
}

void CaptureWriter::flush() {
    if (used_ == 0 || !file_) return;
    if (std::fwrite(buf_.data(), 1, used_, file_) != used_)
        throw std::system_error(errno, std::generic_category(), path_);
    used_ = 0;
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
            std::memcpy(frame(len, len, in.linktypes[i], out.ts), scratch_.data(), len);
            ++stats_.resets;
            continue;
        }
        std::uint8_t* dst = frame(caplen, wirelen, in.linktypes[i], out.ts);
        std::memcpy(dst, src, caplen);
        if (sound) stats_.rewritten += apply_rewrite(dst, caplen, info, orig, out);
    }
}

}  // namespace hp::pcap
