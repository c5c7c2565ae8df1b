// Thin binding of the packet path's hop dispatch (topology/path_dispatch.hpp): checks the
// arrays, releases the GIL, calls the core. The per-packet state arrays are the path's own
// (hyperplane/topology/nodes.py, Run), so the checks here are of dtype, shape and bounds.
#include "topology/path_dispatch.hpp"
#include "topology/path_nodes.hpp"

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

// The per-packet state arrays a node reads and writes, each checked against the batch.
struct StateArrays {
    py::array pk;
    py::array_t<std::int64_t> then, from_subnet;
    py::array_t<std::uint8_t> lookups;
    py::array_t<bool> leaving, entering;
    py::array_t<std::int64_t> via;
    path::State state{};

    StateArrays(const py::handle& pk_obj, const py::handle& then_obj, const py::handle& from_obj,
                const py::handle& lookups_obj, const py::handle& leaving_obj, const py::handle& entering_obj,
                const py::handle& via_obj)
        : pk(packet_batch(pk_obj, "packets", true)),
          then(vector_of<std::int64_t>(then_obj, "then", true)),
          from_subnet(vector_of<std::int64_t>(from_obj, "from_subnet", true)),
          lookups(vector_of<std::uint8_t>(lookups_obj, "lookups", true)),
          leaving(vector_of<bool>(leaving_obj, "leaving", true)),
          entering(vector_of<bool>(entering_obj, "entering", true)),
          via(vector_of<std::int64_t>(via_obj, "via")) {
        const std::size_t n = size_of(pk);
        same_size(then, n, "then"), same_size(from_subnet, n, "from_subnet"), same_size(lookups, n, "lookups");
        same_size(leaving, n, "leaving"), same_size(entering, n, "entering");
        if (size_of(via)) same_size(via, n, "via");  // empty: no load balancers
        state = {static_cast<Packet*>(pk.mutable_data()),
                 n,
                 then.mutable_data(),
                 from_subnet.mutable_data(),
                 lookups.mutable_data(),
                 leaving.mutable_data(),
                 entering.mutable_data(),
                 size_of(via) ? via.data() : nullptr};
    }
};

using NodeFn = void (*)(const path::Tables&, const path::State&, const std::int64_t*, std::size_t, std::uint8_t*,
                        std::int64_t*);

// A node of the address kind: (verdicts, next nodes) for the packets idx.
void def_node(py::module_& m, const char* name, NodeFn fn) {
    m.def(
        name,
        [fn](const path::Tables& t, const py::handle& idx_obj, const py::handle& pk, const py::handle& then,
             const py::handle& from_subnet, const py::handle& lookups, const py::handle& leaving,
             const py::handle& entering, const py::handle& via) {
            StateArrays s(pk, then, from_subnet, lookups, leaving, entering, via);
            auto idx = vector_of<std::int64_t>(idx_obj, "idx");
            const std::size_t n = size_of(idx);
            py::array_t<std::uint8_t> v(static_cast<py::ssize_t>(n));
            py::array_t<std::int64_t> nxt(static_cast<py::ssize_t>(n));
            std::uint8_t* vp = v.mutable_data();
            std::int64_t* np_ = nxt.mutable_data();
            {
                py::gil_scoped_release release;
                path::check(t);
                fn(t, s.state, idx.data(), n, vp, np_);
            }
            return py::make_tuple(v, nxt);
        },
        py::arg("tables"), py::arg("idx"), py::arg("packets"), py::arg("then"), py::arg("from_subnet"),
        py::arg("lookups"), py::arg("leaving"), py::arg("entering"), py::arg("via"));
}

}  // namespace

