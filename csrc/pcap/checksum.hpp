// The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
//
// A rewrite changes a few 16-bit words of a header (an address is two, a port
// one); RFC 1624 eqn. 3 updates the checksum from the old and new words alone,
// HC' = ~(~HC + ~m + m'), without touching the payload (which a capture cut by
// its snaplen may not even hold). Full computation is kept for the headers the
// writer builds itself (the RST) and for the tests that check the update.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hp::pcap {

// One's-complement sum of n bytes read as big-endian 16-bit words (odd tail padded with zero).
inline std::uint32_t csum_add(std::uint32_t sum, const std::uint8_t* p, std::size_t n) {
    std::uint64_t s = sum;
    std::size_t i = 0;
    for (; i + 1 < n; i += 2) s += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
    if (i < n) s += static_cast<std::uint32_t>(p[i] << 8);
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return static_cast<std::uint32_t>(s);
}

inline std::uint16_t csum_fold(std::uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum);
}

// RFC 1624 eqn. 3 for one 16-bit word changing from `old_word` to `new_word`.
inline std::uint16_t csum_update16(std::uint16_t check, std::uint16_t old_word, std::uint16_t new_word) {
    std::uint32_t s = static_cast<std::uint16_t>(~check) +
                      static_cast<std::uint32_t>(static_cast<std::uint16_t>(~old_word)) + new_word;
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return static_cast<std::uint16_t>(~s);
}

// The same for a 32-bit field (an IPv4 address: two words).
inline std::uint16_t csum_update32(std::uint16_t check, std::uint32_t old_value, std::uint32_t new_value) {
    check =
        csum_update16(check, static_cast<std::uint16_t>(old_value >> 16), static_cast<std::uint16_t>(new_value >> 16));
    return csum_update16(check, static_cast<std::uint16_t>(old_value), static_cast<std::uint16_t>(new_value));
}

}  // namespace hp::pcap
