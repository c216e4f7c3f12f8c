// Dense linear-algebra kernels shared by the LSTM layers and the head. Portable scalar C++ written
// so that compilers vectorize it (independent lane accumulators instead of one serial sum, no
// aliasing thanks to EDGELSTM_RESTRICT); the same code is the reference on every target.
//
// Matrices are row-major, `rows x cols`, as PyTorch stores weight tensors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "simd.h"
#include "kernels_armv7em.h"
#include "kernels_rv32f.h"

#if EDGELSTM_HAVE_AVX2_FMA
#include <immintrin.h>
#endif

#if defined(__GNUC__) || defined(__clang__)
#define EDGELSTM_RESTRICT __restrict__
#else
#define EDGELSTM_RESTRICT
#endif

// Full unrolling of a loop with a compile-time trip count (-O2 does not unroll by itself).
#if defined(__clang__)
#define EDGELSTM_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define EDGELSTM_UNROLL _Pragma("GCC unroll 32")
#else
#define EDGELSTM_UNROLL
#endif
// Unrolling by two: an in-order core pays a loop's pointer updates and branch once per two
// elements (used for the activation loops, whose bodies are long).
#if defined(__clang__)
#define EDGELSTM_UNROLL_2 _Pragma("unroll 2")
#elif defined(__GNUC__)
#define EDGELSTM_UNROLL_2 _Pragma("GCC unroll 2")
#else
#define EDGELSTM_UNROLL_2
#endif

// GCC 12 reports -Warray-bounds / -Waggressive-loop-optimizations false positives when it inlines
// these loops into a caller whose buffer is a small fixed array but whose row count is only known
// at run time (it assumes the four-row block may run). The loops are bounded by their arguments;
// the warnings are silenced for these kernels only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#endif

namespace edgelstm {

// y[r] += sum_k w[r][k] * x[k]  for r < rows, portable, for cores with a vector unit (hosts):
// each row keeps kLanes partial sums so the loop has no serial dependency and maps onto SIMD
// registers where the compiler vectorizes it; the lanes are then added in a fixed order.
template <typename T>
inline void matvec_accumulate_lanes(const T* EDGELSTM_RESTRICT w, std::size_t rows,
                                       std::size_t cols, const T* EDGELSTM_RESTRICT x,
                                       T* EDGELSTM_RESTRICT y) {
  constexpr std::size_t kLanes = 16;
  if (cols < kLanes) {
    // Narrow matrices (the input weights of a layer fed one or a few features): plain dot
    // products; lanes would only add work.
    for (std::size_t r = 0; r < rows; ++r) {
      const T* row = w + r * cols;
      T sum = 0;
      for (std::size_t k = 0; k < cols; ++k) sum += row[k] * x[k];
      y[r] += sum;
    }
    return;
  }
  const std::size_t vector_cols = cols / kLanes * kLanes;
  for (std::size_t r = 0; r < rows; ++r) {
    const T* row = w + r * cols;
    T lanes[kLanes] = {};
    for (std::size_t k = 0; k < vector_cols; k += kLanes) {
      for (std::size_t lane = 0; lane < kLanes; ++lane) lanes[lane] += row[k + lane] * x[k + lane];
    }
    T sum = 0;
    for (std::size_t lane = 0; lane < kLanes; ++lane) sum += lanes[lane];
    for (std::size_t k = vector_cols; k < cols; ++k) sum += row[k] * x[k];
    y[r] += sum;
  }
}

#if EDGELSTM_HAVE_AVX2_FMA
namespace detail {
// Loaded from kAvx2MaskSource + 8 - n: a mask whose first n lanes are set (n = 0..8).
alignas(32) inline constexpr std::int32_t kAvx2MaskSource[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                                 0,  0,  0,  0,  0,  0,  0,  0};
}  // namespace detail

// The same with AVX2 + FMA. Eight rows at a time: eight independent accumulator chains hide the
// FMA latency (four chains leave half the FMA throughput idle) and each load of x feeds eight
// FMAs. The row tail (cols % 8) goes through masked loads; the eight row sums are reduced together
// with horizontal adds and land in y with one load and one store.
inline void matvec_accumulate_avx2(const float* EDGELSTM_RESTRICT w, std::size_t rows,
                                   std::size_t cols, const float* EDGELSTM_RESTRICT x,
                                   float* EDGELSTM_RESTRICT y) {
  const std::size_t vector_cols = cols / 8 * 8;
  const std::size_t tail = cols - vector_cols;
  const __m256i mask =
      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(detail::kAvx2MaskSource + 8 - tail));
  const std::size_t blocked_rows = rows / 8 * 8;
  for (std::size_t r = 0; r < blocked_rows; r += 8) {
    const float* row = w + r * cols;
    __m256 a[8];
    for (int i = 0; i < 8; ++i) a[i] = _mm256_setzero_ps();
    for (std::size_t k = 0; k < vector_cols; k += 8) {
      const __m256 xv = _mm256_loadu_ps(x + k);
      for (int i = 0; i < 8; ++i) a[i] = _mm256_fmadd_ps(_mm256_loadu_ps(row + i * cols + k), xv, a[i]);
    }
    if (tail != 0) {
      const __m256 xv = _mm256_maskload_ps(x + vector_cols, mask);
      for (int i = 0; i < 8; ++i) {
        a[i] = _mm256_fmadd_ps(_mm256_maskload_ps(row + i * cols + vector_cols, mask), xv, a[i]);
      }
    }
    // After two rounds of hadd, lane j of the low half holds part of row j (j < 4) and of the high
    // half part of row j + 4 ... combined by swapping 128-bit halves.
    const __m256 h01 = _mm256_hadd_ps(a[0], a[1]);
    const __m256 h23 = _mm256_hadd_ps(a[2], a[3]);
    const __m256 h45 = _mm256_hadd_ps(a[4], a[5]);
    const __m256 h67 = _mm256_hadd_ps(a[6], a[7]);
    const __m256 h0123 = _mm256_hadd_ps(h01, h23);  // [r0 r1 r2 r3 | r0 r1 r2 r3] partials
    const __m256 h4567 = _mm256_hadd_ps(h45, h67);  // [r4 r5 r6 r7 | r4 r5 r6 r7] partials
    const __m256 low = _mm256_permute2f128_ps(h0123, h4567, 0x20);   // low halves
    const __m256 high = _mm256_permute2f128_ps(h0123, h4567, 0x31);  // high halves
    _mm256_storeu_ps(y + r, _mm256_add_ps(_mm256_loadu_ps(y + r), _mm256_add_ps(low, high)));
  }
  // The last rows (fewer than 8: a dense head of a few outputs) one at a time: eight products per
  // FMA and one horizontal sum.
  for (std::size_t r = blocked_rows; r < rows; ++r) {
    const float* row = w + r * cols;
    __m256 sum = _mm256_setzero_ps();
    for (std::size_t k = 0; k < vector_cols; k += 8) sum = _mm256_fmadd_ps(_mm256_loadu_ps(row + k), _mm256_loadu_ps(x + k), sum);
    if (tail != 0) sum = _mm256_fmadd_ps(_mm256_maskload_ps(row + vector_cols, mask), _mm256_maskload_ps(x + vector_cols, mask), sum);
    const __m128 half = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
    const __m128 quarter = _mm_add_ps(half, _mm_movehl_ps(half, half));
    y[r] += _mm_cvtss_f32(_mm_add_ss(quarter, _mm_movehdup_ps(quarter)));
  }
}
#endif

