// hyperplane._core: the compiled engine. Each submodule of the core has its
// own small binding file; this one only assembles them.
#include "bindings/batch.hpp"
#include "bindings/stage.hpp"
#include "core/memory_limit.hpp"

PYBIND11_MODULE(_core, m) {
    m.doc() = "hyperplane's C++ packet engine";
    // A table too large for the machine, refused before allocating (core/memory_limit.hpp).
    pybind11::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const hp::OutOfMemory& e) {
            PyErr_SetString(PyExc_MemoryError, e.what());
        }
    });
    hp::bind::register_packets(m);
    hp::bind::register_stage_config(m);
    hp::bind::register_rss(m);
    hp::bind::register_conntrack(m);
    hp::bind::register_probe(m);
    hp::bind::register_maglev(m);
    hp::bind::register_nat(m);
    hp::bind::register_nlb(m);
    hp::bind::register_ena(m);
    hp::bind::register_pcap(m);
    hp::bind::register_path(m);
    hp::bind::register_mesh(m);
    hp::bind::register_live(m);
    hp::bind::register_fleet(m);
}
