// libFuzzer target: a load balancer with 1..2 zones, 1..6 targets of arbitrary health,
// registration and draining, Maglev-like tables over them, source NAT on or off, and arbitrary
// packets. Checks conservation, and that a forwarded packet names a registered target.
#include <stdexcept>

#include "fuzz_input.hpp"
#include "stages/nlb.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    hp::fuzz::Input in(data, size);
    hp::NlbConfig cfg;
    cfg.capacity = in.in(1, 64);
    cfg.queues = static_cast<unsigned>(in.in(1, 4));
    const std::size_t zones = in.in(1, 2);
    for (std::size_t z = 0; z < zones; ++z) cfg.nodes.push_back(0x0a000010U + static_cast<std::uint32_t>(z));
    cfg.listeners = {{443, 6}, {53, 17}};
    cfg.preserve_client_ip = in.flag();
    cfg.terminate_unhealthy = in.flag();
    cfg.terminate_deregistered = in.flag();
    cfg.per_target = static_cast<std::uint32_t>(in.in(1, 8));
    for (auto& t : cfg.timeouts.ns) t = in.take<std::uint8_t>() * 1'000'000'000ULL;
    cfg.key = in.take<hp::HashKey>();
    cfg.flow_key = in.take<hp::HashKey>();
    const std::size_t count = in.in(1, 6);
    std::vector<hp::NlbTarget> targets;
    for (std::size_t t = 0; t < count; ++t) {
        const auto bits = in.take<std::uint8_t>();
        targets.push_back({0x0a000100U + static_cast<std::uint32_t>(t), 8080, bool(bits & 1), bool(bits & 2),
                           (bits & 4) ? in.take<std::uint8_t>() * 1'000'000'000ULL : ~0ULL});
    }
    const unsigned threads = static_cast<unsigned>(in.in(1, 2));
    try {
        hp::NetworkLoadBalancer nlb(cfg);
        nlb.set_targets(targets);
        for (std::size_t z = 0; z < zones; ++z) {
            std::vector<std::uint32_t> table(in.in(0, 13));
            for (auto& e : table) e = static_cast<std::uint32_t>(in.take<std::uint8_t>() % count);
            nlb.set_table(z, table);
        }
        nlb.set_fail_open(in.flag());
        for (std::size_t b = 0; b < 3 && !in.done(); ++b) {
            const auto pkts = in.packets(64);
            std::vector<hp::Packet> out(pkts.size());
            std::vector<std::uint8_t> verdicts(pkts.size(), 0xff);
            std::vector<std::uint32_t> chosen(pkts.size());
            const auto before = nlb.verdicts();
            try {
                nlb.process(pkts.data(), pkts.size(), out.data(), verdicts.data(), chosen.data(), threads);
            } catch (const std::invalid_argument&) {
                hp::fuzz::check(nlb.verdicts() == before, "a refused batch changed the counts");
                continue;
            }
            hp::fuzz::check_conserved(before, nlb.verdicts(), verdicts.data(), pkts.size());
            for (std::size_t i = 0; i < pkts.size(); ++i)
                if (verdicts[i] == static_cast<std::uint8_t>(hp::Verdict::forward) && chosen[i] != hp::kNoTarget)
                    hp::fuzz::check(chosen[i] < count && targets[chosen[i]].registered,
                                    "a packet forwarded to a target that is not registered");
        }
    } catch (const std::invalid_argument&) {
    }
    return 0;
}
