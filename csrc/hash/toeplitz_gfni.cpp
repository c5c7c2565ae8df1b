#include "hash/toeplitz_gfni.hpp"

#include <stdexcept>

#include "core/machine.hpp"

#if defined(HP_X86_64_GNU)
#include <immintrin.h>
#endif

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*() and trip its own
// maybe-uninitialized analysis once inlined here (GCC bug 105593).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace hp {
namespace {

unsigned key_bit(const std::uint8_t* key, std::size_t bit) { return (key[bit / 8] >> (7 - bit % 8)) & 1U; }

// Where network-order input byte p sits in the 16 bytes at record offset 8
// (src_ip, dst_ip, src_port, dst_port, all little-endian in memory).
constexpr std::array<std::uint8_t, 12> kInputOffset = {3, 2, 1, 0, 7, 6, 5, 4, 9, 8, 11, 10};

// vpermt2b indices: vector i, lane j, byte t = input byte p(i, j) of packet t,
// whose 16 bytes start at 16 t in the two-register table.
constexpr std::array<std::uint8_t, 6 * 64> make_transpose() {
    std::array<std::uint8_t, 6 * 64> idx{};
    for (unsigned i = 0; i < 6; ++i)
        for (unsigned j = 0; j < 8; ++j)
            for (unsigned t = 0; t < 8; ++t)
                idx[i * 64 + j * 8 + t] = static_cast<std::uint8_t>(16 * t + kInputOffset[2 * i + j / 4]);
    return idx;
}

// Result byte k of packet t sits at 8 k + t; the hash wants k = 0 as its top byte.
constexpr std::array<std::uint8_t, 32> make_gather() {
    std::array<std::uint8_t, 32> idx{};
    for (unsigned t = 0; t < 8; ++t)
        for (unsigned b = 0; b < 4; ++b) idx[4 * t + b] = static_cast<std::uint8_t>((3 - b) * 8 + t);
    return idx;
}

// For four packets' 16-byte slices: keep every byte but the ports of the
// packets whose bit is clear (they hash on addresses alone).
constexpr std::array<std::uint64_t, 16> make_keep() {
    std::array<std::uint64_t, 16> keep{};
    for (unsigned ok = 0; ok < 16; ++ok) {
        std::uint64_t mask = ~0ULL;
        for (unsigned t = 0; t < 4; ++t)
            if (!((ok >> t) & 1U)) mask &= ~(0xFULL << (16 * t + 8));
        keep[ok] = mask;
    }
    return keep;
}

// Bytes read ahead of the loop, so that batches larger than the caches stream in.
constexpr std::size_t kAhead = 1024;

alignas(64) constexpr auto kTranspose = make_transpose();
alignas(32) constexpr auto kGather = make_gather();
constexpr auto kKeep = make_keep();

}  // namespace

ToeplitzGfniMatrices toeplitz_gfni_matrices(const std::uint8_t* key, std::size_t key_len) {
    if (key_len < 16) throw std::invalid_argument("IPv4 Toeplitz needs a key of at least 16 bytes");
    ToeplitzGfniMatrices m{};
    for (unsigned lane = 0; lane < 48; ++lane) {
        const unsigned p = 2 * (lane / 8) + (lane % 8) / 4, k = lane % 4;
        std::uint64_t matrix = 0;
        // Result bit r of byte k is hash bit 8k + 7 - r (from the top); input
        // bit b of byte p is input bit 8p + 7 - b; GF2P8AFFINEQB reads the row
        // of result bit r from matrix byte 7 - r.
        for (unsigned r = 0; r < 8; ++r) {
            std::uint64_t row = 0;
            for (unsigned b = 0; b < 8; ++b)
                row |= static_cast<std::uint64_t>(key_bit(key, 8 * p + (7 - b) + 8 * k + (7 - r))) << b;
            matrix |= row << (8 * (7 - r));
        }
        m.lanes[lane] = matrix;
    }
    return m;
}

