// The matrix-vector kernels of PackedInt8Network (packed_int8_network.h): int8 weights times
// int16 activations, summed exactly in int32, on AVX-512 VNNI, AVX-VNNI, AVX2 or portable C. Every
// variant computes the same integers, so the network's outputs are the same, bit for bit, on
// every one of them.
//
// Layout: a panel of V vectors holds 16 V gate rows; its columns come in groups of 4 and each group
// stores, for each of the panel's rows, the row's 4 weights (64 bytes per vector and group, row r at
// bytes 4 r .. 4 r + 3): one VPDPBUSD multiplies the 16 rows' 4 weights by 4 broadcast activation
// bytes and adds the 4 products to each row's int32 sum, 64 multiply-accumulates per instruction.
//
// VPDPBUSD multiplies unsigned by signed bytes. An int16 activation a = 256 hi + lo (hi signed, lo
// in 0..255) therefore enters as two byte streams, hi + 128 and lo, each with its own sums:
//   sum_k w_k a_k = 256 (sum_k w_k (hi_k + 128) - 128 sum_k w_k) + sum_k w_k lo_k,
// with sum_k w_k of each row precomputed. The activations' range is chosen so that no partial sum
// leaves int32 (activation_limit).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "simd.h"

#if !defined(EDGELSTM_PORTABLE_KERNELS) && defined(__AVX512F__) && defined(__AVX512VNNI__) && defined(__AVX512BW__)
#define EDGELSTM_HAVE_AVX512_VNNI 1
#else
#define EDGELSTM_HAVE_AVX512_VNNI 0
#endif
#if !defined(EDGELSTM_PORTABLE_KERNELS) && !EDGELSTM_HAVE_AVX512_VNNI && defined(__AVXVNNI__) && defined(__AVX2__)
#define EDGELSTM_HAVE_AVX_VNNI 1
#else
#define EDGELSTM_HAVE_AVX_VNNI 0
#endif

#if EDGELSTM_HAVE_AVX512_VNNI || EDGELSTM_HAVE_AVX_VNNI || EDGELSTM_HAVE_AVX2_FMA
#include <immintrin.h>
#endif

// GCC 12's false positive on the AVX-512 shift intrinsics (see activations_simd.h).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

