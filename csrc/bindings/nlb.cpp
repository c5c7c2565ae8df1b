#include "stages/nlb.hpp"

#include <pybind11/stl.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "bindings/batch.hpp"

namespace hp::bind {
void register_nlb(py::module_& m) {

    py::class_<NetworkLoadBalancer>(m, "NetworkLoadBalancer")
        .def(py::init([](std::size_t capacity, unsigned queues, std::vector<std::uint32_t> nodes,
                         std::vector<std::pair<std::uint16_t, std::uint8_t>> listeners, const py::object& timeouts_ns,
                         const py::bytes& hash_key, const py::bytes& flow_key, std::uint64_t seed,
                         bool preserve_client_ip, bool terminate, std::uint32_t per_target) {
                 NlbConfig cfg;
                 cfg.capacity = capacity, cfg.queues = queues, cfg.nodes = std::move(nodes);
                 cfg.listeners = std::move(listeners);
                 cfg.timeouts = timeouts_from(timeouts_ns);
                 cfg.key = hash_key_from(hash_key, "hash_key");
                 cfg.flow_key = hash_key_from(flow_key, "flow_key");
                 cfg.seed = seed, cfg.preserve_client_ip = preserve_client_ip, cfg.terminate = terminate;
                 cfg.per_target = per_target;
                 try {
                     return std::make_unique<NetworkLoadBalancer>(cfg);
                 } catch (const std::invalid_argument& e) {
                     throw py::value_error(e.what());
                 }
             }),
             py::arg("capacity"), py::arg("queues"), py::arg("nodes"), py::arg("listeners"), py::arg("timeouts_ns"),
             py::arg("hash_key"), py::arg("flow_key"), py::arg("seed"), py::arg("preserve_client_ip"),
             py::arg("terminate"), py::arg("per_target"))
        .def(
            "set_targets",
            [](NetworkLoadBalancer& nlb, const std::vector<std::uint32_t>& ips, const std::vector<std::uint16_t>& ports,
               const std::vector<bool>& healthy, const std::vector<bool>& registered,
               const std::vector<std::uint64_t>& drain_deadline) {
                const std::size_t n = ips.size();
                if (ports.size() != n || healthy.size() != n || registered.size() != n || drain_deadline.size() != n)
                    throw py::value_error("target arrays must have one entry per target");
                std::vector<NlbTarget> targets(n);
                for (std::size_t i = 0; i < n; ++i)
                    targets[i] = NlbTarget{ips[i], ports[i], healthy[i], registered[i], drain_deadline[i]};
                nlb.set_targets(std::move(targets));
            },
            py::arg("ips"), py::arg("ports"), py::arg("healthy"), py::arg("registered"), py::arg("drain_deadline"))
        .def(
            "set_table",
            [](NetworkLoadBalancer& nlb, std::size_t node, std::vector<std::uint32_t> table) {
                try {
                    nlb.set_table(node, std::move(table));
                } catch (const std::invalid_argument& e) {
                    throw py::value_error(e.what());
                }
            },
            py::arg("node"), py::arg("table"))
        .def(
            "process",
            [](NetworkLoadBalancer& nlb, const py::handle& batch, const py::object& out, const py::object& verdict_out,
               const py::object& target_out, unsigned threads) {
                const auto pkts = packet_batch(batch, "batch");
                const auto n = static_cast<std::size_t>(pkts.shape(0));
                py::array result = output_batch(out, pkts, "out");
                auto verdicts = output_array<std::uint8_t>(verdict_out, n, "verdict_out");
                auto targets = output_array<std::uint32_t>(target_out, n, "target_out");
                const Packet* in = packets_of(pkts);
                auto* dst = static_cast<Packet*>(result.mutable_data());
                std::uint8_t* v = verdicts.mutable_data();
                std::uint32_t* t = targets.mutable_data();
                {
                    py::gil_scoped_release release;
                    nlb.process(in, n, dst, v, t, threads);
                }
                return py::make_tuple(result, verdicts, targets);
            },
            py::arg("batch"), py::arg("out") = py::none(), py::arg("verdict_out") = py::none(),
            py::arg("target_out") = py::none(), py::arg("threads") = 1)
        .def("expire", [](NetworkLoadBalancer& nlb, std::uint64_t now) {
                py::gil_scoped_release release;
                nlb.expire(now);
            }, py::arg("now_ns"))
        .def("metric_values", [](const NetworkLoadBalancer& nlb) {
            const auto minutes = nlb.metrics();
            py::array_t<std::uint64_t> out({static_cast<py::ssize_t>(minutes.size()), static_cast<py::ssize_t>(kNlbMetricCount)});
            if (!minutes.empty()) std::memcpy(out.mutable_data(), minutes.data(), minutes.size() * sizeof(NlbMinute));
            return out;
        })
        .def("verdict_values", [](const NetworkLoadBalancer& nlb) {
            const auto v = nlb.verdicts();
            return std::vector<std::uint64_t>(v.begin(), v.end());
        })
        .def("flows_per_target", &NetworkLoadBalancer::flows_per_target)
        .def_property_readonly("start_minute", &NetworkLoadBalancer::start_minute)
        .def("__len__", &NetworkLoadBalancer::size);
}

}  // namespace hp::bind
