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

#if EDGELSTM_HAVE_AVX2_FMA
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
                              std::size_t j0, std::size_t cols, float* c, std::size_t ldc, bool accumulate,
                              const float* init_row) {
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
      acc[r][v] = init_row != nullptr ? _mm512_maskz_loadu_ps(masks[v], init_row + j0 + 16 * v)
                  : accumulate      ? _mm512_maskz_loadu_ps(masks[v], c + (i0 + r) * ldc + j0 + 16 * v)
                                    : _mm512_setzero_ps();
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

// Rows [i0, rows) of C for the column block of kVectors vectors at j0, kRows rows at a time, then
// blocks of 4, then one block of the 1 to 3 rows left (rather than one row at a time: each block
// reads all of Y, which for a weight gradient is every window's dz, 1.5 MB at batch 256 for the
// forecaster's shape). The blocking does not change any sum.
template <bool kTransposed, std::size_t kVectors, std::size_t kRows>
inline void gemm_column_block_avx512(const GemmOperand& x, std::size_t rows, const float* y, std::size_t ldy,
                                     std::size_t depth, std::size_t j0, std::size_t cols, float* c, std::size_t ldc,
                                     bool accumulate, const float* init_row) {
  std::size_t i0 = 0;
  for (; i0 + kRows <= rows; i0 += kRows) {
    gemm_block_avx512<kTransposed, kRows, kVectors>(x, i0, y, ldy, depth, j0, cols, c, ldc, accumulate, init_row);
  }
  for (; i0 + 4 <= rows; i0 += 4) {
    gemm_block_avx512<kTransposed, 4, kVectors>(x, i0, y, ldy, depth, j0, cols, c, ldc, accumulate, init_row);
  }
  switch (rows - i0) {
    case 3: gemm_block_avx512<kTransposed, 3, kVectors>(x, i0, y, ldy, depth, j0, cols, c, ldc, accumulate, init_row); break;
    case 2: gemm_block_avx512<kTransposed, 2, kVectors>(x, i0, y, ldy, depth, j0, cols, c, ldc, accumulate, init_row); break;
    case 1: gemm_block_avx512<kTransposed, 1, kVectors>(x, i0, y, ldy, depth, j0, cols, c, ldc, accumulate, init_row); break;
    default: break;
  }
}

// Column blocks of at most 6 vectors, split evenly (128 columns: two of 4, not 6 and 2); each
// block takes as many rows at once as 24 accumulators allow (2 vectors: 12 rows), so a narrow
// product (a gradient of 32 units) still does 2 FMAs per broadcast.
template <bool kTransposed>
inline void gemm_avx512(const GemmOperand& x, std::size_t rows, const float* y, std::size_t ldy, std::size_t depth,
                        std::size_t cols, float* c, std::size_t ldc, bool accumulate, const float* init_row) {
  const std::size_t vectors = (cols + 15) / 16, blocks = (vectors + 5) / 6;
  for (std::size_t b = 0, j0 = 0; b < blocks; ++b) {
    const std::size_t v = vectors / blocks + (b < vectors % blocks ? 1 : 0);
    switch (v) {
      case 1: gemm_column_block_avx512<kTransposed, 1, 12>(x, rows, y, ldy, depth, j0, cols, c, ldc, accumulate, init_row); break;
      case 2: gemm_column_block_avx512<kTransposed, 2, 12>(x, rows, y, ldy, depth, j0, cols, c, ldc, accumulate, init_row); break;
      case 3: gemm_column_block_avx512<kTransposed, 3, 8>(x, rows, y, ldy, depth, j0, cols, c, ldc, accumulate, init_row); break;
      case 4: gemm_column_block_avx512<kTransposed, 4, 6>(x, rows, y, ldy, depth, j0, cols, c, ldc, accumulate, init_row); break;
      case 5: gemm_column_block_avx512<kTransposed, 5, 4>(x, rows, y, ldy, depth, j0, cols, c, ldc, accumulate, init_row); break;
      default: gemm_column_block_avx512<kTransposed, 6, 4>(x, rows, y, ldy, depth, j0, cols, c, ldc, accumulate, init_row); break;
    }
    j0 += 16 * v;
  }
}
#endif

#if EDGELSTM_HAVE_AVX2_FMA
// The 8 x 8 block at from (row stride ld_from) transposed into to (row stride ld_to).
inline void transpose_8x8_avx(const float* from, std::size_t ld_from, float* to, std::size_t ld_to) {
  __m256 r[8], t[8];
  for (std::size_t k = 0; k < 8; ++k) r[k] = _mm256_loadu_ps(from + k * ld_from);
  for (std::size_t k = 0; k < 8; k += 2) {
    t[k] = _mm256_unpacklo_ps(r[k], r[k + 1]);
    t[k + 1] = _mm256_unpackhi_ps(r[k], r[k + 1]);
  }
  for (std::size_t k = 0; k < 8; k += 4) {
    r[k] = _mm256_shuffle_ps(t[k], t[k + 2], 0x44);
    r[k + 1] = _mm256_shuffle_ps(t[k], t[k + 2], 0xEE);
    r[k + 2] = _mm256_shuffle_ps(t[k + 1], t[k + 3], 0x44);
    r[k + 3] = _mm256_shuffle_ps(t[k + 1], t[k + 3], 0xEE);
  }
  for (std::size_t k = 0; k < 4; ++k) {
    _mm256_storeu_ps(to + k * ld_to, _mm256_permute2f128_ps(r[k], r[k + 4], 0x20));
    _mm256_storeu_ps(to + (k + 4) * ld_to, _mm256_permute2f128_ps(r[k], r[k + 4], 0x31));
  }
}
#endif

#if EDGELSTM_HAVE_AVX512F
// The sum of v's lanes, halves added pairwise. GCC 12 warns that the extraction reads an
// uninitialized value: its header passes _mm256_undefined_pd() as the (unused) merge source.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
inline float sum_lanes_avx512(__m512 v) {
  const __m256 half = _mm256_add_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
  __m128 quarter = _mm_add_ps(_mm256_castps256_ps128(half), _mm256_extractf128_ps(half, 1));
  quarter = _mm_add_ps(quarter, _mm_movehl_ps(quarter, quarter));
  quarter = _mm_add_ss(quarter, _mm_movehdup_ps(quarter));
  return _mm_cvtss_f32(quarter);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// Rows i0, i0 + 1 (kRows of them) of gemm_dots for the up to 4 columns from j0.
template <std::size_t kRows>
inline void gemm_dots_block_avx512(const float* x, std::size_t ldx, std::size_t i0, const float* z, std::size_t ldz,
                                   std::size_t j0, std::size_t columns, std::size_t depth, float* c, std::size_t ldc) {
  const float* z_rows[4];
  for (std::size_t j = 0; j < 4; ++j) z_rows[j] = z + (j0 + (j < columns ? j : 0)) * ldz;
  __m512 acc[kRows][4];
  EDGELSTM_UNROLL
  for (std::size_t r = 0; r < kRows; ++r) {
    EDGELSTM_UNROLL
    for (std::size_t j = 0; j < 4; ++j) acc[r][j] = _mm512_setzero_ps();
  }
  for (std::size_t y = 0; y < depth; y += 16) {
    const __mmask16 m = depth - y >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (depth - y)) - 1u);
    __m512 zv[4];
    EDGELSTM_UNROLL
    for (std::size_t j = 0; j < 4; ++j) zv[j] = _mm512_maskz_loadu_ps(m, z_rows[j] + y);
    EDGELSTM_UNROLL
    for (std::size_t r = 0; r < kRows; ++r) {
      const __m512 xv = _mm512_maskz_loadu_ps(m, x + (i0 + r) * ldx + y);
      EDGELSTM_UNROLL
      for (std::size_t j = 0; j < 4; ++j) acc[r][j] = _mm512_fmadd_ps(xv, zv[j], acc[r][j]);
    }
  }
  // The sums of all four first (constant indices keep the accumulators in registers), then the
  // columns that exist.
  float sums[kRows][4];
  EDGELSTM_UNROLL
  for (std::size_t r = 0; r < kRows; ++r) {
    EDGELSTM_UNROLL
    for (std::size_t j = 0; j < 4; ++j) sums[r][j] = sum_lanes_avx512(acc[r][j]);
  }
  for (std::size_t r = 0; r < kRows; ++r) {
    for (std::size_t j = 0; j < columns; ++j) c[(i0 + r) * ldc + j0 + j] = sums[r][j];
  }
}
#endif

}  // namespace detail

