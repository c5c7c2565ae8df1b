// Tables the size of the machine. A table larger than memory would be granted
// lazily (Linux overcommits) and the process killed when its pages are touched,
// so the stages check what their tables need before allocating and refuse with
// OutOfMemory (MemoryError in Python) stating the bytes needed and the bytes
// there are: physical memory, or the cgroup's limit when lower.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace hp {

class OutOfMemory : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The memory this process may use: physical memory, or its cgroup's limit when lower.
std::size_t memory_available();

// Throws OutOfMemory unless `bytes` fit in memory_available(); `what` names the table.
void check_fits(std::size_t bytes, const std::string& what);

}  // namespace hp
