// Matrix-matrix kernel for the minibatch trainer (batch_trainer.h): C (+)= X Y for row-major
// matrices, X given either as rows (x(i, y) = X[i * ldx + y]) or transposed (x(i, y) =
// X[y * ldx + i]). One kernel serves the whole batched step: the gate pre-activations
// (activations x W^T), the gradient flowing back (dz x W) and the weight gradient (activations^T x
// dz, with X transposed).
//
// AVX-512: blocks of C of up to 6 vectors of 16 columns by as many rows as 24 accumulators allow
// (4 rows of 6 vectors: per step of the sum, 6 vector loads of Y and 4 broadcasts of x feed 24
// FMAs), so the kernel runs at the FMA rate from L2. The columns' tail is masked. Other builds take
// a loop the compiler vectorizes.
#pragma once

#include <cstddef>

#include "kernels.h"
#include "simd.h"

#if EDGELSTM_HAVE_AVX512F
#include <immintrin.h>
#endif

namespace edgelstm {

struct GemmOperand {
  const float* data = nullptr;
  std::size_t stride = 0;   // floats between rows
  bool transposed = false;  // x(i, y) = data[y * stride + i] instead of data[i * stride + y]
  float at(std::size_t i, std::size_t y) const { return transposed ? data[y * stride + i] : data[i * stride + y]; }
};

namespace detail {

#if EDGELSTM_HAVE_AVX512F
// x(i0 + r, k) of a block: the layout a compile-time choice, so the loops below stay branch-free.
template <bool kTransposed>
inline float gemm_x(const GemmOperand& x, std::size_t i, std::size_t k) {
  return kTransposed ? x.data[k * x.stride + i] : x.data[i * x.stride + k];
}

template <bool kTransposed, std::size_t kRows, std::size_t kVectors>
inline void gemm_block_avx512(const GemmOperand& x, std::size_t i0, const float* y, std::size_t ldy, std::size_t depth,
                              std::size_t j0, std::size_t cols, float* c, std::size_t ldc, bool accumulate) {
  __mmask16 masks[kVectors];
  EDGELSTM_UNROLL
  for (std::size_t v = 0; v < kVectors; ++v) {
    const std::size_t first = j0 + 16 * v;
    const std::size_t left = first < cols ? cols - first : 0;
    masks[v] = left >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << left) - 1u);
  }
  __m512 acc[kRows][kVectors];
  EDGELSTM_UNROLL
  for (std::size_t r = 0; r < kRows; ++r) {
    EDGELSTM_UNROLL
    for (std::size_t v = 0; v < kVectors; ++v) {
      acc[r][v] = accumulate ? _mm512_maskz_loadu_ps(masks[v], c + (i0 + r) * ldc + j0 + 16 * v) : _mm512_setzero_ps();
    }
  }
  const float* y_row = y + j0;
  for (std::size_t k = 0; k < depth; ++k, y_row += ldy) {
    __m512 yv[kVectors];
    EDGELSTM_UNROLL
    for (std::size_t v = 0; v < kVectors; ++v) yv[v] = _mm512_maskz_loadu_ps(masks[v], y_row + 16 * v);
    EDGELSTM_UNROLL
    for (std::size_t r = 0; r < kRows; ++r) {
      const __m512 xr = _mm512_set1_ps(gemm_x<kTransposed>(x, i0 + r, k));
      EDGELSTM_UNROLL
      for (std::size_t v = 0; v < kVectors; ++v) acc[r][v] = _mm512_fmadd_ps(xr, yv[v], acc[r][v]);
    }
  }
  EDGELSTM_UNROLL
  for (std::size_t r = 0; r < kRows; ++r) {
    EDGELSTM_UNROLL
    for (std::size_t v = 0; v < kVectors; ++v) _mm512_mask_storeu_ps(c + (i0 + r) * ldc + j0 + 16 * v, masks[v], acc[r][v]);
  }
}

