// An IPv4 network as a base address and mask (host order), the one form the
// stages match addresses against: NAT's private networks, an interface's
// addresses and link-local services.
#pragma once

#include <cstdint>

namespace hp {

struct Ipv4Network {
    std::uint32_t base, mask;
    bool contains(std::uint32_t ip) const { return (ip & mask) == base; }
};

}  // namespace hp