namespace edgelstm {

// The int8 kernel this build runs, for logs and benchmark reports.
constexpr const char* int8_kernel_variant() {
  return EDGELSTM_HAVE_AVX512_VNNI ? "avx-512 vnni"
         : EDGELSTM_HAVE_AVX_VNNI  ? "avx-vnni"
         : EDGELSTM_HAVE_AVX2_FMA  ? "avx2"
                                   : "portable";
}

namespace detail {

inline constexpr std::size_t kInt8Group = 4;           // columns per group
inline constexpr std::size_t kInt8VectorBytes = 64;    // one vector (16 rows) of one group
inline constexpr std::size_t kInt8MaxPanelVectors = 6;  // 12 int32 accumulators in zmm registers

// The largest activation magnitude for a segment of `cols` columns: every partial sum of
// 127 * limit * cols, and 256 times its high-byte part, stays inside int32.
constexpr std::int32_t activation_limit(std::size_t cols) {
  const std::int64_t by_range = (std::int64_t{2147483647} / (127 * static_cast<std::int64_t>(cols == 0 ? 1 : cols))) - 256;
  return by_range >= 32767 ? 32767 : by_range < 1 ? 1 : static_cast<std::int32_t>(by_range);
}

// One segment's quantized activations (columns padded to whole groups with zeros): a = round(v / scale),
// |a| <= limit; `high` holds (a >> 8) + 128 and `low` a & 255, as bytes; `value` the int16 itself.
struct QuantizedActivations {
  std::uint8_t* high;
  std::uint8_t* low;
  std::int16_t* value;
};

// Quantizes v[0 .. count) (padding up to `padded` with zeros): scale = max|v| / limit, or 0 when
// every value is 0. The same arithmetic on every target (float products, round to nearest even).
inline float quantize_activations(const float* v, std::size_t count, std::size_t padded, std::int32_t limit,
                                  const QuantizedActivations& out) {
  float largest = 0.0f;
#if EDGELSTM_HAVE_AVX512_VNNI
  // The same values 16 at a time, the padding and the tail masked: |v| by clearing the sign, the
  // exact maximum, products by the same `inverse`, VCVTPS2DQ rounding to nearest even, the same
  // clamp. `value` is left unwritten: only the AVX2 and portable kernels read it.
  __m512 largest16 = _mm512_setzero_ps();
  for (std::size_t j = 0; j < count; j += 16) {
    const __mmask16 m = count - j >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (count - j)) - 1u);
    largest16 = _mm512_max_ps(largest16, _mm512_abs_ps(_mm512_maskz_loadu_ps(m, v + j)));
  }
  largest = _mm512_reduce_max_ps(largest16);
  const float inverse = largest > 0.0f ? static_cast<float>(limit) / largest : 0.0f;
  const __m512 scale16 = _mm512_set1_ps(inverse);
  const __m512i high_limit = _mm512_set1_epi32(limit), low_limit = _mm512_set1_epi32(-limit);
  for (std::size_t j = 0; j < padded; j += 16) {
    const __mmask16 stored = padded - j >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (padded - j)) - 1u);
    const __mmask16 loaded = count <= j ? static_cast<__mmask16>(0)
                             : count - j >= 16 ? static_cast<__mmask16>(0xFFFF)
                                               : static_cast<__mmask16>((1u << (count - j)) - 1u);
    __m512i a = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(loaded, v + j), scale16));
    a = _mm512_max_epi32(_mm512_min_epi32(a, high_limit), low_limit);
    _mm_mask_storeu_epi8(out.high + j, stored,
                         _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_srai_epi32(a, 8), _mm512_set1_epi32(128))));
    _mm_mask_storeu_epi8(out.low + j, stored, _mm512_cvtepi32_epi8(_mm512_and_si512(a, _mm512_set1_epi32(255))));
  }
#else
  for (std::size_t j = 0; j < count; ++j) {
    const float magnitude = v[j] < 0.0f ? -v[j] : v[j];
    largest = magnitude > largest ? magnitude : largest;
  }
  const float inverse = largest > 0.0f ? static_cast<float>(limit) / largest : 0.0f;
  for (std::size_t k = 0; k < padded; ++k) {
    std::int32_t a = 0;
    if (k < count) {
      float rounded = v[k] * inverse;
      // Round to nearest, ties to even (as the vector conversion does), without the C library.
      const float magic = rounded < 0.0f ? -12582912.0f : 12582912.0f;
      rounded = (rounded + magic) - magic;
      a = static_cast<std::int32_t>(rounded);
      a = a > limit ? limit : a < -limit ? -limit : a;
    }
    out.value[k] = static_cast<std::int16_t>(a);
    out.high[k] = static_cast<std::uint8_t>((a >> 8) + 128);
    out.low[k] = static_cast<std::uint8_t>(a & 255);
  }
#endif
  return largest > 0.0f ? largest / static_cast<float>(limit) : 0.0f;
}

#if EDGELSTM_HAVE_AVX512_VNNI
// acc += VPDPBUSD(bytes, weights). As an intrinsic in a loop over several accumulators GCC 12
// copies every accumulator to another register and back each iteration (two moves per
// multiply-add); in this form the accumulator stays where it is.
inline __m512i dot_accumulate(__m512i acc, __m512i bytes, __m512i weights) {
#if defined(__GNUC__)
  __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(bytes), "v"(weights));
  return acc;
#else
  return _mm512_dpbusd_epi32(acc, bytes, weights);
#endif
}

