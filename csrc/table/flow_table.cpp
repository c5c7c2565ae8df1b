#include "table/flow_table.hpp"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

namespace hp {
namespace {

constexpr std::size_t kHugePage = 2u << 20;

// Tables of millions of flows are read at random: on 2 MiB pages one TLB entry
// covers 32768 records instead of 64, which keeps page walks out of the miss path.
void* allocate(std::size_t bytes) {
    const std::size_t align = bytes >= kHugePage ? kHugePage : 64;
    const std::size_t size = (bytes + align - 1) / align * align;
    void* p = std::aligned_alloc(align, size);
    if (!p) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    if (align == kHugePage) madvise(p, size, MADV_HUGEPAGE);
#endif
    return p;
}

}  // namespace

void FlowTable::FreeDeleter::operator()(void* p) const { std::free(p); }

std::size_t FlowTable::bytes_for_groups(std::size_t groups) {
    return groups * (sizeof(Group) + kGroupSlots * sizeof(FlowRecord));
}

FlowTable::FlowTable(std::size_t capacity, const HashKey& key) : key_(key), capacity_(capacity), groups_(0) {
    if (capacity == 0) throw std::invalid_argument("capacity must be positive");
    groups_ = groups_for(capacity);
    ctrl_.reset(static_cast<Group*>(allocate(groups_ * sizeof(Group))));
    records_.reset(static_cast<FlowRecord*>(allocate(groups_ * kGroupSlots * sizeof(FlowRecord))));
    for (std::size_t g = 0; g < groups_; ++g) {
        std::memset(ctrl_[g].bytes, kEmpty, kGroupSlots);
        ctrl_[g].bytes[kGroupSlots] = 0;
    }
}

std::size_t FlowTable::insert(const FlowKey& k, std::uint64_t h) {
    if (size_ >= capacity_) return npos;
    std::size_t g = home(h);
    // Room is guaranteed (size < capacity <= 80% of slots), so this ends.
    while (true) {
        if (const unsigned e = empties(g)) {
            const std::size_t slot = g * kGroupSlots + static_cast<unsigned>(__builtin_ctz(e));
            ctrl_[g].bytes[slot % kGroupSlots] = tag(h);
            records_[slot].set_key(k);
            ++size_;
            return slot;
        }
        // Saturated counts stay saturated: such a group is always probed past.
        if (ctrl_[g].bytes[kGroupSlots] != 0xff) ++ctrl_[g].bytes[kGroupSlots];
        g = next(g);
    }
}

void FlowTable::erase(std::size_t slot) {
    const std::size_t target = slot / kGroupSlots;
    for (std::size_t g = home(hash(records_[slot].key())); g != target; g = next(g))
        if (ctrl_[g].bytes[kGroupSlots] != 0xff) --ctrl_[g].bytes[kGroupSlots];
    ctrl_[target].bytes[slot % kGroupSlots] = kEmpty;
    --size_;
}

}  // namespace hp
