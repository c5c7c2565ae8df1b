// Baseline for the flow-table benchmark: DPDK's rte_hash bulk lookup over the
// same keys and the same lookup order, on one core.
//
//   dpdk_hash_bench KEYFILE ORDERFILE ROUNDS [ENTRIES] [-- EAL args...]
//
// KEYFILE:   N keys of 16 bytes, packed little-endian:
//            uint32 ip_lo, uint32 ip_hi, uint16 port_lo, uint16 port_hi, uint8 proto, 3 zero bytes.
// ORDERFILE: M uint32 (little-endian) indices into KEYFILE: the lookups, in order.
// ENTRIES:   the table's capacity (rte_hash_parameters.entries), default N.
// EAL args after "--" replace the built-in ones (no hugepages, no PCI, one lcore).
//
// Prints one line of JSON on stdout; DPDK's own log goes to stderr.
// Built by hyperplane.baselines.build_dpdk_harness():
//   c++ -O3 -std=c++17 dpdk_hash_bench.cpp $(pkg-config --cflags --libs libdpdk)

#include <rte_common.h>
#include <rte_cpuflags.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_version.h>

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct FlowKey {
    std::uint32_t ip_lo, ip_hi;
    std::uint16_t port_lo, port_hi;
    std::uint8_t proto;
    std::uint8_t pad[3];  // zero: rte_hash hashes and compares all 16 bytes
};
static_assert(sizeof(FlowKey) == 16, "the key file's record is 16 bytes");

// PMDs hand packets over in bursts of 32; rte_hash takes up to 64 (RTE_HASH_LOOKUP_BULK_MAX).
constexpr unsigned kBurst = 32;

bool eal_up = false;

[[noreturn]] void die(const std::string& msg) {
    std::fprintf(stderr, "dpdk_hash_bench: %s\n", msg.c_str());
    if (eal_up) rte_eal_cleanup();
    std::exit(EXIT_FAILURE);
}

template <class T>
std::vector<T> read_records(const char* path) {
    std::FILE* f = std::fopen(path, "rb");
    if (!f) die(std::string("cannot open ") + path + ": " + std::strerror(errno));
    std::fseek(f, 0, SEEK_END);
    const long size = std::ftell(f);
    std::fseek(f, 0, SEEK_SET);
    if (size < 0 || size % static_cast<long>(sizeof(T)) != 0)
        die(std::string(path) + ": size is not a multiple of " + std::to_string(sizeof(T)) + " bytes");
    std::vector<T> v(static_cast<std::size_t>(size) / sizeof(T));
    if (std::fread(v.data(), sizeof(T), v.size(), f) != v.size()) die(std::string("short read on ") + path);
    std::fclose(f);
    return v;
}

// The first CPU this process may run on: the EAL pins its main lcore there, and
// taking CPU 0 blindly would fail under taskset or a cgroup cpuset.
int first_allowed_cpu() {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0)
        for (int c = 0; c < CPU_SETSIZE; ++c)
            if (CPU_ISSET(c, &set)) return c;
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    // Our arguments come first; whatever follows "--" goes to the EAL.
    int ours = argc;
    for (int i = 1; i < argc; ++i)
        if (std::strcmp(argv[i], "--") == 0) { ours = i; break; }
    if (ours < 4 || ours > 5)
        die("usage: dpdk_hash_bench KEYFILE ORDERFILE ROUNDS [ENTRIES] [-- EAL args...]");

    const std::vector<FlowKey> keys = read_records<FlowKey>(argv[1]);
    const std::vector<std::uint32_t> order = read_records<std::uint32_t>(argv[2]);
    const long rounds = std::strtol(argv[3], nullptr, 10);
    const std::size_t n = keys.size(), m = order.size();
    const unsigned long long entries_arg = ours == 5 ? std::strtoull(argv[4], nullptr, 10) : n;
    if (n == 0 || m == 0) die("the key and order files must not be empty");
    if (rounds < 1) die("ROUNDS must be at least 1");
    if (n > UINT32_MAX / 2 || entries_arg < n || entries_arg > UINT32_MAX / 2)
        die("ENTRIES must be at least the number of keys and below 2^31");
    for (std::size_t i = 0; i < m; ++i)
        if (order[i] >= n) die("order[" + std::to_string(i) + "] = " + std::to_string(order[i]) + " is not a key index");
    // rte_hash refuses fewer entries than one bucket (8).
    const auto entries = static_cast<std::uint32_t>(std::max<unsigned long long>(entries_arg, 8));

    // The table lives in EAL memory (rte_zmalloc). Without hugepages that is
    // plain anonymous memory of -m MB, so size it from the table: buckets and
    // extendable buckets (16 B per slot), key store (32 B per slot), free-slot
    // rings, with room for malloc overhead.
    const std::uint64_t slots = rte_align32pow2(entries);
    const std::uint64_t mem_mb = 64 + slots * 96 / (1u << 20);
    std::vector<std::string> eal_args = {argv[0]};
    if (ours < argc) {
        eal_args.insert(eal_args.end(), argv + ours + 1, argv + argc);
    } else {
        eal_args.insert(eal_args.end(), {
            "--no-huge",       // no hugepages needed (or mounted) on a shared machine
            "--no-pci",        // no devices: we only want the library
            "--no-shconf",     // no shared config files, so concurrent runs do not collide
            "--no-telemetry",  // no telemetry socket thread
            "-l", std::to_string(first_allowed_cpu()),  // one lcore: single-core figure
            "-m", std::to_string(mem_mb),
            "--log-level=lib.eal:error",
        });
    }
    std::vector<char*> eal_argv;
    for (std::string& s : eal_args) eal_argv.push_back(s.data());

    rte_openlog_stream(stderr);  // keep stdout for the JSON line (the EAL logs to stdout by default)
    if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0)
        die(std::string("rte_eal_init failed: ") + rte_strerror(rte_errno));
    eal_up = true;

    // rte_hash_crc is CRC32C, with the SSE4.2 crc32 instruction when the CPU has
    // it (it is x86's default in rte_hash too). Named explicitly so the figure
    // does not depend on a library default.
    rte_hash_parameters params{};
    params.name = "hyperplane_baseline";
    params.entries = entries;
    params.key_len = sizeof(FlowKey);
    params.hash_func = rte_hash_crc;
    params.hash_func_init_val = 0;
    params.socket_id = static_cast<int>(rte_socket_id());
    // At entries == N the cuckoo table is ~95% full and an insert can fail with
    // -ENOSPC; the extendable buckets take the overflow so all N keys go in.
    params.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
    rte_hash* h = rte_hash_create(&params);
    if (!h) die(std::string("rte_hash_create failed: ") + rte_strerror(rte_errno));
