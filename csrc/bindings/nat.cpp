#include "stages/nat.hpp"

#include <pybind11/stl.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "bindings/batch.hpp"

namespace hp::bind {
void register_nat(py::module_& m) {
    PYBIND11_NUMPY_DTYPE(NatConnection, first_ts, last_ts, bytes_out, bytes_in, packets_out, packets_in, private_ip,
                         remote_ip, public_ip, private_port, remote_port, public_port, shard, proto, state);
    m.attr("NAT_CONNECTION_DTYPE") = py::dtype::of<NatConnection>();

    py::class_<NatGateway>(m, "NatGateway")
        .def(py::init([](std::size_t capacity, unsigned queues, std::vector<std::uint32_t> public_ips,
                         const std::vector<std::pair<std::uint32_t, std::uint32_t>>& private_networks,
                         const py::object& timeouts_ns, const py::bytes& hash_key, std::uint64_t seed,
                         std::uint32_t per_destination, double max_pps, double max_bps) {
                 NatConfig cfg;
                 cfg.capacity = capacity, cfg.queues = queues, cfg.public_ips = std::move(public_ips);
                 for (const auto& [base, mask] : private_networks) cfg.private_networks.push_back({base, mask});
                 cfg.timeouts = timeouts_from(timeouts_ns);
                 cfg.key = hash_key_from(hash_key, "hash_key");
                 cfg.seed = seed, cfg.per_destination = per_destination, cfg.max_pps = max_pps, cfg.max_bps = max_bps;
                 try {
                     return std::make_unique<NatGateway>(cfg);
                 } catch (const std::invalid_argument& e) {
                     throw py::value_error(e.what());
                 }
             }),
             py::arg("capacity"), py::arg("queues"), py::arg("public_ips"), py::arg("private_networks"),
             py::arg("timeouts_ns"), py::arg("hash_key"), py::arg("seed"), py::arg("per_destination"),
             py::arg("max_pps"), py::arg("max_bps"))
        .def(
            "process",
            [](NatGateway& nat, const py::handle& batch, const py::object& out, const py::object& verdict_out,
               unsigned threads) {
                const auto pkts = packet_batch(batch, "batch");
                const auto n = static_cast<std::size_t>(pkts.shape(0));
                py::array result = output_batch(out, pkts, "out");
                auto verdicts = output_array<std::uint8_t>(verdict_out, n, "verdict_out");
                const Packet* in = packets_of(pkts);
                auto* dst = static_cast<Packet*>(result.mutable_data());
                std::uint8_t* v = verdicts.mutable_data();
                {
                    py::gil_scoped_release release;
                    nat.process(in, n, dst, v, threads);
                }
                return py::make_tuple(result, verdicts);
            },
            py::arg("batch"), py::arg("out") = py::none(), py::arg("verdict_out") = py::none(),
            py::arg("threads") = 1)
        .def("expire", [](NatGateway& nat, std::uint64_t now) {
                py::gil_scoped_release release;
                nat.expire(now);
            }, py::arg("now_ns"))
        .def("connections", [](const NatGateway& nat) {
            std::vector<NatConnection> rows;
            {
                py::gil_scoped_release release;
                rows = nat.connections();
            }
            py::array_t<NatConnection> out(static_cast<py::ssize_t>(rows.size()));
            if (!rows.empty()) std::memcpy(out.mutable_data(), rows.data(), rows.size() * sizeof(NatConnection));
            return out;
        })
        .def("metric_values", [](const NatGateway& nat) {
            const auto minutes = nat.metrics();
            py::array_t<std::uint64_t> out({static_cast<py::ssize_t>(minutes.size()), static_cast<py::ssize_t>(kNatMetricCount)});
            if (!minutes.empty()) std::memcpy(out.mutable_data(), minutes.data(), minutes.size() * sizeof(NatMinute));
            return out;
        })
        .def("verdict_values", [](const NatGateway& nat) {
            const auto v = nat.verdicts();
            return std::vector<std::uint64_t>(v.begin(), v.end());
        })
        .def_property_readonly("start_minute", &NatGateway::start_minute)
        .def("__len__", &NatGateway::size);
}

}  // namespace hp::bind
