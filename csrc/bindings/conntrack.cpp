// Connection tracking: its configuration, flows' dtype and events; the rest is
// the sharded-stage template (bindings/stage.hpp).
#include "stages/conntrack.hpp"

#include "bindings/stage.hpp"

namespace hp::bind {

void register_conntrack(py::module_& m) {
    PYBIND11_NUMPY_DTYPE(FlowInfo, first_ts, last_ts, bytes_orig, bytes_reply, packets_orig, packets_reply, orig_src_ip,
                         orig_dst_ip, reply_src_ip, reply_dst_ip, orig_src_port, orig_dst_port, reply_src_port,
                         reply_dst_port, shard, proto, state, replied, stream);
    m.attr("FLOW_DTYPE") = py::dtype::of<FlowInfo>();
    m.attr("FLOW_RECORD_BYTES") = sizeof(FlowRecord);
    m.def(
        "flow_hash",
        [](const py::handle& batch, const py::bytes& key, const py::object& out) {
            const HashKey k = hash_key_from(key, "key");
            return per_packet<std::uint64_t>(batch, out, [&](const Packet* p, std::size_t n, std::uint64_t* dst) {
                for (std::size_t i = 0; i < n; ++i) dst[i] = flow_hash(flow_key_of(p[i]).key, k);
            });
        },
        py::arg("batch"), py::arg("key"), py::arg("out") = py::none());

    py::class_<ConnTrackConfig, StageConfig>(m, "ConnTrackConfig")
        .def(py::init<>())
        .def_readwrite("loose", &ConnTrackConfig::loose)
        .def_readwrite("early_drop", &ConnTrackConfig::early_drop);

    py::class_<ConnTrack> cls(m, "ConnTrack");
    cls.def(py::init<const ConnTrackConfig&>(), py::arg("config"))
        .def(
            "process",
            [](ConnTrack& ct, const py::handle& batch, const py::object& out, const py::object& verdict_out,
               unsigned threads) {
                StageIO io = stage_io(batch, out, verdict_out, false);
                {
                    py::gil_scoped_release release;
                    io.copy_through();
                    ct.process(io.in(), io.n, io.verdict_data(), threads);
                }
                return io.result();
            },
            py::arg("batch"), py::arg("out") = py::none(), py::arg("verdict_out") = py::none(), py::arg("threads") = 1)
        .def("flows",
             [](const ConnTrack& ct) {
                 std::vector<FlowInfo> rows;
                 {
                     py::gil_scoped_release release;
                     rows = ct.flows();
                 }
                 return rows_array(rows);
             })
        .def("counter_values",
             [](const ConnTrack& ct) {
                 const ConnTrackCounters c = ct.counters();
                 return py::make_tuple(std::vector<std::uint64_t>(c.verdicts.begin(), c.verdicts.end()),
                                       std::vector<std::uint64_t>(c.events.begin(), c.events.end()));
             })
        .def(
            "restore_events",
            [](ConnTrack& ct, const std::vector<std::uint64_t>& values) {
                if (values.size() != kCtEventCount)
                    throw py::value_error("values must hold " + std::to_string(kCtEventCount) + " counts");
                std::array<std::uint64_t, kCtEventCount> e{};
                std::copy(values.begin(), values.end(), e.begin());
                ct.restore_events(e);
            },
            py::arg("values"))
        .def_property_readonly("capacity", &ConnTrack::capacity)
        .def_property_readonly("memory_bytes", &ConnTrack::memory_bytes)
        .def(
            "shard_of",
            [](const ConnTrack& ct, const py::handle& batch) {
                return per_packet<std::uint16_t>(
                    batch, py::none(),
                    [&](const Packet* p, std::size_t n, std::uint16_t* dst) { ct.shards(p, n, dst); });
            },
            py::arg("batch"));
    def_sharded(cls);
    def_state(cls);
}

}  // namespace hp::bind