#if defined(RTE_ARCH_X86)
    const bool hw_crc = rte_cpu_get_flag_enabled(RTE_CPUFLAG_SSE4_2) > 0;
#elif defined(RTE_ARCH_ARM64)
    const bool hw_crc = rte_cpu_get_flag_enabled(RTE_CPUFLAG_CRC32) > 0;
#else
    const bool hw_crc = false;
#endif

    using clock = std::chrono::steady_clock;
    const auto t_ins = clock::now();
    for (std::size_t i = 0; i < n; ++i) {
        const int r = rte_hash_add_key_data(h, &keys[i], reinterpret_cast<void*>(static_cast<std::uintptr_t>(i)));
        if (r < 0) die("rte_hash_add_key_data failed at key " + std::to_string(i) + ": " + std::strerror(-r));
    }
    const double insert_s = std::chrono::duration<double>(clock::now() - t_ins).count();
    // Adding an existing key only updates its data, so a short count means duplicates.
    if (static_cast<std::size_t>(rte_hash_count(h)) != n)
        die("the key file has duplicate keys: " + std::to_string(n) + " keys, " +
            std::to_string(rte_hash_count(h)) + " in the table");

    // Packets reach a flow table as a sequential stream, so lay the looked-up
    // keys out in lookup order: only the table's memory is accessed at random,
    // not the key array as well.
    std::vector<FlowKey> stream(m);
    for (std::size_t i = 0; i < m; ++i) stream[i] = keys[order[i]];

    std::vector<double> lookup_s;
    std::uint64_t misses = 0;
    for (long r = 0; r < rounds; ++r) {
        const auto t0 = clock::now();
        for (std::size_t i = 0; i < m; i += kBurst) {
            const unsigned b = static_cast<unsigned>(std::min<std::size_t>(kBurst, m - i));
            const void* kp[kBurst];
            void* data[kBurst];
            std::uint64_t hits = 0;
            for (unsigned j = 0; j < b; ++j) kp[j] = &stream[i + j];
            rte_hash_lookup_bulk_data(h, kp, b, &hits, data);
            // Checked inside the timed loop: it consumes every result (as a
            // real user would) and costs a compare per lookup.
            for (unsigned j = 0; j < b; ++j)
                misses += !((hits >> j) & 1) || reinterpret_cast<std::uintptr_t>(data[j]) != order[i + j];
        }
        lookup_s.push_back(std::chrono::duration<double>(clock::now() - t0).count());
    }

    std::vector<double> sorted = lookup_s;
    std::sort(sorted.begin(), sorted.end());
    const std::size_t k = sorted.size();
    const double median_s = k % 2 ? sorted[k / 2] : (sorted[k / 2 - 1] + sorted[k / 2]) / 2;

    std::string times;
    for (std::size_t i = 0; i < lookup_s.size(); ++i) {
        char buf[32];
        std::snprintf(buf, sizeof(buf), "%s%.6f", i ? ", " : "", lookup_s[i]);
        times += buf;
    }
    std::printf(
        "{\"keys\": %zu, \"lookups\": %zu, \"rounds\": %ld, \"entries\": %" PRIu32 ", \"bucket_slots\": %" PRIu64
        ", \"load_factor\": %.4f, \"ext_table\": true, \"burst\": %u, \"insert_s\": %.6f, \"lookup_s\": [%s], "
        "\"misses\": %" PRIu64 ", \"median_mlookups_per_s\": %.3f, \"hash_func\": \"%s\", \"dpdk_version\": \"%s\", "
        "\"lcore\": %u}\n",
        n, m, rounds, entries, slots, static_cast<double>(n) / static_cast<double>(slots), kBurst, insert_s,
        times.c_str(), misses, static_cast<double>(m) / median_s / 1e6,
        hw_crc ? "rte_hash_crc (CRC32C, crc32 instruction)" : "rte_hash_crc (CRC32C, software tables)", rte_version(),
        rte_lcore_id());

    rte_hash_free(h);
    rte_eal_cleanup();
    return 0;
}
