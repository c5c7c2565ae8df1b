// hyperplane._core's mesh functions: the simulation (GIL released) and one
// balancer on its own, for the tests' hand-computed cases. The configuration
// arrives as small dicts and lists built by hyperplane/mesh, read here into the
// core's plain structs; an unknown key or a wrong type is a ValueError/TypeError
// naming it, and the core's own check() names a bad value.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <cstring>
#include <string>
#include <tuple>
#include <vector>

#include "bindings/batch.hpp"
#include "mesh/balancer.hpp"
#include "mesh/simulate.hpp"

namespace hp::bind {

void register_mesh(py::module_& m);

namespace {

using mesh::BalancerSpec;
using mesh::Kind;
using mesh::Metric;

template <class T>
T get(const py::handle& v, const std::string& key, const char* what) {
    try {
        return v.cast<T>();
    } catch (const py::cast_error&) {
        throw py::type_error(key + " must be " + what);
    }
}

BalancerSpec balancer_spec(const py::dict& d) {
    BalancerSpec s;
    for (const auto& item : d) {
        const auto key = get<std::string>(item.first, "balancer key", "a string");
        const py::handle v = item.second;
        if (key == "kind") {
            const auto k = get<std::string>(v, key, "a string");
            if (k == "choice")
                s.kind = Kind::kChoice;
            else if (k == "round-robin")
                s.kind = Kind::kRoundRobin;
            else if (k == "zone-aware")
                s.kind = Kind::kZoneAware;
            else if (k == "host-local")
                s.kind = Kind::kHostLocal;
            else
                throw py::value_error("kind: unknown balancer kind " + k);
        } else if (key == "metric") {
            const auto k = get<std::string>(v, key, "a string");
            if (k == "none")
                s.metric = Metric::kNone;
            else if (k == "pending")
                s.metric = Metric::kPending;
            else if (k == "peak-ewma")
                s.metric = Metric::kPeakEwma;
            else
                throw py::value_error("metric: unknown metric " + k);
        } else if (key == "choices") {
            s.choices = get<std::uint32_t>(v, key, "a non-negative integer");
        } else if (key == "distinct") {
            s.distinct = get<bool>(v, key, "a bool");
        } else if (key == "near_first") {
            s.near_first = get<bool>(v, key, "a bool");
        } else if (key == "tier_weight") {
            s.tier_weight = get<std::array<double, 3>>(v, key, "three numbers");
        } else if (key == "placement_prior") {
            s.placement_prior = get<bool>(v, key, "a bool");
        } else if (key == "default_rtt_ns") {
            s.default_rtt_ns = get<double>(v, key, "a number");
        } else if (key == "decay_ns") {
            s.decay_ns = get<double>(v, key, "a number");
        } else if (key == "min_cluster_size") {
            s.min_cluster_size = get<std::uint32_t>(v, key, "a non-negative integer");
        } else if (key == "panic_threshold") {
            s.panic_threshold = get<double>(v, key, "a number");
        } else {
            throw py::value_error("balancer: unknown field " + key);
        }
    }
    return s;
}

mesh::Load load_spec(const py::dict& d) {
    mesh::Load l;
    for (const auto& item : d) {
        const auto key = get<std::string>(item.first, "load key", "a string");
        const py::handle v = item.second;
        if (key == "rps")
            l.rps = get<double>(v, key, "a number");
        else if (key == "duration_ns")
            l.duration_ns = get<std::int64_t>(v, key, "an integer");
        else if (key == "seed")
            l.seed = get<std::uint64_t>(v, key, "a non-negative integer");
        else if (key == "timeout_ns")
            l.timeout_ns = get<std::int64_t>(v, key, "an integer");
        else if (key == "retries")
            l.retries = get<std::uint32_t>(v, key, "a non-negative integer");
        else if (key == "request_bytes")
            l.request_bytes = get<std::uint32_t>(v, key, "a non-negative integer");
        else if (key == "response_bytes")
            l.response_bytes = get<std::uint32_t>(v, key, "a non-negative integer");
        else if (key == "health_delay_ns")
            l.health_delay_ns = get<std::int64_t>(v, key, "an integer");
        else if (key == "refuse_when_down")
            l.refuse_when_down = get<bool>(v, key, "a bool");
        else
            throw py::value_error("load: unknown field " + key);
    }
    return l;
}

std::vector<mesh::Place> places(const std::vector<std::tuple<std::uint32_t, std::uint32_t>>& v) {
    std::vector<mesh::Place> out;
    out.reserve(v.size());
    for (const auto& [host, az] : v) out.push_back({host, az});
    return out;
}

using EndpointRow = std::tuple<std::uint32_t, std::uint32_t, double, double, double, std::uint32_t, std::uint32_t>;

std::vector<mesh::Endpoint> endpoints_of(const std::vector<EndpointRow>& rows) {
    std::vector<mesh::Endpoint> out;
    out.reserve(rows.size());
    for (const auto& [host, az, median, sigma, slow, conc, qlimit] : rows)
        out.push_back({{host, az}, median, sigma, slow, conc, qlimit});
    return out;
}

mesh::Network network(const std::array<double, 3>& one_way_ns, double jitter) {
    mesh::Network n;
    n.one_way_ns = one_way_ns;
    n.jitter_sigma = jitter;
    return n;
}

template <class T>
py::array_t<T> to_array(const std::vector<T>& v) {
    py::array_t<T> out(static_cast<py::ssize_t>(v.size()));
    if (!v.empty()) std::memcpy(out.mutable_data(), v.data(), v.size() * sizeof(T));
    return out;
}

py::dict simulate(const std::vector<std::tuple<std::uint32_t, std::uint32_t>>& clients,
                  const std::vector<EndpointRow>& endpoints, const std::array<double, 3>& one_way_ns, double jitter,
                  const py::dict& balancer, const py::dict& load,
                  const std::vector<std::tuple<std::uint32_t, bool, std::int64_t, std::int64_t>>& down) {
    const auto c = places(clients);
    const auto e = endpoints_of(endpoints);
    const auto net = network(one_way_ns, jitter);
    const auto spec = balancer_spec(balancer);
    const auto l = load_spec(load);
    std::vector<mesh::Down> d;
    for (const auto& [index, client, start, end] : down) d.push_back({index, client, start, end});
    mesh::check(c, e, net, spec, l, d);
    mesh::Result r;
    {
        py::gil_scoped_release release;
        r = mesh::simulate(c, e, net, spec, l, d);
    }
    py::dict out;
    out["sent"] = r.sent;
    out["completed"] = r.completed;
    out["timed_out"] = r.timed_out;
    out["failed"] = r.failed;
    out["attempts"] = r.attempts;
    out["retries"] = r.retries;
    out["attempt_timeouts"] = r.attempt_timeouts;
    out["attempt_failures"] = r.attempt_failures;
    out["cross_az_bytes"] = r.cross_az_bytes;
    out["tier_attempts"] = std::vector<std::uint64_t>(r.tier_attempts.begin(), r.tier_attempts.end());
    out["latency_s"] = to_array(r.latency_s);
    out["endpoint_attempts"] = to_array(r.endpoint_attempts);
    out["endpoint_served"] = to_array(r.endpoint_served);
    out["events"] = r.events;
    return out;
}

// One balancer and its random stream, driven by hand.
struct BalancerBox {
    BalancerBox(const std::vector<std::tuple<std::uint32_t, std::uint32_t>>& clients,
                const std::vector<std::tuple<std::uint32_t, std::uint32_t>>& endpoints,
                const std::array<double, 3>& one_way_ns, const py::dict& spec, std::uint64_t seed)
        : n_clients(clients.size()),
          n_endpoints(endpoints.size()),
          bal(checked(spec, clients, endpoints, one_way_ns), places(clients), places(endpoints),
              network(one_way_ns, 0.0)),
          rng(seed) {}

