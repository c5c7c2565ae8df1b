#include "hash/maglev.hpp"

#include <cstring>
#include <string>
#include <vector>

#include <pybind11/stl.h>

#include "bindings/batch.hpp"

namespace hp::bind {

void register_maglev(py::module_& m);

namespace {

// Reads a 1-D integer array as signed or unsigned 64-bit, whichever holds its values.
template <class Wide>
std::vector<std::uint32_t> checked_u32(const py::array& arr, const char* name, std::uint64_t lo, std::uint64_t hi) {
    const auto wide = py::array_t<Wide, py::array::c_style | py::array::forcecast>::ensure(arr);
    std::vector<std::uint32_t> out(static_cast<std::size_t>(wide.shape(0)));
    for (std::size_t i = 0; i < out.size(); ++i) {
        const Wide v = wide.at(static_cast<py::ssize_t>(i));
        if (v < 0 || static_cast<std::uint64_t>(v) < lo || static_cast<std::uint64_t>(v) > hi)
            throw py::value_error(std::string(name) + "[" + std::to_string(i) + "] must be in " + std::to_string(lo) +
                                  ".." + std::to_string(hi) + ", not " + std::to_string(v));
        out[i] = static_cast<std::uint32_t>(v);
    }
    return out;
}

// A 1-D sequence of integers in lo..hi, as a vector: the core takes small
// configuration vectors, not arrays, so the copy costs nothing that matters.
std::vector<std::uint32_t> u32_list(const py::object& obj, const char* name, std::uint64_t lo, std::uint64_t hi) {
    py::array arr;
    try {
        arr = py::array::ensure(obj);
    } catch (const py::error_already_set&) {
        arr = {};
    }
    const char kind = arr ? arr.dtype().kind() : '?';
    // An empty list comes out of numpy as float64; it holds no non-integer.
    const bool integers = kind == 'i' || kind == 'u' || (arr && arr.size() == 0);
    if (!arr || arr.ndim() != 1 || !integers)
        throw py::type_error(std::string(name) + " must be a 1-D sequence of integers");
    return kind == 'u' ? checked_u32<std::uint64_t>(arr, name, lo, hi) : checked_u32<std::int64_t>(arr, name, lo, hi);
}

py::array_t<std::uint32_t> to_array(const std::vector<std::uint32_t>& v) {
    py::array_t<std::uint32_t> out(static_cast<py::ssize_t>(v.size()));
    if (!v.empty()) std::memcpy(out.mutable_data(), v.data(), v.size() * sizeof(std::uint32_t));
    return out;
}

// Built without the GIL. The core reports bad configuration as std::invalid_argument with the
// argument's name first, which pybind11 raises as ValueError.
template <class Build>
py::array_t<std::uint32_t> build_table(Build&& build) {
    std::vector<std::uint32_t> table;
    {
        py::gil_scoped_release release;
        table = build();
    }
    return to_array(table);
}

// Exactly T in native byte order: the core reads the array in place, unconverted.
template <class T>
bool is_plain_array_of(const py::array& arr) {
    return arr.dtype().equal(py::dtype::of<T>());
}

void check_plain(const py::array& arr, const char* name) {
    if (arr.ndim() != 1)
        throw py::value_error(std::string(name) + " must be 1-D, not " + std::to_string(arr.ndim()) + "-D");
    if (!(arr.flags() & py::array::c_style))
        throw py::value_error(std::string(name) + " must be C-contiguous (copy it with numpy.ascontiguousarray)");
    if (reinterpret_cast<std::uintptr_t>(arr.data()) % static_cast<std::uintptr_t>(arr.itemsize()) != 0)
        throw py::value_error(std::string(name) + " is not aligned (copy it with numpy.array)");
}

std::string type_name(const py::handle& obj) { return std::string(py::str(py::type::of(obj).attr("__name__"))); }

py::array_t<std::uint32_t> lookup(const py::object& table_obj, const py::object& hashes_obj, const py::object& out) {
    if (!py::isinstance<py::array>(table_obj))
        throw py::type_error("table must be a numpy array of uint32, not " + type_name(table_obj));
    const auto table = py::reinterpret_borrow<py::array>(table_obj);
    if (!is_plain_array_of<std::uint32_t>(table))
        throw py::type_error("table must have dtype uint32, not " + std::string(py::str(table.dtype())));
    check_plain(table, "table");
    if (table.shape(0) == 0 || static_cast<std::uint64_t>(table.shape(0)) > UINT32_MAX)
        throw py::value_error("table must have 1.." + std::to_string(UINT32_MAX) + " entries");
    if (!py::isinstance<py::array>(hashes_obj))
        throw py::type_error("hashes must be a numpy array of uint32 or uint64, not " + type_name(hashes_obj));
    const auto hashes = py::reinterpret_borrow<py::array>(hashes_obj);
    const bool wide = is_plain_array_of<std::uint64_t>(hashes);
    if (!wide && !is_plain_array_of<std::uint32_t>(hashes))
        throw py::type_error("hashes must have dtype uint32 or uint64, not " + std::string(py::str(hashes.dtype())));
    check_plain(hashes, "hashes");

    const auto n = static_cast<std::size_t>(hashes.shape(0));
    auto result = output_array<std::uint32_t>(out, n, "out");
    const auto* slots = static_cast<const std::uint32_t*>(table.data());
    const auto size = static_cast<std::uint32_t>(table.shape(0));
    const void* in = hashes.data();
    std::uint32_t* dst = result.mutable_data();
    {
        py::gil_scoped_release release;
        if (wide)
            maglev_lookup(slots, size, static_cast<const std::uint64_t*>(in), n, dst);
        else
            maglev_lookup(slots, size, static_cast<const std::uint32_t*>(in), n, dst);
    }
    return result;
}

}  // namespace

void register_maglev(py::module_& m) {
    m.def(
        "xxh64",
        [](const py::bytes& data, std::uint64_t seed) {
            const std::string d = data;
            return xxh64(d.data(), d.size(), seed);
        },
        py::arg("data"), py::arg("seed") = 0);

    m.def(
        "maglev_table",
        [](const std::vector<std::string>& backends, const py::object& weights, std::uint32_t size) {
            auto w = u32_list(weights, "weights", 1, UINT32_MAX);
            return build_table([&] { return maglev_table(backends, w, size); });
        },
        py::arg("backends"), py::arg("weights"), py::arg("size"));

    m.def(
        "maglev_table_from_permutations",
        [](const py::object& offsets, const py::object& skips, const py::object& weights, std::uint32_t size) {
            const auto off = u32_list(offsets, "offsets", 0, UINT32_MAX);
            const auto sk = u32_list(skips, "skips", 0, UINT32_MAX);
            auto w = u32_list(weights, "weights", 1, UINT32_MAX);
            if (off.size() != sk.size())
                throw py::value_error("offsets and skips must have the same length, not " + std::to_string(off.size()) +
                                      " and " + std::to_string(sk.size()));
            std::vector<MaglevPermutation> perms(off.size());
            for (std::size_t i = 0; i < perms.size(); ++i) perms[i] = {off[i], sk[i]};
            return build_table([&] { return maglev_table(perms, w, size); });
        },
        py::arg("offsets"), py::arg("skips"), py::arg("weights"), py::arg("size"));

    m.def("maglev_lookup", &lookup, py::arg("table"), py::arg("hashes"), py::arg("out") = py::none());
}

}  // namespace hp::bind
