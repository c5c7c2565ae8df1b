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

#include <algorithm>
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
#include "table/state_record.hpp"

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

// A 1-D array of STATE_DTYPE (what export_state() returns), checked; a C-contiguous copy when
// the caller's is strided (a slice), so any array of the dtype is accepted.
inline py::array_t<StateRecord> state_rows(const py::handle& obj, const char* name) {
    if (!py::isinstance<py::array>(obj))
        throw py::type_error(std::string(name) + " must be a numpy array of STATE_DTYPE, not " +
                             std::string(py::str(py::type::of(obj).attr("__name__"))));
    auto arr = py::reinterpret_borrow<py::array>(obj);
    if (!arr.dtype().equal(py::dtype::of<StateRecord>()))
        throw py::type_error(std::string(name) + " must have dtype STATE_DTYPE (what export_state() returns), not " +
                             std::string(py::str(arr.dtype())));
    if (arr.ndim() != 1)
        throw py::value_error(std::string(name) + " must be 1-D, not " + std::to_string(arr.ndim()) + "-D");
    return py::array_t<StateRecord, py::array::c_style | py::array::forcecast>::ensure(arr);
}

// export_state() / import_state() and what a copy restores, for every sharded stage
// (runtime/sharded_stage.hpp, table/state_record.hpp).
template <class Stage>
void def_state(py::class_<Stage>& cls) {
    cls.def("export_state",
            [](const Stage& s) {
                std::vector<StateRecord> rows;
                {
                    py::gil_scoped_release release;
                    rows = s.export_state();
                }
                return rows_array(rows);
            })
        .def(
            "import_state",
            [](Stage& s, const py::handle& state) {
                const auto rows = state_rows(state, "state");
                const auto n = static_cast<std::size_t>(rows.shape(0));
                ImportCounts c;
                {
                    py::gil_scoped_release release;
                    c = s.import_state(rows.data(), n);
                }
                return py::make_tuple(c.imported, c.replaced, c.table_full, c.conflict);
            },
            py::arg("state"))
        .def(
            "restore_verdicts",
            [](Stage& s, const std::vector<std::uint64_t>& values) {
                if (values.size() != kVerdictCount)
                    throw py::value_error("values must hold " + std::to_string(kVerdictCount) + " counts");
                VerdictCounts v{};
                std::copy(values.begin(), values.end(), v.begin());
                s.restore_verdicts(v);
            },
            py::arg("values"))
        .def("restore_start", &Stage::restore_start, py::arg("start_minute"));
}

// shard_metric_values(shard) and restore_metrics(shard, values): one shard's minutes × metrics.
template <class Stage, class Row>
void def_restore_metrics(py::class_<Stage>& cls) {
    cls.def(
           "shard_metric_values",
           [](const Stage& s, std::size_t shard) {
               const std::vector<Row> minutes = s.template shard_metrics<Row>(shard);
               const auto width = static_cast<py::ssize_t>(std::tuple_size<Row>::value);
               py::array_t<std::uint64_t> out({static_cast<py::ssize_t>(minutes.size()), width});
               if (!minutes.empty()) std::memcpy(out.mutable_data(), minutes.data(), minutes.size() * sizeof(Row));
               return out;
           },
           py::arg("shard"))
        .def(
            "restore_metrics",
            [](Stage& s, std::size_t shard,
               const py::array_t<std::uint64_t, py::array::c_style | py::array::forcecast>& values) {
                const auto width = static_cast<py::ssize_t>(std::tuple_size<Row>::value);
                if (values.ndim() != 2 || values.shape(1) != width)
                    throw py::value_error("values must be minutes x " + std::to_string(width));
                std::vector<Row> rows(static_cast<std::size_t>(values.shape(0)));
                if (!rows.empty()) std::memcpy(rows.data(), values.data(), rows.size() * sizeof(Row));
                s.restore_metrics(shard, rows);
            },
            py::arg("shard"), py::arg("values"))
        .def("minute_positions", &Stage::minute_positions)
        .def("resume_minutes", &Stage::resume_minutes, py::arg("positions"));
}

void register_stage_config(py::module_& m);

}  // namespace hp::bind
