// Post-training weight quantization and weight-only ("hybrid") kernels: weights stored as
// symmetric int16, int8 or int4 (two per byte) with one float scale per tensor or per row; inputs,
// activations and state stay float, and each weight is dequantized inside the kernel, so no float
// copy of the weights exists in RAM.
//
//   q = clamp(round(w / scale), -qmax, qmax),   scale = max|w| / qmax   (over the tensor or the row)
//   w ~= q * scale,   |w - q * scale| <= scale / 2
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels.h"

namespace edgelstm {

enum class WeightFormat : std::uint8_t { kFloat32 = 0, kInt16 = 1, kInt8 = 2, kInt4 = 3 };
enum class ScaleGranularity : std::uint8_t { kTensor = 0, kRow = 1 };

constexpr int quantization_max(WeightFormat format) {
  return format == WeightFormat::kInt16 ? 32767 : format == WeightFormat::kInt8 ? 127 : 7;
}

// Bytes of one row of `cols` quantized values (int4 rows start on a byte boundary).
constexpr std::size_t quantized_row_bytes(WeightFormat format, std::size_t cols) {
  return format == WeightFormat::kInt16 ? 2 * cols
         : format == WeightFormat::kInt8 ? cols
         : format == WeightFormat::kInt4 ? (cols + 1) / 2
                                         : 4 * cols;
}

constexpr std::size_t scale_count(ScaleGranularity granularity, std::size_t rows) {
  return granularity == ScaleGranularity::kRow ? rows : 1;
}

// A read-only quantized matrix [rows x cols], row-major.
struct QuantizedMatrix {
  WeightFormat format = WeightFormat::kInt8;
  ScaleGranularity granularity = ScaleGranularity::kRow;
  const std::uint8_t* data = nullptr;  // rows * quantized_row_bytes(format, cols) bytes
  const float* scales = nullptr;       // scale_count(granularity, rows) values
  std::size_t rows = 0, cols = 0;

