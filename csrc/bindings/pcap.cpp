// hyperplane._core's pcap reader and writer: arrays checked and the GIL
// released here; all parsing and writing is in csrc/pcap/.
#include <pybind11/stl.h>

#include <cerrno>
#include <memory>
#include <string>
#include <system_error>

#include "bindings/batch.hpp"
#include "pcap/reader.hpp"
#include "pcap/writer.hpp"

namespace hp::bind {
namespace {

using pcap::CaptureReader;
using pcap::CaptureWriter;

[[noreturn]] void raise_os_error(const std::system_error& e, const std::string& path) {
    errno = e.code().value();
    PyErr_SetFromErrnoWithFilename(PyExc_OSError, path.c_str());
    throw py::error_already_set();
}

pcap::Format format_from(const std::string& name) {
    if (name == "pcap") return pcap::Format::pcap;
    if (name == "pcapng") return pcap::Format::pcapng;
    throw py::value_error("format must be 'pcap' or 'pcapng', not '" + name + "'");
}

const char* format_name(pcap::Format f) { return f == pcap::Format::pcap ? "pcap" : "pcapng"; }

// A 1-D, C-contiguous array of exactly T with n elements (n < 0: any length).
template <class T>
py::array_t<T> input(const py::handle& obj, const char* name, py::ssize_t n) {
    if (!py::isinstance<py::array>(obj))
        throw py::type_error(std::string(name) + " must be a numpy array, not " +
                             std::string(py::str(py::type::of(obj).attr("__name__"))));
    auto arr = py::reinterpret_borrow<py::array>(obj);
    const bool flag = std::is_same_v<T, std::uint8_t> && arr.dtype().equal(py::dtype("bool"));
    if (!flag && !arr.dtype().equal(py::dtype::of<T>()))
        throw py::type_error(std::string(name) + " must have dtype " + std::string(py::str(py::dtype::of<T>())) +
                             ", not " + std::string(py::str(arr.dtype())));
    if (arr.ndim() != 1 || (n >= 0 && arr.shape(0) != n))
        throw py::value_error(std::string(name) + " must be 1-D" +
                              (n >= 0 ? " with " + std::to_string(n) + " elements" : ""));
    if (!(arr.flags() & py::array::c_style)) throw py::value_error(std::string(name) + " must be C-contiguous");
    if (reinterpret_cast<std::uintptr_t>(arr.data()) % alignof(T) != 0)
        throw py::value_error(std::string(name) + " is not aligned");
    return py::reinterpret_borrow<py::array_t<T>>(arr);
}

py::dict reader_stats(const pcap::ReaderStats& s) {
    py::dict d, malformed, links;
    d["frames"] = s.frames, d["bytes"] = s.bytes, d["ipv4"] = s.ipv4, d["ipv6"] = s.ipv6, d["other"] = s.other;
    d["fragments"] = s.fragments, d["vlan"] = s.vlan, d["snapped"] = s.snapped;
    d["snapped_headers"] = s.snapped_headers, d["blocks_skipped"] = s.blocks_skipped;
    d["sections"] = s.sections, d["interfaces"] = s.interfaces;
    for (std::size_t i = 1; i < s.malformed.size(); ++i) malformed[pcap::kMalformedNames[i]] = s.malformed[i];
    for (const auto& [link, count] : s.linktypes) links[py::int_(link)] = count;
    d["malformed"] = malformed, d["linktypes"] = links;
    return d;
}

struct Reader {
    std::string path;
    std::unique_ptr<CaptureReader> core;

    explicit Reader(const std::string& p) : path(p) {
        std::shared_ptr<const pcap::MappedFile> file;
        try {
            file = std::make_shared<const pcap::MappedFile>(p);
        } catch (const std::system_error& e) {
            raise_os_error(e, p);
        }
        core = std::make_unique<CaptureReader>(std::move(file), p);
    }

