#include "hash/toeplitz.hpp"

#include <stdexcept>

namespace hp {
namespace {

// The 32-bit window of the key that starts at bit `bit`.
std::uint32_t key_window(const std::uint8_t* key, std::size_t bit) {
    const std::size_t byte = bit / 8;
    const unsigned shift = bit % 8;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 5; ++i) v = (v << 8) | key[byte + i];
    return static_cast<std::uint32_t>(v >> (8 - shift));
}

}  // namespace

std::uint32_t toeplitz_bitserial(const std::uint8_t* key, std::size_t key_len, const std::uint8_t* data,
                                 std::size_t len) {
    if (len + 4 > key_len) throw std::invalid_argument("toeplitz input longer than the key allows");
    // The window slides one key bit per input bit: keep the next key bits in
    // the low end of a 64-bit register and refill one key byte per input byte.
    std::uint32_t result = 0;
    std::uint64_t window = 0;
    for (std::size_t i = 0; i < 4; ++i) window = (window << 8) | key[i];
    window <<= 8;
    for (std::size_t i = 0; i < len; ++i) {
        window |= key[i + 4];
        for (int b = 7; b >= 0; --b) {
            // A mask, not a branch: input bits are random and a mispredict
            // would dominate the cost of the baseline.
            const std::uint32_t take = 0U - ((static_cast<std::uint32_t>(data[i]) >> b) & 1U);
            result ^= static_cast<std::uint32_t>(window >> 8) & take;
            window <<= 1;
        }
    }
    return result;
}

ToeplitzTable::ToeplitzTable(const std::uint8_t* key, std::size_t key_len, std::size_t input_len) : tables_(input_len) {
    if (input_len + 4 > key_len) throw std::invalid_argument("toeplitz input longer than the key allows");
    for (std::size_t pos = 0; pos < input_len; ++pos) {
        std::array<std::uint32_t, 8> bit_window{};  // bit_window[b]: window for value bit b
        for (unsigned b = 0; b < 8; ++b) bit_window[b] = key_window(key, pos * 8 + (7 - b));
        auto& table = tables_[pos];
        table[0] = 0;
        // Each value is a smaller value plus its highest set bit.
        for (unsigned v = 1; v < 256; ++v) {
            unsigned top = 31U - static_cast<unsigned>(__builtin_clz(v));
            table[v] = table[v & ~(1U << top)] ^ bit_window[top];
        }
    }
}

}  // namespace hp
