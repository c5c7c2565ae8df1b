#include "probe/memory_probe.hpp"

#include <sys/mman.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <new>
#include <stdexcept>

#include "core/flow_key.hpp"

namespace hp {
namespace {

struct alignas(64) Line {
    std::uint64_t words[8];
};

std::uint64_t wyrand(std::uint64_t& state) {
    state += 0xa0761d6478bd642fULL;
    return mix_mul(state, state ^ 0xe7037ed1a0b428dbULL);
}

}  // namespace

RandomReadResult random_reads(std::size_t bytes, std::size_t reads, std::uint64_t seed) {
    const std::size_t lines = bytes / sizeof(Line);
    if (lines == 0) throw std::invalid_argument("table must hold at least one 64-byte line");
    constexpr std::size_t kHuge = 2u << 20;
    const std::size_t size = (lines * sizeof(Line) + kHuge - 1) / kHuge * kHuge;
    std::unique_ptr<Line[], void (*)(void*)> table(static_cast<Line*>(std::aligned_alloc(kHuge, size)), std::free);
    if (!table) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    madvise(table.get(), size, MADV_HUGEPAGE);
#endif
    for (std::size_t i = 0; i < lines; ++i)
        for (auto& w : table[i].words) w = i;

    // The same burst shape as the flow table's: pick 16 lines, prefetch them
    // all, then read them, so 16 misses are in flight together.
    constexpr std::size_t kBurst = 16;
    std::uint64_t state = seed, sum = 0;
    std::size_t idx[kBurst];
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t done = 0; done < reads; done += kBurst) {
        for (auto& i : idx) {
            i = static_cast<std::size_t>((static_cast<uint128>(wyrand(state)) * lines) >> 64);
            __builtin_prefetch(&table[i]);
        }
        for (const auto i : idx) sum += table[i].words[0];
    }
    const auto stop = std::chrono::steady_clock::now();
    return {std::chrono::duration<double>(stop - start).count(), sum};
}

}  // namespace hp
