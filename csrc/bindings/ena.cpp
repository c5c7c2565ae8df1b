#include "stages/ena_interface.hpp"

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "bindings/stage.hpp"

namespace hp::bind {

void register_ena(py::module_& m) {
    py::class_<EnaConfig> config(m, "EnaConfig");
    config.def(py::init<>())
        .def_readwrite("queues", &EnaConfig::queues)
        .def_property(
            "rss_key",
            [](const EnaConfig& c) {
                return py::bytes(reinterpret_cast<const char*>(c.rss_key.data()), c.rss_key.size());
            },
            [](EnaConfig& c, const py::bytes& key) {
                const std::string k = key;
                if (k.size() != c.rss_key.size())
                    throw py::value_error("rss_key must be " + std::to_string(c.rss_key.size()) + " bytes");
                std::memcpy(c.rss_key.data(), k.data(), c.rss_key.size());
            })
        .def_property(
            "direction",
            [](const EnaConfig& c) {
                return std::string(c.direction == EnaDirection::in    ? "in"
                                   : c.direction == EnaDirection::out ? "out"
                                                                      : "both");
            },
            [](EnaConfig& c, const std::string& name) {
                if (name == "in")
                    c.direction = EnaDirection::in;
                else if (name == "out")
                    c.direction = EnaDirection::out;
                else if (name == "both")
                    c.direction = EnaDirection::both;
                else
                    throw py::value_error("direction must be 'in', 'out' or 'both', not '" + name + "'");
            })
        .def_readwrite("pps", &EnaConfig::pps)
        .def_readwrite("baseline_bps", &EnaConfig::baseline_bps)
        .def_readwrite("burst_bps", &EnaConfig::burst_bps)
        .def_readwrite("credit_ns", &EnaConfig::credit_ns)
        .def_readwrite("initial_credits", &EnaConfig::initial_credits)
        .def_readwrite("flow_bps", &EnaConfig::flow_bps)
        .def_readwrite("link_local_pps", &EnaConfig::link_local_pps)
        .def_readwrite("window_ns", &EnaConfig::window_ns)
        .def_readwrite("mtu", &EnaConfig::mtu)
        .def_readwrite("queue_depth", &EnaConfig::queue_depth)
        .def_readwrite("conntrack", &EnaConfig::conntrack)
        .def_readwrite("latency_ns", &EnaConfig::latency_ns)
        .def_readwrite("latency_seed", &EnaConfig::latency_seed)
        .def_readwrite("flow_slots", &EnaConfig::flow_slots);
    def_networks_property(config, "instance", &EnaConfig::instance);
    def_networks_property(config, "link_local", &EnaConfig::link_local);
    def_timeouts_property(config, "timeouts_ns", &EnaConfig::timeouts);
    def_key_property(config, "hash_key", &EnaConfig::key);

    py::class_<EnaInterface>(m, "EnaInterface")
        .def(py::init<const EnaConfig&>(), py::arg("config"))
        .def(
            "process",
            [](EnaInterface& eni, const py::handle& batch, const py::object& out, const py::object& verdict_out,
               const py::object& delay_out) {
                StageIO io = stage_io(batch, out, verdict_out, false);
                auto delays = output_array<std::uint64_t>(delay_out, io.n, "delay_out");
                std::uint64_t* d = delays.mutable_data();
                {
                    py::gil_scoped_release release;
                    io.copy_through();
                    eni.process(io.in(), io.n, io.verdict_data(), d);
                }
                return io.result(delays);
            },
            py::arg("batch"), py::arg("out") = py::none(), py::arg("verdict_out") = py::none(),
            py::arg("delay_out") = py::none())
        .def(
            "share_pps", [](EnaInterface& eni, EnaInterface& other) { eni.share_pps(other); }, py::arg("other"))
        .def(
            "queue",
            [](const EnaInterface& eni, const py::handle& batch, const py::object& out) {
                return per_packet<std::uint16_t>(
                    batch, out, [&](const Packet* p, std::size_t n, std::uint16_t* q) { eni.queues(p, n, q); });
            },
            py::arg("batch"), py::arg("out") = py::none())
        .def(
            "latencies",
            [](const EnaInterface& eni, const py::handle& batch, const py::object& out) {
                return per_packet<std::uint64_t>(
                    batch, out, [&](const Packet* p, std::size_t n, std::uint64_t* l) { eni.latencies(p, n, l); });
            },
            py::arg("batch"), py::arg("out") = py::none())
        .def(
            "expire",
            [](EnaInterface& eni, std::uint64_t now) {
                py::gil_scoped_release release;
                eni.expire(now);
            },
            py::arg("now_ns"))
        .def("counter_values",
             [](const EnaInterface& eni) {
                 py::dict out;
                 const auto& c = eni.counters();
                 for (std::size_t i = 0; i < kEnaCounterCount; ++i) out[kEnaCounterNames[i]] = c[i];
                 out["conntrack_allowance_available"] = eni.conntrack_available();
                 return out;
             })
        .def("verdict_values",
             [](const EnaInterface& eni) {
                 const auto& v = eni.verdicts();
                 return std::vector<std::uint64_t>(v.begin(), v.end());
             })
        .def("queue_values",
             [](const EnaInterface& eni) {
                 const auto& s = eni.queue_stats();
                 const auto q = static_cast<py::ssize_t>(s.rx_cnt.size());
                 py::array_t<std::uint64_t> out({py::ssize_t{4}, q});
                 std::uint64_t* dst = out.mutable_data();
                 for (const auto* row : {&s.rx_cnt, &s.rx_bytes, &s.tx_cnt, &s.tx_bytes}) {
                     if (!row->empty()) std::memcpy(dst, row->data(), row->size() * sizeof(std::uint64_t));
                     dst += row->size();
                 }
                 return out;
             })
        .def(
            "latency_quantile", [](const EnaInterface& eni, double q) { return eni.delays().quantile(q); },
            py::arg("q"))
        .def("latency_max", [](const EnaInterface& eni) { return eni.delays().max(); })
        .def("credits_bits", &EnaInterface::credits_bits, py::arg("inbound"))
        .def_property_readonly("forwarded", [](const EnaInterface& eni) { return eni.waits().count(); })
        .def_property_readonly("delayed",
                               [](const EnaInterface& eni) { return eni.waits().count() - eni.waits().zeros(); })
        .def_property_readonly("flow_evictions", &EnaInterface::flow_evictions)
        .def_property_readonly("connections", &EnaInterface::connections);
}

}  // namespace hp::bind
