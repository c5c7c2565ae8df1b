// The Network Load Balancer: its configuration, targets and tables; the rest
// is the sharded-stage template (bindings/stage.hpp).
#include "stages/nlb.hpp"

#include <utility>

#include "bindings/stage.hpp"

namespace hp::bind {

void register_nlb(py::module_& m) {
    PYBIND11_NUMPY_DTYPE(NlbFlow, first_ts, last_ts, bytes, packets, client_ip, node_ip, target_ip, client_port,
                         node_port, target_port, snat_port, target_index, shard, proto, state);
    m.attr("NLB_FLOW_DTYPE") = py::dtype::of<NlbFlow>();

    py::class_<NlbConfig, StageConfig> config(m, "NlbConfig");
    config.def(py::init<>())
        .def_readwrite("nodes", &NlbConfig::nodes)
        .def_readwrite("listeners", &NlbConfig::listeners)
        .def_readwrite("preserve_client_ip", &NlbConfig::preserve_client_ip)
        .def_readwrite("terminate_unhealthy", &NlbConfig::terminate_unhealthy)
        .def_readwrite("terminate_deregistered", &NlbConfig::terminate_deregistered)
        .def_readwrite("per_target", &NlbConfig::per_target);
    def_key_property(config, "flow_key", &NlbConfig::flow_key);

    py::class_<NetworkLoadBalancer> cls(m, "NetworkLoadBalancer");
    cls.def(py::init<const NlbConfig&>(), py::arg("config"))
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
        .def("set_table", &NetworkLoadBalancer::set_table, py::arg("node"), py::arg("table"))
        .def("set_fail_open", &NetworkLoadBalancer::set_fail_open, py::arg("fail_open"))
        .def(
            "process",
            [](NetworkLoadBalancer& nlb, const py::handle& batch, const py::object& out, const py::object& verdict_out,
               const py::object& target_out, unsigned threads) {
                StageIO io = stage_io(batch, out, verdict_out, true);
                auto targets = output_array<std::uint32_t>(target_out, io.n, "target_out");
                std::uint32_t* t = targets.mutable_data();
                {
                    py::gil_scoped_release release;
                    nlb.process(io.in(), io.n, io.out(), io.verdict_data(), t, threads);
                }
                return io.result(targets);
            },
            py::arg("batch"), py::arg("out") = py::none(), py::arg("verdict_out") = py::none(),
            py::arg("target_out") = py::none(), py::arg("threads") = 1)
        .def(
            "process_replies",
            [](NetworkLoadBalancer& nlb, const py::handle& batch, const py::object& out, const py::object& verdict_out,
               const py::object& target_out) {
                StageIO io = stage_io(batch, out, verdict_out, true);
                auto targets = output_array<std::uint32_t>(target_out, io.n, "target_out");
                std::uint32_t* t = targets.mutable_data();
                {
                    py::gil_scoped_release release;
                    nlb.process_replies(io.in(), io.n, io.out(), io.verdict_data(), t);
                }
                return io.result(targets);
            },
            py::arg("batch"), py::arg("out") = py::none(), py::arg("verdict_out") = py::none(),
            py::arg("target_out") = py::none())
        .def("flows_per_target", &NetworkLoadBalancer::flows_per_target)
        .def(
            "flow_targets",
            [](const NetworkLoadBalancer& nlb, const py::handle& batch, const py::object& out) {
                return per_packet<std::uint32_t>(
                    batch, out, [&](const Packet* p, std::size_t n, std::uint32_t* t) { nlb.flow_targets(p, n, t); });
            },
            py::arg("batch"), py::arg("out") = py::none())
        .def("flows", [](const NetworkLoadBalancer& nlb) {
            std::vector<NlbFlow> rows;
            {
                py::gil_scoped_release release;
                rows = nlb.flows();
            }
            return rows_array(rows);
        });
    def_sharded(cls);
    def_state(cls);
    def_restore_metrics<NetworkLoadBalancer, NlbMinute>(cls);
    def_metrics<NetworkLoadBalancer, NlbMinute>(cls);
}

}  // namespace hp::bind