    py::array bytes() const {
        // The view keeps the mapping alive through a capsule holding a reference to it.
        auto* keep = new std::shared_ptr<const pcap::MappedFile>(core->file());
        py::capsule base(keep, [](void* p) { delete static_cast<std::shared_ptr<const pcap::MappedFile>*>(p); });
        static const std::uint8_t empty = 0;
        const std::uint8_t* data = (*keep)->size() ? (*keep)->data() : &empty;
        py::array_t<std::uint8_t> view({static_cast<py::ssize_t>((*keep)->size())}, {py::ssize_t{1}}, data, base);
        py::detail::array_proxy(view.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
        return std::move(view);
    }

    py::tuple next(py::ssize_t n) {
        if (n < 1) throw py::value_error("n must be >= 1, not " + std::to_string(n));
        py::array packets(py::dtype::of<Packet>(), std::vector<py::ssize_t>{n});
        py::array_t<std::uint64_t> offsets(n);
        py::array_t<std::uint32_t> lengths(n), wire(n);
        py::array_t<std::uint16_t> links(n);
        py::array_t<std::uint8_t> kinds(n);
        const pcap::FrameArrays out{static_cast<Packet*>(packets.mutable_data()),
                                    offsets.mutable_data(),
                                    lengths.mutable_data(),
                                    wire.mutable_data(),
                                    links.mutable_data(),
                                    kinds.mutable_data()};
        std::size_t got;
        {
            py::gil_scoped_release release;
            got = core->next(static_cast<std::size_t>(n), out);
        }
        py::slice head(0, static_cast<py::ssize_t>(got), 1);
        if (static_cast<py::ssize_t>(got) == n) return py::make_tuple(packets, offsets, lengths, wire, links, kinds);
        return py::make_tuple(packets[head], offsets[head], lengths[head], wire[head], links[head], kinds[head]);
    }
};

struct Writer {
    std::string path;
    std::unique_ptr<CaptureWriter> core;

    Writer(const std::string& p, const std::string& format) : path(p) {
        const pcap::Format f = format_from(format);
        try {
            core = std::make_unique<CaptureWriter>(p, f);
        } catch (const std::system_error& e) {
            raise_os_error(e, p);
        }
    }

    void write(const py::object& bytes, const py::object& offsets, const py::object& lengths,
               const py::object& wire_lengths, const py::object& linktypes, const py::object& packets,
               const py::object& keep, const py::object& verdict) {
        const auto b = input<std::uint8_t>(bytes, "bytes", -1);
        const auto off = input<std::uint64_t>(offsets, "offsets", -1);
        const py::ssize_t n = off.shape(0);
        const auto len = input<std::uint32_t>(lengths, "lengths", n);
        const auto wire = input<std::uint32_t>(wire_lengths, "wire_lengths", n);
        const auto links = input<std::uint16_t>(linktypes, "linktypes", n);
        const py::array pk = packet_batch(packets, "packets");
        if (pk.shape(0) != n)
            throw py::value_error("packets must hold " + std::to_string(n) + " packets, one per frame");
        py::array_t<std::uint8_t> k, v;
        if (!keep.is_none()) k = input<std::uint8_t>(keep, "keep", n);
        if (!verdict.is_none()) v = input<std::uint8_t>(verdict, "verdict", n);
        const pcap::FramesIn in{b.data(),     static_cast<std::size_t>(b.shape(0)), off.data(), len.data(), wire.data(),
                                links.data(), static_cast<std::size_t>(n)};
        const std::uint8_t* kp = keep.is_none() ? nullptr : k.data();
        const std::uint8_t* vp = verdict.is_none() ? nullptr : v.data();
        try {
            py::gil_scoped_release release;
            core->write(in, packets_of(pk), kp, vp);
        } catch (const std::system_error& e) {
            raise_os_error(e, path);
        }
    }

    void close() {
        try {
            core->close();
        } catch (const std::system_error& e) {
            raise_os_error(e, path);
        }
    }

    py::dict stats() const {
        const pcap::WriterStats& s = core->stats();
        py::dict d;
        d["written"] = s.written, d["rewritten"] = s.rewritten, d["resets"] = s.resets;
        d["dropped"] = s.dropped, d["no_reset"] = s.no_reset;
        return d;
    }
};

}  // namespace

void register_pcap(py::module_& m) {
    py::class_<Reader>(m, "CaptureReader")
        .def(py::init<const std::string&>(), py::arg("path"))
        .def("next", &Reader::next, py::arg("n"))
        .def("rewind", [](Reader& r) { r.core->rewind(); })
        .def("stats", [](const Reader& r) { return reader_stats(r.core->stats()); })
        .def_property_readonly("format", [](const Reader& r) { return format_name(r.core->format()); })
        .def_property_readonly("bytes", &Reader::bytes);
    py::class_<Writer>(m, "CaptureWriter")
        .def(py::init<const std::string&, const std::string&>(), py::arg("path"), py::arg("format"))
        .def("write", &Writer::write, py::arg("bytes"), py::arg("offsets"), py::arg("lengths"), py::arg("wire_lengths"),
             py::arg("linktypes"), py::arg("packets"), py::arg("keep") = py::none(), py::arg("verdict") = py::none())
        .def("close", &Writer::close)
        .def("stats", &Writer::stats)
        .def_property_readonly("format", [](const Writer& w) { return format_name(w.core->format()); });
}

}  // namespace hp::bind
