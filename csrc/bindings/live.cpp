// hyperplane._core's live frame I/O: arguments checked and the GIL released
// here; the sockets, ARP and forwarding are in csrc/live/.
#include <pybind11/stl.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

#include "bindings/batch.hpp"
#include "live/netns.hpp"
#include "live/router.hpp"

namespace hp::bind {
namespace {

using LinkTuple = std::tuple<std::string, std::uint32_t, unsigned, std::vector<std::uint32_t>, std::uint32_t>;

[[noreturn]] void raise_os_error(const std::system_error& e) {
    errno = e.code().value();
    PyErr_SetFromErrno(PyExc_OSError);
    throw py::error_already_set();
}

std::string mac_text(const std::uint8_t* m) {
    char s[18];
    std::snprintf(s, sizeof s, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    return s;
}

std::unique_ptr<live::Router> make_router(const std::vector<LinkTuple>& links, const std::vector<std::uint32_t>& local,
                                          std::size_t batch, int ring) {
    live::RouterConfig cfg;
    for (const auto& [name, address, prefix, owned, gateway] : links)
        cfg.links.push_back(live::LinkConfig{name, address, prefix, owned, gateway});
    cfg.local = local;
    cfg.batch = batch;
    cfg.ring = ring;
    try {
        return std::make_unique<live::Router>(cfg);
    } catch (const std::system_error& e) {
        raise_os_error(e);
    }
}

}  // namespace

void register_live(py::module_& m) {
    py::class_<live::Router>(m, "LiveRouter")
        .def(py::init(&make_router), py::arg("links"), py::arg("local"), py::arg("batch") = 256, py::arg("ring") = 3)
        .def(
            "receive",
            [](live::Router& r, const py::object& out, int timeout_ms) {
                auto arr = packet_batch(out, "out", true);
                if (static_cast<std::size_t>(arr.shape(0)) < r.batch())
                    throw py::value_error("out must hold at least " + std::to_string(r.batch()) + " packets");
                auto* dst = static_cast<Packet*>(arr.mutable_data());
                py::gil_scoped_release release;
                return r.receive(dst, timeout_ms);
            },
            py::arg("out"), py::arg("timeout_ms"))
        .def(
            "transmit",
            [](live::Router& r, const py::object& packets, const py::object& verdict) {
                auto arr = packet_batch(packets, "packets");
                const auto n = static_cast<std::size_t>(arr.shape(0));
                if (n != r.received())
                    throw py::value_error("packets must hold the " + std::to_string(r.received()) +
                                          " records of the last receive(), not " + std::to_string(n));
                auto v = output_array<std::uint8_t>(verdict, n, "verdict");
                const Packet* p = packets_of(arr);
                const std::uint8_t* vd = v.data();
                py::gil_scoped_release release;
                r.transmit(p, vd, n);
            },
            py::arg("packets"), py::arg("verdict"))
        .def("counters",
             [](live::Router& r) {
                 const live::LiveCounts c = r.counts();
                 py::dict d;
                 for (std::size_t i = 0; i < c.size(); ++i) d[kLiveCounterNames[i]] = c[i];
                 return d;
             })
        .def("ingress",
             [](const live::Router& r) {
                 py::array_t<std::uint32_t> out(static_cast<py::ssize_t>(r.received()));
                 for (std::size_t i = 0; i < r.received(); ++i) out.mutable_data()[i] = r.ingress(i);
                 return out;
             })
        .def_property_readonly("links", [](const live::Router& r) {
            std::vector<std::pair<std::string, std::string>> out;
            for (std::size_t i = 0; i < r.links(); ++i) out.emplace_back(r.link_name(i), mac_text(r.link_mac(i)));
            return out;
        });
    m.def(
        "enter_network_namespace",
        [](int fd) {
            try {
                live::enter_network_namespace(fd);
            } catch (const std::system_error& e) {
                raise_os_error(e);
            }
        },
        py::arg("fd"));
}

}  // namespace hp::bind
