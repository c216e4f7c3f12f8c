// Matrix-vector kernels of the full-integer path: int8 weights times int16 activations summed in
// int32. Every variant computes the same exact integer sums (no rounding happens here), so they
// agree bit for bit; the caller keeps columns <= kMaxIntegerColumns so no sum can overflow.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "simd.h"

#if EDGELSTM_HAVE_ARMV7EM_DSP
#include <arm_acle.h>
#endif

namespace edgelstm {

// 127 * 32767 * 516 < 2^31: the longest row whose int32 sum cannot overflow.
inline constexpr std::size_t kMaxIntegerColumns = 516;

// acc[r] = sum_k w[r * cols + k] * x[k], rows in blocks of four so each activation is loaded once
// per block (the shape an in-order core without SIMD wants; host compilers vectorize it).
inline void matvec_s8_s16_portable(const std::int8_t* w, std::size_t rows, std::size_t cols, const std::int16_t* x,
                                   std::int32_t* acc) {
  std::size_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const std::int8_t* w0 = w + r * cols;
    const std::int8_t* w1 = w0 + cols;
    const std::int8_t* w2 = w1 + cols;
    const std::int8_t* w3 = w2 + cols;
    std::int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (std::size_t k = 0; k < cols; ++k) {
      const std::int32_t v = x[k];
      a0 += w0[k] * v;
      a1 += w1[k] * v;
      a2 += w2[k] * v;
      a3 += w3[k] * v;
    }
    acc[r] = a0;
    acc[r + 1] = a1;
    acc[r + 2] = a2;
    acc[r + 3] = a3;
  }
  for (; r < rows; ++r) {
    const std::int8_t* row = w + r * cols;
    std::int32_t a = 0;
    for (std::size_t k = 0; k < cols; ++k) a += row[k] * static_cast<std::int32_t>(x[k]);
    acc[r] = a;
  }
}

// Words of packed activations the DSP kernel needs for `cols` columns (2 per group of 4).
constexpr std::size_t packed_activation_words(std::size_t cols) { return cols / 4 * 2; }

#if EDGELSTM_HAVE_ARMV7EM_DSP

// Packs x for SMLAD: per group of four columns, the words (x0 | x2 << 16) and (x1 | x3 << 16),
// which pair with SXTB16 of a weight word (bytes 0 and 2) and of the word rotated by 8 (bytes 1
// and 3). The tail (cols % 4) is read from x itself.
inline void pack_activations_dsp(const std::int16_t* x, std::size_t cols, std::uint32_t* packed) {
  for (std::size_t g = 0; g < cols / 4; ++g) {
    const auto* v = reinterpret_cast<const std::uint16_t*>(x + 4 * g);
    packed[2 * g] = v[0] | (static_cast<std::uint32_t>(v[2]) << 16);
    packed[2 * g + 1] = v[1] | (static_cast<std::uint32_t>(v[3]) << 16);
  }
}

namespace detail {
// SXTB16 of bytes 0 and 2, and of bytes 1 and 3 (the word rotated by 8, which the instruction does
// itself; GCC would spend a separate rotate on __sxtb16(__ror(q, 8))).
inline std::int32_t extend_even_bytes(std::uint32_t q) { return __sxtb16(static_cast<std::int32_t>(q)); }
inline std::int32_t extend_odd_bytes(std::uint32_t q) {
  std::int32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(q));
  return r;
}
inline std::uint32_t load_word(const std::int8_t* p) {
  std::uint32_t q;
  std::memcpy(&q, p, 4);
  return q;
}
}  // namespace detail

// The same sums with two SMLADs per four weights (one word load, two SXTB16), kRows rows at a time
// so each pair of packed activation words serves them all. Weight rows need no alignment (ARMv7-M
// loads words unaligned).
// (Columns [0, width) of rows `stride` bytes apart; width = stride for whole rows.)
template <std::size_t kRows>
inline void matvec_s8_s16_dsp_rows(const std::int8_t* w, std::size_t width, std::size_t stride, const std::int16_t* x,
                                   const std::uint32_t* packed, std::int32_t* acc) {
  using detail::extend_even_bytes;
  using detail::extend_odd_bytes;
  using detail::load_word;
  const std::size_t cols = stride, groups = width / 4, tail = groups * 4;
  std::int32_t a[kRows] = {};
  const std::uint32_t* p = packed;
  for (std::size_t g = 0; g < groups; ++g, p += 2) {
    const auto x02 = static_cast<std::int32_t>(p[0]), x13 = static_cast<std::int32_t>(p[1]);
    for (std::size_t i = 0; i < kRows; ++i) {
      const std::uint32_t q = load_word(w + i * cols + 4 * g);
      a[i] = __smlad(extend_even_bytes(q), x02, a[i]);
      a[i] = __smlad(extend_odd_bytes(q), x13, a[i]);
    }
  }
  for (std::size_t k = tail; k < width; ++k) {
    for (std::size_t i = 0; i < kRows; ++i) a[i] += w[i * cols + k] * static_cast<std::int32_t>(x[k]);
  }
  for (std::size_t i = 0; i < kRows; ++i) acc[i] = a[i];
}