// y[r] += sum_k w[r][k] * x[k]  for r < rows, portable, for scalar FPUs (Cortex-M4F, RV32F) and
// soft float: the same formula arranged for the instruction count of an in-order core. A block of
// kBlock inputs x[k0 .. k0+kBlock) is held in registers while every row streams past it, so each
// multiply-accumulate costs one weight load and one FMA; the running sum of a row lives in y and
// is loaded and stored once per block. Column tails (cols % kBlock) take the same path with a
// shorter block.
template <typename T, std::size_t kBlock>
inline void matvec_accumulate_block(const T* EDGELSTM_RESTRICT w, std::size_t rows,
                                    std::size_t cols, std::size_t k0, const T* EDGELSTM_RESTRICT x,
                                    T* EDGELSTM_RESTRICT y) {
  T xr[kBlock];
  EDGELSTM_UNROLL
  for (std::size_t j = 0; j < kBlock; ++j) xr[j] = x[k0 + j];
  const T* row = w + k0;
  for (std::size_t r = 0; r < rows; ++r, row += cols) {
    T sum = y[r];
    EDGELSTM_UNROLL
    for (std::size_t j = 0; j < kBlock; ++j) sum += row[j] * xr[j];
    y[r] = sum;
  }
}

template <typename T>
inline void matvec_accumulate_scalar(const T* EDGELSTM_RESTRICT w, std::size_t rows,
                                     std::size_t cols, const T* EDGELSTM_RESTRICT x,
                                     T* EDGELSTM_RESTRICT y) {
  constexpr std::size_t kBlock = 24;  // 24 inputs + sum + weight fit the 32 FPU registers
  std::size_t k0 = 0;
  for (; k0 + kBlock <= cols; k0 += kBlock) matvec_accumulate_block<T, kBlock>(w, rows, cols, k0, x, y);
  // Tail: blocks of 8, 4, 2, 1 (each a compile-time size, so x stays in registers).
  for (; k0 + 8 <= cols; k0 += 8) matvec_accumulate_block<T, 8>(w, rows, cols, k0, x, y);
  for (; k0 + 4 <= cols; k0 += 4) matvec_accumulate_block<T, 4>(w, rows, cols, k0, x, y);
  for (; k0 + 2 <= cols; k0 += 2) matvec_accumulate_block<T, 2>(w, rows, cols, k0, x, y);
  for (; k0 < cols; ++k0) matvec_accumulate_block<T, 1>(w, rows, cols, k0, x, y);
}

