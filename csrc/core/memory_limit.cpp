#include "core/memory_limit.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

namespace hp {

std::size_t memory_available() {
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    std::size_t available =
        pages > 0 && page > 0 ? static_cast<std::size_t>(pages) * static_cast<std::size_t>(page) : ~std::size_t{0};
    // cgroup v2 ("max" when unlimited), then v1.
    for (const char* path : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
        std::ifstream f(path);
        unsigned long long limit = 0;
        if (f >> limit && limit > 0) available = std::min(available, static_cast<std::size_t>(limit));
    }
    return available;
}

void check_fits(std::size_t bytes, const std::string& what) {
    const std::size_t available = memory_available();
    if (bytes <= available) return;
    char msg[256];
    std::snprintf(msg, sizeof msg, "%s needs %zu bytes (%.1f GiB), more than the %zu bytes (%.1f GiB) of memory here",
                  what.c_str(), bytes, static_cast<double>(bytes) / (1ULL << 30), available,
                  static_cast<double>(available) / (1ULL << 30));
    throw OutOfMemory(msg);
}

}  // namespace hp