// Four rows at a time, the loop in assembly so that all fourteen registers it needs stay in
// registers: per group of four columns one LDRD of the two packed activation words, then per row
// one post-incrementing word load, two SXTB16 and two SMLAD, two groups per iteration: 42
// instructions and the loop's two for 32 multiply-accumulates (1.375 per MAC; the C loop above
// compiles to 1.6); an odd group count runs its first group alone first. groups must be > 0.
inline void matvec_s8_s16_dsp_rows4_asm(const std::int8_t* w, std::size_t cols, std::size_t groups,
                                        const std::uint32_t* packed, std::int32_t* acc) {
  const std::int8_t* w0 = w;
  const std::int8_t* w1 = w0 + cols;
  const std::int8_t* w2 = w1 + cols;
  const std::int8_t* w3 = w2 + cols;
  const std::uint32_t* end = packed + 2 * groups;
  std::int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  std::uint32_t x02, x13, q, t;
#define EDGELSTM_DSP_GROUP                              \
  "ldrd %[x02], %[x13], [%[p]], #8\n"                  \
  "ldr %[q], [%[w0]], #4\n"                            \
  "sxtb16 %[t], %[q]\n"                                \
  "smlad %[a0], %[t], %[x02], %[a0]\n"                 \
  "sxtb16 %[t], %[q], ror #8\n"                        \
  "smlad %[a0], %[t], %[x13], %[a0]\n"                 \
  "ldr %[q], [%[w1]], #4\n"                            \
  "sxtb16 %[t], %[q]\n"                                \
  "smlad %[a1], %[t], %[x02], %[a1]\n"                 \
  "sxtb16 %[t], %[q], ror #8\n"                        \
  "smlad %[a1], %[t], %[x13], %[a1]\n"                 \
  "ldr %[q], [%[w2]], #4\n"                            \
  "sxtb16 %[t], %[q]\n"                                \
  "smlad %[a2], %[t], %[x02], %[a2]\n"                 \
  "sxtb16 %[t], %[q], ror #8\n"                        \
  "smlad %[a2], %[t], %[x13], %[a2]\n"                 \
  "ldr %[q], [%[w3]], #4\n"                            \
  "sxtb16 %[t], %[q]\n"                                \
  "smlad %[a3], %[t], %[x02], %[a3]\n"                 \
  "sxtb16 %[t], %[q], ror #8\n"                        \
  "smlad %[a3], %[t], %[x13], %[a3]\n"
#define EDGELSTM_DSP_OPERANDS                                                                                      \
  : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [w0] "+r"(w0), [w1] "+r"(w1), [w2] "+r"(w2),       \
    [w3] "+r"(w3), [p] "+r"(packed), [x02] "=&r"(x02), [x13] "=&r"(x13), [q] "=&r"(q), [t] "=&r"(t)                \
  : [end] "r"(end)                                                                                                \
  : "cc", "memory"
  if (groups % 2 != 0) __asm__ volatile(EDGELSTM_DSP_GROUP EDGELSTM_DSP_OPERANDS);
  if (groups > 1) {
    __asm__ volatile("1:\n" EDGELSTM_DSP_GROUP EDGELSTM_DSP_GROUP
                     "cmp %[p], %[end]\n"
                     "bne 1b\n" EDGELSTM_DSP_OPERANDS);
  }
#undef EDGELSTM_DSP_OPERANDS
#undef EDGELSTM_DSP_GROUP
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
}

inline void matvec_s8_s16_dsp(const std::int8_t* w, std::size_t rows, std::size_t cols, const std::int16_t* x,
                              const std::uint32_t* packed, std::int32_t* acc) {
  std::size_t r = 0;
  const std::size_t groups = cols / 4;
  for (; r + 4 <= rows; r += 4) {
    if (groups > 0) {
      matvec_s8_s16_dsp_rows4_asm(w + r * cols, cols, groups, packed, acc + r);
      for (std::size_t k = 4 * groups; k < cols; ++k) {
        for (std::size_t i = 0; i < 4; ++i) acc[r + i] += w[(r + i) * cols + k] * static_cast<std::int32_t>(x[k]);
      }
    } else {
      matvec_s8_s16_dsp_rows<4>(w + r * cols, cols, cols, x, packed, acc + r);
    }
  }
  if (r + 2 <= rows) {
    matvec_s8_s16_dsp_rows<2>(w + r * cols, cols, cols, x, packed, acc + r);
    r += 2;
  }
  if (r < rows) matvec_s8_s16_dsp_rows<1>(w + r * cols, cols, cols, x, packed, acc + r);
}

#endif  // EDGELSTM_HAVE_ARMV7EM_DSP

// The kernel this build runs. `packed` is scratch of packed_activation_words(cols) words (used by
// the DSP variant only).
inline void matvec_s8_s16(const std::int8_t* w, std::size_t rows, std::size_t cols, const std::int16_t* x,
                          std::uint32_t* packed, std::int32_t* acc) {
  if (cols == 1) {
    // A layer fed one feature (a meter reading): one product per row, no packing.
    const std::int32_t v = x[0];
    for (std::size_t r = 0; r < rows; ++r) acc[r] = w[r] * v;
    return;
  }
#if EDGELSTM_HAVE_ARMV7EM_DSP
  pack_activations_dsp(x, cols, packed);
  matvec_s8_s16_dsp(w, rows, cols, x, packed, acc);
#else
  (void)packed;
  matvec_s8_s16_portable(w, rows, cols, x, acc);
#endif
}

}  // namespace edgelstm