// The exact sums of one segment for the 16 V rows of a panel, left in registers (sums[v]: rows
// 16 v .. 16 v + 15): two VPDPBUSD per weight vector (the activations' high and low bytes), then
// the high sums' correction for the + 128 and the shift by 8.
template <std::size_t V>
inline void segment_sums_avx512(const std::int8_t* weights, std::size_t groups, const QuantizedActivations& a,
                                const std::int32_t* row_sums, __m512i* sums) {
  __m512i high[V], low[V];
  for (std::size_t v = 0; v < V; ++v) high[v] = low[v] = _mm512_setzero_si512();
  for (std::size_t g = 0; g < groups; ++g, weights += V * kInt8VectorBytes) {
    std::int32_t h4, l4;
    std::memcpy(&h4, a.high + 4 * g, 4);
    std::memcpy(&l4, a.low + 4 * g, 4);
    const __m512i hb = _mm512_set1_epi32(h4), lb = _mm512_set1_epi32(l4);
    for (std::size_t v = 0; v < V; ++v) {
      const __m512i w = _mm512_load_si512(weights + v * kInt8VectorBytes);
      high[v] = dot_accumulate(high[v], hb, w);
      low[v] = dot_accumulate(low[v], lb, w);
    }
  }
  for (std::size_t v = 0; v < V; ++v) {
    const __m512i corrected = _mm512_sub_epi32(high[v], _mm512_slli_epi32(_mm512_load_si512(row_sums + 16 * v), 7));
    sums[v] = _mm512_add_epi32(_mm512_slli_epi32(corrected, 8), low[v]);
  }
}
#endif

// sums[r] = sum over the segment's groups of w[r][k] a[k], for the 16 V rows of a panel, exactly.
// `weights` points at the segment's first group in the panel, `groups` groups follow.
template <std::size_t V>
inline void panel_int8_sums(const std::int8_t* weights, std::size_t groups, const QuantizedActivations& a,
                            const std::int32_t* row_sums, std::int32_t* sums) {
#if EDGELSTM_HAVE_AVX512_VNNI
  __m512i in_registers[V];
  segment_sums_avx512<V>(weights, groups, a, row_sums, in_registers);
  for (std::size_t v = 0; v < V; ++v) _mm512_store_si512(sums + 16 * v, in_registers[v]);
#elif EDGELSTM_HAVE_AVX_VNNI
  // The same with 256-bit VEX VPDPBUSD: each 16-row vector as two halves of 8 rows.
  __m256i high[2 * V], low[2 * V];
  for (std::size_t v = 0; v < 2 * V; ++v) high[v] = low[v] = _mm256_setzero_si256();
  for (std::size_t g = 0; g < groups; ++g, weights += V * kInt8VectorBytes) {
    std::int32_t h4, l4;
    std::memcpy(&h4, a.high + 4 * g, 4);
    std::memcpy(&l4, a.low + 4 * g, 4);
    const __m256i hb = _mm256_set1_epi32(h4), lb = _mm256_set1_epi32(l4);
    for (std::size_t v = 0; v < 2 * V; ++v) {
      const __m256i w = _mm256_load_si256(reinterpret_cast<const __m256i*>(weights + v * 32));
      high[v] = _mm256_dpbusd_avx_epi32(high[v], hb, w);
      low[v] = _mm256_dpbusd_avx_epi32(low[v], lb, w);
    }
  }
  for (std::size_t v = 0; v < 2 * V; ++v) {
    const __m256i row_sum = _mm256_load_si256(reinterpret_cast<const __m256i*>(row_sums + 8 * v));
    const __m256i corrected = _mm256_sub_epi32(high[v], _mm256_slli_epi32(row_sum, 7));
    _mm256_store_si256(reinterpret_cast<__m256i*>(sums + 8 * v), _mm256_add_epi32(_mm256_slli_epi32(corrected, 8), low[v]));
  }
#elif EDGELSTM_HAVE_AVX2_FMA
  // No byte dot product: the int8 weights widened to int16 (VPMOVSXBW) and multiplied by the int16
  // activations in pairs (VPMADDWD). Four rows of one group are 16 weights: one widening, one
  // VPMADDWD against the group's 4 activations repeated, giving each row two partial sums; one
  // vector (16 rows) at a time so that its 4 accumulators stay in registers.
  (void)row_sums;
  for (std::size_t v = 0; v < V; ++v) {
    __m256i acc[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
    const std::int8_t* w = weights + v * kInt8VectorBytes;
    for (std::size_t g = 0; g < groups; ++g, w += V * kInt8VectorBytes) {
      std::int64_t a4;
      std::memcpy(&a4, a.value + 4 * g, 8);
      const __m256i activations = _mm256_set1_epi64x(a4);
      for (std::size_t q = 0; q < 4; ++q) {
        const __m256i wide = _mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(w + 16 * q)));
        acc[q] = _mm256_add_epi32(acc[q], _mm256_madd_epi16(wide, activations));
      }
    }
    // acc[q] holds rows 4q .. 4q+3 as pairs (row 4q: lanes 0, 1; ...): add the pairs.
    const __m256i rows01 = _mm256_hadd_epi32(acc[0], acc[1]);  // [r0 r1 r4 r5 | r2 r3 r6 r7]
    const __m256i rows23 = _mm256_hadd_epi32(acc[2], acc[3]);  // [r8 r9 r12 r13 | r10 r11 r14 r15]
    const __m256i first = _mm256_permutevar8x32_epi32(rows01, _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7));
    const __m256i second = _mm256_permutevar8x32_epi32(rows23, _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7));
    _mm256_store_si256(reinterpret_cast<__m256i*>(sums + 16 * v), first);
    _mm256_store_si256(reinterpret_cast<__m256i*>(sums + 16 * v + 8), second);
  }
