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

// Quantizes w [rows x cols] into `data` (rows * quantized_row_bytes bytes) and `scales`. A row or
// tensor of zeros gets scale 1 (all q = 0). `format` must not be kFloat32.
inline void quantize_matrix(const float* w, std::size_t rows, std::size_t cols, WeightFormat format,
                            ScaleGranularity granularity, std::uint8_t* data, float* scales) {
  const int qmax = quantization_max(format);
  const std::size_t row_bytes = quantized_row_bytes(format, cols);
  const auto max_abs = [&](std::size_t first_row, std::size_t row_count) {
    float largest = 0.0f;
    for (std::size_t k = first_row * cols; k < (first_row + row_count) * cols; ++k) {
      largest = std::fabs(w[k]) > largest ? std::fabs(w[k]) : largest;
    }
    return largest;
  };
  if (granularity == ScaleGranularity::kTensor) {
    const float largest = max_abs(0, rows);
    scales[0] = largest > 0.0f ? largest / static_cast<float>(qmax) : 1.0f;
  }
  for (std::size_t r = 0; r < rows; ++r) {
    if (granularity == ScaleGranularity::kRow) {
      const float largest = max_abs(r, 1);
      scales[r] = largest > 0.0f ? largest / static_cast<float>(qmax) : 1.0f;
    }
    const float inverse = 1.0f / scales[granularity == ScaleGranularity::kRow ? r : 0];
    std::uint8_t* row = data + r * row_bytes;
    for (std::size_t b = 0; b < row_bytes; ++b) row[b] = 0;
    for (std::size_t k = 0; k < cols; ++k) {
      float scaled = std::nearbyint(w[r * cols + k] * inverse);
      scaled = scaled > static_cast<float>(qmax) ? static_cast<float>(qmax) : scaled;
      scaled = scaled < static_cast<float>(-qmax) ? static_cast<float>(-qmax) : scaled;
      const int q = static_cast<int>(scaled);
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

// y[r] += scale_r * sum_k q[r][k] * x[k]: the weight-only kernel. The sum runs over the integer
// values converted to float (exact for int16/int8/int4), then one multiply by the row's scale.
inline void matvec_accumulate_quantized(const QuantizedMatrix& m, const float* x, float* y) {
  const std::size_t row_bytes = quantized_row_bytes(m.format, m.cols);
  for (std::size_t r = 0; r < m.rows; ++r) {
    const std::uint8_t* row = m.data + r * row_bytes;
    float sum = 0.0f;
    switch (m.format) {
      case WeightFormat::kInt16:
        for (std::size_t k = 0; k < m.cols; ++k) {
          const auto q = static_cast<std::int16_t>(static_cast<std::uint16_t>(row[2 * k] | (row[2 * k + 1] << 8)));
          sum += static_cast<float>(q) * x[k];
        }
        break;
      case WeightFormat::kInt8: {
        const auto* q = reinterpret_cast<const std::int8_t*>(row);
        for (std::size_t k = 0; k < m.cols; ++k) sum += static_cast<float>(q[k]) * x[k];
        break;
      }
      case WeightFormat::kInt4:
        for (std::size_t k = 0; k + 1 < m.cols; k += 2) {
          const int low = row[k / 2] & 0xF, high = row[k / 2] >> 4;
          sum += static_cast<float>(low >= 8 ? low - 16 : low) * x[k];
          sum += static_cast<float>(high >= 8 ? high - 16 : high) * x[k + 1];
        }
        if (m.cols % 2 != 0) {
          const int low = row[m.cols / 2] & 0xF;
          sum += static_cast<float>(low >= 8 ? low - 16 : low) * x[m.cols - 1];
        }
        break;
      case WeightFormat::kFloat32: break;
    }
    y[r] += m.scale(r) * sum;
  }
}

}  // namespace edgelstm
