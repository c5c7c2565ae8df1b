// StageConfig as a Python object: the fields every sharded stage's
// configuration has, under the names the Python wrappers use.
#include "bindings/stage.hpp"

namespace hp::bind {

void register_stage_config(py::module_& m) {
    py::class_<StageConfig> cls(m, "StageConfig");
    cls.def(py::init<>())
        .def_readwrite("capacity", &StageConfig::capacity)
        .def_readwrite("queues", &StageConfig::queues)
        .def_readwrite("seed", &StageConfig::seed);
    def_timeouts_property(cls, "timeouts_ns", &StageConfig::timeouts);
    def_key_property(cls, "hash_key", &StageConfig::key);
}

}  // namespace hp::bind
