// Dense linear-algebra kernels shared by the LSTM layers and the head. Portable scalar C++ written
// so that compilers vectorize it (independent lane accumulators instead of one serial sum, no
// aliasing thanks to EDGELSTM_RESTRICT); the same code is the reference on every target.
//
// Matrices are row-major, `rows x cols`, as PyTorch stores weight tensors.
#pragma once

#include <cstddef>

#if defined(__GNUC__) || defined(__clang__)
#define EDGELSTM_RESTRICT __restrict__
#else
#define EDGELSTM_RESTRICT
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

// y[r] += sum_k w[r][k] * x[k]  for r < rows.
// Four rows share each load of x; each row keeps kLanes partial sums so the loop has no serial
// dependency (and maps onto SIMD registers), then the lanes are added in a fixed order.
template <typename T>
inline void matvec_accumulate(const T* EDGELSTM_RESTRICT w, std::size_t rows, std::size_t cols,
                              const T* EDGELSTM_RESTRICT x, T* EDGELSTM_RESTRICT y) {
  constexpr std::size_t kLanes = 8;
  const std::size_t vector_cols = cols / kLanes * kLanes;
  const std::size_t blocked_rows = rows / 4 * 4;
  for (std::size_t r = 0; r < blocked_rows; r += 4) {
    const T* w0 = w + r * cols;
    const T* w1 = w0 + cols;
    const T* w2 = w1 + cols;
    const T* w3 = w2 + cols;
    T a0[kLanes] = {}, a1[kLanes] = {}, a2[kLanes] = {}, a3[kLanes] = {};
    for (std::size_t k = 0; k < vector_cols; k += kLanes) {
      for (std::size_t lane = 0; lane < kLanes; ++lane) {
        const T xv = x[k + lane];
        a0[lane] += w0[k + lane] * xv;
        a1[lane] += w1[k + lane] * xv;
        a2[lane] += w2[k + lane] * xv;
        a3[lane] += w3[k + lane] * xv;
      }
    }
    T s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (std::size_t lane = 0; lane < kLanes; ++lane) {
      s0 += a0[lane];
      s1 += a1[lane];
      s2 += a2[lane];
      s3 += a3[lane];
    }
    for (std::size_t k = vector_cols; k < cols; ++k) {
      const T xv = x[k];
      s0 += w0[k] * xv;
      s1 += w1[k] * xv;
      s2 += w2[k] * xv;
      s3 += w3[k] * xv;
    }
    y[r] += s0;
    y[r + 1] += s1;
    y[r + 2] += s2;
    y[r + 3] += s3;
  }
  for (std::size_t r = blocked_rows; r < rows; ++r) {
    const T* w0 = w + r * cols;
    T sum = 0;
    for (std::size_t k = 0; k < cols; ++k) sum += w0[k] * x[k];
    y[r] += sum;
  }
}

// y[k] += sum_r w[r][k] * v[r]  for k < cols  (y += W^T v, as in backpropagating through W).
// Walks W row by row (contiguous), four rows per pass over y so y is loaded and stored a quarter
// as often.
template <typename T>
inline void matvec_transposed_accumulate(const T* EDGELSTM_RESTRICT w, std::size_t rows,
                                         std::size_t cols, const T* EDGELSTM_RESTRICT v,
                                         T* EDGELSTM_RESTRICT y) {
  const std::size_t blocked_rows = rows / 4 * 4;
  for (std::size_t r = 0; r < blocked_rows; r += 4) {
    const T* w0 = w + r * cols;
    const T* w1 = w0 + cols;
    const T* w2 = w1 + cols;
    const T* w3 = w2 + cols;
    const T v0 = v[r], v1 = v[r + 1], v2 = v[r + 2], v3 = v[r + 3];
    for (std::size_t k = 0; k < cols; ++k) {
      y[k] += w0[k] * v0 + w1[k] * v1 + w2[k] * v2 + w3[k] * v3;
    }
  }
  for (std::size_t r = blocked_rows; r < rows; ++r) {
    const T* w0 = w + r * cols;
    const T v0 = v[r];
    for (std::size_t k = 0; k < cols; ++k) y[k] += w0[k] * v0;
  }
}

// g[r][k] += sum_s a[s][r] * b[s][k] for r < rows, k < cols, s < steps: the weight gradient of a
// layer accumulated over a window (a = dLoss/dOutput per step, row stride a_stride; b = the
// layer's input per step, row stride b_stride). Each row of g is read and written once.
template <typename T>
inline void outer_product_sum_accumulate(const T* EDGELSTM_RESTRICT a, std::size_t a_stride,
                                         const T* EDGELSTM_RESTRICT b, std::size_t b_stride,
                                         std::size_t steps, std::size_t rows, std::size_t cols,
                                         T* EDGELSTM_RESTRICT g) {
  for (std::size_t r = 0; r < rows; ++r) {
    T* g_row = g + r * cols;
    for (std::size_t s = 0; s < steps; ++s) {
      const T scale = a[s * a_stride + r];
      const T* b_row = b + s * b_stride;
      for (std::size_t k = 0; k < cols; ++k) g_row[k] += scale * b_row[k];
    }
  }
}

// sum[r] += sum_s a[s][r]: the bias gradient accumulated over a window.
template <typename T>
inline void row_sum_accumulate(const T* EDGELSTM_RESTRICT a, std::size_t a_stride,
                               std::size_t steps, std::size_t rows, T* EDGELSTM_RESTRICT sum) {
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
