// libFuzzer target: a NAT gateway with 1..3 public addresses, a small table, rate limits on or
// off, 1..4 queues, and arbitrary packets in one to three batches. Checks conservation and the
// gateway's own invariant: no two live connections share a public tuple. A batch refused whole
// for reaching past the metrics' span (std::invalid_argument) must leave every count as it was.
#include <set>
#include <stdexcept>
#include <tuple>

#include "fuzz_input.hpp"
#include "stages/nat.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    hp::fuzz::Input in(data, size);
    hp::NatConfig cfg;
    cfg.capacity = in.in(1, 64);
    cfg.queues = static_cast<unsigned>(in.in(1, 4));
    const std::size_t ips = in.in(1, 3);
    for (std::size_t k = 0; k < ips; ++k)
        cfg.public_ips.push_back(0xcb007100U + static_cast<std::uint32_t>(k));  // 203.0.113.x
    cfg.private_networks = {{0x0a000000U, 0xff000000U}};                        // 10.0.0.0/8
    if (in.flag()) cfg.private_networks.push_back({in.take<std::uint32_t>(), 0xffffff00U});
    cfg.per_destination = static_cast<std::uint32_t>(in.in(1, 8));
    for (auto& t : cfg.timeouts.ns) t = in.take<std::uint8_t>() * 1'000'000'000ULL;
    if (in.flag()) cfg.base_pps = 1e3, cfg.max_pps = 1e4, cfg.base_bps = 1e6, cfg.max_bps = 1e7;
    cfg.key = in.take<hp::HashKey>();
    cfg.seed = in.take<std::uint64_t>();
    const unsigned threads = static_cast<unsigned>(in.in(1, 2));
    const std::size_t batches = in.in(1, 3);
    try {
        hp::NatGateway nat(cfg);
        for (std::size_t b = 0; b < batches && !in.done(); ++b) {
            const auto pkts = in.packets(64);
            std::vector<hp::Packet> out(pkts.size());
            std::vector<std::uint8_t> verdicts(pkts.size(), 0xff);
            const auto before = nat.verdicts();
            try {
                nat.process(pkts.data(), pkts.size(), out.data(), verdicts.data(), threads);
            } catch (const std::invalid_argument&) {
                hp::fuzz::check(nat.verdicts() == before, "a refused batch changed the counts");
                continue;
            }
            hp::fuzz::check_conserved(before, nat.verdicts(), verdicts.data(), pkts.size());
            std::set<std::tuple<std::uint32_t, std::uint16_t, std::uint32_t, std::uint16_t, std::uint8_t>> tuples;
            for (const auto& c : nat.connections())
                hp::fuzz::check(tuples.emplace(c.public_ip, c.public_port, c.remote_ip, c.remote_port, c.proto).second,
                                "two live connections share a public tuple");
        }
    } catch (const std::invalid_argument&) {
        // A configuration the gateway refuses (the Python layer checks these first).
    }
    return 0;
}