  float scale(std::size_t r) const { return scales[granularity == ScaleGranularity::kRow ? r : 0]; }
  // The integer value q[r][k].
  int value(std::size_t r, std::size_t k) const {
    const std::uint8_t* row = data + r * quantized_row_bytes(format, cols);
    switch (format) {
      case WeightFormat::kInt16: {
        const auto v = static_cast<std::uint16_t>(row[2 * k] | (row[2 * k + 1] << 8));
        return static_cast<std::int16_t>(v);
      }
      case WeightFormat::kInt8: return static_cast<std::int8_t>(row[k]);
      case WeightFormat::kInt4: {
        const int nibble = (k % 2 == 0 ? row[k / 2] : row[k / 2] >> 4) & 0xF;
        return nibble >= 8 ? nibble - 16 : nibble;  // sign-extend
      }
      case WeightFormat::kFloat32: break;
    }
    return 0;
  }
};

// The scale of `count` weights: max|w| / qmax, or 1 when all are zero (then every q is 0).
// (Weights so small that the scale would be subnormal count as zeros: 1 / scale must stay finite.
// At the other end the scale stays below FLT_MAX / qmax, so that qmax * scale, the largest
// dequantized weight, is finite: a weight at FLT_MAX, or an Inf from a sum of biases that
// overflowed, saturates at the largest finite value.)
inline float quantization_scale(const float* w, std::size_t count, WeightFormat format) {
  float largest = 0.0f;
  for (std::size_t k = 0; k < count; ++k) largest = std::fabs(w[k]) > largest ? std::fabs(w[k]) : largest;
  const float qmax = static_cast<float>(quantization_max(format));
  const float scale = largest / qmax;
  if (!(scale >= 1.17549435e-38f)) return 1.0f;  // FLT_MIN; also catches a NaN maximum
  const float highest = 3.40282347e38f / qmax * 0.99999988f;  // FLT_MAX / qmax, one step down: qmax * it is finite
  return scale < highest ? scale : highest;
}

// q = clamp(round(w * inverse_scale), -qmax, qmax), as a float (exact for every format); a NaN
// weight becomes 0 (callers refuse non-finite weights before quantizing; this keeps the cast defined).
inline float quantize_value(float w, float inverse_scale, WeightFormat format) {
  const float qmax = static_cast<float>(quantization_max(format));
  const float scaled = std::nearbyint(w * inverse_scale);
  return scaled > qmax ? qmax : scaled < -qmax ? -qmax : scaled == scaled ? scaled : 0.0f;
}

// Quantizes w [rows x cols] into `data` (rows * quantized_row_bytes bytes) and `scales`. A row or
// tensor of zeros gets scale 1 (all q = 0). `format` must not be kFloat32.
inline void quantize_matrix(const float* w, std::size_t rows, std::size_t cols, WeightFormat format,
                            ScaleGranularity granularity, std::uint8_t* data, float* scales) {
  const std::size_t row_bytes = quantized_row_bytes(format, cols);
  if (granularity == ScaleGranularity::kTensor) scales[0] = quantization_scale(w, rows * cols, format);
  for (std::size_t r = 0; r < rows; ++r) {
    if (granularity == ScaleGranularity::kRow) scales[r] = quantization_scale(w + r * cols, cols, format);
    const float inverse = 1.0f / scales[granularity == ScaleGranularity::kRow ? r : 0];
    std::uint8_t* row = data + r * row_bytes;
    for (std::size_t b = 0; b < row_bytes; ++b) row[b] = 0;
    for (std::size_t k = 0; k < cols; ++k) {
      const int q = static_cast<int>(quantize_value(w[r * cols + k], inverse, format));
      switch (format) {
        case WeightFormat::kInt16:
          row[2 * k] = static_cast<std::uint8_t>(q & 0xFF);
          row[2 * k + 1] = static_cast<std::uint8_t>((q >> 8) & 0xFF);
          break;
        case WeightFormat::kInt8: row[k] = static_cast<std::uint8_t>(static_cast<std::int8_t>(q)); break;
        case WeightFormat::kInt4:
          row[k / 2] = static_cast<std::uint8_t>(row[k / 2] | ((q & 0xF) << (k % 2 == 0 ? 0 : 4)));
          break;
        case WeightFormat::kFloat32: break;
      }
    }
  }
}

// The bias a weight-only layer adds to its gates: b_ih + b_hh (4H values), quantized to int16
// with one scale, as a [rows x 1] QuantizedMatrix: `data` gets 2 * rows bytes, *scale the scale.
// (The two biases of PyTorch's state_dict always appear as their sum, so a quantized model file
// stores the sum once: half the bias bytes, and int16 halves them again.)
namespace detail {

// The int16 scale of the sums bias_ih[r] + bias_hh[r].
inline float fused_bias_scale(const float* bias_ih, const float* bias_hh, std::size_t rows) {
  float largest = 0.0f;
  for (std::size_t r = 0; r < rows; ++r) {
    const float sum = bias_ih[r] + bias_hh[r];
    largest = std::fabs(sum) > largest ? std::fabs(sum) : largest;
  }
  return quantization_scale(&largest, 1, WeightFormat::kInt16);
}

}  // namespace detail

inline void quantize_fused_bias(const float* bias_ih, const float* bias_hh, std::size_t rows, std::uint8_t* data,
                                float* scale) {
  *scale = detail::fused_bias_scale(bias_ih, bias_hh, rows);
  const float inverse = 1.0f / *scale;
  for (std::size_t r = 0; r < rows; ++r) {
    const int q = static_cast<int>(quantize_value(bias_ih[r] + bias_hh[r], inverse, WeightFormat::kInt16));
    data[2 * r] = static_cast<std::uint8_t>(q & 0xFF);
    data[2 * r + 1] = static_cast<std::uint8_t>((q >> 8) & 0xFF);
  }
}

// The fake-quantized form of a layer's biases: bias_ih becomes the int16 sum's dequantized value
// (quantize_fused_bias's rounding) and bias_hh 0, so a float network computes what the hybrid
// network of a quantized model file computes. Both biases receive the same gradient there (the
// sum's), as they do in float training.
inline void fake_quantize_fused_bias(float* bias_ih, float* bias_hh, std::size_t rows) {
  const float scale = detail::fused_bias_scale(bias_ih, bias_hh, rows), inverse = 1.0f / scale;
  for (std::size_t r = 0; r < rows; ++r) {
    bias_ih[r] = quantize_value(bias_ih[r] + bias_hh[r], inverse, WeightFormat::kInt16) * scale;
    bias_hh[r] = 0.0f;
  }
}

// "Fake quantization": replaces each weight of w [rows x cols] by q * scale, with the scales and
// rounding of quantize_matrix, so a float network with these weights computes what the hybrid
// network with quantize_matrix's output computes (up to the order of float sums).
inline void fake_quantize_matrix(float* w, std::size_t rows, std::size_t cols, WeightFormat format,
                                 ScaleGranularity granularity) {
  const float tensor_scale = granularity == ScaleGranularity::kTensor ? quantization_scale(w, rows * cols, format) : 0.0f;
  for (std::size_t r = 0; r < rows; ++r) {
    float* row = w + r * cols;
    const float scale = granularity == ScaleGranularity::kRow ? quantization_scale(row, cols, format) : tensor_scale;
    const float inverse = 1.0f / scale;
    for (std::size_t k = 0; k < cols; ++k) row[k] = quantize_value(row[k], inverse, format) * scale;
  }
}

namespace detail {

// q[k] of a row as a float (exact): int16 little-endian, int8, int4 (low nibble first).
// kAligned (int16): the row starts on an even address, so each value is one 16-bit load. A memcpy
// from a byte pointer is, to GCC, a copy of unknown alignment: cores without unaligned loads (RV32)
// assemble it from two byte loads.
template <WeightFormat kFormat, bool kAligned = false>
inline float quantized_at(const std::uint8_t* row, std::size_t k) {
  if constexpr (kFormat == WeightFormat::kInt16) {
    std::int16_t q;
    const std::uint8_t* at = row + 2 * k;
#if defined(__GNUC__)
    if constexpr (kAligned) at = static_cast<const std::uint8_t*>(__builtin_assume_aligned(at, 2));
#endif
    std::memcpy(&q, at, sizeof q);  // little-endian targets only (model_format.h checks)
    return static_cast<float>(q);
  } else if constexpr (kFormat == WeightFormat::kInt8) {
    return static_cast<float>(static_cast<std::int8_t>(row[k]));
  } else {
    // The byte as signed: its arithmetic shift right by 4 is the high nibble, sign-extended; the low
    // nibble moves to the top of a word and shifts back (one SBFX on ARM).
    const std::int32_t byte = static_cast<std::int8_t>(row[k / 2]);
    const std::int32_t q = k % 2 == 0 ? static_cast<std::int32_t>(static_cast<std::uint32_t>(byte) << 28) >> 28 : byte >> 4;
    return static_cast<float>(q);
  }
}

// Columns [k0, k0 + kBlock) of every row: the inputs stay in registers while the rows stream
// past (as matvec_accumulate_block for float weights), each weight converted as it is loaded;
// y[r] += scale_r * (the block's integer-weighted sum). k0 is even (int4 pairs stay in a byte).
template <WeightFormat kFormat, bool kAligned, std::size_t kBlock>
inline void matvec_quantized_block(const QuantizedMatrix& m, std::size_t k0, const float* EDGELSTM_RESTRICT x,
                                   float* EDGELSTM_RESTRICT y) {
  float xr[kBlock];
  EDGELSTM_UNROLL
  for (std::size_t j = 0; j < kBlock; ++j) xr[j] = x[k0 + j];
  const std::size_t row_bytes = quantized_row_bytes(kFormat, m.cols);
  const std::uint8_t* row = m.data;
  for (std::size_t r = 0; r < m.rows; ++r, row += row_bytes) {
    float sum = 0.0f;
    EDGELSTM_UNROLL
    for (std::size_t j = 0; j < kBlock; ++j) sum += quantized_at<kFormat, kAligned>(row, k0 + j) * xr[j];
    y[r] += m.scale(r) * sum;
  }
}

template <WeightFormat kFormat, bool kAligned = false>
inline void matvec_quantized(const QuantizedMatrix& m, const float* x, float* y) {
  constexpr std::size_t kBlock = 16;  // 16 inputs in FPU registers leave room for the conversions
  std::size_t k0 = 0;
  for (; k0 + kBlock <= m.cols; k0 += kBlock) matvec_quantized_block<kFormat, kAligned, kBlock>(m, k0, x, y);
  for (; k0 + 8 <= m.cols; k0 += 8) matvec_quantized_block<kFormat, kAligned, 8>(m, k0, x, y);
  for (; k0 + 4 <= m.cols; k0 += 4) matvec_quantized_block<kFormat, kAligned, 4>(m, k0, x, y);
  for (; k0 + 2 <= m.cols; k0 += 2) matvec_quantized_block<kFormat, kAligned, 2>(m, k0, x, y);
  if (k0 < m.cols) matvec_quantized_block<kFormat, kAligned, 1>(m, k0, x, y);
}

}  // namespace detail

// y[r] += scale_r * sum_k q[r][k] * x[k]: the weight-only kernel. The sums run over the integer
// values converted to float (exact for int16/int8/int4) in blocks of columns, each block's sum
// multiplied once by the row's scale; no float copy of the weights exists.
inline void matvec_accumulate_quantized(const QuantizedMatrix& m, const float* x, float* y) {
  switch (m.format) {
    case WeightFormat::kInt16:
      // Rows of 2 * cols bytes: every row is on an even address when the first is (a model file's
      // tensors and an arena's are; a caller's own buffer may not be).
      if (reinterpret_cast<std::uintptr_t>(m.data) % 2 == 0) {
        detail::matvec_quantized<WeightFormat::kInt16, true>(m, x, y);
      } else {
        detail::matvec_quantized<WeightFormat::kInt16>(m, x, y);
      }
      break;
    case WeightFormat::kInt8: detail::matvec_quantized<WeightFormat::kInt8>(m, x, y); break;
    case WeightFormat::kInt4: detail::matvec_quantized<WeightFormat::kInt4>(m, x, y); break;
    case WeightFormat::kFloat32: break;
  }
}

}  // namespace edgelstm