#if EDGELSTM_HAVE_ARMV7EM_FPU_ASM
// Cortex-M4F/M7: four rows at a time in blocks of up to 20 inputs held in registers, the weights
// loaded eight per VLDM (kernels_armv7em.h): 1.25 instructions per multiply-accumulate, where the
// scalar C kernel needs one load per weight. Rows past the last multiple of 4 and columns past the
// last multiple of 4 take the scalar loops.
inline void matvec_accumulate_armv7em(const float* w, std::size_t rows, std::size_t cols, const float* x,
                                      float* y) {
  const std::size_t groups = rows / 4;
  std::size_t k0 = 0;
  if (groups > 0) {
    k0 = detail::for_each_armv7em_block(cols, [&](std::size_t first, auto block) {
      detail::matvec_rows4_armv7em<decltype(block)::value>(w, groups, cols, first, x, y);
    });
    for (; k0 + 2 <= cols; k0 += 2) matvec_accumulate_block<float, 2>(w, 4 * groups, cols, k0, x, y);
    for (; k0 < cols; ++k0) matvec_accumulate_block<float, 1>(w, 4 * groups, cols, k0, x, y);
  }
  if (4 * groups < rows) matvec_accumulate_scalar(w + 4 * groups * cols, rows - 4 * groups, cols, x, y + 4 * groups);
}
#endif

// y[r] += sum_k w[r][k] * x[k]  for r < rows (y += W x): the forward kernel of every layer.
template <typename T>
inline void matvec_accumulate(const T* EDGELSTM_RESTRICT w, std::size_t rows, std::size_t cols,
                              const T* EDGELSTM_RESTRICT x, T* EDGELSTM_RESTRICT y) {
#if EDGELSTM_HAVE_AVX2_FMA
  if constexpr (std::is_same_v<T, float>) {
    if (cols >= 8) {
      matvec_accumulate_avx2(w, rows, cols, x, y);
      return;
    }
  }
#endif
#if EDGELSTM_HAVE_ARMV7EM_FPU_ASM
  if constexpr (std::is_same_v<T, float>) {
    matvec_accumulate_armv7em(w, rows, cols, x, y);
    return;
  }
#endif
#if EDGELSTM_HAVE_RV32F_ASM
  if constexpr (std::is_same_v<T, float>) {
    matvec_accumulate_rv32f(w, rows, cols, x, y);
    return;
  }
#endif
#if EDGELSTM_SCALAR_CORE
  matvec_accumulate_scalar(w, rows, cols, x, y);
#else
  matvec_accumulate_lanes(w, rows, cols, x, y);
#endif
}

#if EDGELSTM_HAVE_ARMV7EM_FPU_ASM
// y += W^T v on Cortex-M4F/M7: blocks of up to 20 columns of y held in registers while the rows of
// W stream past, each row scaled by v[r] and added with one VLDM per eight weights (1.35 instructions
// per multiply-accumulate; the C loops load every weight and reload and store y every four rows).
// Each y[k] adds its rows in order. rows must be > 0; columns past the last multiple of 4 take a C
// loop.
inline void matvec_transposed_accumulate_armv7em(const float* w, std::size_t rows, std::size_t cols,
                                                 const float* v, float* y) {
  const std::size_t k0 = detail::for_each_armv7em_block(cols, [&](std::size_t first, auto block) {
    detail::axpy_rows_armv7em<decltype(block)::value>(w + first, cols * sizeof(float), v, sizeof(float), rows,
                                                      y + first, y + first);
  });
  for (std::size_t k = k0; k < cols; ++k) {
    float sum = y[k];
    for (std::size_t r = 0; r < rows; ++r) sum += w[r * cols + k] * v[r];
    y[k] = sum;
  }
}
#endif

// What train_step's last backward pass over a layer's W_hh gives besides y += W^T v, where that
// pass also forms the weight gradient (matvec_transposed_with_gradient_avx512): the gradient's sum
// of squares (in double, from one float sum per four rows and block of columns) and the largest
// magnitude bits of the weights it read (detail::max_magnitude_bits). `done` says the pass ran.
struct FusedWeightPass {
  double square_sum = 0;
  std::uint32_t weight_bits = 0;
  bool done = false;
};

#if EDGELSTM_HAVE_AVX512F
// y += W^T v with AVX-512: blocks of up to 8 vectors (128 columns) of y held in registers, in two
// sets (even and odd rows, to keep two FMAs per accumulator chain in flight) while the rows of W
// stream past, each row scaled by the broadcast v[r]; the column tail masked. Each row's weights
// are loaded once and y once per block (the AVX2 loops below load and store y every 8 rows: for
// the paper's 400 x 100 W_hh, 1.9 -> 1.2 us). The two sets are added at the end, then y: the order
// is fixed, so results are the same run to run.
template <std::size_t kVectors>
inline void matvec_transposed_block_avx512(const float* EDGELSTM_RESTRICT w, std::size_t rows, std::size_t cols,
                                           std::size_t k0, const float* EDGELSTM_RESTRICT v, float* EDGELSTM_RESTRICT y) {
  __mmask16 masks[kVectors];
  EDGELSTM_UNROLL
  for (std::size_t i = 0; i < kVectors; ++i) {
    const std::size_t first = k0 + 16 * i, left = first < cols ? cols - first : 0;
    masks[i] = left >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << left) - 1u);
  }
  __m512 even[kVectors], odd[kVectors];
  EDGELSTM_UNROLL
  for (std::size_t i = 0; i < kVectors; ++i) even[i] = odd[i] = _mm512_setzero_ps();
  const float* row = w + k0;
  std::size_t r = 0;
  for (; r + 2 <= rows; r += 2, row += 2 * cols) {
    const __m512 v0 = _mm512_set1_ps(v[r]), v1 = _mm512_set1_ps(v[r + 1]);
    EDGELSTM_UNROLL
    for (std::size_t i = 0; i < kVectors; ++i) {
      even[i] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(masks[i], row + 16 * i), v0, even[i]);
      odd[i] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(masks[i], row + cols + 16 * i), v1, odd[i]);
    }
  }
  if (r < rows) {
    const __m512 v0 = _mm512_set1_ps(v[r]);
    EDGELSTM_UNROLL
    for (std::size_t i = 0; i < kVectors; ++i) even[i] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(masks[i], row + 16 * i), v0, even[i]);
  }
  EDGELSTM_UNROLL
  for (std::size_t i = 0; i < kVectors; ++i) {
    float* out = y + k0 + 16 * i;
    _mm512_mask_storeu_ps(out, masks[i], _mm512_add_ps(_mm512_maskz_loadu_ps(masks[i], out), _mm512_add_ps(even[i], odd[i])));
  }
}

