// Which SIMD kernels this build may use, derived in one place from the compiler's own predefines.
// Every SIMD kernel has a portable scalar twin that all targets build and test; a variant is used
// only when the compiler was told the instructions exist (for example -mavx2 -mfma or
// -march=native). Define EDGELSTM_PORTABLE_KERNELS to force the portable loops everywhere.
#pragma once

#if !defined(EDGELSTM_PORTABLE_KERNELS) && defined(__AVX2__) && defined(__FMA__)
#define EDGELSTM_HAVE_AVX2_FMA 1
#else
#define EDGELSTM_HAVE_AVX2_FMA 0
#endif

namespace edgelstm {

// The kernel family this build runs, for logs and benchmark reports.
constexpr const char* kernel_variant() { return EDGELSTM_HAVE_AVX2_FMA ? "avx2+fma" : "portable"; }

}  // namespace edgelstm
