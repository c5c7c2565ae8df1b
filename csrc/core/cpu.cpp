#include "core/cpu.hpp"

#include "core/machine.hpp"

namespace hp {

bool cpu_has_avx512_gfni() {
#if defined(HP_X86_64_GNU)
    static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                            __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vbmi") &&
                            __builtin_cpu_supports("gfni");
    return has;
#else
    return false;
#endif
}

}  // namespace hp