inline void matvec_transposed_accumulate_avx512(const float* EDGELSTM_RESTRICT w, std::size_t rows, std::size_t cols,
                                                const float* EDGELSTM_RESTRICT v, float* EDGELSTM_RESTRICT y) {
  std::size_t k0 = 0;
  for (; k0 + 128 <= cols; k0 += 128) matvec_transposed_block_avx512<8>(w, rows, cols, k0, v, y);
  switch ((cols - k0 + 15) / 16) {
    case 0: break;
    case 1: matvec_transposed_block_avx512<1>(w, rows, cols, k0, v, y); break;
    case 2: matvec_transposed_block_avx512<2>(w, rows, cols, k0, v, y); break;
    case 3: matvec_transposed_block_avx512<3>(w, rows, cols, k0, v, y); break;
    case 4: matvec_transposed_block_avx512<4>(w, rows, cols, k0, v, y); break;
    case 5: matvec_transposed_block_avx512<5>(w, rows, cols, k0, v, y); break;
    case 6: matvec_transposed_block_avx512<6>(w, rows, cols, k0, v, y); break;
    case 7: matvec_transposed_block_avx512<7>(w, rows, cols, k0, v, y); break;
    default: matvec_transposed_block_avx512<8>(w, rows, cols, k0, v, y); break;
  }
}

