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

// AVX-512F (with AVX2 and FMA, which every AVX-512 core has): 16-wide vectors and 32 registers for
// the packed inference panels (packed_network.h) and the training outer products (kernels.h).
#if !defined(EDGELSTM_PORTABLE_KERNELS) && defined(__AVX512F__) && defined(__AVX2__) && defined(__FMA__)
#define EDGELSTM_HAVE_AVX512F 1
#else
#define EDGELSTM_HAVE_AVX512F 0
#endif

// Cortex-M4F/M7 (ARMv7E-M with a single-precision FPU, Thumb-2): a matrix-vector kernel whose
// inner loop is written in assembly, because no C formulation makes GCC emit VLDM loads of
// several weights per instruction (see kernels.h).
#if !defined(EDGELSTM_PORTABLE_KERNELS) && defined(__ARM_ARCH_7EM__) && defined(__thumb2__) && \
    defined(__ARM_FP) && (__ARM_FP & 4) && (defined(__GNUC__) || defined(__clang__))
#define EDGELSTM_HAVE_ARMV7EM_FPU_ASM 1
#else
#define EDGELSTM_HAVE_ARMV7EM_FPU_ASM 0
#endif

// 32-bit RISC-V with a single-precision FPU (RV32F, e.g. rv32imafc): a matrix-vector kernel whose
// inner loop is written in assembly, because GCC's schedule of the C loop spills the inputs it
// should keep in registers (see kernels_rv32f.h).
#if !defined(EDGELSTM_PORTABLE_KERNELS) && defined(__riscv) && defined(__riscv_flen) && __riscv_flen >= 32 && \
    defined(__riscv_xlen) && __riscv_xlen == 32 && (defined(__GNUC__) || defined(__clang__))
#define EDGELSTM_HAVE_RV32F_ASM 1
#else
#define EDGELSTM_HAVE_RV32F_ASM 0
#endif

// ARMv7E-M's DSP extension (Cortex-M4/M7, FPU or not): dual 16-bit multiply-accumulate (SMLAD)
// and byte-pair sign extension (SXTB16) through the ACLE intrinsics, for the full-integer path.
#if !defined(EDGELSTM_PORTABLE_KERNELS) && defined(__ARM_FEATURE_DSP) && defined(__ARM_FEATURE_SIMD32)
#define EDGELSTM_HAVE_ARMV7EM_DSP 1
#else
#define EDGELSTM_HAVE_ARMV7EM_DSP 0
#endif

// Cores without a vector unit (Cortex-M, RISC-V without V, Xtensa) take the register-blocked
// scalar loops, arranged for the instruction count of an in-order core; cores with one (x86-64,
// AArch64 hosts) take loops the compiler vectorizes.
#if defined(EDGELSTM_FORCE_SCALAR_KERNELS) || (defined(__arm__) && !defined(__ARM_NEON)) || \
    (defined(__riscv) && !defined(__riscv_vector)) || defined(__XTENSA__)
#define EDGELSTM_SCALAR_CORE 1
#else
#define EDGELSTM_SCALAR_CORE 0
#endif

namespace edgelstm {

// The kernel family this build runs, for logs and benchmark reports.
constexpr const char* kernel_variant() {
  return EDGELSTM_HAVE_AVX512F          ? "avx-512"
         : EDGELSTM_HAVE_AVX2_FMA        ? "avx2+fma"
         : EDGELSTM_HAVE_ARMV7EM_FPU_ASM ? "armv7e-m fpu"
         : EDGELSTM_HAVE_RV32F_ASM       ? "rv32f"
         : EDGELSTM_SCALAR_CORE          ? "scalar"
                                         : "lanes";
}

}  // namespace edgelstm
