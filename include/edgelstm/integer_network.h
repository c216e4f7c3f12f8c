// IntegerNetwork: full-integer streaming inference for cores without an FPU (rv32imc, the
// ESP32-C3 class) and for the Cortex-M4's DSP instructions. No float operation runs in step().
//
//   weights         int8, one scale per row (the file's int8 tensors, read in place)
//   input x         int16, x = x_q * input_scale (quantize_input)
//   h, gates        Q15 int16;  c: Q(cell_fraction_bits) int16 per layer (calibrated)
//   sums            int32: acc_ih = W_ih x_q, acc_hh = W_hh h_q (exact)
//   pre-activation  Q.12 int32: z = bias + requantize_gate(acc_ih, m_ih, s_ih) + requantize_gate(acc_hh, m_hh, s_hh)
//                   with a multiplier per gate row and one shift per layer for each sum
//   i, f, o = sigmoid_q15(z), g = tanh_q15(z)                       (fixed_point.h)
//   c' = round(f c / 2^15) + round(i g / 2^(30 - F_c)), saturated;  h' = round(o tanh_q15(c') / 2^15)
//   output y        Q16 int32: y_q = bias + requantize(W_head h_q, m, s)
//
// The requantization constants (multipliers per row, shifts per layer) and the calibration (input
// scale, cell formats) are computed on the host (edgelstm quantize --integer) and stored in the model
// file as int32 tensors beside the int8 weights, so the device only reads them.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "fixed_point.h"
#include "integer_kernels.h"
#include "memory_plan.h"
#include "model_format.h"
#include "span.h"
#include "spec.h"
#include "status.h"
#include "window.h"

