#include "hash/maglev.hpp"

#include <algorithm>
#include <stdexcept>

namespace hp {
namespace {

constexpr std::uint64_t kP1 = 0x9E3779B185EBCA87ULL;
constexpr std::uint64_t kP2 = 0xC2B2AE3D27D4EB4FULL;
constexpr std::uint64_t kP3 = 0x165667B19E3779F9ULL;
constexpr std::uint64_t kP4 = 0x85EBCA77C2B2AE63ULL;
constexpr std::uint64_t kP5 = 0x27D4EB2F165667C5ULL;

inline std::uint64_t rotl(std::uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

// Little-endian whatever the host: XXH64 is defined on little-endian words.
inline std::uint64_t read64(const std::uint8_t* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

inline std::uint64_t read32(const std::uint8_t* p) {
    return static_cast<std::uint64_t>(p[0]) | static_cast<std::uint64_t>(p[1]) << 8 |
           static_cast<std::uint64_t>(p[2]) << 16 | static_cast<std::uint64_t>(p[3]) << 24;
}

inline std::uint64_t xxh_round(std::uint64_t acc, std::uint64_t input) { return rotl(acc + input * kP2, 31) * kP1; }

inline std::uint64_t merge(std::uint64_t h, std::uint64_t v) { return (h ^ xxh_round(0, v)) * kP1 + kP4; }

std::string at(const char* what, std::size_t i) { return std::string(what) + "[" + std::to_string(i) + "]"; }

// One backend's state while the table fills. `pos` walks the preference list by
// adding `skip` mod M, which needs no multiply or divide per probe.
struct Turn {
    std::uint32_t pos;
    std::uint32_t skip;
    std::uint64_t weight;
    std::uint64_t target;  // Envoy's target_weight_: placements so far times the largest weight
};

inline std::uint32_t step(std::uint32_t pos, std::uint32_t skip, std::uint32_t size) {
    // pos + skip may not fit in 32 bits when M is close to 2^32.
    return pos >= size - skip ? pos - (size - skip) : pos + skip;
}

}  // namespace

std::uint64_t xxh64(const void* data, std::size_t len, std::uint64_t seed) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    const std::uint8_t* const end = p + len;
    std::uint64_t h;
    if (len >= 32) {
        std::uint64_t v1 = seed + kP1 + kP2, v2 = seed + kP2, v3 = seed, v4 = seed - kP1;
        for (; end - p >= 32; p += 32) {
            v1 = xxh_round(v1, read64(p));
            v2 = xxh_round(v2, read64(p + 8));
            v3 = xxh_round(v3, read64(p + 16));
            v4 = xxh_round(v4, read64(p + 24));
        }
        h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
        h = merge(merge(merge(merge(h, v1), v2), v3), v4);
    } else {
        h = seed + kP5;
    }
    h += static_cast<std::uint64_t>(len);
    for (; end - p >= 8; p += 8) h = rotl(h ^ xxh_round(0, read64(p)), 27) * kP1 + kP4;
    if (end - p >= 4) {
        h = rotl(h ^ (read32(p) * kP1), 23) * kP2 + kP3;
        p += 4;
    }
    for (; p < end; ++p) h = rotl(h ^ (*p * kP5), 11) * kP1;
    h ^= h >> 33;
    h *= kP2;
    h ^= h >> 29;
    h *= kP3;
    return h ^ (h >> 32);
}

bool is_prime(std::uint64_t n) {
    if (n < 4) return n >= 2;
    if (n % 2 == 0 || n % 3 == 0) return false;
    for (std::uint64_t d = 5; d <= n / d; d += 6)
        if (n % d == 0 || n % (d + 2) == 0) return false;
    return true;
}

MaglevPermutation maglev_permutation(const std::string& name, std::uint32_t size) {
    if (size < 2) throw std::invalid_argument("size must be at least 2, not " + std::to_string(size));
    return {static_cast<std::uint32_t>(xxh64(name.data(), name.size(), 0) % size),
            static_cast<std::uint32_t>(xxh64(name.data(), name.size(), 1) % (size - 1) + 1)};
}

std::vector<std::uint32_t> maglev_table(const std::vector<MaglevPermutation>& permutations,
                                        const std::vector<std::uint32_t>& weights, std::uint32_t size) {
    const std::size_t n = permutations.size();
    if (n == 0) throw std::invalid_argument("backends must not be empty");
    if (!is_prime(size)) throw std::invalid_argument("size must be prime, not " + std::to_string(size));
    if (size <= n)
        throw std::invalid_argument("size must be larger than the number of backends (" + std::to_string(n) +
                                    "), not " + std::to_string(size));
    if (weights.size() != n)
        throw std::invalid_argument("weights must have one entry per backend (" + std::to_string(n) + "), not " +
                                    std::to_string(weights.size()));
    std::vector<Turn> turns(n);
    std::uint64_t max_weight = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const auto [offset, skip] = permutations[i];
        if (offset >= size)
            throw std::invalid_argument(at("offsets", i) + " must be below size (" + std::to_string(size) + "), not " +
                                        std::to_string(offset));
        if (skip == 0 || skip >= size)
            throw std::invalid_argument(at("skips", i) + " must be in 1.." + std::to_string(size - 1) + ", not " +
                                        std::to_string(skip));
        if (weights[i] == 0) throw std::invalid_argument(at("weights", i) + " must be positive, not 0");
        turns[i] = {offset, skip, weights[i], 0};
        max_weight = std::max<std::uint64_t>(max_weight, weights[i]);
    }

