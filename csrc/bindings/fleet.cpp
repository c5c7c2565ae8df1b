// The fleet's dispatch (runtime/fleet_router.hpp): tenants, addresses and networks added one
// by one, then whole batches routed and grouped without the GIL.
#include "runtime/fleet_router.hpp"

#include "bindings/stage.hpp"

namespace hp::bind {

void register_fleet(py::module_& m) {
    py::class_<FleetRouter> cls(m, "FleetRouter");
    cls.def(py::init<>())
        .def(
            "add_tenant",
            [](FleetRouter& r, std::uint32_t base, std::uint32_t slots, unsigned kind) {
                if (kind > 2) throw py::value_error("kind must be 0 (nat), 1 (nlb) or 2 (efs)");
                r.add_tenant(base, slots, static_cast<FleetKind>(kind));
            },
            py::arg("base"), py::arg("slots"), py::arg("kind"))
        .def("add_address", &FleetRouter::add_address, py::arg("address"), py::arg("tenant"), py::arg("from_too"))
        .def("add_network", &FleetRouter::add_network, py::arg("base"), py::arg("prefix"), py::arg("tenant"))
        .def(
            "route",
            [](const FleetRouter& r, const py::handle& batch) {
                const py::array pkts = packet_batch(batch, "batch");
                const auto n = static_cast<py::ssize_t>(pkts.shape(0));
                py::array_t<std::int32_t> tenant(n), slot(n);
                py::array_t<std::uint64_t> hash(n);
                std::int32_t* t = tenant.mutable_data();
                std::int32_t* s = slot.mutable_data();
                std::uint64_t* h = hash.mutable_data();
                {
                    py::gil_scoped_release release;
                    r.route(packets_of(pkts), static_cast<std::size_t>(n), t, s, h);
                }
                return py::make_tuple(tenant, slot, hash);
            },
            py::arg("batch"))
        .def_static(
            "group",
            [](const py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>& slot, std::size_t slots) {
                const auto n = static_cast<std::size_t>(slot.size());
                for (std::size_t i = 0; i < n; ++i)
                    if (slot.data()[i] < -1 || static_cast<std::size_t>(slot.data()[i] + 1) > slots)
                        throw py::value_error("slot holds a value outside -1..slots-1");
                py::array_t<std::uint32_t> order(static_cast<py::ssize_t>(n));
                py::array_t<std::uint32_t> counts(static_cast<py::ssize_t>(slots + 1));
                std::uint32_t* o = order.mutable_data();
                std::uint32_t* c = counts.mutable_data();
                {
                    py::gil_scoped_release release;
                    FleetRouter::group(slot.data(), n, slots, o, c);
                }
                return py::make_tuple(order, counts);
            },
            py::arg("slot"), py::arg("slots"))
        .def_static(
            "permute",
            [](const py::handle& batch, const py::array_t<std::uint32_t, py::array::c_style>& order, bool back) {
                const py::array in = packet_batch(batch, "batch");
                const auto n = static_cast<std::size_t>(in.shape(0));
                if (static_cast<std::size_t>(order.size()) != n)
                    throw py::value_error("order must have one entry per packet of batch");
                for (std::size_t i = 0; i < n; ++i)
                    if (order.data()[i] >= n) throw py::value_error("order names a packet beyond the batch");
                py::array out = output_batch(py::none(), in, "out");
                Packet* dst = static_cast<Packet*>(out.mutable_data());
                {
                    py::gil_scoped_release release;
                    (back ? FleetRouter::scatter : FleetRouter::gather)(packets_of(in), order.data(), n, dst);
                }
                return out;
            },
            py::arg("batch"), py::arg("order"), py::arg("back"));
}

}  // namespace hp::bind
