// Maglev consistent hashing (Eisenbud et al., NSDI 2016, §3.4): a lookup table
// of prime size M in which every backend owns a near-equal share of slots, and
// which moves few slots when a backend comes or goes. A flow's backend is
// table[hash % M].
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace hp {

// XXH64 (xxHash 0.8 specification). Envoy hashes backend names with it, so a
// table built here from the same names and weights is the table Envoy builds.
std::uint64_t xxh64(const void* data, std::size_t len, std::uint64_t seed);

bool is_prime(std::uint64_t n);

// A backend's preference list is permutation[j] = (offset + j * skip) mod M;
// M prime and 1 <= skip < M make it visit every slot exactly once.
struct MaglevPermutation {
    std::uint32_t offset;
    std::uint32_t skip;
};

// Envoy's: offset = XXH64(name, 0) mod M, skip = XXH64(name, 1) mod (M - 1) + 1.
MaglevPermutation maglev_permutation(const std::string& name, std::uint32_t size);

// The table from explicit preference lists, backends taking turns in the order
// given: the paper's pseudocode, with Envoy's weights (a backend sits out a
// turn until its weight has accumulated to the largest weight's pace). Entry s
// is the index of the backend that owns slot s. Throws std::invalid_argument
// for a size that is not prime or not above the number of backends, an
// offset or skip out of range, or a zero weight.
std::vector<std::uint32_t> maglev_table(const std::vector<MaglevPermutation>& permutations,
                                        const std::vector<std::uint32_t>& weights, std::uint32_t size);

// The table for named backends, which must be sorted and distinct: the order of
// turns then depends on the set of names only, not on how a caller listed them.
std::vector<std::uint32_t> maglev_table(const std::vector<std::string>& sorted_names,
                                        const std::vector<std::uint32_t>& weights, std::uint32_t size);

// out[i] = table[hashes[i] % size].
void maglev_lookup(const std::uint32_t* table, std::uint32_t size, const std::uint64_t* hashes, std::size_t n,
                   std::uint32_t* out);
void maglev_lookup(const std::uint32_t* table, std::uint32_t size, const std::uint32_t* hashes, std::size_t n,
                   std::uint32_t* out);

}  // namespace hp
