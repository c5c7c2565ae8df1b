// What the processor running us can do, asked once at run time: fast paths are
// compiled for newer instruction sets and chosen only where they exist.
#pragma once

namespace hp {

// AVX-512 (F, BW, VL, VBMI) together with GFNI: the byte-matrix Toeplitz kernel.
bool cpu_has_avx512_gfni();

}  // namespace hp