#if defined(HP_X86_64_GNU)

namespace {

// Bit 0/1: does record 0/1 of this 64-byte pair hash its ports (TCP or UDP, not a fragment)?
__attribute__((target("avx512f,avx512bw"))) inline unsigned ports_ok(__m512i pair, __m512i fragment_bit) {
    const __mmask64 tcp = _mm512_cmpeq_epi8_mask(pair, _mm512_set1_epi8(proto::tcp));
    const __mmask64 udp = _mm512_cmpeq_epi8_mask(pair, _mm512_set1_epi8(proto::udp));
    const __mmask64 frag = _mm512_test_epi8_mask(pair, fragment_bit);
    // proto is byte 22 of a record, flags byte 24: line the fragment bit up under proto.
    const std::uint64_t ok = (tcp | udp) & ~(frag >> 2);
    return static_cast<unsigned>(((ok >> 22) & 1U) | ((ok >> 53) & 2U));
}

}  // namespace

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi,gfni"))) std::size_t toeplitz_gfni_ipv4(
    const ToeplitzGfniMatrices& m, const Packet* pkts, std::size_t n, std::uint32_t* out, bool fragment_ports) {
    __m512i matrix[6], transpose[6];
    for (unsigned i = 0; i < 6; ++i) {
        matrix[i] = _mm512_load_si512(m.lanes.data() + 8 * i);
        transpose[i] = _mm512_load_si512(kTranspose.data() + 64 * i);
    }
    const __m256i gather = _mm256_load_si256(reinterpret_cast<const __m256i*>(kGather.data()));
    // Qwords 1 and 2 of each 32-byte record: bytes 8..23, addresses and ports.
    const __m512i middles = _mm512_setr_epi64(1, 2, 5, 6, 9, 10, 13, 14);
    const __m512i fragment_bit = _mm512_set1_epi8(fragment_ports ? 0 : packet_flag::fragment);

    const std::size_t whole = n - n % 8;
    for (std::size_t base = 0; base < whole; base += 8) {
        const auto* rec = reinterpret_cast<const char*>(pkts + base);
        for (unsigned line = 0; line < 4; ++line) __builtin_prefetch(rec + kAhead + 64 * line);
        const __m512i r0 = _mm512_loadu_si512(rec), r1 = _mm512_loadu_si512(rec + 64);
        const __m512i r2 = _mm512_loadu_si512(rec + 128), r3 = _mm512_loadu_si512(rec + 192);
        const unsigned ok_lo = ports_ok(r0, fragment_bit) | (ports_ok(r1, fragment_bit) << 2);
        const unsigned ok_hi = ports_ok(r2, fragment_bit) | (ports_ok(r3, fragment_bit) << 2);
        const __m512i lo = _mm512_maskz_mov_epi8(kKeep[ok_lo], _mm512_permutex2var_epi64(r0, middles, r1));
        const __m512i hi = _mm512_maskz_mov_epi8(kKeep[ok_hi], _mm512_permutex2var_epi64(r2, middles, r3));

        __m512i acc = _mm512_setzero_si512();
        for (unsigned i = 0; i < 6; ++i) {
            const __m512i bytes = _mm512_permutex2var_epi8(lo, transpose[i], hi);
            acc = _mm512_xor_si512(acc, _mm512_gf2p8affine_epi64_epi8(bytes, matrix[i], 0));
        }
        // Lanes 0-3 summed the even input bytes, lanes 4-7 the odd ones.
        const __m256i sum = _mm256_xor_si256(_mm512_castsi512_si256(acc), _mm512_extracti64x4_epi64(acc, 1));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + base), _mm256_permutexvar_epi8(gather, sum));
    }
    return whole;
}

#else

std::size_t toeplitz_gfni_ipv4(const ToeplitzGfniMatrices&, const Packet*, std::size_t, std::uint32_t*, bool) {
    return 0;
}

#endif

}  // namespace hp