    // Occupancy as bits: 8 KiB for M = 65537 stays in L1 while the table's
    // 256 KiB does not, and late turns probe many taken slots before a free one.
    std::vector<std::uint64_t> taken((static_cast<std::size_t>(size) + 63) / 64, 0);
    std::vector<std::uint32_t> table(size);
    std::uint32_t filled = 0;
    // A backend of the largest weight places once per iteration, so iterations
    // stay <= M and iteration * weight and target fit in 64 bits.
    for (std::uint64_t iteration = 1; filled < size; ++iteration) {
        for (std::size_t i = 0; i < n && filled < size; ++i) {
            Turn& t = turns[i];
            if (iteration * t.weight < t.target) continue;
            t.target += max_weight;
            std::uint32_t c = t.pos;
            while (taken[c >> 6] >> (c & 63) & 1) c = step(c, t.skip, size);
            taken[c >> 6] |= std::uint64_t{1} << (c & 63);
            table[c] = static_cast<std::uint32_t>(i);
            t.pos = step(c, t.skip, size);
            ++filled;
        }
    }
    return table;
}

std::vector<std::uint32_t> maglev_table(const std::vector<std::string>& sorted_names,
                                        const std::vector<std::uint32_t>& weights, std::uint32_t size) {
    for (std::size_t i = 1; i < sorted_names.size(); ++i)
        if (!(sorted_names[i - 1] < sorted_names[i]))
            throw std::invalid_argument("backends must be sorted and distinct: " + at("backends", i - 1) + " = '" +
                                        sorted_names[i - 1] + "', " + at("backends", i) + " = '" + sorted_names[i] +
                                        "'");
    // Checked here too so that a bad size says so before it is used as a divisor.
    if (!sorted_names.empty() && !is_prime(size))
        throw std::invalid_argument("size must be prime, not " + std::to_string(size));
    std::vector<MaglevPermutation> permutations;
    permutations.reserve(sorted_names.size());
    for (const auto& name : sorted_names) permutations.push_back(maglev_permutation(name, size));
    return maglev_table(permutations, weights, size);
}

void maglev_lookup(const std::uint32_t* table, std::uint32_t size, const std::uint64_t* hashes, std::size_t n,
                   std::uint32_t* out) {
    for (std::size_t i = 0; i < n; ++i) out[i] = table[hashes[i] % size];
}

void maglev_lookup(const std::uint32_t* table, std::uint32_t size, const std::uint32_t* hashes, std::size_t n,
                   std::uint32_t* out) {
    // A 32-bit divide is several times cheaper than a 64-bit one on x86.
    for (std::size_t i = 0; i < n; ++i) out[i] = table[hashes[i] % size];
}

}  // namespace hp