// C[i][j] = sum_{y < depth} X[i][y] Z[j][y], i < rows, j < cols: products whose operands both run
// along the depth (X and Z row-major with row strides ldx and ldz), as dot products. For the few
// columns a product's width leaves over a multiple of 16 (the minibatch trainer's dz W_hh at H =
// 100: 4 of 100), where gemm would spend a whole masked vector per row and step of the sum.
// AVX-512: 16 terms per lane, the lanes summed at the end; other builds sum in order.
inline void gemm_dots(const float* x, std::size_t ldx, std::size_t rows, const float* z, std::size_t ldz, std::size_t cols,
                      std::size_t depth, float* c, std::size_t ldc) {
#if EDGELSTM_HAVE_AVX512F
  for (std::size_t j0 = 0; j0 < cols; j0 += 4) {
    const std::size_t columns = cols - j0 < 4 ? cols - j0 : 4;
    std::size_t i0 = 0;
    for (; i0 + 2 <= rows; i0 += 2) detail::gemm_dots_block_avx512<2>(x, ldx, i0, z, ldz, j0, columns, depth, c, ldc);
    if (i0 < rows) detail::gemm_dots_block_avx512<1>(x, ldx, i0, z, ldz, j0, columns, depth, c, ldc);
  }
#else
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < cols; ++j) {
      float sum = 0;
      for (std::size_t y = 0; y < depth; ++y) sum += x[i * ldx + y] * z[j * ldz + y];
      c[i * ldc + j] = sum;
    }
  }
