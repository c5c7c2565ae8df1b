#include "batch.hpp"

#include <cstdint>

namespace hp::bind {

py::array packet_batch(const py::handle& obj, const char* name, bool writable) {
    const std::string arg(name);
    if (!py::isinstance<py::array>(obj))
        throw py::type_error(arg + " must be a numpy array of PACKET_DTYPE, not " +
                             std::string(py::str(py::type::of(obj).attr("__name__"))));
    auto arr = py::reinterpret_borrow<py::array>(obj);
    if (!arr.dtype().equal(py::dtype::of<Packet>()))
        throw py::type_error(arg + " must have dtype hyperplane.PACKET_DTYPE, not " +
                             std::string(py::str(arr.dtype())));
    if (arr.ndim() != 1)
        throw py::value_error(arg + " must be 1-D, not " + std::to_string(arr.ndim()) + "-D");
    if (!(arr.flags() & py::array::c_style))
        throw py::value_error(arg + " must be C-contiguous (copy it with numpy.ascontiguousarray)");
    if (reinterpret_cast<std::uintptr_t>(arr.data()) % alignof(Packet) != 0)
        throw py::value_error(arg + " is not 8-byte aligned (copy it with numpy.array)");
    if (writable && !arr.writeable())
        throw py::value_error(arg + " is read-only, and this stage rewrites packets in place");
    return arr;
}

void register_packets(py::module_& m) {
    PYBIND11_NUMPY_DTYPE(Packet, ts, src_ip, dst_ip, src_port, dst_port, length, proto, tcp_flags,
                         flags, reserved, mark, seq);
    m.attr("PACKET_DTYPE") = py::dtype::of<Packet>();
}

}  // namespace hp::bind
