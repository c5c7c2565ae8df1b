// Toeplitz hash as the Microsoft RSS specification defines it.
//
// The hash of an input bit string is the XOR, over every set input bit i
// (most significant bit of the first byte is bit 0), of the 32-bit window of
// the key that starts at key bit i. Two forms live here: the bit-serial one,
// which follows the definition literally and is the reference, and a
// byte-table one that precomputes, for each input byte position and each of
// its 256 values, the XOR of the windows its set bits select.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace hp {

// Hash of `len` input bytes with a key of `key_len` bytes; the specification
// needs len + 4 <= key_len so that every window lies inside the key.
std::uint32_t toeplitz_bitserial(const std::uint8_t* key, std::size_t key_len, const std::uint8_t* data,
                                 std::size_t len);

class ToeplitzTable {
public:
    // Tables for the first `input_len` bytes of input (input_len + 4 <= key_len).
    ToeplitzTable(const std::uint8_t* key, std::size_t key_len, std::size_t input_len);

    // Contribution of byte `value` (0..255) at byte position `pos` of the input.
    std::uint32_t at(std::size_t pos, std::uint32_t value) const { return tables_[pos][value]; }

private:
    std::vector<std::array<std::uint32_t, 256>> tables_;
};

}  // namespace hp