namespace edgelstm {

inline constexpr int kOutputFractionBits = 16;  // y = y_q / 2^16
inline constexpr std::size_t kIntegerGateFields = 3;  // bias, m_ih, m_hh per gate row
inline constexpr std::size_t kIntegerHeadFields = 3;  // bias, m, s per output
inline constexpr std::int32_t kIntegerFormatVersion = 1;
// |bias| of a gate row in Q.12 (2^17 real): with both requantized sums at most 2^29, z cannot overflow.
inline constexpr std::int32_t kMaxGateBias = std::int32_t{1} << 29;
// "int.config": version, cell fraction bits of layers 0..3, output fraction bits, shift_ih of
// layers 0..3, shift_hh of layers 0..3.
inline constexpr std::size_t kIntegerConfigCount = 2 + 3 * kMaxLayers;

struct IntegerLayer {
  const std::int8_t* weight_ih = nullptr;  // [4H x input], row-major
  const std::int8_t* weight_hh = nullptr;  // [4H x H]
  const std::int32_t* gates = nullptr;     // [4H x kIntegerGateFields]: Q.12 bias, m_ih, m_hh in [0, 2^31)
  std::int32_t shift_ih = 62, shift_hh = 62;  // in [kMinGateShift, 62]
  std::int32_t cell_fraction_bits = 15;    // c = c_q / 2^F, F in [0, 15]
};

struct IntegerHead {
  const std::int8_t* weight = nullptr;  // [O x H_top]
  const std::int32_t* rows = nullptr;   // [O x kIntegerHeadFields]
};

namespace detail {
constexpr std::size_t integer_sum_rows(const LstmSpec& spec) {
  return 4 * spec.max_hidden() > spec.output_size ? 4 * spec.max_hidden() : spec.output_size;
}
constexpr std::size_t widest_input(const LstmSpec& spec) {
  std::size_t widest = spec.input_size;
  for (std::size_t l = 0; l < spec.num_layers; ++l) widest = spec.hidden(l) > widest ? spec.hidden(l) : widest;
  return widest;
}

// sums_ih[r] = g[0] + requantize_gate(sums_ih[r], g[1], shift_ih) + requantize_gate(sums_hh[r], g[2],
// shift_hh), g the row's three constants. On ARMv7E-M in assembly: one LDM for the three
// constants and no register spills, 14 instructions a row where GCC's loop takes 17.
inline void integer_gate_pre_activations(const std::int32_t* g, std::size_t rows, int shift_ih, int shift_hh,
                                         std::int32_t* sums_ih, const std::int32_t* sums_hh) {
#if EDGELSTM_HAVE_ARMV7EM_DSP
  static_assert(kIntegerGateFields == 3, "one LDM of three words per row");
  if (rows == 0) return;
  const std::int32_t round_ih = std::int32_t{1} << (shift_ih - 33), round_hh = std::int32_t{1} << (shift_hh - 33);
  const std::int32_t right_ih = shift_ih - 32, right_hh = shift_hh - 32;
  const std::int32_t* end = sums_hh + rows;
  // LDM fills its registers in ascending order: the three constants' registers are fixed.
  register std::int32_t c0 __asm__("r4");
  register std::int32_t c1 __asm__("r5");
  register std::int32_t c2 __asm__("r6");
  std::int32_t a, b;
  __asm__ volatile(
      "1:\n"
      "ldmia %[g]!, {%[c0], %[c1], %[c2]}\n"
      "ldr %[a], [%[ih]]\n"
      "ldr %[b], [%[hh]], #4\n"
      "smmulr %[a], %[a], %[c1]\n"
      "add %[a], %[a], %[round_ih]\n"
      "asr %[a], %[a], %[right_ih]\n"
      "smmulr %[b], %[b], %[c2]\n"
      "add %[b], %[b], %[round_hh]\n"
      "asr %[b], %[b], %[right_hh]\n"
      "add %[c0], %[c0], %[a]\n"
      "add %[c0], %[c0], %[b]\n"
      "str %[c0], [%[ih]], #4\n"
      "cmp %[hh], %[end]\n"
      "bne 1b\n"
      : [g] "+r"(g), [ih] "+r"(sums_ih), [hh] "+r"(sums_hh), [c0] "=&r"(c0), [c1] "=&r"(c1), [c2] "=&r"(c2),
        [a] "=&r"(a), [b] "=&r"(b)
      : [end] "r"(end), [round_ih] "r"(round_ih), [round_hh] "r"(round_hh), [right_ih] "r"(right_ih),
        [right_hh] "r"(right_hh)
      : "cc", "memory");
#else
  for (std::size_t r = 0; r < rows; ++r, g += kIntegerGateFields) {
    sums_ih[r] = g[0] + requantize_gate(sums_ih[r], g[1], shift_ih) + requantize_gate(sums_hh[r], g[2], shift_hh);
  }
#endif
}

}  // namespace detail

// One integer step of `units` hidden units of a layer (all of them, or a node's share in a hidden
// split): their gate rows (blocks i, f, g, o of `units` rows each) of layer.weight_ih [4 units x
// input] and layer.weight_hh [4 units x recurrent], and their layer.gates constants. Reads x
// (input values) and h_prev (recurrent values: the whole h of the layer), updates c (units, in
// place) and writes the units' new h to h_out, which may alias h_prev (both sums are formed
// before anything is written). packed, sums_ih and sums_hh are scratch of
// packed_activation_words(max(input, recurrent)) and 4 units values.
inline void integer_lstm_units_step(const IntegerLayer& layer, std::size_t units, std::size_t input,
                                    std::size_t recurrent, const std::int16_t* x, const std::int16_t* h_prev,
                                    std::int16_t* c, std::int16_t* h_out, std::uint32_t* packed,
                                    std::int32_t* sums_ih, std::int32_t* sums_hh) {
  const std::size_t rows = 4 * units;
  matvec_s8_s16(layer.weight_ih, rows, input, x, packed, sums_ih);
  matvec_s8_s16(layer.weight_hh, rows, recurrent, h_prev, packed, sums_hh);
  // Pre-activations (Q.12) replace the ih sums.
  detail::integer_gate_pre_activations(layer.gates, rows, layer.shift_ih, layer.shift_hh, sums_ih, sums_hh);
  const int fraction = layer.cell_fraction_bits;
  for (std::size_t j = 0; j < units; ++j) {
    const std::int32_t i = sigmoid_q15(sums_ih[j]);
    const std::int32_t f = sigmoid_q15(sums_ih[units + j]);
    const std::int32_t g = tanh_q15(sums_ih[2 * units + j]);
    const std::int32_t o = sigmoid_q15(sums_ih[3 * units + j]);
    const std::int32_t cell = rounding_shift_right(f * c[j], kStateFractionBits) +
                              rounding_shift_right(i * g, 2 * kStateFractionBits - fraction);
    c[j] = saturate_q15(cell);
    h_out[j] = static_cast<std::int16_t>(
        rounding_shift_right(o * tanh_q15(to_gate_format(c[j], fraction)), kStateFractionBits));
  }
}

namespace detail {
constexpr std::int32_t add_saturated(std::int32_t a, std::int32_t b) {
  const std::int64_t sum = static_cast<std::int64_t>(a) + b;
  return static_cast<std::int32_t>(sum > INT32_MAX ? INT32_MAX : sum < INT32_MIN ? INT32_MIN : sum);
}
}  // namespace detail

// The integer head: y_q = bias + requantize(W_head h_q, m, s) for `outputs` rows of `hidden`
// columns (Q16 int32). packed and sums are scratch as above.
inline void integer_head_step(const IntegerHead& head, std::size_t outputs, std::size_t hidden, const std::int16_t* h,
                              std::uint32_t* packed, std::int32_t* sums, std::int32_t* y) {
  matvec_s8_s16(head.weight, outputs, hidden, h, packed, sums);
  for (std::size_t o = 0; o < outputs; ++o) {
    const std::int32_t* row = head.rows + kIntegerHeadFields * o;
    y[o] = detail::add_saturated(row[0], requantize(sums[o], row[1], row[2]));
  }
}

// Arena bytes of IntegerNetwork: two int32 sum buffers (4 max(H) or O rows), packed activations,
// int16 h and c of every layer.
constexpr std::size_t integer_inference_bytes(const LstmSpec& spec) {
  const std::size_t widest = detail::widest_input(spec);
  const std::size_t sums = 2 * detail::integer_sum_rows(spec) * 4;
  const std::size_t packed = packed_activation_words(widest) * 4;
  const std::size_t state = 2 * spec.total_hidden() * 2;
  return detail::align_up(sums + packed + state);
}

// M = multiplier / 2^shift with multiplier in [2^30, 2^31) and shift in [1, 62], rounded to the
// nearest multiplier; M too small for that range becomes 0 (multiplier 0, shift 62). Host side:
// kInvalidArgument if M is negative, not finite, or >= 2^30.
inline Status quantize_multiplier(double real, std::int32_t* multiplier, std::int32_t* shift) {
  if (!(real >= 0.0) || !(real < 1073741824.0)) return Status::kInvalidArgument;
  int exponent = 0;
  const double fraction = std::frexp(real, &exponent);  // real = fraction * 2^exponent, fraction in [0.5, 1)
  auto mantissa = static_cast<std::int64_t>(std::llround(fraction * 2147483648.0));
  if (mantissa == (std::int64_t{1} << 31)) {
    mantissa /= 2;
    ++exponent;
  }
  const int s = 31 - exponent;
  if (real == 0.0 || s > 62) {
    *multiplier = 0;
    *shift = 62;
  } else {
    *multiplier = static_cast<std::int32_t>(mantissa);
    *shift = s;
  }
  return Status::kOk;
}

class IntegerNetwork {
 public:
  // Binds to integer parameters (which must outlive the network) and an arena of
  // integer_inference_bytes(spec) bytes. Checks shapes, the constants' ranges and that no row is
  // longer than kMaxIntegerColumns.
  Status bind(const LstmSpec& spec, Span<const IntegerLayer> layers, const IntegerHead& head,
              Span<std::uint8_t> arena) {
    EDGELSTM_TRY(validate_spec(spec));
    if (layers.size() != spec.num_layers || head.weight == nullptr || head.rows == nullptr) {
      return Status::kInvalidArgument;
    }
    for (std::size_t l = 0; l < spec.num_layers; ++l) {
      const IntegerLayer& layer = layers[l];
      if (layer.weight_ih == nullptr || layer.weight_hh == nullptr || layer.gates == nullptr ||
          layer.cell_fraction_bits < 0 || layer.cell_fraction_bits > kStateFractionBits ||
          !valid_gate_shift(layer.shift_ih) || !valid_gate_shift(layer.shift_hh) ||
          spec.layer_input(l) > kMaxIntegerColumns || spec.hidden(l) > kMaxIntegerColumns) {
        return Status::kInvalidArgument;
      }
      for (std::size_t r = 0; r < 4 * spec.hidden(l); ++r) {
        const std::int32_t* g = layer.gates + kIntegerGateFields * r;
        if (g[1] < 0 || g[2] < 0 || g[0] > kMaxGateBias || g[0] < -kMaxGateBias) {
          return Status::kInvalidArgument;
        }
      }
    }
    for (std::size_t o = 0; o < spec.output_size; ++o) {
      const std::int32_t* row = head.rows + kIntegerHeadFields * o;
      if (!valid_constant(row[1], row[2])) return Status::kInvalidArgument;
    }
    if (arena.data() == nullptr || arena.size() < integer_inference_bytes(spec)) return Status::kBufferTooSmall;
    if (reinterpret_cast<std::uintptr_t>(arena.data()) % kArenaAlignment != 0) return Status::kMisalignedBuffer;
    spec_ = spec;
    for (std::size_t l = 0; l < spec.num_layers; ++l) layers_[l] = layers[l];
    head_ = head;
    const std::size_t rows = detail::integer_sum_rows(spec);
    sums_ih_ = reinterpret_cast<std::int32_t*>(arena.data());
    sums_hh_ = sums_ih_ + rows;
    packed_ = reinterpret_cast<std::uint32_t*>(sums_hh_ + rows);
    state_ = reinterpret_cast<std::int16_t*>(packed_ + packed_activation_words(detail::widest_input(spec)));
    reset_state();
    return Status::kOk;
  }