// GCC 12 warns that the AVX-512 reduction intrinsics read an uninitialized value: their headers
// pass _mm512_undefined_ps() as an unused merge source. A false positive.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
// y += W^T v and g = sum_s a_s b_s^T (outer_product_sum's g, with a_s = a + s * a_stride and
// b_s = b + s * b_stride, steps >= 0) in one pass over W: each block of four rows of W is loaded
// once for both, and the same rows of g are formed (four independent chains over the steps) while
// it is in registers. y is bit for bit matvec_transposed_block_avx512's (the same even and odd
// chains, each over its rows in order, added the same way), and each g[r][k] outer_product_sum's (a
// chain of FMAs over the steps in order, from zero). Columns [k0, k0 + 16 kVectors); rows must be a
// multiple of 4 (a layer's 4H gate rows).
template <std::size_t kVectors>
inline void matvec_transposed_with_gradient_block_avx512(const float* EDGELSTM_RESTRICT w, std::size_t rows,
                                                         std::size_t cols, std::size_t k0,
                                                         const float* EDGELSTM_RESTRICT v, float* EDGELSTM_RESTRICT y,
                                                         const float* EDGELSTM_RESTRICT a, std::size_t a_stride,
                                                         const float* EDGELSTM_RESTRICT b, std::size_t b_stride,
                                                         std::size_t steps, float* EDGELSTM_RESTRICT g,
                                                         FusedWeightPass* pass) {
  __mmask16 masks[kVectors];
  EDGELSTM_UNROLL
  for (std::size_t i = 0; i < kVectors; ++i) {
    const std::size_t first = k0 + 16 * i, left = first < cols ? cols - first : 0;
    masks[i] = left >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << left) - 1u);
  }
  __m512 even[kVectors], odd[kVectors];
  EDGELSTM_UNROLL
  for (std::size_t i = 0; i < kVectors; ++i) even[i] = odd[i] = _mm512_setzero_ps();
  const __m512i magnitude = _mm512_set1_epi32(0x7FFFFFFF);
  __m512i largest = _mm512_setzero_si512();  // the largest magnitude bits (detail::max_magnitude_bits)
  double square_sum = 0;
  for (std::size_t r = 0; r < rows; r += 4) {
    const float* row = w + r * cols + k0;
    const __m512 v0 = _mm512_set1_ps(v[r]), v1 = _mm512_set1_ps(v[r + 1]);
    const __m512 v2 = _mm512_set1_ps(v[r + 2]), v3 = _mm512_set1_ps(v[r + 3]);
    __m512 squares0 = _mm512_setzero_ps(), squares1 = _mm512_setzero_ps();
    EDGELSTM_UNROLL
    for (std::size_t i = 0; i < kVectors; ++i) {
      // Rows r and r + 2 into the even chains, r + 1 and r + 3 into the odd ones, in that order.
      const __m512 w0 = _mm512_maskz_loadu_ps(masks[i], row + 16 * i);
      const __m512 w1 = _mm512_maskz_loadu_ps(masks[i], row + cols + 16 * i);
      const __m512 w2 = _mm512_maskz_loadu_ps(masks[i], row + 2 * cols + 16 * i);
      const __m512 w3 = _mm512_maskz_loadu_ps(masks[i], row + 3 * cols + 16 * i);
      even[i] = _mm512_fmadd_ps(w0, v0, even[i]);
      odd[i] = _mm512_fmadd_ps(w1, v1, odd[i]);
      even[i] = _mm512_fmadd_ps(w2, v2, even[i]);
      odd[i] = _mm512_fmadd_ps(w3, v3, odd[i]);
      largest = _mm512_max_epu32(largest, _mm512_and_si512(_mm512_castps_si512(w0), magnitude));
      largest = _mm512_max_epu32(largest, _mm512_and_si512(_mm512_castps_si512(w1), magnitude));
      largest = _mm512_max_epu32(largest, _mm512_and_si512(_mm512_castps_si512(w2), magnitude));
      largest = _mm512_max_epu32(largest, _mm512_and_si512(_mm512_castps_si512(w3), magnitude));
      // The four rows' gradient sums side by side: four independent chains over the steps.
      __m512 sum0 = _mm512_setzero_ps(), sum1 = _mm512_setzero_ps();
      __m512 sum2 = _mm512_setzero_ps(), sum3 = _mm512_setzero_ps();
      for (std::size_t s = 0; s < steps; ++s) {
        const __m512 bv = _mm512_maskz_loadu_ps(masks[i], b + s * b_stride + k0 + 16 * i);
        const float* factors = a + s * a_stride + r;
        sum0 = _mm512_fmadd_ps(_mm512_set1_ps(factors[0]), bv, sum0);
        sum1 = _mm512_fmadd_ps(_mm512_set1_ps(factors[1]), bv, sum1);
        sum2 = _mm512_fmadd_ps(_mm512_set1_ps(factors[2]), bv, sum2);
        sum3 = _mm512_fmadd_ps(_mm512_set1_ps(factors[3]), bv, sum3);
      }
      float* g_row = g + r * cols + k0 + 16 * i;
      _mm512_mask_storeu_ps(g_row, masks[i], sum0);
      _mm512_mask_storeu_ps(g_row + cols, masks[i], sum1);
      _mm512_mask_storeu_ps(g_row + 2 * cols, masks[i], sum2);
      _mm512_mask_storeu_ps(g_row + 3 * cols, masks[i], sum3);
      squares0 = _mm512_fmadd_ps(sum0, sum0, squares0);
      squares1 = _mm512_fmadd_ps(sum1, sum1, squares1);
      squares0 = _mm512_fmadd_ps(sum2, sum2, squares0);
      squares1 = _mm512_fmadd_ps(sum3, sum3, squares1);
    }
    square_sum += static_cast<double>(_mm512_reduce_add_ps(_mm512_add_ps(squares0, squares1)));
  }
  EDGELSTM_UNROLL
  for (std::size_t i = 0; i < kVectors; ++i) {
    float* out = y + k0 + 16 * i;
    _mm512_mask_storeu_ps(out, masks[i], _mm512_add_ps(_mm512_maskz_loadu_ps(masks[i], out), _mm512_add_ps(even[i], odd[i])));
  }
  pass->square_sum += square_sum;
  const std::uint32_t block_largest = _mm512_reduce_max_epu32(largest);
  if (block_largest > pass->weight_bits) pass->weight_bits = block_largest;
}

