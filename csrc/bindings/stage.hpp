// What the bindings of every stage share, so each stage's binding file says
// only what is its own (boost-histogram's register_* style over one template):
//
// - stage_io(): the one process() convention (docs/stages.md). Every stage
//   takes (batch, out=, verdict_out=) and returns the packets as they leave
//   first and the verdicts second. A stage that rewrites writes the leaving
//   packets into `out` (which may be the batch itself) or a new array; one that
//   does not returns the batch itself, or copies it into `out` when given, so a
//   graph can hand every stage the same buffers.
// - def_sharded(): expire, verdicts, size, queues, the metrics' first minute,
//   for every sharded stage; def_metrics() for those with per-minute metrics.
// - def_stage_config(): the configuration every sharded stage takes, bound as
//   an object whose attributes the Python wrapper sets by name.
//
// Errors: std::invalid_argument from the core reaches Python as ValueError by
// pybind11's own translation; nothing here catches and rethrows it.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "bindings/batch.hpp"
#include "core/ipv4_network.hpp"
#include "core/packet.hpp"
#include "runtime/sharded_stage.hpp"

namespace hp::bind {

struct StageIO {
    py::array batch;                     // the input, checked
    py::array packets;                   // what process() returns first
    py::array_t<std::uint8_t> verdicts;  // and second
    std::size_t n = 0;
    bool copy = false;  // a stage that does not rewrite was given out=

    const Packet* in() const { return packets_of(batch); }
    Packet* out() { return static_cast<Packet*>(packets.mutable_data()); }
    std::uint8_t* verdict_data() { return verdicts.mutable_data(); }
    // For a stage that does not rewrite, given out=: the batch copied there (call without the GIL).
    void copy_through() {
        if (copy && n) std::memcpy(out(), in(), n * sizeof(Packet));
    }
    // (packets, verdicts, extra...), the result every stage returns.
    template <class... Extra>
    py::tuple result(Extra&&... extra) const {
        return py::make_tuple(packets, verdicts, std::forward<Extra>(extra)...);
    }
};

inline StageIO stage_io(const py::handle& batch, const py::object& out, const py::object& verdict_out, bool rewrites) {
    StageIO io;
    io.batch = packet_batch(batch, "batch");
    io.n = static_cast<std::size_t>(io.batch.shape(0));
    if (rewrites || !out.is_none()) {
        io.packets = output_batch(out, io.batch, "out");
        io.copy = !rewrites && !io.packets.is(io.batch);
    } else {
        io.packets = io.batch;
    }
    io.verdicts = output_array<std::uint8_t>(verdict_out, io.n, "verdict_out");
    return io;
}

// A listing (flows, connections) as a numpy array of its row dtype.
template <class Row>
py::array_t<Row> rows_array(const std::vector<Row>& rows) {
    py::array_t<Row> out(static_cast<py::ssize_t>(rows.size()));
    if (!rows.empty()) std::memcpy(out.mutable_data(), rows.data(), rows.size() * sizeof(Row));
    return out;
}

template <class Stage>
void def_sharded(py::class_<Stage>& cls) {
    cls.def(
           "expire",
           [](Stage& s, std::uint64_t now) {
               py::gil_scoped_release release;
               s.expire(now);
           },
           py::arg("now_ns"))
        .def("verdict_values",
             [](const Stage& s) {
                 const VerdictCounts v = s.verdicts();
                 return std::vector<std::uint64_t>(v.begin(), v.end());
             })
        .def("__len__", &Stage::size)
        .def_property_readonly("queues", &Stage::queues)
        .def_property_readonly("start_minute", &Stage::start_minute);
}

// metric_values(): minutes × metrics, in the family's order.
template <class Stage, class Row>
void def_metrics(py::class_<Stage>& cls) {
    cls.def("metric_values", [](const Stage& s) {
        const std::vector<Row> minutes = s.metrics();
        const auto width = static_cast<py::ssize_t>(std::tuple_size<Row>::value);
        py::array_t<std::uint64_t> out({static_cast<py::ssize_t>(minutes.size()), width});
        if (!minutes.empty()) std::memcpy(out.mutable_data(), minutes.data(), minutes.size() * sizeof(Row));
        return out;
    });
}

// A 32-byte hash key attribute, set from bytes.
template <class Cls, class Config>
void def_key_property(Cls& cls, const char* name, HashKey Config::* member) {
    cls.def_property(
        name,
        [member](const Config& c) {
            return py::bytes(reinterpret_cast<const char*>((c.*member).k), sizeof(HashKey::k));
        },
        [member, name](Config& c, const py::bytes& key) { c.*member = hash_key_from(key, name); });
}

// Per-class timeouts in ns (hyperplane.Timeouts.as_ns() order), as an attribute.
template <class Cls, class Config>
void def_timeouts_property(Cls& cls, const char* name, Timeouts Config::* member) {
    cls.def_property(
        name,
        [member](const Config& c) { return std::vector<std::uint64_t>((c.*member).ns.begin(), (c.*member).ns.end()); },
        [member](Config& c, const py::object& ns) { c.*member = timeouts_from(ns); });
}

// StageConfig, the base of every sharded stage's configuration object.
// A list of IPv4 networks as (base, mask) pairs, as an attribute.
template <class Cls, class Config>
void def_networks_property(Cls& cls, const char* name, std::vector<Ipv4Network> Config::* member) {
    using Pairs = std::vector<std::pair<std::uint32_t, std::uint32_t>>;
    cls.def_property(
        name,
        [member](const Config& c) {
            Pairs out;
            for (const Ipv4Network& n : c.*member) out.emplace_back(n.base, n.mask);
            return out;
        },
        [member](Config& c, const Pairs& networks) {
            (c.*member).clear();
            for (const auto& [base, mask] : networks) (c.*member).push_back({base, mask});
        });
}

void register_stage_config(py::module_& m);

}  // namespace hp::bind
