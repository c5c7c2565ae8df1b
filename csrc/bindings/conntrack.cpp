#include "stages/conntrack.hpp"

#include <cstring>
#include <string>

#include <pybind11/stl.h>

#include "bindings/batch.hpp"

namespace hp::bind {
namespace {

ConnTrackConfig config_from(std::size_t capacity, unsigned queues, const py::object& timeouts_ns,
                            const py::bytes& hash_key, bool loose, bool early_drop) {
    ConnTrackConfig cfg;
    cfg.capacity = capacity, cfg.queues = queues, cfg.loose = loose, cfg.early_drop = early_drop;
    cfg.timeouts = timeouts_from(timeouts_ns);
    cfg.key = hash_key_from(hash_key, "hash_key");
    return cfg;
}

}  // namespace

void register_conntrack(py::module_& m) {
    PYBIND11_NUMPY_DTYPE(FlowInfo, first_ts, last_ts, bytes_orig, bytes_reply, packets_orig, packets_reply,
                         orig_src_ip, orig_dst_ip, reply_src_ip, reply_dst_ip, orig_src_port, orig_dst_port,
                         reply_src_port, reply_dst_port, shard, proto, state, replied, stream);
    m.attr("FLOW_DTYPE") = py::dtype::of<FlowInfo>();
    m.attr("FLOW_RECORD_BYTES") = sizeof(FlowRecord);

    py::class_<ConnTrack>(m, "ConnTrack")
        .def(py::init([](std::size_t capacity, unsigned queues, const py::object& timeouts_ns,
                         const py::bytes& hash_key, bool loose, bool early_drop) {
                 auto cfg = config_from(capacity, queues, timeouts_ns, hash_key, loose, early_drop);
                 try {
                     return std::make_unique<ConnTrack>(cfg);
                 } catch (const std::invalid_argument& e) {
                     throw py::value_error(e.what());
                 }
             }),
             py::arg("capacity"), py::arg("queues"), py::arg("timeouts_ns"), py::arg("hash_key"),
             py::arg("loose"), py::arg("early_drop"))
        .def(
            "process",
            [](ConnTrack& ct, const py::handle& batch, const py::object& out, unsigned threads) {
                const auto pkts = packet_batch(batch, "batch");
                const auto n = static_cast<std::size_t>(pkts.shape(0));
                auto verdicts = output_array<std::uint8_t>(out, n, "out");
                const Packet* in = packets_of(pkts);
                std::uint8_t* dst = verdicts.mutable_data();
                {
                    py::gil_scoped_release release;
                    ct.process(in, n, dst, threads);
                }
                return verdicts;
            },
            py::arg("batch"), py::arg("out") = py::none(), py::arg("threads") = 1)
        .def("expire", [](ConnTrack& ct, std::uint64_t now) {
                py::gil_scoped_release release;
                ct.expire(now);
            }, py::arg("now_ns"))
        .def("flows", [](const ConnTrack& ct) {
            std::vector<FlowInfo> rows;
            {
                py::gil_scoped_release release;
                rows = ct.flows();
            }
            py::array_t<FlowInfo> out(static_cast<py::ssize_t>(rows.size()));
            if (!rows.empty()) std::memcpy(out.mutable_data(), rows.data(), rows.size() * sizeof(FlowInfo));
            return out;
        })
        .def("counter_values", [](const ConnTrack& ct) {
            const ConnTrackCounters c = ct.counters();
            return py::make_tuple(std::vector<std::uint64_t>(c.verdicts.begin(), c.verdicts.end()),
                                  std::vector<std::uint64_t>(c.events.begin(), c.events.end()));
        })
        .def("__len__", &ConnTrack::size)
        .def_property_readonly("capacity", &ConnTrack::capacity)
        .def_property_readonly("queues", &ConnTrack::queues)
        .def_property_readonly("memory_bytes", &ConnTrack::memory_bytes)
        .def("shard_of", [](const ConnTrack& ct, const py::handle& batch) {
            const auto pkts = packet_batch(batch, "batch");
            const auto n = static_cast<std::size_t>(pkts.shape(0));
            py::array_t<std::uint16_t> out(static_cast<py::ssize_t>(n));
            const Packet* in = packets_of(pkts);
            std::uint16_t* dst = out.mutable_data();
            py::gil_scoped_release release;
            ct.shards(in, n, dst);
            return out;
        }, py::arg("batch"));
}

}  // namespace hp::bind