  // Binds to an int8 model file that carries the integer tensors (edgelstm quantize --integer);
  // its bytes must outlive the network. kMalformedModel when the file has no integer path or an
  // input scale that is not above zero, kNonFiniteModel when that scale is NaN or Inf.
  Status bind(const ModelView& model, Span<std::uint8_t> arena) {
    const LstmSpec& spec = model.spec();
    if (model.weight_format() != WeightFormat::kInt8) return Status::kMalformedModel;
    ModelTensor config;
    EDGELSTM_TRY(typed_tensor(model, "int.config", TensorType::kInt32, kIntegerConfigCount, &config));
    const auto* settings = static_cast<const std::int32_t*>(config.data);
    if (settings[0] != kIntegerFormatVersion || settings[1 + kMaxLayers] != kOutputFractionBits) {
      return Status::kMalformedModel;
    }
    ModelTensor scale;
    EDGELSTM_TRY(typed_tensor(model, "int.input_scale", TensorType::kFloat32, 1, &scale));
    // A finite float above zero, tested on its bits (this path runs without an FPU).
    const std::uint32_t scale_bits = detail::get_u32(static_cast<const std::uint8_t*>(scale.data));
    if ((scale_bits & 0x7F800000u) == 0x7F800000u) return Status::kNonFiniteModel;
    if ((scale_bits & 0x80000000u) != 0 || scale_bits == 0) return Status::kMalformedModel;
    IntegerLayer layers[kMaxLayers];
    detail::ParameterTensor names[4 * kMaxLayers + 2];
    (void)detail::parameter_tensors(spec, model.weight_format(), names);  // weight_ih, weight_hh, bias per layer
    for (std::size_t l = 0; l < spec.num_layers; ++l) {
      ModelTensor ih, hh, gates;
      EDGELSTM_TRY(model.tensor(names[3 * l].name, &ih));
      EDGELSTM_TRY(model.tensor(names[3 * l + 1].name, &hh));
      char name[] = "int.l0.gates";
      name[5] = static_cast<char>('0' + l);
      EDGELSTM_TRY(typed_tensor(model, name, TensorType::kInt32, 4 * spec.hidden(l) * kIntegerGateFields, &gates));
      layers[l].weight_ih = static_cast<const std::int8_t*>(ih.data);
      layers[l].weight_hh = static_cast<const std::int8_t*>(hh.data);
      layers[l].gates = static_cast<const std::int32_t*>(gates.data);
      layers[l].cell_fraction_bits = settings[1 + l];
      layers[l].shift_ih = settings[2 + kMaxLayers + l];
      layers[l].shift_hh = settings[2 + 2 * kMaxLayers + l];
    }
    ModelTensor head_weight, head_rows;
    EDGELSTM_TRY(model.tensor("head.weight", &head_weight));
    EDGELSTM_TRY(typed_tensor(model, "int.head", TensorType::kInt32, spec.output_size * kIntegerHeadFields, &head_rows));
    IntegerHead head{static_cast<const std::int8_t*>(head_weight.data), static_cast<const std::int32_t*>(head_rows.data)};
    const Status bound = bind(spec, Span<const IntegerLayer>(layers, spec.num_layers), head, arena);
    if (bound == Status::kInvalidArgument) return Status::kMalformedModel;  // constants out of range
    EDGELSTM_TRY(bound);
    input_scale_ = *static_cast<const float*>(scale.data);
    return Status::kOk;
  }

