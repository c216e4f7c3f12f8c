// Float kernels for Cortex-M4F/M7 (ARMv7E-M with a single-precision FPU), with their inner loops in
// assembly: no C formulation makes GCC load several weights per instruction (VLDM), keep a block
// of inputs in the 32 FPU registers across a loop, or leave out the register copies its two-operand
// fused multiply-add invites. Included by kernels.h when EDGELSTM_HAVE_ARMV7EM_FPU_ASM; the portable
// loops there remain the reference, and every variant here is tested against a double-precision
// reference on the cortex-m4f target (tests/kernels_test.cpp).
//
// The loops are written once, as GNU assembler macros (in .altmacro mode, so that register numbers
// can be computed: s%(\x+1)); each asm statement defines the macros it uses and removes them again.
#pragma once

#include <cstddef>
#include <type_traits>

#include "simd.h"

#if EDGELSTM_HAVE_ARMV7EM_FPU_ASM

// EDGELSTM_FMAS acc, w, x, n:  acc += s<w> * s<x>, ..., s<w+n-1> * s<x+n-1>  (n fused multiply-adds)
// EDGELSTM_AXPYS a, w, v, n:   s<a> += s<w> * v, ..., s<a+n-1> += s<w+n-1> * v
// EDGELSTM_LOAD p, last:        s0..s<last> = p[0..last], p advanced (one VLDM)
// EDGELSTM_DOT p, acc, x, k:    acc += p[0..k) . s<x>..s<x+k-1>, the weights loaded 8 at a time
// EDGELSTM_AXPY p, a, v, k:     s<a>..s<a+k-1> += p[0..k) * v, the weights loaded 8 at a time
#define EDGELSTM_ARMV7EM_MACROS                                         \
  ".altmacro\n"                                                         \
  ".macro EDGELSTM_FMAS acc, w, x, n\n"                                 \
  "  vfma.f32 \\acc, s\\w, s\\x\n"                                      \
  "  .if \\n - 1\n"                                                     \
  "    EDGELSTM_FMAS \\acc, %%(\\w + 1), %%(\\x + 1), %%(\\n - 1)\n"    \
  "  .endif\n"                                                          \
  ".endm\n"                                                             \
  ".macro EDGELSTM_AXPYS a, w, v, n\n"                                  \
  "  vfma.f32 s\\a, s\\w, \\v\n"                                        \
  "  .if \\n - 1\n"                                                     \
  "    EDGELSTM_AXPYS %%(\\a + 1), %%(\\w + 1), \\v, %%(\\n - 1)\n"     \
  "  .endif\n"                                                          \
  ".endm\n"                                                             \
  ".macro EDGELSTM_LOAD p, last\n"                                      \
  "  vldmia \\p!, {s0-s\\last}\n"                                       \
  ".endm\n"                                                             \
  ".macro EDGELSTM_DOT p, acc, x, k\n"                                  \
  "  .if \\k >= 8\n"                                                    \
  "    EDGELSTM_LOAD \\p, 7\n"                                          \
  "    EDGELSTM_FMAS \\acc, 0, \\x, 8\n"                                \
  "    .if \\k - 8\n"                                                   \
  "      EDGELSTM_DOT \\p, \\acc, %%(\\x + 8), %%(\\k - 8)\n"            \
  "    .endif\n"                                                        \
  "  .else\n"                                                           \
  "    EDGELSTM_LOAD \\p, %%(\\k - 1)\n"                                \
  "    EDGELSTM_FMAS \\acc, 0, \\x, \\k\n"                              \
  "  .endif\n"                                                          \
  ".endm\n"                                                             \
  ".macro EDGELSTM_AXPY p, a, v, k\n"                                   \
  "  .if \\k >= 8\n"                                                    \
  "    EDGELSTM_LOAD \\p, 7\n"                                          \
  "    EDGELSTM_AXPYS \\a, 0, \\v, 8\n"                                 \
  "    .if \\k - 8\n"                                                   \
  "      EDGELSTM_AXPY \\p, %%(\\a + 8), \\v, %%(\\k - 8)\n"            \
  "    .endif\n"                                                        \
  "  .else\n"                                                           \
  "    EDGELSTM_LOAD \\p, %%(\\k - 1)\n"                                \
  "    EDGELSTM_AXPYS \\a, 0, \\v, \\k\n"                               \
  "  .endif\n"                                                          \
  ".endm\n"

#define EDGELSTM_ARMV7EM_MACROS_END                                                              \
  ".purgem EDGELSTM_FMAS\n.purgem EDGELSTM_AXPYS\n.purgem EDGELSTM_LOAD\n.purgem EDGELSTM_DOT\n" \
  ".purgem EDGELSTM_AXPY\n.noaltmacro\n"

#define EDGELSTM_ARMV7EM_FPU_CLOBBERS                                                                        \
  "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s12", "s13", "s14", "s15", "s16", \
      "s17", "s18", "s19", "s20", "s21", "s22", "s23", "s24", "s25", "s26", "s27", "s28", "s29", "s30", "s31"

