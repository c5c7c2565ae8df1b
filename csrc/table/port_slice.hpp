// The ports one shard may give out, and how it finds a free one. Shard
// `index` of `queues` owns ports 1024 + index + queues·k of every address it
// translates to (AWS's NAT gateway uses source ports 1024-65535), so a reply,
// sharded by its destination port, arrives at the shard that holds its
// connection (owner()). NAT and the load balancer's source NAT share it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hp {

class PortSlice {
public:
    static constexpr std::uint16_t kFirst = 1024;
    static constexpr std::uint32_t kPorts = 65536 - kFirst;
    // Random probes find a free port in a few tries even at the limit (at least
    // 1 - 55000/64512 of a slice is free); a scan from a random point then
    // settles the rare case where they all miss, and always ends.
    static constexpr unsigned kRandomProbes = 64;

    PortSlice(unsigned index, unsigned queues)
        : index_(index), queues_(queues), size_((kPorts - 1 - index) / queues + 1) {}

    std::uint32_t size() const { return size_; }
    std::uint16_t port(std::uint64_t k) const { return static_cast<std::uint16_t>(kFirst + index_ + queues_ * k); }
    bool owns(std::uint16_t port) const { return port >= kFirst && owner(port, queues_) == index_; }
    // The shard that gives out `port` (shard 0 for ports below the range, which no shard gives out).
    static std::uint16_t owner(std::uint16_t port, unsigned queues) {
        return port < kFirst ? std::uint16_t{0} : static_cast<std::uint16_t>((port - kFirst) % queues);
    }

    // A port of the slice for which free(port) holds, drawn with `random`; false when none is.
    // The number of draws depends only on the table's contents, so a run replays exactly.
    template <class Free, class Random>
    bool find(Free free, Random& random, std::uint16_t& port) const {
        bool found = false;
        for (unsigned t = 0; t < kRandomProbes && !found; ++t) found = free(port = this->port(random() % size_));
        const std::uint64_t start = random() % size_;
        for (std::uint64_t k = 0; k < size_ && !found; ++k) found = free(port = this->port((start + k) % size_));
        return found;
    }

private:
    unsigned index_, queues_;
    std::uint32_t size_;
};

}  // namespace hp
