#include "bindings/batch.hpp"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

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
    if (arr.ndim() != 1) throw py::value_error(arg + " must be 1-D, not " + std::to_string(arr.ndim()) + "-D");
    if (!(arr.flags() & py::array::c_style))
        throw py::value_error(arg + " must be C-contiguous (copy it with numpy.ascontiguousarray)");
    if (reinterpret_cast<std::uintptr_t>(arr.data()) % alignof(Packet) != 0)
        throw py::value_error(arg + " is not 8-byte aligned (copy it with numpy.array)");
    if (writable && !arr.writeable())
        throw py::value_error(arg + " is read-only, and this stage rewrites packets in place");
    return arr;
}

py::array output_batch(const py::object& out, const py::array& batch, const char* name) {
    const auto n = batch.shape(0);
    if (out.is_none()) return py::array(batch.dtype(), std::vector<py::ssize_t>{n});
    py::array result = packet_batch(out, name, true);
    if (result.shape(0) != n) throw py::value_error(std::string(name) + " must hold " + std::to_string(n) + " packets");
    return result;
}

Timeouts timeouts_from(const py::object& timeouts_ns) {
    auto t = py::array_t<std::uint64_t, py::array::c_style | py::array::forcecast>::ensure(timeouts_ns);
    if (!t || t.ndim() != 1 || static_cast<std::size_t>(t.shape(0)) != kTimeoutClasses)
        throw py::value_error("timeouts_ns must hold " + std::to_string(kTimeoutClasses) + " values");
    Timeouts out;
    std::memcpy(out.ns.data(), t.data(), sizeof(out.ns));
    return out;
}

HashKey hash_key_from(const py::bytes& key, const char* name) {
    const std::string bytes = key;
    HashKey out{};
    if (bytes.size() != sizeof(out.k)) throw py::value_error(std::string(name) + " must be 32 bytes");
    std::memcpy(out.k, bytes.data(), sizeof(out.k));
    return out;
}

void register_packets(py::module_& m) {
    PYBIND11_NUMPY_DTYPE(Packet, ts, src_ip, dst_ip, src_port, dst_port, length, proto, tcp_flags, flags, reserved,
                         mark, seq);
    m.attr("PACKET_DTYPE") = py::dtype::of<Packet>();
}

}  // namespace hp::bind
