// pcap: the libpcap file format (draft-ietf-opsawg-pcap): a 24-byte header whose
// magic gives byte order and timestamp unit (0xa1b2c3d4 microseconds,
// 0xa1b23c4d nanoseconds), then 16-byte record headers. pcapng
// (draft-ietf-opsawg-pcapng): blocks of (type, length, body, length); a Section
// Header Block's byte-order magic 0x1a2b3c4d sets the order of its section;
// Interface Description Blocks give each interface its link type, snaplen and
// if_tsresol (option 9: 10^-n, or 2^-n with the high bit; default 10^-6) and
// if_tsoffset (option 14, seconds); Enhanced Packet Blocks name their interface,
// Simple Packet Blocks belong to the first and carry no time.
#include "pcap/reader.hpp"

#include <stdexcept>

#include "pcap/bytes.hpp"

namespace hp::pcap {

namespace {

constexpr std::uint32_t kPcapMicro = 0xa1b2c3d4, kPcapNano = 0xa1b23c4d;
constexpr std::uint32_t kShb = 0x0a0d0d0a, kIdb = 1, kSpb = 3, kEpb = 6, kByteOrder = 0x1a2b3c4d;
constexpr std::uint32_t kMaxRecord = 262144;  // libpcap's largest snaplen of any link type
constexpr std::uint64_t kPopulateChunk = 32u << 20;

std::uint64_t pow10(unsigned e) {
    std::uint64_t v = 1;
    while (e--) v *= 10;
    return v;
}

__extension__ typedef unsigned __int128 u128;

}  // namespace

CaptureReader::CaptureReader(std::shared_ptr<const MappedFile> file, const std::string& name)
    : file_(std::move(file)), data_(file_->data()), size_(file_->size()) {
    if (size_ < 4)
        throw std::invalid_argument(name + ": not a pcap or pcapng capture (" + std::to_string(size_) + " bytes)");
    const std::uint32_t magic = load32(data_, false);
    if (magic == kShb) {
        format_ = Format::pcapng;
        const std::uint32_t bom = size_ >= 12 ? load32(data_ + 8, false) : 0;
        if (bom != kByteOrder && bom != __builtin_bswap32(kByteOrder))
            throw std::invalid_argument(name + ": not a pcapng capture (no byte-order magic in its first block)");
    } else if (magic == kPcapMicro || magic == kPcapNano || __builtin_bswap32(magic) == kPcapMicro ||
               __builtin_bswap32(magic) == kPcapNano) {
        format_ = Format::pcap;
        if (size_ < 24)
            throw std::invalid_argument(name + ": truncated pcap file header (" + std::to_string(size_) +
                                        " of 24 bytes)");
        swap_ = magic != kPcapMicro && magic != kPcapNano;
        nanos_ = load32(data_, swap_) == kPcapNano;
        pcap_snaplen_ = load32(data_ + 16, swap_);
        pcap_link_ = load32(data_ + 20, swap_) & 0xffffu;  // the upper bits carry FCS information
        start_ = 24;
    } else {
        throw std::invalid_argument(name + ": not a pcap or pcapng capture (unknown magic number)");
    }
    rewind();
}

void CaptureReader::rewind() {
    pos_ = start_;
    populated_ = 0;
    done_ = false;
    last_ts_ = 0;
    stats_ = ReaderStats{};
    ifaces_.clear();
    if (format_ == Format::pcap) {
        Interface only;
        only.linktype = pcap_link_, only.snaplen = pcap_snaplen_;
        only.mult = nanos_ ? 1 : 1000;
        ifaces_.push_back(only);
        stats_.interfaces = 1;
    }
}

void CaptureReader::stop(Malformed why) {
    ++stats_.malformed[static_cast<std::size_t>(why)];
    done_ = true;
}

void CaptureReader::close_section() {
    for (const Interface& i : ifaces_)
        if (i.frames) stats_.linktypes[i.linktype] += i.frames;
    ifaces_.clear();
}

ReaderStats CaptureReader::stats() const {
    ReaderStats s = stats_;
    for (const Interface& i : ifaces_)
        if (i.frames) s.linktypes[i.linktype] += i.frames;
    return s;
}

bool CaptureReader::next_pcap(std::uint64_t& at, std::uint32_t& caplen, std::uint32_t& wirelen, Interface*& iface,
                              std::uint64_t& ts) {
    if (pos_ == size_) return done_ = true, false;
    if (size_ - pos_ < 16) return stop(Malformed::truncated_file), false;
    const std::uint8_t* r = data_ + pos_;
    caplen = load32(r + 8, swap_);
    wirelen = load32(r + 12, swap_);
    if (caplen > kMaxRecord) return stop(Malformed::bad_record_length), false;
    if (caplen > size_ - pos_ - 16) return stop(Malformed::truncated_file), false;
    iface = &ifaces_[0];
    ts = std::uint64_t{load32(r, swap_)} * 1'000'000'000u + std::uint64_t{load32(r + 4, swap_)} * iface->mult;
    at = pos_ + 16;
    pos_ = at + caplen;
    return true;
}

bool CaptureReader::read_idb(std::uint64_t pos, std::uint32_t len) {
    if (len < 20) return false;
    const std::uint8_t* b = data_ + pos;
    Interface i;
    i.linktype = load16(b + 8, swap_);
    i.snaplen = load32(b + 12, swap_);
    i.mult = 1000;  // default resolution: microseconds
    std::uint32_t o = 16;
    const std::uint32_t end = len - 4;
    while (o + 4 <= end) {
        const std::uint32_t code = load16(b + o, swap_), olen = load16(b + o + 2, swap_);
        if (code == 0 || olen > end - o - 4) break;
        const std::uint8_t* v = b + o + 4;
        if (code == 9 && olen >= 1) {
            const unsigned e = v[0] & 0x7fu;
            if (v[0] & 0x80) {
                i.mult = 1'000'000'000u, i.div = std::uint64_t{1} << (e > 63 ? 63 : e);
            } else if (e <= 9) {
                i.mult = pow10(9 - e), i.div = 1;
            } else {
                i.mult = 1, i.div = pow10(e > 19 ? 10 : e - 9);
            }
        } else if (code == 14 && olen >= 8) {
            std::uint64_t s = load32(v, swap_), s2 = load32(v + 4, swap_);
            const std::uint64_t secs = swap_ ? (s << 32 | s2) : (s2 << 32 | s);
            i.offset_ns = static_cast<std::int64_t>(secs * 1'000'000'000u);
        }
        o += 4 + ((olen + 3u) & ~3u);
    }
    ifaces_.push_back(i);
    ++stats_.interfaces;
    return true;
}

bool CaptureReader::next_pcapng(std::uint64_t& at, std::uint32_t& caplen, std::uint32_t& wirelen, Interface*& iface,
                                std::uint64_t& ts) {
    while (!done_) {
        if (pos_ == size_) return done_ = true, false;
        if (size_ - pos_ < 12) return stop(Malformed::truncated_file), false;
        const std::uint8_t* b = data_ + pos_;
        const std::uint32_t type = load32(b, swap_);  // the SHB's type reads the same in both orders
        if (type == kShb) {
            const std::uint32_t bom = load32(b + 8, false);
            if (bom != kByteOrder && bom != __builtin_bswap32(kByteOrder))
                return stop(Malformed::bad_block_length), false;
            swap_ = bom != kByteOrder;
            close_section();
            ++stats_.sections;
        }
        const std::uint32_t len = load32(b + 4, swap_);
        if (len < 12 || len % 4 != 0) return stop(Malformed::bad_block_length), false;
        if (len > size_ - pos_) return stop(Malformed::truncated_file), false;
        if (load32(b + len - 4, swap_) != len) return stop(Malformed::bad_block_length), false;
        const std::uint64_t here = pos_;
        pos_ += len;
        switch (type) {
            case kShb:
                if (len < 28) return stop(Malformed::bad_block_length), false;
                break;
            case kIdb:
                // Interfaces are numbered by their order: a bad one leaves the numbering unknown.
                if (!read_idb(here, len)) return stop(Malformed::bad_block_length), false;
                break;
            case kEpb: {
                if (len < 32) {
                    ++stats_.malformed[static_cast<std::size_t>(Malformed::bad_block_length)];
                    break;
                }
                const std::uint32_t id = load32(b + 8, swap_);
                caplen = load32(b + 20, swap_);
                wirelen = load32(b + 24, swap_);
                if (caplen > len - 32) {
                    ++stats_.malformed[static_cast<std::size_t>(Malformed::bad_block_length)];
                    break;
                }
                if (id >= ifaces_.size()) {
                    ++stats_.malformed[static_cast<std::size_t>(Malformed::unknown_interface)];
                    break;
                }
                iface = &ifaces_[id];
                const std::uint64_t raw = std::uint64_t{load32(b + 12, swap_)} << 32 | load32(b + 16, swap_);
                const std::uint64_t ns = iface->div == 1
                                             ? raw * iface->mult
                                             : static_cast<std::uint64_t>(u128{raw} * iface->mult / iface->div);
                ts = last_ts_ = ns + static_cast<std::uint64_t>(iface->offset_ns);
                at = here + 28;
                return true;
            }
            case kSpb: {
                if (len < 16) {
                    ++stats_.malformed[static_cast<std::size_t>(Malformed::bad_block_length)];
                    break;
                }
                if (ifaces_.empty()) {
                    ++stats_.malformed[static_cast<std::size_t>(Malformed::unknown_interface)];
                    break;
                }
                iface = &ifaces_[0];
                wirelen = load32(b + 8, swap_);
                caplen = wirelen < len - 16 ? wirelen : len - 16;
                if (iface->snaplen && caplen > iface->snaplen) caplen = iface->snaplen;
                ts = last_ts_;
                at = here + 12;
                return true;
            }
            default:
                ++stats_.blocks_skipped;
        }
    }
    return false;
}

std::size_t CaptureReader::next(std::size_t n, const FrameArrays& out) {
    std::size_t k = 0;
    while (k < n && !done_) {
        if (pos_ + kMaxRecord + 64 > populated_ && populated_ < size_) {
            file_->populate(populated_, kPopulateChunk);
            populated_ += kPopulateChunk;
        }
        std::uint64_t at = 0, ts = 0;
        std::uint32_t caplen = 0, wirelen = 0;
        Interface* iface = nullptr;
        const bool got = format_ == Format::pcap ? next_pcap(at, caplen, wirelen, iface, ts)
                                                 : next_pcapng(at, caplen, wirelen, iface, ts);
        if (!got) break;
        if (wirelen < caplen) wirelen = caplen;
        Packet& p = out.packets[k];
        p.ts = ts;
        FrameInfo info;
        const Malformed why = decode_frame(data_ + at, caplen, wirelen, iface->linktype, p, info);
        if (why != Malformed::none) {
            ++stats_.malformed[static_cast<std::size_t>(why)];
            continue;
        }
        ++iface->frames;
        ++stats_.frames;
        stats_.bytes += caplen;
        stats_.ipv4 += info.kind == FrameKind::ipv4;
        stats_.ipv6 += info.kind == FrameKind::ipv6;
        stats_.other += info.kind == FrameKind::other;
        stats_.fragments += (p.flags & packet_flag::fragment) != 0;
        stats_.vlan += info.vlan;
        stats_.snapped += caplen < wirelen;
        stats_.snapped_headers += info.snapped_headers;
        out.offsets[k] = at;
        out.lengths[k] = caplen;
        out.wire_lengths[k] = wirelen;
        out.linktypes[k] = static_cast<std::uint16_t>(iface->linktype);
        out.kinds[k] = static_cast<std::uint8_t>(info.kind);
        ++k;
    }
    return k;
}

}  // namespace hp::pcap
