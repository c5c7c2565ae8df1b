// Thin binding of the packet path's hop dispatch (topology/path_dispatch.hpp): checks the
// arrays, releases the GIL, calls the core. The per-packet state arrays are the path's own
// (hyperplane/topology/nodes.py, Run), so the checks here are of dtype, shape and bounds.
#include "topology/path_dispatch.hpp"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bindings/batch.hpp"
#include "verdict.gen.hpp"

namespace hp::bind {
namespace {

template <class T>
py::array_t<T> vector_of(const py::handle& obj, const char* name, bool writable = false) {
    if (!py::isinstance<py::array>(obj))
        throw py::type_error(std::string(name) + " must be a numpy array, not " +
                             std::string(py::str(py::type::of(obj).attr("__name__"))));
    auto arr = py::reinterpret_borrow<py::array>(obj);
    if (!arr.dtype().equal(py::dtype::of<T>()))
        throw py::type_error(std::string(name) + " must have dtype " + std::string(py::str(py::dtype::of<T>())) +
                             ", not " + std::string(py::str(arr.dtype())));
    if (arr.ndim() != 1 || !(arr.flags() & py::array::c_style))
        throw py::value_error(std::string(name) + " must be 1-D and C-contiguous");
    if (writable && !arr.writeable()) throw py::value_error(std::string(name) + " is read-only");
    return py::reinterpret_borrow<py::array_t<T>>(arr);
}

std::size_t size_of(const py::array& a) { return static_cast<std::size_t>(a.shape(0)); }

void same_size(const py::array& a, std::size_t n, const char* name) {
    if (size_of(a) != n)
        throw py::value_error(std::string(name) + " must hold " + std::to_string(n) + " elements, not " +
                              std::to_string(size_of(a)));
}

}  // namespace

void register_path(py::module_& m) {
    m.def(
        "path_order",
        [](const py::list& parts, const std::vector<bool>& ordered, const py::handle& ts_obj) {
            auto ts = vector_of<std::uint64_t>(ts_obj, "ts");
            if (ordered.size() != parts.size()) throw py::value_error("ordered must hold a flag per part");
            std::vector<py::array_t<std::int64_t>> keep;
            std::vector<path::Part> spans;
            std::size_t total = 0;
            for (std::size_t k = 0; k < parts.size(); ++k) {
                keep.push_back(vector_of<std::int64_t>(parts[k], "parts"));
                spans.push_back({keep.back().data(), size_of(keep.back()), ordered[k]});
                total += spans.back().n;
            }
            py::array_t<std::int64_t> out(static_cast<py::ssize_t>(total));
            std::int64_t* dst = out.mutable_data();
            {
                py::gil_scoped_release release;
                path::order(spans, ts.data(), size_of(ts), dst);
            }
            return out;
        },
        py::arg("parts"), py::arg("ordered"), py::arg("ts"));
    m.def(
        "path_dispatch",
        [](const py::handle& idx_obj, const py::handle& v_obj, const py::handle& nxt_obj, std::int32_t hop,
           std::size_t nodes, const py::handle& ts_obj, const py::handle& verdict_obj, const py::handle& hop_obj,
           const py::handle& counts_obj) {
            auto idx = vector_of<std::int64_t>(idx_obj, "idx");
            const std::size_t n = size_of(idx);
            auto v = vector_of<std::uint8_t>(v_obj, "v");
            same_size(v, n, "v");
            py::array_t<std::int64_t> nxt;
            std::int64_t single = -1;
            const bool one = py::isinstance<py::int_>(nxt_obj);
            if (one) {
                single = nxt_obj.cast<std::int64_t>();
            } else {
                nxt = vector_of<std::int64_t>(nxt_obj, "nxt");
                same_size(nxt, n, "nxt");
            }
            auto ts = vector_of<std::uint64_t>(ts_obj, "ts");
            auto verdict = vector_of<std::uint8_t>(verdict_obj, "verdict", true);
            auto hops = vector_of<std::int32_t>(hop_obj, "hop_out", true);
            auto counts = vector_of<std::uint64_t>(counts_obj, "counts", true);
            const std::size_t batch = size_of(ts);
            same_size(verdict, batch, "verdict"), same_size(hops, batch, "hop_out");
            same_size(counts, kVerdictCount, "counts");
            py::array_t<std::int64_t> grouped(static_cast<py::ssize_t>(n));
            path::Groups g;
            std::size_t m_grouped = 0;
            {
                py::gil_scoped_release release;
                m_grouped = path::dispatch(idx.data(), n, v.data(), one ? nullptr : nxt.data(), single, hop, nodes,
                                           ts.data(), batch, verdict.mutable_data(), hops.mutable_data(),
                                           counts.mutable_data(), kVerdictCount, grouped.mutable_data(), g);
            }
            grouped.resize({static_cast<py::ssize_t>(m_grouped)});
            return py::make_tuple(grouped, py::array(py::cast(g.targets)), py::array(py::cast(g.starts)),
                                  py::array(py::cast(g.heads)));
        },
        py::arg("idx"), py::arg("v"), py::arg("nxt"), py::arg("hop"), py::arg("nodes"), py::arg("ts"),
        py::arg("verdict"), py::arg("hop_out"), py::arg("counts"));
    m.def(
        "path_gather",
        [](const py::handle& pk_obj, const py::handle& idx_obj) {
            const auto pk = packet_batch(pk_obj, "packets");
            auto idx = vector_of<std::int64_t>(idx_obj, "idx");
            py::array out(pk.dtype(), std::vector<py::ssize_t>{idx.shape(0)});
            auto* dst = static_cast<Packet*>(out.mutable_data());
            {
                py::gil_scoped_release release;
                path::gather(packets_of(pk), size_of(pk), idx.data(), size_of(idx), dst);
            }
            return out;
        },
        py::arg("packets"), py::arg("idx"));
    m.def(
        "path_scatter",
        [](const py::handle& pk_obj, const py::handle& idx_obj, const py::handle& batch_obj) {
            auto pk = packet_batch(pk_obj, "packets", true);
            auto idx = vector_of<std::int64_t>(idx_obj, "idx");
            const auto batch = packet_batch(batch_obj, "batch");
            same_size(batch, size_of(idx), "batch");
            auto* dst = static_cast<Packet*>(pk.mutable_data());
            py::gil_scoped_release release;
            path::scatter(dst, size_of(pk), idx.data(), size_of(idx), packets_of(batch));
        },
        py::arg("packets"), py::arg("idx"), py::arg("batch"));
    m.def(
        "path_move_on",
        [](const py::handle& pk_obj, const py::handle& ts_obj, const py::handle& delay_obj, const py::handle& idx_obj,
           const py::handle& d_obj) {
            auto pk = packet_batch(pk_obj, "packets", true);
            auto ts = vector_of<std::uint64_t>(ts_obj, "ts", true);
            auto delay = vector_of<std::uint64_t>(delay_obj, "delay", true);
            auto idx = vector_of<std::int64_t>(idx_obj, "idx");
            auto d = vector_of<std::uint64_t>(d_obj, "d");
            same_size(ts, size_of(pk), "ts"), same_size(delay, size_of(pk), "delay");
            same_size(d, size_of(idx), "d");
            auto* p = static_cast<Packet*>(pk.mutable_data());
            py::gil_scoped_release release;
            path::move_on(p, ts.mutable_data(), delay.mutable_data(), size_of(pk), idx.data(), size_of(idx), d.data());
        },
        py::arg("packets"), py::arg("ts"), py::arg("delay"), py::arg("idx"), py::arg("d"));
}

}  // namespace hp::bind
