// Loads and stores of integers at any byte offset of a frame or a capture file.
// Capture files are read through a memory map at unaligned offsets, so every
// access goes through memcpy (one instruction on x86 and ARM, and no undefined
// behaviour under UBSan). Network headers are big-endian; pcap and pcapng
// headers are in the byte order their writer chose, named by a `swap` flag.
#pragma once

#include <cstdint>
#include <cstring>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the pcap readers assume a little-endian host");

namespace hp::pcap {

inline std::uint16_t load_be16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }

inline std::uint32_t load_be32(const std::uint8_t* p) {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return __builtin_bswap32(v);
}

inline void store_be16(std::uint8_t* p, std::uint16_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}

inline void store_be32(std::uint8_t* p, std::uint32_t v) {
    v = __builtin_bswap32(v);
    std::memcpy(p, &v, 4);
}

// A capture header field in the file's byte order (`swap`: the writer was big-endian).
inline std::uint16_t load16(const std::uint8_t* p, bool swap) {
    std::uint16_t v;
    std::memcpy(&v, p, 2);
    return swap ? __builtin_bswap16(v) : v;
}

inline std::uint32_t load32(const std::uint8_t* p, bool swap) {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
}

// Writers always write the host's (little-endian) order, as libpcap does.
inline void store_le16(std::uint8_t* p, std::uint16_t v) { std::memcpy(p, &v, 2); }
inline void store_le32(std::uint8_t* p, std::uint32_t v) { std::memcpy(p, &v, 4); }

}  // namespace hp::pcap
