// The machine's random-access limit: how many independent cache-line reads per
// second one core completes over a table of a given size, with a burst of reads
// in flight at once. A flow table cannot beat it by more than its hit rate in
// the caches; it is the yardstick its lookup rate is reported against.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hp {

struct RandomReadResult {
    double seconds;
    std::uint64_t checksum;  // keeps the reads from being optimised away
};

// `reads` reads of one 64-byte line each, at uniformly random lines of a table of
// `bytes` bytes (allocated, filled, then read on huge pages where the kernel allows).
RandomReadResult random_reads(std::size_t bytes, std::size_t reads, std::uint64_t seed);

}  // namespace hp
