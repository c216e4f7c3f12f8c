// Conversion of a float network into the full-integer path's parameters (integer_network.h), in
// caller-provided buffers: int8 weights with one scale per row, and the int32 constants (Q.12
// bias and two requantizing multipliers per gate row, with one shift per layer and sum; Q16 bias,
// multiplier and shift per output). Runs on the host (edgelstm quantize --integer) and on a device with float math (a
// firmware can convert weights it has just learned). Calibration -- the input's scale and each
// layer's cell-state format -- is the caller's: the host tools measure it on training data.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "integer_network.h"
#include "quantize.h"
#include "span.h"
#include "spec.h"
#include "status.h"

namespace edgelstm {

struct IntegerCalibration {
  float input_scale = 1.0f / 32767.0f;                // x = x_q * input_scale, so |x| <= 32767 * input_scale
  std::int32_t cell_fraction_bits[kMaxLayers] = {15, 15, 15, 15};  // c = c_q / 2^F: |c| < 2^(15 - F)
};

// Element counts of the buffers quantize_to_integer fills: every weight matrix (file order:
// weight_ih, weight_hh per layer, then the head), one scale per matrix row, and the constants
// (kIntegerGateFields per gate row of every layer, then kIntegerHeadFields per output).
constexpr std::size_t integer_weight_count(const LstmSpec& spec) {
  std::size_t n = spec.output_size * spec.top_hidden();
  for (std::size_t l = 0; l < spec.num_layers; ++l) n += 4 * spec.hidden(l) * (spec.layer_input(l) + spec.hidden(l));
  return n;
}
constexpr std::size_t integer_scale_count(const LstmSpec& spec) {
  std::size_t n = spec.output_size;
  for (std::size_t l = 0; l < spec.num_layers; ++l) n += 8 * spec.hidden(l);
  return n;
}
constexpr std::size_t integer_constant_count(const LstmSpec& spec) {
  std::size_t n = spec.output_size * kIntegerHeadFields;
  for (std::size_t l = 0; l < spec.num_layers; ++l) n += 4 * spec.hidden(l) * kIntegerGateFields;
  return n;
}

struct IntegerParameters {
  IntegerLayer layers[kMaxLayers];
  IntegerHead head;
};

namespace detail {
inline Status rounded_int32(double value, std::int32_t* out) {
  const double r = std::nearbyint(value);
  if (!(r >= -2147483647.0 && r <= 2147483647.0)) return Status::kInvalidArgument;
  *out = static_cast<std::int32_t>(r);
  return Status::kOk;
}
// The shift for the largest of `rows` factors (quantize_multiplier's), which must be at least
// kMinGateShift: gate factors below 1/4.
template <typename Factor>
inline Status layer_shift(const Factor& factor, std::size_t rows, std::int32_t* shift) {
  double largest = 0.0;
  for (std::size_t r = 0; r < rows; ++r) largest = factor(r) > largest ? factor(r) : largest;
  std::int32_t multiplier = 0;
  EDGELSTM_TRY(quantize_multiplier(largest, &multiplier, shift));
  return *shift >= kMinGateShift ? Status::kOk : Status::kInvalidArgument;
}

}  // namespace detail

// Quantizes `parameters` (Network::parameters() order) with per-row int8 scales and computes the
// integer constants. *out points into the given buffers, ready for IntegerNetwork::bind.
// kNonFinite for a non-finite parameter, kInvalidArgument for a calibration out of range or a
// bias/factor the integer formats cannot hold (a weight times the input range of 256 or more, a
// gate bias beyond 2^17).
inline Status quantize_to_integer(const LstmSpec& spec, Span<const float> parameters, const IntegerCalibration& calibration,
                                  Span<std::int8_t> weights, Span<float> scales, Span<std::int32_t> constants,
                                  IntegerParameters* out) {
  EDGELSTM_TRY(validate_spec(spec));
  if (parameters.size() != parameter_count(spec) || weights.size() != integer_weight_count(spec) ||
      scales.size() != integer_scale_count(spec) || constants.size() != integer_constant_count(spec) ||
      !(calibration.input_scale > 0.0f) || !std::isfinite(calibration.input_scale)) {
    return Status::kInvalidArgument;
  }
  for (float p : parameters) {
    if (!std::isfinite(p)) return Status::kNonFinite;
  }
  const float* p = parameters.data();
  std::int8_t* w = weights.data();
  float* s = scales.data();
  std::int32_t* k = constants.data();
  const auto quantize = [&](std::size_t rows, std::size_t cols) {
    quantize_matrix(p, rows, cols, WeightFormat::kInt8, ScaleGranularity::kRow, reinterpret_cast<std::uint8_t*>(w), s);
    p += rows * cols;
    w += rows * cols;
    s += rows;
  };
  const double q15 = 1.0 / 32768.0;
  for (std::size_t l = 0; l < spec.num_layers; ++l) {
    const std::int32_t fraction = calibration.cell_fraction_bits[l];
    if (fraction < 0 || fraction > kStateFractionBits) return Status::kInvalidArgument;
    const std::size_t hidden = spec.hidden(l), rows = 4 * hidden, input = spec.layer_input(l);
    IntegerLayer& layer = out->layers[l];
    layer.weight_ih = w;
    const float* scale_ih = s;
    quantize(rows, input);
    layer.weight_hh = w;
    const float* scale_hh = s;
    quantize(rows, hidden);
    const float* bias_ih = p;
    const float* bias_hh = p + rows;
    p += 2 * rows;
    layer.gates = k;
    layer.cell_fraction_bits = fraction;
    const double input_scale = l == 0 ? static_cast<double>(calibration.input_scale) : q15;
    const double gate = 1 << kGateFractionBits;
    // One shift per layer and sum, set by the row with the largest factor; every row's multiplier
    // is its factor times 2^shift (below 2^31).
    const auto factor_ih = [&](std::size_t r) { return scale_ih[r] * input_scale * gate; };
    const auto factor_hh = [&](std::size_t r) { return scale_hh[r] * q15 * gate; };
    EDGELSTM_TRY(detail::layer_shift(factor_ih, rows, &layer.shift_ih));
    EDGELSTM_TRY(detail::layer_shift(factor_hh, rows, &layer.shift_hh));
    for (std::size_t r = 0; r < rows; ++r, k += kIntegerGateFields) {
      EDGELSTM_TRY(detail::rounded_int32((static_cast<double>(bias_ih[r]) + bias_hh[r]) * gate, &k[0]));
      if (k[0] > kMaxGateBias || k[0] < -kMaxGateBias) return Status::kInvalidArgument;
      EDGELSTM_TRY(detail::rounded_int32(std::ldexp(factor_ih(r), layer.shift_ih), &k[1]));
      EDGELSTM_TRY(detail::rounded_int32(std::ldexp(factor_hh(r), layer.shift_hh), &k[2]));
    }
  }
  out->head.weight = w;
  const float* scale_head = s;
  quantize(spec.output_size, spec.top_hidden());
  out->head.rows = k;
  const double output = 1 << kOutputFractionBits;
  for (std::size_t o = 0; o < spec.output_size; ++o, k += kIntegerHeadFields) {
    EDGELSTM_TRY(detail::rounded_int32(static_cast<double>(p[o]) * output, &k[0]));
    EDGELSTM_TRY(quantize_multiplier(scale_head[o] * q15 * output, &k[1], &k[2]));
  }
  return Status::kOk;
}

}  // namespace edgelstm