// The whole of W in blocks of up to 128 columns, as matvec_transposed_accumulate_avx512 splits them.
// cols >= 16, rows a multiple of 4.
inline FusedWeightPass matvec_transposed_with_gradient_avx512(const float* EDGELSTM_RESTRICT w, std::size_t rows,
                                                              std::size_t cols, const float* EDGELSTM_RESTRICT v,
                                                              float* EDGELSTM_RESTRICT y, const float* EDGELSTM_RESTRICT a,
                                                              std::size_t a_stride, const float* EDGELSTM_RESTRICT b,
                                                              std::size_t b_stride, std::size_t steps,
                                                              float* EDGELSTM_RESTRICT g) {
  FusedWeightPass pass;
  pass.done = true;
  std::size_t k0 = 0;
  const auto block = [&](auto vectors) {
    matvec_transposed_with_gradient_block_avx512<decltype(vectors)::value>(w, rows, cols, k0, v, y, a, a_stride, b,
                                                                            b_stride, steps, g, &pass);
  };
  for (; k0 + 128 <= cols; k0 += 128) block(std::integral_constant<std::size_t, 8>());
  switch ((cols - k0 + 15) / 16) {
    case 0: break;
    case 1: block(std::integral_constant<std::size_t, 1>()); break;
    case 2: block(std::integral_constant<std::size_t, 2>()); break;
    case 3: block(std::integral_constant<std::size_t, 3>()); break;
    case 4: block(std::integral_constant<std::size_t, 4>()); break;
    case 5: block(std::integral_constant<std::size_t, 5>()); break;
    case 6: block(std::integral_constant<std::size_t, 6>()); break;
    case 7: block(std::integral_constant<std::size_t, 7>()); break;
    default: block(std::integral_constant<std::size_t, 8>()); break;
  }
  return pass;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

// y[k] += sum_r w[r][k] * v[r]  for k < cols  (y += W^T v, as in backpropagating through W).
// Walks W row by row (contiguous), four rows per pass over y so y is loaded and stored a quarter
// as often; where AVX2 vectorizes the passes, eight rows per pass (10% faster for the paper's
// 400 x 100 W_hh there: fewer passes over y for the same weight traffic). The bodies are written
// out so that -O2 and -Os builds (Arduino, PlatformIO, ESP-IDF) keep the fused multiply-adds.
template <typename T>
inline void matvec_transposed_accumulate(const T* EDGELSTM_RESTRICT w, std::size_t rows,
                                         std::size_t cols, const T* EDGELSTM_RESTRICT v,
                                         T* EDGELSTM_RESTRICT y) {
#if EDGELSTM_HAVE_ARMV7EM_FPU_ASM
  if constexpr (std::is_same_v<T, float>) {
    if (rows > 0 && cols >= 4) {
      matvec_transposed_accumulate_armv7em(w, rows, cols, v, y);
      return;
    }
  }
#endif
#if EDGELSTM_HAVE_AVX512F
  if constexpr (std::is_same_v<T, float>) {
    if (cols >= 16) {
      matvec_transposed_accumulate_avx512(w, rows, cols, v, y);
      return;
    }
  }
#endif
  std::size_t r = 0;
#if EDGELSTM_HAVE_AVX2_FMA
  for (; r + 8 <= rows; r += 8) {
    const T* w0 = w + r * cols;
    const T* w1 = w0 + cols;
    const T* w2 = w1 + cols;
    const T* w3 = w2 + cols;
    const T* w4 = w3 + cols;
    const T* w5 = w4 + cols;
    const T* w6 = w5 + cols;
    const T* w7 = w6 + cols;
    const T v0 = v[r], v1 = v[r + 1], v2 = v[r + 2], v3 = v[r + 3];
    const T v4 = v[r + 4], v5 = v[r + 5], v6 = v[r + 6], v7 = v[r + 7];
    for (std::size_t k = 0; k < cols; ++k) {
      y[k] += w0[k] * v0 + w1[k] * v1 + w2[k] * v2 + w3[k] * v3 + w4[k] * v4 + w5[k] * v5 +
              w6[k] * v6 + w7[k] * v7;
    }
  }
#endif
  for (; r + 4 <= rows; r += 4) {
    const T* w0 = w + r * cols;
    const T* w1 = w0 + cols;
    const T* w2 = w1 + cols;
    const T* w3 = w2 + cols;
    const T v0 = v[r], v1 = v[r + 1], v2 = v[r + 2], v3 = v[r + 3];
    for (std::size_t k = 0; k < cols; ++k) {
      y[k] += w0[k] * v0 + w1[k] * v1 + w2[k] * v2 + w3[k] * v3;
    }
  }
  for (; r < rows; ++r) {
    const T* w0 = w + r * cols;
    const T v0 = v[r];
    for (std::size_t k = 0; k < cols; ++k) y[k] += w0[k] * v0;
  }
}

// g[r][k] = sum_s a[s][r] * b[s][k] for r < rows, k < cols, s < steps: the weight gradient of a
// layer over a window (a = dLoss/dOutput per step, row stride a_stride; b = the layer's input per
// step, row stride b_stride). Overwrites g, so gradients need no clearing (steps = 0 gives zeros).
// Portable loops: each element of g is written once, its sum over the steps formed in registers.
template <typename T>
inline void outer_product_sum_lanes(const T* EDGELSTM_RESTRICT a, std::size_t a_stride,
                              const T* EDGELSTM_RESTRICT b, std::size_t b_stride,
                              std::size_t steps, std::size_t rows, std::size_t cols,
                              T* EDGELSTM_RESTRICT g) {
  constexpr std::size_t kChunk = 16;
  const std::size_t chunked_cols = cols / kChunk * kChunk;
  for (std::size_t r = 0; r < rows; ++r) {
    T* g_row = g + r * cols;
    for (std::size_t k = 0; k < chunked_cols; k += kChunk) {
      T sum[kChunk] = {};
      for (std::size_t s = 0; s < steps; ++s) {
        const T scale = a[s * a_stride + r];
        const T* b_row = b + s * b_stride + k;
        for (std::size_t lane = 0; lane < kChunk; ++lane) sum[lane] += scale * b_row[lane];
      }
      for (std::size_t lane = 0; lane < kChunk; ++lane) g_row[k + lane] = sum[lane];
    }
    for (std::size_t k = chunked_cols; k < cols; ++k) {
      T sum = 0;
      for (std::size_t s = 0; s < steps; ++s) sum += a[s * a_stride + r] * b[s * b_stride + k];
      g_row[k] = sum;
    }
  }
}

#if EDGELSTM_HAVE_AVX2_FMA
// The same with AVX2 + FMA: a row's factors a[s][r] of up to 8 steps are broadcast once into
// registers, then every 8 columns of the row take one FMA per step (the inputs b stay in L1) and
// one store; windows longer than 8 steps add further blocks of 8 into the stored sums. The column
// tail (cols % 8) goes through masked loads and stores. Each sum runs over the steps in order, as in
// the portable loops. steps must be > 0.
inline void outer_product_sum_avx2(const float* EDGELSTM_RESTRICT a, std::size_t a_stride,
                                   const float* EDGELSTM_RESTRICT b, std::size_t b_stride,
                                   std::size_t steps, std::size_t rows, std::size_t cols,
                                   float* EDGELSTM_RESTRICT g) {
  const std::size_t vector_cols = cols / 8 * 8;
  const std::size_t tail = cols - vector_cols;
  const __m256i mask = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(detail::kAvx2MaskSource + 8 - tail));
  for (std::size_t r = 0; r < rows; ++r) {
    float* g_row = g + r * cols;
    for (std::size_t s0 = 0; s0 < steps; s0 += 8) {
      const std::size_t count = steps - s0 < 8 ? steps - s0 : 8;
      __m256 factor[8] = {};  // (only count of them are read; the zeros quiet a false maybe-uninitialized)
      for (std::size_t s = 0; s < count; ++s) factor[s] = _mm256_broadcast_ss(a + (s0 + s) * a_stride + r);
      const float* b_block = b + s0 * b_stride;
      for (std::size_t k = 0; k < vector_cols; k += 8) {
        __m256 sum = s0 == 0 ? _mm256_setzero_ps() : _mm256_loadu_ps(g_row + k);
        for (std::size_t s = 0; s < count; ++s) {
          sum = _mm256_fmadd_ps(factor[s], _mm256_loadu_ps(b_block + s * b_stride + k), sum);
        }
        _mm256_storeu_ps(g_row + k, sum);
      }
      if (tail != 0) {
        __m256 sum = s0 == 0 ? _mm256_setzero_ps() : _mm256_maskload_ps(g_row + vector_cols, mask);
        for (std::size_t s = 0; s < count; ++s) {
          sum = _mm256_fmadd_ps(factor[s], _mm256_maskload_ps(b_block + s * b_stride + vector_cols, mask), sum);
        }
        _mm256_maskstore_ps(g_row + vector_cols, mask, sum);
      }
    }
  }
}