void register_path(py::module_& m) {
    py::class_<path::Addresses>(m, "PathAddresses")
        .def(py::init<>())
        .def_readwrite("keys", &path::Addresses::keys)
        .def_readwrite("next", &path::Addresses::next)
        .def_readwrite("then", &path::Addresses::then)
        .def_readwrite("subnet", &path::Addresses::subnet)
        .def_readwrite("start", &path::Addresses::start)
        .def_readwrite("gateway", &path::Addresses::gateway)
        .def_readwrite("rewrite", &path::Addresses::rewrite)
        .def_readwrite("nat", &path::Addresses::nat);
    py::class_<path::Route>(m, "PathRoute")
        .def(py::init<>())
        .def_readwrite("base", &path::Route::base)
        .def_readwrite("mask", &path::Route::mask)
        .def_readwrite("local", &path::Route::local)
        .def_readwrite("verdict", &path::Route::verdict)
        .def_readwrite("next", &path::Route::next)
        .def_readwrite("then", &path::Route::then)
        .def_readwrite("subnet", &path::Route::subnet);
    py::class_<path::Tables>(m, "PathTables")
        .def(py::init<>())
        .def_readwrite("priv", &path::Tables::priv)
        .def_readwrite("lb_nodes", &path::Tables::lb_nodes)
        .def_readwrite("pub", &path::Tables::pub)
        .def_readwrite("eip", &path::Tables::eip)
        .def_readwrite("lb_node_next", &path::Tables::lb_node_next)
        .def_readwrite("lb_node_then", &path::Tables::lb_node_then)
        .def_readwrite("lb_node_subnet", &path::Tables::lb_node_subnet)
        .def_readwrite("vpc_base", &path::Tables::vpc_base)
        .def_readwrite("vpc_mask", &path::Tables::vpc_mask)
        .def_readwrite("subnet_zone", &path::Tables::subnet_zone)
        .def_readwrite("internet", &path::Tables::internet)
        .def_readwrite("max_lookups", &path::Tables::max_lookups)
        .def_readwrite("drop_not_routed", &path::Tables::drop_not_routed)
        .def_readwrite("drop_unreachable", &path::Tables::drop_unreachable)
        .def_readwrite("drop_no_public_ip", &path::Tables::drop_no_public_ip)
        .def_readwrite("drop_loop", &path::Tables::drop_loop)
        .def_readwrite("drop_no_route", &path::Tables::drop_no_route)
        .def("check", [](const path::Tables& t) { path::check(t); });
    def_node(m, "path_source", &path::source);
    def_node(m, "path_internet", &path::internet);
    def_node(m, "path_internet_gateway", &path::internet_gateway);
    m.def(
        "path_route",
        [](const path::Tables& t, const std::vector<path::Route>& routes, std::int64_t me, const py::handle& idx_obj,
           const py::handle& pk, const py::handle& then, const py::handle& from_subnet, const py::handle& lookups,
           const py::handle& leaving, const py::handle& entering, const py::handle& via, const py::handle& zp_obj,
           const py::handle& zb_obj) {
            StateArrays s(pk, then, from_subnet, lookups, leaving, entering, via);
            auto idx = vector_of<std::int64_t>(idx_obj, "idx");
            auto zp = vector_of<std::uint64_t>(zp_obj, "zone_packets", true);
            auto zb = vector_of<std::uint64_t>(zb_obj, "zone_bytes", true);
            same_size(zp, t.subnet_zone.size(), "zone_packets"), same_size(zb, t.subnet_zone.size(), "zone_bytes");
            const std::size_t n = size_of(idx);
            py::array_t<std::uint8_t> v(static_cast<py::ssize_t>(n));
            py::array_t<std::int64_t> nxt(static_cast<py::ssize_t>(n));
            std::uint8_t* vp = v.mutable_data();
            std::int64_t* np_ = nxt.mutable_data();
            {
                py::gil_scoped_release release;
                path::check(t);
                path::route(t, s.state, routes, me, idx.data(), n, vp, np_, zp.mutable_data(), zb.mutable_data());
            }
            return py::make_tuple(v, nxt);
        },
        py::arg("tables"), py::arg("routes"), py::arg("me"), py::arg("idx"), py::arg("packets"), py::arg("then"),
        py::arg("from_subnet"), py::arg("lookups"), py::arg("leaving"), py::arg("entering"), py::arg("via"),
        py::arg("zone_packets"), py::arg("zone_bytes"));

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
            if (spans.size() == 1) {  // one part in order already: itself, not a copy
                bool sorted = spans[0].ordered;
                if (!sorted) {
                    py::gil_scoped_release release;
                    sorted = path::in_order(spans[0].idx, spans[0].n, ts.data(), size_of(ts));
                }
                if (sorted) return keep[0];
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
        [](const py::handle& idx_obj, const py::handle& v_obj, const py::handle& nxt_obj, bool indirect,
           std::int32_t hop, std::size_t nodes, const py::handle& ts_obj, bool ordered, const py::handle& verdict_obj,
           const py::handle& hop_obj, const py::handle& counts_obj) {
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
                if (!indirect) same_size(nxt, n, "nxt");
            }
            auto ts = vector_of<std::uint64_t>(ts_obj, "ts");
            auto verdict = vector_of<std::uint8_t>(verdict_obj, "verdict", true);
            auto hops = vector_of<std::int32_t>(hop_obj, "hop_out", true);
            auto counts = vector_of<std::uint64_t>(counts_obj, "counts", true);
            const std::size_t batch = size_of(ts);
            if (!one && indirect) same_size(nxt, batch, "nxt");
            same_size(verdict, batch, "verdict"), same_size(hops, batch, "hop_out");
            same_size(counts, kVerdictCount, "counts");
            py::array_t<std::int64_t> grouped(static_cast<py::ssize_t>(n));
            path::Groups g;
            std::size_t m_grouped = 0;
            {
                py::gil_scoped_release release;
                m_grouped =
                    path::dispatch(idx.data(), n, v.data(), one ? nullptr : nxt.data(), single, indirect, hop, nodes,
                                   ts.data(), ordered, batch, verdict.mutable_data(), hops.mutable_data(),
                                   counts.mutable_data(), kVerdictCount, grouped.mutable_data(), g);
            }
            if (g.whole)
                grouped = idx;  // every packet to one node, in order: the same indices
            else
                grouped.resize({static_cast<py::ssize_t>(m_grouped)});
            return py::make_tuple(grouped, py::array(py::cast(g.targets)), py::array(py::cast(g.starts)),
                                  py::array(py::cast(g.heads)));
        },
        py::arg("idx"), py::arg("v"), py::arg("nxt"), py::arg("indirect"), py::arg("hop"), py::arg("nodes"),
        py::arg("ts"), py::arg("ordered"), py::arg("verdict"), py::arg("hop_out"), py::arg("counts"));
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
           const py::handle& d_obj, const py::object& gathered_obj) {
            auto pk = packet_batch(pk_obj, "packets", true);
            auto ts = vector_of<std::uint64_t>(ts_obj, "ts", true);
            auto delay = vector_of<std::uint64_t>(delay_obj, "delay", true);
            auto idx = vector_of<std::int64_t>(idx_obj, "idx");
            auto d = vector_of<std::uint64_t>(d_obj, "d");
            same_size(ts, size_of(pk), "ts"), same_size(delay, size_of(pk), "delay");
            same_size(d, size_of(idx), "d");
            Packet* g = nullptr;
            py::array gathered;
            if (!gathered_obj.is_none()) {
                gathered = packet_batch(gathered_obj, "gathered", true);
                same_size(gathered, size_of(idx), "gathered");
                g = static_cast<Packet*>(gathered.mutable_data());
            }
            auto* p = static_cast<Packet*>(pk.mutable_data());
            py::gil_scoped_release release;
            path::move_on(p, ts.mutable_data(), delay.mutable_data(), size_of(pk), idx.data(), size_of(idx), d.data(),
                          g);
        },
        py::arg("packets"), py::arg("ts"), py::arg("delay"), py::arg("idx"), py::arg("d"),
        py::arg("gathered") = py::none());
    m.def(
        "path_destinations",
        [](const py::handle& batch, const std::vector<std::uint32_t>& local_base,
           const std::vector<std::uint32_t>& local_mask, const std::vector<std::uint32_t>& inside_base,
           const std::vector<std::uint32_t>& inside_mask) {
            return per_packet<std::uint8_t>(batch, py::none(), [&](const Packet* p, std::size_t n, std::uint8_t* o) {
                path::classify_destinations(p, n, local_base, local_mask, inside_base, inside_mask, o);
            });
        },
        py::arg("batch"), py::arg("local_base"), py::arg("local_mask"), py::arg("inside_base"), py::arg("inside_mask"));
}

}  // namespace hp::bind
