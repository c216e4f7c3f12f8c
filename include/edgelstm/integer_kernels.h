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

// The same sums with two SMLADs per four weights (one word load, two SXTB16), two rows at a time
// so each packed activation word serves both, eight columns per iteration: about 1.6
// instructions per multiply-accumulate. Weight rows need no alignment (ARMv7-M loads words
// unaligned).
inline void matvec_s8_s16_dsp(const std::int8_t* w, std::size_t rows, std::size_t cols, const std::int16_t* x,
                              const std::uint32_t* packed, std::int32_t* acc) {
  using detail::extend_even_bytes;
  using detail::extend_odd_bytes;
  using detail::load_word;
  const std::size_t groups = cols / 4, tail = groups * 4;
  std::size_t r = 0;
  for (; r + 2 <= rows; r += 2) {
    const std::int8_t* w0 = w + r * cols;
    const std::int8_t* w1 = w0 + cols;
    std::int32_t a0 = 0, a1 = 0;
    const std::uint32_t* p = packed;
    std::size_t g = 0;
    for (; g + 2 <= groups; g += 2, p += 4) {
      const std::uint32_t q0 = load_word(w0 + 4 * g), q1 = load_word(w1 + 4 * g);
      const std::uint32_t q2 = load_word(w0 + 4 * g + 4), q3 = load_word(w1 + 4 * g + 4);
      const auto x02 = static_cast<std::int32_t>(p[0]), x13 = static_cast<std::int32_t>(p[1]);
      const auto x46 = static_cast<std::int32_t>(p[2]), x57 = static_cast<std::int32_t>(p[3]);
      a0 = __smlad(extend_even_bytes(q0), x02, a0);
      a1 = __smlad(extend_even_bytes(q1), x02, a1);
      a0 = __smlad(extend_odd_bytes(q0), x13, a0);
      a1 = __smlad(extend_odd_bytes(q1), x13, a1);
      a0 = __smlad(extend_even_bytes(q2), x46, a0);
      a1 = __smlad(extend_even_bytes(q3), x46, a1);
      a0 = __smlad(extend_odd_bytes(q2), x57, a0);
      a1 = __smlad(extend_odd_bytes(q3), x57, a1);
    }
    if (g < groups) {
      const std::uint32_t q0 = load_word(w0 + 4 * g), q1 = load_word(w1 + 4 * g);
      const auto x02 = static_cast<std::int32_t>(p[0]), x13 = static_cast<std::int32_t>(p[1]);
      a0 = __smlad(extend_even_bytes(q0), x02, a0);
      a1 = __smlad(extend_even_bytes(q1), x02, a1);
      a0 = __smlad(extend_odd_bytes(q0), x13, a0);
      a1 = __smlad(extend_odd_bytes(q1), x13, a1);
    }
    for (std::size_t k = tail; k < cols; ++k) {
      a0 += w0[k] * static_cast<std::int32_t>(x[k]);
      a1 += w1[k] * static_cast<std::int32_t>(x[k]);
    }
    acc[r] = a0;
    acc[r + 1] = a1;
  }
  if (r < rows) matvec_s8_s16_portable(w + r * cols, 1, cols, x, acc + r);
}

#endif  // EDGELSTM_HAVE_ARMV7EM_DSP

// The kernel this build runs. `packed` is scratch of packed_activation_words(cols) words (used by
// the DSP variant only).
inline void matvec_s8_s16(const std::int8_t* w, std::size_t rows, std::size_t cols, const std::int16_t* x,
                          std::uint32_t* packed, std::int32_t* acc) {
#if EDGELSTM_HAVE_ARMV7EM_DSP
  pack_activations_dsp(x, cols, packed);
  matvec_s8_s16_dsp(w, rows, cols, x, packed, acc);
#else
  (void)packed;
  matvec_s8_s16_portable(w, rows, cols, x, acc);
#endif
}

}  // namespace edgelstm