#else
  constexpr std::size_t kRows = 16 * V;
  (void)row_sums;
  for (std::size_t r = 0; r < kRows; ++r) sums[r] = 0;
  for (std::size_t g = 0; g < groups; ++g, weights += V * kInt8VectorBytes) {
    for (std::size_t r = 0; r < kRows; ++r) {
      const std::int8_t* w = weights + 4 * r;
      std::int32_t sum = sums[r];
      for (std::size_t c = 0; c < 4; ++c) sum += static_cast<std::int32_t>(w[c]) * a.value[4 * g + c];
      sums[r] = sum;
    }
  }
#endif
}


// Panels of up to kInt8MaxPanelVectors vectors, split as evenly as possible (as PackedNetwork's).
constexpr std::size_t int8_panel_count(std::size_t vectors) {
  return (vectors + kInt8MaxPanelVectors - 1) / kInt8MaxPanelVectors;
}
constexpr std::size_t int8_panel_vectors(std::size_t vectors, std::size_t panel) {
  return vectors / int8_panel_count(vectors) + (panel < vectors % int8_panel_count(vectors) ? 1 : 0);
}

inline void panel_int8_sums_any(std::size_t v, const std::int8_t* panel, std::size_t groups, const QuantizedActivations& a,
                                const std::int32_t* row_sums, std::int32_t* sums) {
  switch (v) {
    case 1: panel_int8_sums<1>(panel, groups, a, row_sums, sums); break;
    case 2: panel_int8_sums<2>(panel, groups, a, row_sums, sums); break;
    case 3: panel_int8_sums<3>(panel, groups, a, row_sums, sums); break;
    case 4: panel_int8_sums<4>(panel, groups, a, row_sums, sums); break;
    case 5: panel_int8_sums<5>(panel, groups, a, row_sums, sums); break;
    default: panel_int8_sums<6>(panel, groups, a, row_sums, sums); break;
  }
}

// gates[r] = (scale_b[r] s_b) sum_b[r] + (scale_a[r] s_a) sum_a[r] (one fused multiply-add) + bias[r],
// for rows a multiple of 16: the same float operations, in the same order, on every target.
inline void combine_int8_sums(std::size_t rows, const std::int32_t* sum_a, const std::int32_t* sum_b, const float* scale_a,
                              const float* scale_b, float s_a, float s_b, const float* bias, float* gates) {
#if EDGELSTM_HAVE_AVX2_FMA
  const __m256 sa = _mm256_set1_ps(s_a), sb = _mm256_set1_ps(s_b);
  for (std::size_t r = 0; r < rows; r += 8) {
    const __m256 a = _mm256_mul_ps(_mm256_mul_ps(_mm256_load_ps(scale_a + r), sa),
                                   _mm256_cvtepi32_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(sum_a + r))));
    const __m256 b = _mm256_mul_ps(_mm256_load_ps(scale_b + r), sb);
    const __m256 z = _mm256_fmadd_ps(b, _mm256_cvtepi32_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(sum_b + r))), a);
    _mm256_store_ps(gates + r, _mm256_add_ps(z, _mm256_load_ps(bias + r)));
  }