  void reset_state() {
    if (state_ != nullptr) {
      for (std::size_t k = 0; k < 2 * spec_.total_hidden(); ++k) state_[k] = 0;
    }
  }

  // One time step: x_q (input_size, int16) in, y_q (output_size, Q16 int32) out; h and c advance.
  Status step(Span<const std::int16_t> x, Span<std::int32_t> y) {
    if (state_ == nullptr) return Status::kNotBound;
    if (x.size() != spec_.input_size || y.size() != spec_.output_size) return Status::kInvalidArgument;
    const std::int16_t* input = x.data();
    std::int16_t* state = state_;
    for (std::size_t l = 0; l < spec_.num_layers; ++l) {
      const std::size_t hidden = spec_.hidden(l);
      std::int16_t* h = state;
      integer_lstm_units_step(layers_[l], hidden, spec_.layer_input(l), hidden, input, h, state + hidden, h, packed_,
                              sums_ih_, sums_hh_);
      input = h;
      state += 2 * hidden;
    }
    integer_head_step(head_, spec_.output_size, spec_.top_hidden(), input, packed_, sums_ih_, y.data());
    return Status::kOk;
  }

  // A window of steps (x: steps * input_size); y: the last step's output (kLastStep) or every
  // step's (kEveryStep).
  Status forward(Span<const std::int16_t> x, Span<std::int32_t> y) {
    return detail::forward_window(spec_, x, y, [this](Span<const std::int16_t> x_t, Span<std::int32_t> y_t) {
      return step(x_t, y_t);
    });
  }