#endif
}

// to[c * ld_to + r] = from[r * ld_from + c] for r < rows, c < cols (the minibatch trainer's copies
// between the weights' layout and the products' transposed one). AVX: 8 x 8 blocks in registers,
// the edges one by one; other builds in tiles of 16 x 16, so both sides stay within a few cache
// lines at a time.
inline void transpose(const float* from, std::size_t ld_from, std::size_t rows, std::size_t cols, float* to,
                      std::size_t ld_to) {
  std::size_t r0 = 0;
#if EDGELSTM_HAVE_AVX2_FMA
  for (; r0 + 8 <= rows; r0 += 8) {
    std::size_t c0 = 0;
    for (; c0 + 8 <= cols; c0 += 8) detail::transpose_8x8_avx(from + r0 * ld_from + c0, ld_from, to + c0 * ld_to + r0, ld_to);
    for (std::size_t c = c0; c < cols; ++c) {
      for (std::size_t r = r0; r < r0 + 8; ++r) to[c * ld_to + r] = from[r * ld_from + c];
    }
  }
#endif
  constexpr std::size_t kTile = 16;
  for (; r0 < rows; r0 += kTile) {
    const std::size_t r1 = r0 + kTile < rows ? r0 + kTile : rows;
    for (std::size_t c0 = 0; c0 < cols; c0 += kTile) {
      const std::size_t c1 = c0 + kTile < cols ? c0 + kTile : cols;
      for (std::size_t c = c0; c < c1; ++c) {
        for (std::size_t r = r0; r < r1; ++r) to[c * ld_to + r] = from[r * ld_from + c];
      }
    }
  }
}

// C[i][j] = start + sum_{y < depth} x(i, y) Y[y][j], i < rows, j < cols, where start is init_row[j]
// when init_row is given (a bias broadcast over the rows, without a pass of its own over C), else
// C[i][j] with accumulate, else 0; Y and C row-major with row strides ldy and ldc. Each element
// sums over y in order.
inline void gemm(const GemmOperand& x, std::size_t rows, const float* y, std::size_t ldy, std::size_t depth,
                 std::size_t cols, float* c, std::size_t ldc, bool accumulate, const float* init_row = nullptr) {
#if EDGELSTM_HAVE_AVX512F
  if (x.transposed) {
    // A weight gradient's depth is every step of every window (the forecaster's shape at batch 256:
    // 3,072 rows of dz, 1.5 MB): in slices of kDepthSlice rows, so that every block of C's rows reads
    // a slice of dz (and of X) that is still in L2 from the block before. C holds the sums between
    // slices; each element still sums over the depth in order.
    constexpr std::size_t kDepthSlice = 512;
    std::size_t k0 = 0;
    do {
      const std::size_t slice = depth - k0 < kDepthSlice ? depth - k0 : kDepthSlice;
      const GemmOperand part{x.data + k0 * x.stride, x.stride, true};
      detail::gemm_avx512<true>(part, rows, y + k0 * ldy, ldy, slice, cols, c, ldc, k0 == 0 ? accumulate : true,
                                k0 == 0 ? init_row : nullptr);
      k0 += slice;
    } while (k0 < depth);
  } else {
    detail::gemm_avx512<false>(x, rows, y, ldy, depth, cols, c, ldc, accumulate, init_row);
  }
#else
  for (std::size_t i = 0; i < rows; ++i) {
    float* c_row = c + i * ldc;
    if (init_row != nullptr) {
      copy(init_row, cols, c_row);
    } else if (!accumulate) {
      fill(c_row, cols, 0.0f);
    }
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
