// libFuzzer target: Maglev tables for 1..40 named backends with weights 0..7 in a small prime
// table. A refused set (std::invalid_argument: a zero weight, too few slots) is fine; a table
// must index only its backends, with equal weights every backend owns a slot, and lookups stay in it.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "fuzz_input.hpp"
#include "hash/maglev.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static constexpr std::uint32_t kSizes[] = {2, 3, 5, 7, 13, 31, 61, 251, 1021, 4093};
    hp::fuzz::Input in(data, size);
    const std::uint32_t slots = kSizes[in.in(0, 9)];
    const std::size_t count = in.in(1, 40);
    std::vector<std::string> names;
    std::vector<std::uint32_t> weights;
    for (std::size_t b = 0; b < count; ++b) {
        names.push_back("10.0." + std::to_string(in.take<std::uint8_t>()) + "." + std::to_string(b) + ":80");
        weights.push_back(in.take<std::uint8_t>() % 8);
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    weights.resize(names.size());
    try {
        const auto table = hp::maglev_table(names, weights, slots);
        hp::fuzz::check(table.size() == slots, "a table of the wrong size");
        std::vector<bool> owns(names.size());
        for (auto e : table) {
            hp::fuzz::check(e < names.size(), "a slot naming no backend");
            owns[e] = true;
        }
        // With equal weights every backend takes turns alike, so each owns a slot.
        const bool equal =
            std::all_of(weights.begin(), weights.end(), [&](std::uint32_t w) { return w == weights[0]; });
        for (std::size_t b = 0; equal && b < names.size(); ++b) hp::fuzz::check(owns[b], "a backend with no slot");
        std::vector<std::uint64_t> hashes(16);
        for (auto& h : hashes) h = in.take<std::uint64_t>();
        std::vector<std::uint32_t> out(hashes.size());
        hp::maglev_lookup(table.data(), slots, hashes.data(), hashes.size(), out.data());
        for (auto v : out) hp::fuzz::check(v < names.size(), "a lookup outside the backends");
    } catch (const std::invalid_argument&) {
    }
    return 0;
}