  // The input's quantization (from the model file; 0 when bound without one).
  float input_scale() const { return input_scale_; }
  // x_q = clamp(round(x / input_scale), -32767, 32767): for callers that hold float readings
  // (0 for NaN, or when bound without a model file's input scale).
  std::int16_t quantize_input(float x) const {
    if (!(input_scale_ > 0.0f) || x != x) return 0;
    const float q = std::nearbyint(x / input_scale_);
    return static_cast<std::int16_t>(q > 32767.0f ? 32767 : q < -32767.0f ? -32767 : static_cast<int>(q));
  }
  static float output_value(std::int32_t y) { return static_cast<float>(y) / static_cast<float>(1 << kOutputFractionBits); }

  // Hidden and cell state of a layer (Q15 and Q(cell_fraction_bits)); empty for a layer the spec
  // does not have (or an unbound network).
  Span<const std::int16_t> hidden_state(std::size_t layer) const {
    if (!has_layer(layer)) return Span<const std::int16_t>();
    return Span<const std::int16_t>(state_ + state_offset(layer), spec_.hidden(layer));
  }
  Span<const std::int16_t> cell_state(std::size_t layer) const {
    if (!has_layer(layer)) return Span<const std::int16_t>();
    return Span<const std::int16_t>(state_ + state_offset(layer) + spec_.hidden(layer), spec_.hidden(layer));
  }
  const LstmSpec& spec() const { return spec_; }

 private:
  static constexpr bool valid_constant(std::int32_t multiplier, std::int32_t shift) {
    return shift >= 1 && shift <= 62 && (multiplier == 0 || multiplier >= (std::int32_t{1} << 30));
  }
  static constexpr bool valid_gate_shift(std::int32_t shift) { return shift >= kMinGateShift && shift <= 62; }
  static Status typed_tensor(const ModelView& model, const char* name, TensorType type, std::size_t count,
                             ModelTensor* out) {
    EDGELSTM_TRY(model.tensor(name, out));
    return out->type == type && out->count == count ? Status::kOk : Status::kMalformedModel;
  }
  bool has_layer(std::size_t layer) const {
    return state_ != nullptr && layer < spec_.num_layers && layer < kMaxLayers;
  }
  std::size_t state_offset(std::size_t layer) const {
    std::size_t offset = 0;
    for (std::size_t l = 0; l < layer; ++l) offset += 2 * spec_.hidden(l);
    return offset;
  }

  LstmSpec spec_{};
  IntegerLayer layers_[kMaxLayers];
  IntegerHead head_{};
  std::int32_t* sums_ih_ = nullptr;
  std::int32_t* sums_hh_ = nullptr;
  std::uint32_t* packed_ = nullptr;
  std::int16_t* state_ = nullptr;
  float input_scale_ = 0.0f;
};

}  // namespace edgelstm
