#include "stages/ena_interface.hpp"

#include <pybind11/stl.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "bindings/batch.hpp"

namespace hp::bind {

void register_ena(py::module_& m);

namespace {

std::vector<EnaNetwork> networks(const std::vector<std::pair<std::uint32_t, std::uint32_t>>& pairs) {
    std::vector<EnaNetwork> out;
    for (const auto& [base, mask] : pairs) out.push_back({base, mask});
    return out;
}

EnaDirection direction_of(const std::string& name) {
    if (name == "in") return EnaDirection::in;
    if (name == "out") return EnaDirection::out;
    if (name == "both") return EnaDirection::both;
    throw py::value_error("direction must be 'in', 'out' or 'both', not '" + name + "'");
}

}  // namespace

void register_ena(py::module_& m) {
    py::class_<EnaInterface>(m, "EnaInterface")
        .def(py::init([](unsigned queues, const py::bytes& rss_key, const std::string& direction,
                         const std::vector<std::pair<std::uint32_t, std::uint32_t>>& instance,
                         const std::vector<std::pair<std::uint32_t, std::uint32_t>>& link_local,
                         std::uint64_t pps, std::uint64_t baseline_bps, std::uint64_t burst_bps,
                         std::uint64_t credit_ns, double initial_credits, std::uint64_t flow_bps,
                         std::uint64_t link_local_pps, std::uint64_t window_ns, std::size_t queue_depth,
                         std::size_t conntrack, const py::object& timeouts_ns, const py::bytes& hash_key,
                         std::uint64_t latency_ns, std::size_t flow_slots, std::uint32_t mtu) {
                 EnaConfig cfg;
                 cfg.queues = queues;
                 const std::string rk = rss_key;
                 if (rk.size() != cfg.rss_key.size())
                     throw py::value_error("rss_key must be " + std::to_string(cfg.rss_key.size()) + " bytes");
                 std::memcpy(cfg.rss_key.data(), rk.data(), cfg.rss_key.size());
                 cfg.direction = direction_of(direction);
                 cfg.instance = networks(instance), cfg.link_local = networks(link_local);
                 cfg.pps = pps, cfg.baseline_bps = baseline_bps, cfg.burst_bps = burst_bps;
                 cfg.credit_ns = credit_ns, cfg.initial_credits = initial_credits, cfg.flow_bps = flow_bps;
                 cfg.link_local_pps = link_local_pps, cfg.window_ns = window_ns, cfg.queue_depth = queue_depth;
                 cfg.conntrack = conntrack, cfg.latency_ns = latency_ns, cfg.flow_slots = flow_slots;
                 cfg.mtu = mtu;
                 cfg.timeouts = timeouts_from(timeouts_ns);
                 cfg.key = hash_key_from(hash_key, "hash_key");
                 try {
                     return std::make_unique<EnaInterface>(cfg);
                 } catch (const std::invalid_argument& e) {
                     throw py::value_error(e.what());
                 }
             }),
             py::arg("queues"), py::arg("rss_key"), py::arg("direction"), py::arg("instance"),
             py::arg("link_local"), py::arg("pps"), py::arg("baseline_bps"), py::arg("burst_bps"),
             py::arg("credit_ns"), py::arg("initial_credits"), py::arg("flow_bps"), py::arg("link_local_pps"),
             py::arg("window_ns"), py::arg("queue_depth"), py::arg("conntrack"), py::arg("timeouts_ns"),
             py::arg("hash_key"), py::arg("latency_ns"), py::arg("flow_slots"), py::arg("mtu"))
        .def(
            "process",
            [](EnaInterface& eni, const py::handle& batch, const py::object& verdict_out,
               const py::object& delay_out) {
                const auto pkts = packet_batch(batch, "batch");
                const auto n = static_cast<std::size_t>(pkts.shape(0));
                auto verdicts = output_array<std::uint8_t>(verdict_out, n, "verdict_out");
                auto delays = output_array<std::uint64_t>(delay_out, n, "delay_out");
                const Packet* in = packets_of(pkts);
                std::uint8_t* v = verdicts.mutable_data();
                std::uint64_t* d = delays.mutable_data();
                {
                    py::gil_scoped_release release;
                    eni.process(in, n, v, d);
                }
                return py::make_tuple(verdicts, delays);
            },
            py::arg("batch"), py::arg("verdict_out") = py::none(), py::arg("delay_out") = py::none())
        .def(
            "queue",
            [](const EnaInterface& eni, const py::handle& batch, const py::object& out) {
                const auto pkts = packet_batch(batch, "batch");
                const auto n = static_cast<std::size_t>(pkts.shape(0));
                auto queues = output_array<std::uint16_t>(out, n, "out");
                const Packet* in = packets_of(pkts);
                std::uint16_t* q = queues.mutable_data();
                {
                    py::gil_scoped_release release;
                    eni.queues(in, n, q);
                }
                return queues;
            },
            py::arg("batch"), py::arg("out") = py::none())
        .def("expire", [](EnaInterface& eni, std::uint64_t now) {
                py::gil_scoped_release release;
                eni.expire(now);
            }, py::arg("now_ns"))
        .def("counter_values", [](const EnaInterface& eni) {
            py::dict out;
            const auto& c = eni.counters();
            for (std::size_t i = 0; i < kEnaCounterCount; ++i) out[kEnaCounterNames[i]] = c[i];
            out["conntrack_allowance_available"] = eni.conntrack_available();
            return out;
        })
        .def("verdict_values", [](const EnaInterface& eni) {
            const auto& v = eni.verdicts();
            return std::vector<std::uint64_t>(v.begin(), v.end());
        })
        .def("queue_values", [](const EnaInterface& eni) {
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
        .def("latency_quantile", &EnaInterface::latency_quantile, py::arg("q"))
        .def("latency_max", [](const EnaInterface& eni) {
            return eni.waits().count() ? eni.config().latency_ns + eni.waits().max() : 0;
        })
        .def("credits_bits", &EnaInterface::credits_bits, py::arg("inbound"))
        .def_property_readonly("forwarded", [](const EnaInterface& eni) { return eni.waits().count(); })
        .def_property_readonly("delayed", [](const EnaInterface& eni) {
            return eni.waits().count() - eni.waits().zeros();
        })
        .def_property_readonly("flow_evictions", &EnaInterface::flow_evictions)
        .def_property_readonly("connections", &EnaInterface::connections);
}

}  // namespace hp::bind
