// libFuzzer target: RSS with an arbitrary 40-byte key and indirection table (1..128 entries of
// 1..16 queues), both fragment rules, over arbitrary packets. Checks that every implementation
// this CPU runs gives the bit-serial definition's hashes, and that queues stay in range.
#include <stdexcept>

#include "fuzz_input.hpp"
#include "hash/rss.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    hp::fuzz::Input in(data, size);
    const auto key = in.take<hp::RssKey>();
    const std::size_t queues = in.in(1, 16);
    std::vector<std::uint16_t> table(in.in(1, 128));
    for (auto& e : table) e = static_cast<std::uint16_t>(in.take<std::uint8_t>() % queues);
    const auto fragments = in.flag() ? hp::FragmentHash::whole_datagram : hp::FragmentHash::addresses;
    try {
        const hp::Rss rss(key, table, fragments);
        const auto pkts = in.packets(128);
        std::vector<std::uint32_t> reference(pkts.size()), other(pkts.size());
        rss.hash(pkts.data(), pkts.size(), reference.data(), hp::ToeplitzImpl::bitserial);
        for (auto impl : {hp::ToeplitzImpl::table, hp::ToeplitzImpl::gfni}) {
            if (!hp::toeplitz_impl_available(impl)) continue;
            rss.hash(pkts.data(), pkts.size(), other.data(), impl);
            hp::fuzz::check(other == reference, "a Toeplitz implementation disagrees with the definition");
        }
        std::vector<std::uint16_t> q(pkts.size());
        rss.queue(pkts.data(), pkts.size(), q.data());
        for (auto v : q) hp::fuzz::check(v < queues, "a queue outside the indirection table's");
    } catch (const std::invalid_argument&) {
    }
    return 0;
}
