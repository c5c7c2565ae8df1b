// libFuzzer target: connection tracking with an arbitrary small configuration (capacity 1..64,
// 1..4 queues, loose or not, early drop or not, 1..2 threads) and arbitrary packets in one to
// three batches. Checks conservation, and that it never holds more than its capacity.
#include "fuzz_input.hpp"
#include "stages/conntrack.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    hp::fuzz::Input in(data, size);
    hp::ConnTrackConfig cfg;
    cfg.capacity = in.in(1, 64);
    cfg.queues = static_cast<unsigned>(in.in(1, 4));
    cfg.loose = in.flag();
    cfg.early_drop = in.flag();
    for (auto& t : cfg.timeouts.ns) t = in.take<std::uint8_t>() * 1'000'000'000ULL;
    cfg.key = in.take<hp::HashKey>();
    const unsigned threads = static_cast<unsigned>(in.in(1, 2));
    const std::size_t batches = in.in(1, 3);
    hp::ConnTrack ct(cfg);
    for (std::size_t b = 0; b < batches && !in.done(); ++b) {
        const auto pkts = in.packets(64);
        std::vector<std::uint8_t> verdicts(pkts.size(), 0xff);
        const auto before = ct.counters().verdicts;
        ct.process(pkts.data(), pkts.size(), verdicts.data(), threads);
        hp::fuzz::check_conserved(before, ct.counters().verdicts, verdicts.data(), pkts.size());
        hp::fuzz::check(ct.size() <= cfg.capacity + cfg.queues, "more connections than the capacity");
        hp::fuzz::check(ct.flows().size() == ct.size(), "a listing that disagrees with the count");
    }
    return 0;
}