// Narrow matrices (cols < 8: the input weights of a layer fed one or a few features, as a meter's
// first layer): eight rows at a time, the factors of eight rows loaded with one vector load per
// step and multiplied by the broadcast input; the portable loops would run these one row at a time
// with scalar FMAs (400 x 1 over 6 steps: ~1 us -> ~0.1 us).
inline void outer_product_sum_narrow_avx2(const float* EDGELSTM_RESTRICT a, std::size_t a_stride,
                                          const float* EDGELSTM_RESTRICT b, std::size_t b_stride,
                                          std::size_t steps, std::size_t rows, std::size_t cols,
                                          float* EDGELSTM_RESTRICT g) {
  const std::size_t blocked_rows = rows / 8 * 8;
  for (std::size_t k = 0; k < cols; ++k) {
    for (std::size_t r = 0; r < blocked_rows; r += 8) {
      __m256 sum = _mm256_setzero_ps();
      for (std::size_t s = 0; s < steps; ++s) {
        sum = _mm256_fmadd_ps(_mm256_loadu_ps(a + s * a_stride + r), _mm256_broadcast_ss(b + s * b_stride + k), sum);
      }
      if (cols == 1) {
        _mm256_storeu_ps(g + r, sum);
      } else {
        alignas(32) float lanes[8];
        _mm256_store_ps(lanes, sum);
        for (std::size_t i = 0; i < 8; ++i) g[(r + i) * cols + k] = lanes[i];
      }
    }
  }
  if (blocked_rows < rows) {
    outer_product_sum_lanes(a + blocked_rows, a_stride, b, b_stride, steps, rows - blocked_rows, cols,
                            g + blocked_rows * cols);
  }
}
#endif

