// Checks at the boundary: every array that crosses into the core is checked
// here, once, and a wrong one raises TypeError/ValueError naming the argument.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <string>

#include "core/flow_key.hpp"
#include "core/packet.hpp"
#include "core/timeouts.hpp"

namespace hp::bind {

namespace py = pybind11;

// A 1-D, C-contiguous, 8-byte aligned array of PACKET_DTYPE; `writable` for stages that rewrite.
py::array packet_batch(const py::handle& obj, const char* name, bool writable = false);

// The batch a stage writes its packets into: `out` (checked: writable, n packets;
// it may be the input itself) or, when None, a new array like `batch`.
py::array output_batch(const py::object& out, const py::array& batch, const char* name);

inline const Packet* packets_of(const py::array& batch) { return static_cast<const Packet*>(batch.data()); }

// A 1-D C-contiguous array of T with `n` elements, checked when the caller gave one
// (the `out=` argument) and freshly allocated when it is None.
template <class T>
py::array_t<T> output_array(const py::object& out, std::size_t n, const char* name) {
    if (out.is_none()) return py::array_t<T>(static_cast<py::ssize_t>(n));
    if (!py::isinstance<py::array>(out))
        throw py::type_error(std::string(name) + " must be a numpy array, not " +
                             std::string(py::str(py::type::of(out).attr("__name__"))));
    auto arr = py::reinterpret_borrow<py::array>(out);
    if (!arr.dtype().is(py::dtype::of<T>()) && !arr.dtype().equal(py::dtype::of<T>()))
        throw py::type_error(std::string(name) + " must have dtype " + std::string(py::str(py::dtype::of<T>())) +
                             ", not " + std::string(py::str(arr.dtype())));
    if (arr.ndim() != 1 || static_cast<std::size_t>(arr.shape(0)) != n)
        throw py::value_error(std::string(name) + " must be 1-D with " + std::to_string(n) + " elements");
    if (!(arr.flags() & py::array::c_style)) throw py::value_error(std::string(name) + " must be C-contiguous");
    if (!arr.writeable()) throw py::value_error(std::string(name) + " is read-only");
    if (reinterpret_cast<std::uintptr_t>(arr.data()) % alignof(T) != 0)
        throw py::value_error(std::string(name) + " is not aligned");
    return py::array_t<T>(py::reinterpret_borrow<py::array_t<T>>(arr));
}

// One T per packet of `batch`, into `out` (checked) or a new array: fill(packets, n, dst)
// computes them without the GIL. Every "ask something of each packet" binding is this.
template <class T, class Fill>
py::array_t<T> per_packet(const py::handle& batch, const py::object& out, Fill fill) {
    const auto pkts = packet_batch(batch, "batch");
    const auto n = static_cast<std::size_t>(pkts.shape(0));
    auto result = output_array<T>(out, n, "out");
    const Packet* in = packets_of(pkts);
    T* dst = result.mutable_data();
    {
        py::gil_scoped_release release;
        fill(in, n, dst);
    }
    return result;
}

// Configuration every flow-table stage takes: per-class timeouts in ns (in
// hyperplane.Timeouts.as_ns() order) and a 32-byte secret hash key.
Timeouts timeouts_from(const py::object& timeouts_ns);
HashKey hash_key_from(const py::bytes& key, const char* name);

void register_packets(py::module_& m);
void register_rss(py::module_& m);
void register_conntrack(py::module_& m);
void register_probe(py::module_& m);
void register_maglev(py::module_& m);
void register_nat(py::module_& m);
void register_nlb(py::module_& m);
void register_ena(py::module_& m);
void register_pcap(py::module_& m);
void register_path(py::module_& m);
void register_mesh(py::module_& m);
void register_live(py::module_& m);
void register_fleet(py::module_& m);

}  // namespace hp::bind
