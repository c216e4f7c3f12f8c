// The forward matrix-vector kernel for 32-bit RISC-V cores with a single-precision FPU (RV32F: the
// ESP32-P4 class), its inner loop in assembly. RV32F has no multi-register load, so every weight
// costs one FLW and one FMADD.S; what is left to win is everything else. GCC's scheduler hoists a
// block's weight loads ahead of its multiply-adds and runs out of registers for the inputs
// (spilling 11 of 24 to the stack: 2.7 instructions per multiply-accumulate). Here a block of up
// to 27 inputs stays in f5..f31 while the rows stream past, four rows per pass, each weight loaded
// right before its multiply-add: per four rows and K inputs, 8 K instructions for the products
// and 14 for the sums' loads and stores and the loop. One unrolled sequence of 27 columns serves
// every block width K <= 27: a full block runs it from its start, a narrower one (the columns left
// over, at most one per product) jumps into it 27 - K columns from its start (the row pointers are
// set back by as many floats; one instruction more per pass), so no width needs code of its own.
// Included by kernels.h when EDGELSTM_HAVE_RV32F_ASM; tested against a double-precision reference
// on the rv32imafc target (tests/kernels_test.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "simd.h"

#if EDGELSTM_HAVE_RV32F_ASM

namespace edgelstm {
namespace detail {

inline constexpr std::size_t kRv32fBlock = 27;  // inputs in f5..f31; sums in f0..f3; weights via f4

// y[r] += w[r][k0 .. k0+k) . x[k0 .. k0+k) for kRows * passes rows (kRows = 1 or 4), k <= 27.
// (GNU assembler macros in .altmacro mode, as in kernels_armv7em.h; .option norvc keeps every
// instruction 4 bytes long, so the entry points are computed offsets.) passes must be > 0.
// With kInit, the sums start from bias_a[r] + bias_b[r] + input_weights[r] * input instead of y[r]
// (an LSTM layer fed one feature: its biases and input weights, in the first block's pass instead
// of a pass of their own); then k <= 26 and the input sits in f5.
// With kFull (k == 27, not kInit) the pass runs the sequence from its start and falls into it: no
// computed jumps, one instruction fewer per pass.
template <std::size_t kRows, bool kInit = false, bool kFull = false>
inline void matvec_rows_rv32f(const float* w, std::size_t passes, std::size_t cols, std::size_t k0, std::size_t k,
                              const float* x, float* y, const float* bias_a = nullptr, const float* bias_b = nullptr,
                              const float* input_weights = nullptr, float input = 0.0f) {
  static_assert(kRows == 1 || kRows == 4, "sums in f0..f3");
  static_assert(!(kInit && kFull), "the input takes f5: an init block is at most 26 wide");
  const std::size_t skip = kRv32fBlock - k;  // columns of the unrolled sequence to jump over
  // Addresses set back by `skip` floats: column i of the sequence reads offset 4 i from them.
  const std::uintptr_t back = skip * sizeof(float);
  std::uintptr_t row0 = reinterpret_cast<std::uintptr_t>(w + k0) - back;
  std::uintptr_t row1 = row0 + cols * sizeof(float), row2 = row1 + cols * sizeof(float);
  std::uintptr_t row3 = row2 + cols * sizeof(float);
  const std::uintptr_t inputs = reinterpret_cast<std::uintptr_t>(x + k0) - back;
  const float* y_end = y + kRows * passes;
  const std::size_t next_bytes = kRows * cols * sizeof(float);
  std::uintptr_t scratch0, scratch1;
  std::uint32_t input_bits;
  std::memcpy(&input_bits, &input, sizeof input_bits);
  __asm__ volatile(
      ".option push\n"
      ".option norvc\n"
      ".altmacro\n"
      ".macro EDGELSTM_LOADX reg, offset\n"
      "  flw f\\reg, \\offset(%[inputs])\n"
      ".endm\n"
      ".macro EDGELSTM_COLUMN reg, offset\n"
      "  flw f4, \\offset(%[row0])\n"
      "  fmadd.s f0, f4, f\\reg, f0\n"
      "  .if %c[rows] == 4\n"
      "    flw f4, \\offset(%[row1])\n"
      "    fmadd.s f1, f4, f\\reg, f1\n"
      "    flw f4, \\offset(%[row2])\n"
      "    fmadd.s f2, f4, f\\reg, f2\n"
      "    flw f4, \\offset(%[row3])\n"
      "    fmadd.s f3, f4, f\\reg, f3\n"
      "  .endif\n"
      ".endm\n"
      ".macro EDGELSTM_REPEAT macro, i=0\n"
      "  \\macro %%(5 + \\i), %%(4 * \\i)\n"
      "  .if 26 - \\i\n"
      "    EDGELSTM_REPEAT \\macro, %%(\\i + 1)\n"
      "  .endif\n"
      ".endm\n"
      // Load the block's inputs: jump over the first `skip` loads.
      ".if !%c[full]\n"
      "  lla %[scratch0], 2f\n"
      "  add %[scratch0], %[scratch0], %[load_skip]\n"
      "  jr %[scratch0]\n"
      ".endif\n"
      "2:\n"
      "EDGELSTM_REPEAT EDGELSTM_LOADX\n"
      ".if !%c[full]\n"
      "  lla %[scratch1], 3f\n"
      "  add %[scratch1], %[scratch1], %[column_skip]\n"
      ".endif\n"
      ".macro EDGELSTM_INIT sum, offset\n"
      "  flw \\sum, \\offset(%[bias_a])\n"
      "  flw f4, \\offset(%[bias_b])\n"
      "  fadd.s \\sum, \\sum, f4\n"
      "  flw f4, \\offset(%[input_weights])\n"
      "  fmadd.s \\sum, f4, f5, \\sum\n"
      ".endm\n"
      ".if %c[init]\n"
      "  fmv.w.x f5, %[input]\n"
      ".endif\n"
      "1:\n"
      ".if %c[init]\n"
      "  EDGELSTM_INIT f0, 0\n"
      "  .if %c[rows] == 4\n"
      "    EDGELSTM_INIT f1, 4\n"
      "    EDGELSTM_INIT f2, 8\n"
      "    EDGELSTM_INIT f3, 12\n"
      "  .endif\n"
      "  addi %[bias_a], %[bias_a], %c[rows] * 4\n"
      "  addi %[bias_b], %[bias_b], %c[rows] * 4\n"
      "  addi %[input_weights], %[input_weights], %c[rows] * 4\n"
      ".else\n"
      "  flw f0, 0(%[y])\n"
      "  .if %c[rows] == 4\n"
      "    flw f1, 4(%[y])\n"
      "    flw f2, 8(%[y])\n"
      "    flw f3, 12(%[y])\n"
      "  .endif\n"
      ".endif\n"
      ".if !%c[full]\n"
      "  jr %[scratch1]\n"
      ".endif\n"
      "3:\n"
      "EDGELSTM_REPEAT EDGELSTM_COLUMN\n"
      "fsw f0, 0(%[y])\n"
      ".if %c[rows] == 4\n"
      "  fsw f1, 4(%[y])\n"
      "  fsw f2, 8(%[y])\n"
      "  fsw f3, 12(%[y])\n"
      "  add %[row1], %[row1], %[next]\n"
      "  add %[row2], %[row2], %[next]\n"
      "  add %[row3], %[row3], %[next]\n"
      ".endif\n"
      "add %[row0], %[row0], %[next]\n"
      "addi %[y], %[y], %c[rows] * 4\n"
      "bne %[y], %[y_end], 1b\n"
      ".purgem EDGELSTM_LOADX\n"
      ".purgem EDGELSTM_COLUMN\n"
      ".purgem EDGELSTM_REPEAT\n"
      ".purgem EDGELSTM_INIT\n"
      ".noaltmacro\n"
      ".option pop\n"
      : [row0] "+r"(row0), [row1] "+r"(row1), [row2] "+r"(row2), [row3] "+r"(row3), [y] "+r"(y),
        [scratch0] "=&r"(scratch0), [scratch1] "=&r"(scratch1), [bias_a] "+r"(bias_a), [bias_b] "+r"(bias_b),
        [input_weights] "+r"(input_weights)
      : [inputs] "r"(inputs), [y_end] "r"(y_end), [next] "r"(next_bytes), [load_skip] "r"(skip * 4),
        [column_skip] "r"(skip * 4 * 2 * kRows), [rows] "i"(kRows), [init] "i"(kInit ? 1 : 0), [full] "i"(kFull ? 1 : 0),
        [input] "r"(input_bits)
      : "f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10", "f11", "f12", "f13", "f14", "f15",
        "f16", "f17", "f18", "f19", "f20", "f21", "f22", "f23", "f24", "f25", "f26", "f27", "f28", "f29", "f30",
        "f31", "memory");
}

}  // namespace detail

// y += W x on RV32F: column blocks of 27 (the registers' worth, entered without a computed jump)
// after one block of the columns left over (100 columns: 19 + 3 x 27), four rows per pass, then the
// rows past the last multiple of 4 one by one. Each row's sum runs through its columns in order
// whatever the blocks (a sum is stored and reloaded between blocks, exactly), so the blocking
// changes no result.
inline void matvec_accumulate_rv32f(const float* w, std::size_t rows, std::size_t cols, const float* x, float* y) {
  const std::size_t groups = rows / 4, tail = rows - 4 * groups;
  const std::size_t first = cols % detail::kRv32fBlock;
  if (first > 0) {
    if (groups > 0) detail::matvec_rows_rv32f<4>(w, groups, cols, 0, first, x, y);
    if (tail > 0) detail::matvec_rows_rv32f<1>(w + 4 * groups * cols, tail, cols, 0, first, x, y + 4 * groups);
  }
  for (std::size_t k0 = first; k0 < cols; k0 += detail::kRv32fBlock) {
    if (groups > 0) detail::matvec_rows_rv32f<4, false, true>(w, groups, cols, k0, detail::kRv32fBlock, x, y);
    if (tail > 0) {
      detail::matvec_rows_rv32f<1, false, true>(w + 4 * groups * cols, tail, cols, k0, detail::kRv32fBlock, x,
                                                y + 4 * groups);
    }
  }
}

// gates = bias_a + bias_b + input_weights * input + W h (rows = 4H, W: rows x cols): an LSTM layer
// fed one feature, its biases and input column folded into the first column block's pass (400
// rows: 1,000 instructions fewer than a pass of their own). That block takes the columns left over
// by blocks of 27 (1 to 26 of them); false when there are none (cols a multiple of 27: no register
// left for the input in a block of 27): then the caller takes the two passes.
inline bool lstm_gates_input1_rv32f(const float* w, std::size_t rows, std::size_t cols, const float* h,
                                    const float* bias_a, const float* bias_b, const float* input_weights, float input,
                                    float* gates) {
  const std::size_t first = cols % detail::kRv32fBlock;
  if (first == 0 || rows % 4 != 0) return false;
  detail::matvec_rows_rv32f<4, true>(w, rows / 4, cols, 0, first, h, gates, bias_a, bias_b, input_weights, input);
  for (std::size_t k0 = first; k0 < cols; k0 += detail::kRv32fBlock) {
    detail::matvec_rows_rv32f<4, false, true>(w, rows / 4, cols, k0, detail::kRv32fBlock, h, gates);
  }
  return true;
}

}  // namespace edgelstm

#endif  // EDGELSTM_HAVE_RV32F_ASM
