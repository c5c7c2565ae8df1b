// Toeplitz over the IPv4 RSS input as GF(2) byte-matrix products.
//
// The hash is linear over GF(2): each input byte p contributes M_p(x_p) to the
// 32-bit result, and each of the four result bytes of M_p is an 8x8 bit
// matrix applied to x_p. GF2P8AFFINEQB applies one 8x8 matrix per 64-bit lane
// to the eight bytes of that lane, so with eight packets' byte p in a lane,
// one instruction computes 64 byte products: 6 of them cover the 12 input
// bytes x 4 result bytes of 8 packets.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/packet.hpp"

namespace hp {

// 48 matrices, one per (input byte p, result byte k), in the lane order the
// kernel uses: vector i, lane j holds p = 2i + j / 4, k = j % 4.
struct ToeplitzGfniMatrices {
    alignas(64) std::array<std::uint64_t, 48> lanes;
};

ToeplitzGfniMatrices toeplitz_gfni_matrices(const std::uint8_t* key, std::size_t key_len);

// Hashes the first n - n % 8 packets (needs cpu_has_avx512_gfni()); returns how many.
// `fragment_ports`: hash a fragment's ports too (see Rss).
std::size_t toeplitz_gfni_ipv4(const ToeplitzGfniMatrices& m, const Packet* pkts, std::size_t n, std::uint32_t* out,
                               bool fragment_ports);

}  // namespace hp
