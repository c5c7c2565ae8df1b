#include "hash/rss.hpp"

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "bindings/batch.hpp"

namespace hp::bind {
namespace {

RssKey key_from(const py::bytes& key) {
    const std::string k = key;
    if (k.size() != kRssKeySize)
        throw py::value_error("key must be " + std::to_string(kRssKeySize) + " bytes, not " + std::to_string(k.size()));
    RssKey out{};
    std::memcpy(out.data(), k.data(), out.size());
    return out;
}

std::vector<std::uint16_t> indirection_from(const py::object& obj) {
    py::array_t<std::int64_t, py::array::c_style | py::array::forcecast> arr;
    try {
        arr = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(obj);
    } catch (const py::error_already_set&) {
        arr = {};
    }
    if (!arr || arr.ndim() != 1) throw py::type_error("indirection must be a 1-D sequence of queue numbers");
    std::vector<std::uint16_t> table(static_cast<std::size_t>(arr.shape(0)));
    for (std::size_t i = 0; i < table.size(); ++i) {
        const std::int64_t q = arr.at(static_cast<py::ssize_t>(i));
        if (q < 0 || q > 0xffff) throw py::value_error("indirection entries must be queue numbers in 0..65535");
        table[i] = static_cast<std::uint16_t>(q);
    }
    return table;
}

constexpr std::pair<const char*, ToeplitzImpl> kImpls[] = {
    {"bitserial", ToeplitzImpl::bitserial}, {"table", ToeplitzImpl::table}, {"gfni", ToeplitzImpl::gfni}};

ToeplitzImpl impl_from(const std::string& name) {
    if (name == "auto") return best_toeplitz_impl();
    for (const auto& [known, impl] : kImpls) {
        if (name != known) continue;
        if (!toeplitz_impl_available(impl))
            throw py::value_error("impl '" + name + "' needs AVX-512 and GFNI, which this CPU lacks");
        return impl;
    }
    throw py::value_error("impl must be 'auto', 'bitserial', 'table' or 'gfni', not '" + name + "'");
}

py::list available_impls() {
    py::list names;
    for (const auto& [name, impl] : kImpls)
        if (toeplitz_impl_available(impl)) names.append(name);
    return names;
}

}  // namespace

void register_rss(py::module_& m) {
    m.def("toeplitz_impls", &available_impls);
    m.def(
        "toeplitz",
        [](const py::bytes& key, const py::bytes& data) {
            const std::string k = key, d = data;
            if (d.size() + 4 > k.size())
                throw py::value_error(
                    "data may be at most len(key) - 4 = " + std::to_string(k.size() < 4 ? 0 : k.size() - 4) +
                    " bytes, not " + std::to_string(d.size()));
            return toeplitz_bitserial(reinterpret_cast<const std::uint8_t*>(k.data()), k.size(),
                                      reinterpret_cast<const std::uint8_t*>(d.data()), d.size());
        },
        py::arg("key"), py::arg("data"));

    py::class_<Rss>(m, "Rss")
        .def(py::init([](const py::bytes& key, const py::object& indirection) {
                 return Rss(key_from(key), indirection_from(indirection));
             }),
             py::arg("key"), py::arg("indirection"))
        .def(
            "hash",
            [](const Rss& rss, const py::handle& batch, const py::object& out, const std::string& impl) {
                const ToeplitzImpl which = impl_from(impl);
                return per_packet<std::uint32_t>(batch, out, [&](const Packet* p, std::size_t n, std::uint32_t* dst) {
                    rss.hash(p, n, dst, which);
                });
            },
            py::arg("batch"), py::arg("out") = py::none(), py::arg("impl") = "auto")
        .def(
            "queue",
            [](const Rss& rss, const py::handle& batch, const py::object& out) {
                return per_packet<std::uint16_t>(
                    batch, out, [&](const Packet* p, std::size_t n, std::uint16_t* dst) { rss.queue(p, n, dst); });
            },
            py::arg("batch"), py::arg("out") = py::none())
        .def_property_readonly("key",
                               [](const Rss& rss) {
                                   const auto& k = rss.key();
                                   return py::bytes(reinterpret_cast<const char*>(k.data()), k.size());
                               })
        .def_property(
            "indirection",
            [](const Rss& rss) {
                const auto& t = rss.indirection();
                py::array_t<std::uint16_t> out(static_cast<py::ssize_t>(t.size()));
                std::memcpy(out.mutable_data(), t.data(), t.size() * sizeof(std::uint16_t));
                return out;
            },
            [](Rss& rss, const py::object& table) { rss.set_indirection(indirection_from(table)); });
}

}  // namespace hp::bind