namespace edgelstm {
namespace detail {

// Column blocks of the kernels below: the widest first (fewest loads and stores of the sums), a
// multiple of 4 each; columns past the last multiple of 4 take the portable loops.
inline constexpr std::size_t kArmv7emBlocks[] = {20, 16, 12, 8, 4};

// y[r] += w[r][k0 .. k0+K) . x[k0 .. k0+K) for 4 * groups rows, four rows per pass: the K inputs
// sit in s<32-K>..s31 for the whole sweep, the four sums in s8-s11 (one VLDM/VSTM each), and each
// row's weights arrive eight per VLDM in s0-s7. Per four rows and K = 20: 1 + 4 (3 + 20) + 1 + 6 =
// 100 instructions for 80 multiply-adds (1.25 per MAC). groups must be > 0.
template <std::size_t K>
inline void matvec_rows4_armv7em(const float* w, std::size_t groups, std::size_t cols, std::size_t k0,
                                 const float* x, float* y) {
  static_assert(K % 4 == 0 && K >= 4 && K <= 20, "K inputs + 8 weights + 4 sums fit the 32 registers");
  const float* row0 = w + k0;
  const float* row1 = row0 + cols;
  const float* row2 = row1 + cols;
  const float* row3 = row2 + cols;
  const std::size_t next_bytes = (4 * cols - K) * sizeof(float);
  __asm__ volatile(
      EDGELSTM_ARMV7EM_MACROS
      "vldmia %[x], {s%c[first]-s31}\n"
      "1:\n"
      "vldmia %[y], {s8-s11}\n"
      "EDGELSTM_DOT %[row0], s8, %c[first], %c[k]\n"
      "EDGELSTM_DOT %[row1], s9, %c[first], %c[k]\n"
      "EDGELSTM_DOT %[row2], s10, %c[first], %c[k]\n"
      "EDGELSTM_DOT %[row3], s11, %c[first], %c[k]\n"
      "vstmia %[y]!, {s8-s11}\n"
      "add %[row0], %[row0], %[next]\n"
      "add %[row1], %[row1], %[next]\n"
      "add %[row2], %[row2], %[next]\n"
      "add %[row3], %[row3], %[next]\n"
      "subs %[groups], %[groups], #1\n"
      "bne 1b\n"
      EDGELSTM_ARMV7EM_MACROS_END
      : [row0] "+r"(row0), [row1] "+r"(row1), [row2] "+r"(row2), [row3] "+r"(row3), [y] "+r"(y),
        [groups] "+r"(groups)
      : [x] "r"(x + k0), [next] "r"(next_bytes), [k] "i"(K), [first] "i"(32 - K)
      : EDGELSTM_ARMV7EM_FPU_CLOBBERS, "cc", "memory");
}

// y[0 .. K) = y_in[0 .. K) + sum_{i < n} v[i * v_step] * w[i * w_step + 0 .. K): a block of K sums
// held in s<32-K>..s31 while n rows of w stream past, each scaled by its factor v (in s8) and added
// with one VLDM per eight weights and one FMA per weight: 1 + K/8 + K + 3 instructions per row (1.35
// per MAC at K = 20). Steps are in bytes; y_in may be y, or zeros for a sum that starts from 0.
// n must be > 0.
template <std::size_t K>
inline void axpy_rows_armv7em(const float* w, std::size_t w_step_bytes, const float* v, std::size_t v_step_bytes,
                              std::size_t n, const float* y_in, float* y) {
  static_assert(K % 4 == 0 && K >= 4 && K <= 20, "K sums + 8 weights + the factor fit the 32 registers");
  const std::size_t next_bytes = w_step_bytes - K * sizeof(float);
  __asm__ volatile(
      EDGELSTM_ARMV7EM_MACROS
      "vldmia %[y_in], {s%c[first]-s31}\n"
      "1:\n"
      "vldr s8, [%[v]]\n"
      "add %[v], %[v], %[v_step]\n"
      "EDGELSTM_AXPY %[w], %c[first], s8, %c[k]\n"
      "add %[w], %[w], %[next]\n"
      "subs %[n], %[n], #1\n"
      "bne 1b\n"
      "vstmia %[y], {s%c[first]-s31}\n"
      EDGELSTM_ARMV7EM_MACROS_END
      : [w] "+r"(w), [v] "+r"(v), [n] "+r"(n)
      : [y_in] "r"(y_in), [y] "r"(y), [v_step] "r"(v_step_bytes), [next] "r"(next_bytes), [k] "i"(K),
        [first] "i"(32 - K)
      : EDGELSTM_ARMV7EM_FPU_CLOBBERS, "cc", "memory");
}

// Zeros for the sums of axpy_rows_armv7em that start from 0 (the outer products).
alignas(8) inline constexpr float kArmv7emZeros[20] = {};

// The column block of K at k0 for every block size: calls f(k0, K) with the compile-time K.
template <typename Block>
inline std::size_t for_each_armv7em_block(std::size_t cols, Block&& block) {
  std::size_t k0 = 0;
  for (; k0 + 20 <= cols; k0 += 20) block(k0, std::integral_constant<std::size_t, 20>());
  if (k0 + 16 <= cols) { block(k0, std::integral_constant<std::size_t, 16>()); k0 += 16; }
  if (k0 + 12 <= cols) { block(k0, std::integral_constant<std::size_t, 12>()); k0 += 12; }
  if (k0 + 8 <= cols) { block(k0, std::integral_constant<std::size_t, 8>()); k0 += 8; }
  if (k0 + 4 <= cols) { block(k0, std::integral_constant<std::size_t, 4>()); k0 += 4; }
  return k0;  // the first column no block covered
}

}  // namespace detail
}  // namespace edgelstm

#endif  // EDGELSTM_HAVE_ARMV7EM_FPU_ASM
