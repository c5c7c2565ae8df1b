// A prefetch the compiler must keep.
//
// GCC 12 deletes a __builtin_prefetch whose address is computed from a SIMD
// compare (the flow table's tag match) together with that whole computation,
// as if it had no effect; an asm statement is kept as written.
#pragma once

#include "core/machine.hpp"

namespace hp {

inline void prefetch(const void* p) {
#if defined(HP_X86)
    asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
    __builtin_prefetch(p, 0, 3);
#endif
}

}  // namespace hp
