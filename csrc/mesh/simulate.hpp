// The mesh's discrete-event simulation: Poisson arrivals at client tasks, each
// request balanced to an endpoint by the client's own balancer, one-way network
// delays by placement, per-endpoint queues behind a concurrency limit, per-attempt
// timeouts and retries, endpoints and clients going down and the balancers
// learning of it after a health-check delay. One thread, no allocation per
// request once the pools have grown, no Python: the binding releases the GIL.
#pragma once

#include <vector>

#include "mesh/spec.hpp"

namespace hp::mesh {

Result simulate(const std::vector<Place>& clients, const std::vector<Endpoint>& endpoints, const Network& net,
                const BalancerSpec& spec, const Load& load, const std::vector<Down>& down);

}  // namespace hp::mesh