// Rows [i0, rows) of C for the column block of kVectors vectors at j0, kRows rows at a time (the
// last rows in smaller blocks).
template <bool kTransposed, std::size_t kVectors, std::size_t kRows>
inline void gemm_column_block_avx512(const GemmOperand& x, std::size_t rows, const float* y, std::size_t ldy,
                                     std::size_t depth, std::size_t j0, std::size_t cols, float* c, std::size_t ldc,
                                     bool accumulate) {
  std::size_t i0 = 0;
  for (; i0 + kRows <= rows; i0 += kRows) {
    gemm_block_avx512<kTransposed, kRows, kVectors>(x, i0, y, ldy, depth, j0, cols, c, ldc, accumulate);
  }
  for (; i0 + 4 <= rows; i0 += 4) gemm_block_avx512<kTransposed, 4, kVectors>(x, i0, y, ldy, depth, j0, cols, c, ldc, accumulate);
  for (; i0 < rows; ++i0) gemm_block_avx512<kTransposed, 1, kVectors>(x, i0, y, ldy, depth, j0, cols, c, ldc, accumulate);
}

// Column blocks of at most 6 vectors, split evenly (128 columns: two of 4, not 6 and 2); each
// block takes as many rows at once as 24 accumulators allow (2 vectors: 12 rows), so a narrow
// product (a gradient of 32 units) still does 2 FMAs per broadcast.
template <bool kTransposed>
inline void gemm_avx512(const GemmOperand& x, std::size_t rows, const float* y, std::size_t ldy, std::size_t depth,
                        std::size_t cols, float* c, std::size_t ldc, bool accumulate) {
  const std::size_t vectors = (cols + 15) / 16, blocks = (vectors + 5) / 6;
  for (std::size_t b = 0, j0 = 0; b < blocks; ++b) {
    const std::size_t v = vectors / blocks + (b < vectors % blocks ? 1 : 0);
    switch (v) {
      case 1: gemm_column_block_avx512<kTransposed, 1, 12>(x, rows, y, ldy, depth, j0, cols, c, ldc, accumulate); break;
      case 2: gemm_column_block_avx512<kTransposed, 2, 12>(x, rows, y, ldy, depth, j0, cols, c, ldc, accumulate); break;
      case 3: gemm_column_block_avx512<kTransposed, 3, 8>(x, rows, y, ldy, depth, j0, cols, c, ldc, accumulate); break;
      case 4: gemm_column_block_avx512<kTransposed, 4, 6>(x, rows, y, ldy, depth, j0, cols, c, ldc, accumulate); break;
      case 5: gemm_column_block_avx512<kTransposed, 5, 4>(x, rows, y, ldy, depth, j0, cols, c, ldc, accumulate); break;
      default: gemm_column_block_avx512<kTransposed, 6, 4>(x, rows, y, ldy, depth, j0, cols, c, ldc, accumulate); break;
    }
    j0 += 16 * v;
  }
}
#endif

}  // namespace detail

// C[i][j] = (accumulate ? C[i][j] : 0) + sum_{y < depth} x(i, y) Y[y][j], i < rows, j < cols; Y and C
// row-major with row strides ldy and ldc. Each element sums over y in order.
inline void gemm(const GemmOperand& x, std::size_t rows, const float* y, std::size_t ldy, std::size_t depth,
                 std::size_t cols, float* c, std::size_t ldc, bool accumulate) {
#if EDGELSTM_HAVE_AVX512F
  if (x.transposed) {
    detail::gemm_avx512<true>(x, rows, y, ldy, depth, cols, c, ldc, accumulate);
  } else {
    detail::gemm_avx512<false>(x, rows, y, ldy, depth, cols, c, ldc, accumulate);
  }
#else
  for (std::size_t i = 0; i < rows; ++i) {
    float* c_row = c + i * ldc;
    if (!accumulate) fill(c_row, cols, 0.0f);
    for (std::size_t k = 0; k < depth; ++k) {
      const float xv = x.at(i, k);
      const float* EDGELSTM_RESTRICT y_row = y + k * ldy;
      float* EDGELSTM_RESTRICT out = c_row;
      for (std::size_t j = 0; j < cols; ++j) out[j] += xv * y_row[j];
    }
  }
#endif
}

}  // namespace edgelstm