    static BalancerSpec checked(const py::dict& spec, const std::vector<std::tuple<std::uint32_t, std::uint32_t>>& c,
                                const std::vector<std::tuple<std::uint32_t, std::uint32_t>>& e,
                                const std::array<double, 3>& one_way_ns) {
        auto s = balancer_spec(spec);
        std::vector<mesh::Endpoint> eps;
        for (const auto& p : places(e)) eps.push_back({p, 1.0, 0.0, 1.0, 1, 1});
        mesh::check(places(c), eps, network(one_way_ns, 0.0), s, mesh::Load{}, {});
        return s;
    }

    void client_ok(std::uint32_t c) const {
        if (c >= n_clients) throw py::value_error("client: index " + std::to_string(c) + " out of range");
    }
    void endpoint_ok(std::uint32_t e) const {
        if (e >= n_endpoints) throw py::value_error("endpoint: index " + std::to_string(e) + " out of range");
    }

    std::size_t n_clients, n_endpoints;
    mesh::Balancer bal;
    mesh::Rng rng;
};

}  // namespace

void register_mesh(py::module_& m) {
    m.def("mesh_simulate", &simulate, py::arg("clients"), py::arg("endpoints"), py::arg("one_way_ns"),
          py::arg("jitter_sigma"), py::arg("balancer"), py::arg("load"), py::arg("down"));

    py::class_<BalancerBox>(m, "MeshBalancer")
        .def(py::init<const std::vector<std::tuple<std::uint32_t, std::uint32_t>>&,
                      const std::vector<std::tuple<std::uint32_t, std::uint32_t>>&, const std::array<double, 3>&,
                      const py::dict&, std::uint64_t>(),
             py::arg("clients"), py::arg("endpoints"), py::arg("one_way_ns"), py::arg("balancer"), py::arg("seed"))
        .def(
            "set_health",
            [](BalancerBox& b, const std::vector<bool>& endpoints, const std::vector<bool>& clients) {
                if (endpoints.size() != b.n_endpoints) throw py::value_error("endpoints: one flag per endpoint");
                if (clients.size() != b.n_clients) throw py::value_error("clients: one flag per client");
                std::vector<std::uint8_t> e(endpoints.begin(), endpoints.end()), c(clients.begin(), clients.end());
                b.bal.set_health(e, c);
            },
            py::arg("endpoints"), py::arg("clients"))
        .def(
            "rediscover",
            [](BalancerBox& b, std::uint32_t e, std::int64_t now) {
                b.endpoint_ok(e);
                b.bal.rediscover(e, now);
            },
            py::arg("endpoint"), py::arg("now_ns"))
        .def(
            "pick",
            [](BalancerBox& b, std::uint32_t c, std::int64_t now) {
                b.client_ok(c);
                return b.bal.pick(c, now, b.rng);
            },
            py::arg("client"), py::arg("now_ns"))
        .def(
            "sent",
            [](BalancerBox& b, std::uint32_t c, std::uint32_t e) {
                b.client_ok(c);
                b.endpoint_ok(e);
                b.bal.sent(c, e);
            },
            py::arg("client"), py::arg("endpoint"))
        .def(
            "done",
            [](BalancerBox& b, std::uint32_t c, std::uint32_t e, std::int64_t sent, std::int64_t now) {
                b.client_ok(c);
                b.endpoint_ok(e);
                if (now < sent) throw py::value_error("now_ns: must not be before sent_ns");
                b.bal.done(c, e, sent, now);
            },
            py::arg("client"), py::arg("endpoint"), py::arg("sent_ns"), py::arg("now_ns"))
        .def(
            "cost",
            [](BalancerBox& b, std::uint32_t c, std::uint32_t e, std::int64_t now) {
                b.client_ok(c);
                b.endpoint_ok(e);
                return b.bal.cost(c, e, now);
            },
            py::arg("client"), py::arg("endpoint"), py::arg("now_ns"))
        .def(
            "estimate",
            [](const BalancerBox& b, std::uint32_t c, std::uint32_t e) {
                b.client_ok(c);
                b.endpoint_ok(e);
                return b.bal.estimate(c, e);
            },
            py::arg("client"), py::arg("endpoint"))
        .def(
            "pending",
            [](const BalancerBox& b, std::uint32_t c, std::uint32_t e) {
                b.client_ok(c);
                b.endpoint_ok(e);
                return b.bal.pending(c, e);
            },
            py::arg("client"), py::arg("endpoint"))
        .def("last_candidates", [](const BalancerBox& b) { return b.bal.last_candidates(); })
        .def(
            "zone_mode",
            [](const BalancerBox& b, std::uint32_t c) {
                b.client_ok(c);
                return b.bal.zone_mode(c);
            },
            py::arg("client"))
        .def(
            "zone_local_share",
            [](const BalancerBox& b, std::uint32_t c) {
                b.client_ok(c);
                return b.bal.zone_local_share(c);
            },
            py::arg("client"));
}

}  // namespace hp::bind
