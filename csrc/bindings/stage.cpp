// StageConfig as a Python object: the fields every sharded stage's
// configuration has, under the names the Python wrappers use.
#include "bindings/stage.hpp"

namespace hp::bind {

void register_stage_config(py::module_& m) {
    PYBIND11_NUMPY_DTYPE(StateRecord, ip_lo, ip_hi, port_lo, port_hi, proto, state, flags, timeout_class, first_ts,
                         last_ts, bytes_orig, bytes_reply, packets_orig, packets_reply, bind_ip, bind_port, target);
    m.attr("STATE_DTYPE") = py::dtype::of<StateRecord>();

    py::class_<StageConfig> cls(m, "StageConfig");
    cls.def(py::init<>())
        .def_readwrite("capacity", &StageConfig::capacity)
        .def_readwrite("queues", &StageConfig::queues)
        .def_readwrite("seed", &StageConfig::seed);
    def_timeouts_property(cls, "timeouts_ns", &StageConfig::timeouts);
    def_key_property(cls, "hash_key", &StageConfig::key);
}

}  // namespace hp::bind
