// Which machine-specific paths this build takes: the SSE2 tag match of the flow
// table, the x86 prefetch instruction, the AVX-512+GFNI Toeplitz kernel and the
// CPU detection it needs. Each has a portable path giving the same results;
// building with HP_PORTABLE (CMake: HYPERPLANE_PORTABLE=ON) takes those alone,
// so CI runs the paths a machine without them takes, on this one.
#pragma once

#if !defined(HP_PORTABLE)
#if defined(__SSE2__)
#define HP_SSE2 1
#endif
#if defined(__x86_64__) || defined(__i386__)
#define HP_X86 1
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HP_X86_64_GNU 1
#endif
#endif
