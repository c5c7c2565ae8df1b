// libFuzzer target: an ENA interface with arbitrary small allowances (pps, bandwidth with burst
// credits, per flow, link-local, conntrack), queue depth 0..8, either direction, and arbitrary
// packets. Checks conservation, that a dropped packet has no delay, and that tracked connections
// stay within the allowance.
#include <stdexcept>

#include "fuzz_input.hpp"
#include "stages/ena_interface.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    hp::fuzz::Input in(data, size);
    hp::EnaConfig cfg;
    cfg.queues = static_cast<unsigned>(in.in(1, 8));
    cfg.direction = static_cast<hp::EnaDirection>(in.in(0, 2));
    cfg.instance = {{0x0a000000U, 0xffff0000U}};
    cfg.link_local = {{0xa9fea9feU, 0xffffffffU}};  // 169.254.169.254
    cfg.pps = in.take<std::uint8_t>() * 1000ULL;
    cfg.baseline_bps = in.take<std::uint8_t>() * 1'000'000ULL;
    cfg.burst_bps = cfg.baseline_bps + in.take<std::uint8_t>() * 1'000'000ULL;
    cfg.credit_ns = in.take<std::uint8_t>() * 1'000'000ULL;
    cfg.initial_credits = in.take<std::uint8_t>() / 255.0;
    cfg.flow_bps = in.take<std::uint8_t>() * 1'000'000ULL;
    cfg.link_local_pps = in.take<std::uint8_t>() * 100ULL;
    cfg.window_ns = in.in(1, 2000) * 1000ULL;
    cfg.queue_depth = in.in(0, 8);
    cfg.conntrack = in.in(0, 16);
    for (auto& t : cfg.timeouts.ns) t = in.take<std::uint8_t>() * 1'000'000'000ULL;
    cfg.key = in.take<hp::HashKey>();
    cfg.latency_ns = in.take<std::uint16_t>();
    cfg.latency_seed = in.take<std::uint64_t>();
    cfg.flow_slots = std::size_t{4} << in.in(0, 4);
    try {
        hp::EnaInterface ena(cfg);
        for (std::size_t b = 0; b < 3 && !in.done(); ++b) {
            const auto pkts = in.packets(64);
            std::vector<std::uint8_t> verdicts(pkts.size(), 0xff);
            std::vector<std::uint64_t> delays(pkts.size());
            const auto before = ena.verdicts();
            ena.process(pkts.data(), pkts.size(), verdicts.data(), delays.data());
            hp::fuzz::check_conserved(before, ena.verdicts(), verdicts.data(), pkts.size());
            for (std::size_t i = 0; i < pkts.size(); ++i)
                if (verdicts[i] != static_cast<std::uint8_t>(hp::Verdict::forward))
                    hp::fuzz::check(delays[i] == 0, "a dropped packet with a delay");
            hp::fuzz::check(ena.connections() <= cfg.conntrack, "more tracked connections than the allowance");
        }
    } catch (const std::invalid_argument&) {
    }
    return 0;
}
