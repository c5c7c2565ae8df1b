// The NAT gateway: its configuration and connections' dtype; the rest is the
// sharded-stage template (bindings/stage.hpp).
#include "stages/nat.hpp"

#include "bindings/stage.hpp"

namespace hp::bind {

void register_nat(py::module_& m) {
    PYBIND11_NUMPY_DTYPE(NatConnection, first_ts, last_ts, bytes_out, bytes_in, packets_out, packets_in, private_ip,
                         remote_ip, public_ip, private_port, remote_port, public_port, shard, proto, state);
    m.attr("NAT_CONNECTION_DTYPE") = py::dtype::of<NatConnection>();

    py::class_<NatConfig, StageConfig> config(m, "NatConfig");
    config.def(py::init<>())
        .def_readwrite("public_ips", &NatConfig::public_ips)
        .def_readwrite("per_destination", &NatConfig::per_destination)
        .def_readwrite("port_slice", &NatConfig::port_slice)
        .def_readwrite("port_slices", &NatConfig::port_slices)
        .def_readwrite("base_pps", &NatConfig::base_pps)
        .def_readwrite("max_pps", &NatConfig::max_pps)
        .def_readwrite("base_bps", &NatConfig::base_bps)
        .def_readwrite("max_bps", &NatConfig::max_bps);
    def_networks_property(config, "private_networks", &NatConfig::private_networks);

    py::class_<NatGateway> cls(m, "NatGateway");
    cls.def(py::init<const NatConfig&>(), py::arg("config"))
        .def(
            "process",
            [](NatGateway& nat, const py::handle& batch, const py::object& out, const py::object& verdict_out,
               unsigned threads) {
                StageIO io = stage_io(batch, out, verdict_out, true);
                {
                    py::gil_scoped_release release;
                    nat.process(io.in(), io.n, io.out(), io.verdict_data(), threads);
                }
                return io.result();
            },
            py::arg("batch"), py::arg("out") = py::none(), py::arg("verdict_out") = py::none(), py::arg("threads") = 1)
        .def("connections", [](const NatGateway& nat) {
            std::vector<NatConnection> rows;
            {
                py::gil_scoped_release release;
                rows = nat.connections();
            }
            return rows_array(rows);
        });
    def_sharded(cls);
    def_state(cls);
    def_restore_metrics<NatGateway, NatMinute>(cls);
    def_metrics<NatGateway, NatMinute>(cls);
}

}  // namespace hp::bind