#else
  for (std::size_t r = 0; r < rows; ++r) {
    const float a = (scale_a[r] * s_a) * static_cast<float>(sum_a[r]);
    const float b = scale_b[r] * s_b;
    gates[r] = std::fma(b, static_cast<float>(sum_b[r]), a) + bias[r];
  }
#endif
}

// Where one panel's two segments and their per-row constants lie (each pointer at the panel's
// first row), and the two segments' activation scales.
struct Int8PanelOperands {
  const std::int8_t* weights;  // the input segment's groups, then h's
  std::size_t groups_a, groups_b;
  QuantizedActivations a, b;
  const std::int32_t* row_sums_a;
  const std::int32_t* row_sums_b;
  const float* scale_a;
  const float* scale_b;
  float s_a, s_b;
  const float* bias;
};

// One panel's 16 V gate pre-activations: both segments' exact sums, then combine_int8_sums's
// arithmetic. With AVX-512 VNNI the sums stay in registers and the float pass runs on them (the
// same operations in the same order, so the same bits); elsewhere they go through `sums` (2 x
// 16 V int32).
template <std::size_t V>
inline void panel_int8_gates(const Int8PanelOperands& p, std::int32_t* sums, float* gates) {
#if EDGELSTM_HAVE_AVX512_VNNI
  (void)sums;
  __m512i sum_a[V], sum_b[V];
  segment_sums_avx512<V>(p.weights, p.groups_a, p.a, p.row_sums_a, sum_a);
  segment_sums_avx512<V>(p.weights + V * kInt8VectorBytes * p.groups_a, p.groups_b, p.b, p.row_sums_b, sum_b);
  const __m512 sa = _mm512_set1_ps(p.s_a), sb = _mm512_set1_ps(p.s_b);
  for (std::size_t v = 0; v < V; ++v) {
    const __m512 a = _mm512_mul_ps(_mm512_mul_ps(_mm512_load_ps(p.scale_a + 16 * v), sa), _mm512_cvtepi32_ps(sum_a[v]));
    const __m512 b = _mm512_mul_ps(_mm512_load_ps(p.scale_b + 16 * v), sb);
    const __m512 z = _mm512_fmadd_ps(b, _mm512_cvtepi32_ps(sum_b[v]), a);
    _mm512_store_ps(gates + 16 * v, _mm512_add_ps(z, _mm512_load_ps(p.bias + 16 * v)));
  }
#else
  panel_int8_sums<V>(p.weights, p.groups_a, p.a, p.row_sums_a, sums);
  panel_int8_sums<V>(p.weights + V * kInt8VectorBytes * p.groups_a, p.groups_b, p.b, p.row_sums_b, sums + 16 * V);
  combine_int8_sums(16 * V, sums, sums + 16 * V, p.scale_a, p.scale_b, p.s_a, p.s_b, p.bias, gates);
#endif
}

inline void panel_int8_gates_any(std::size_t v, const Int8PanelOperands& p, std::int32_t* sums, float* gates) {
  switch (v) {
    case 1: panel_int8_gates<1>(p, sums, gates); break;
    case 2: panel_int8_gates<2>(p, sums, gates); break;
    case 3: panel_int8_gates<3>(p, sums, gates); break;
    case 4: panel_int8_gates<4>(p, sums, gates); break;
    case 5: panel_int8_gates<5>(p, sums, gates); break;
    default: panel_int8_gates<6>(p, sums, gates); break;
  }
}

}  // namespace detail
}  // namespace edgelstm

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
