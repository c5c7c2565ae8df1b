#include "probe/memory_probe.hpp"

#include "bindings/batch.hpp"

namespace hp::bind {

void register_probe(py::module_& m) {
    m.def(
        "random_read_seconds",
        [](std::size_t bytes, std::size_t reads, std::uint64_t seed) {
            RandomReadResult r{};
            {
                py::gil_scoped_release release;
                r = random_reads(bytes, reads, seed);
            }
            return py::make_tuple(r.seconds, r.checksum);
        },
        py::arg("bytes"), py::arg("reads"), py::arg("seed") = 1,
        "Seconds for `reads` random 64-byte line reads over a table of `bytes` bytes (16 in flight); "
        "returns (seconds, checksum).");
}

}  // namespace hp::bind