#if EDGELSTM_HAVE_AVX512F
// The same with AVX-512: four rows at a time share each load of b (16 columns, the tail masked),
// their factors of up to 6 steps held in 24 of the 32 registers; longer windows add further blocks
// of 6 into the stored sums. With 256-bit vectors the kernel above is bound by its loads and
// stores (6 loads and one store per 6 FMAs); sharing b between four rows halves that (400 x 100,
// 6 steps: 5.8 -> 3.9 us). Each sum runs over the steps in order. steps must be > 0.
inline void outer_product_sum_avx512(const float* EDGELSTM_RESTRICT a, std::size_t a_stride,
                                     const float* EDGELSTM_RESTRICT b, std::size_t b_stride,
                                     std::size_t steps, std::size_t rows, std::size_t cols,
                                     float* EDGELSTM_RESTRICT g) {
  constexpr std::size_t kRows = 4, kSteps = 6;
  const __mmask16 tail_mask = static_cast<__mmask16>((1u << (cols % 16)) - 1u);
  std::size_t r = 0;
  for (; r + kRows <= rows; r += kRows) {
    for (std::size_t s0 = 0; s0 < steps; s0 += kSteps) {
      const std::size_t count = steps - s0 < kSteps ? steps - s0 : kSteps;
      __m512 factor[kRows][kSteps];
      for (std::size_t i = 0; i < kRows; ++i) {
        for (std::size_t s = 0; s < count; ++s) factor[i][s] = _mm512_set1_ps(a[(s0 + s) * a_stride + r + i]);
      }
      const float* b_block = b + s0 * b_stride;
      for (std::size_t k = 0; k < cols; k += 16) {
        const __mmask16 mask = k + 16 <= cols ? static_cast<__mmask16>(0xFFFF) : tail_mask;
        __m512 sum[kRows];
        for (std::size_t i = 0; i < kRows; ++i) {
          sum[i] = s0 == 0 ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(mask, g + (r + i) * cols + k);
        }
        for (std::size_t s = 0; s < count; ++s) {
          const __m512 bv = _mm512_maskz_loadu_ps(mask, b_block + s * b_stride + k);
          for (std::size_t i = 0; i < kRows; ++i) sum[i] = _mm512_fmadd_ps(factor[i][s], bv, sum[i]);
        }
        for (std::size_t i = 0; i < kRows; ++i) _mm512_mask_storeu_ps(g + (r + i) * cols + k, mask, sum[i]);
      }
    }
  }
  if (r < rows) outer_product_sum_avx2(a + r, a_stride, b, b_stride, steps, rows - r, cols, g + r * cols);
}
#endif

#if EDGELSTM_HAVE_ARMV7EM_FPU_ASM
// The same on Cortex-M4F/M7: for each row, blocks of up to 20 sums in registers while the steps' rows
// of b stream past, each scaled by the row's factor a[s][r] (kernels_armv7em.h; about 1.5
// instructions per multiply-accumulate for a window of 6, against ~3 for the C loops). Each sum
// runs over the steps in order, from 0. steps must be > 0; columns past the last multiple of 4 take
// a C loop.
inline void outer_product_sum_armv7em(const float* a, std::size_t a_stride, const float* b, std::size_t b_stride,
                                      std::size_t steps, std::size_t rows, std::size_t cols, float* g) {
  for (std::size_t r = 0; r < rows; ++r) {
    float* g_row = g + r * cols;
    const std::size_t k0 = detail::for_each_armv7em_block(cols, [&](std::size_t first, auto block) {
      detail::axpy_rows_armv7em<decltype(block)::value>(b + first, b_stride * sizeof(float), a + r,
                                                        a_stride * sizeof(float), steps, detail::kArmv7emZeros,
                                                        g_row + first);
    });
    for (std::size_t k = k0; k < cols; ++k) {
      float sum = 0;
      for (std::size_t s = 0; s < steps; ++s) sum += a[s * a_stride + r] * b[s * b_stride + k];
      g_row[k] = sum;
    }
  }
}
#endif

template <typename T>
inline void outer_product_sum(const T* EDGELSTM_RESTRICT a, std::size_t a_stride,
                              const T* EDGELSTM_RESTRICT b, std::size_t b_stride,
                              std::size_t steps, std::size_t rows, std::size_t cols,
                              T* EDGELSTM_RESTRICT g) {
#if EDGELSTM_HAVE_ARMV7EM_FPU_ASM
  if constexpr (std::is_same_v<T, float>) {
    if (cols >= 4 && steps > 0) {
      outer_product_sum_armv7em(a, a_stride, b, b_stride, steps, rows, cols, g);
      return;
    }
  }
#endif
#if EDGELSTM_HAVE_AVX512F
  if constexpr (std::is_same_v<T, float>) {
    if (cols >= 16 && steps > 0) {
      outer_product_sum_avx512(a, a_stride, b, b_stride, steps, rows, cols, g);
      return;
    }
  }
#endif
#if EDGELSTM_HAVE_AVX2_FMA
  if constexpr (std::is_same_v<T, float>) {
    if (cols < 8) {
      outer_product_sum_narrow_avx2(a, a_stride, b, b_stride, steps, rows, cols, g);
      return;
    }
    if (steps > 0) {
      outer_product_sum_avx2(a, a_stride, b, b_stride, steps, rows, cols, g);
      return;
    }
  }
#endif
  outer_product_sum_lanes(a, a_stride, b, b_stride, steps, rows, cols, g);
}

// sum[r] = sum_s a[s][r]: the bias gradient over a window (overwrites sum).
template <typename T>
inline void row_sum(const T* EDGELSTM_RESTRICT a, std::size_t a_stride, std::size_t steps,
                    std::size_t rows, T* EDGELSTM_RESTRICT sum) {
  for (std::size_t r = 0; r < rows; ++r) sum[r] = 0;
  for (std::size_t s = 0; s < steps; ++s) {
    const T* row = a + s * a_stride;
    for (std::size_t r = 0; r < rows; ++r) sum[r] += row[r];
  }
}

template <typename T>
inline void fill(T* EDGELSTM_RESTRICT x, std::size_t count, T value) {
  for (std::size_t i = 0; i < count; ++i) x[i] = value;
}

template <typename T>
inline void copy(const T* EDGELSTM_RESTRICT from, std::size_t count, T* EDGELSTM_RESTRICT to) {
  for (std::size_t i = 0; i < count; ++i) to[i] = from[i];
}

}  // namespace edgelstm

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
