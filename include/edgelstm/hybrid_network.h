// HybridNetwork: streaming inference with weight-only quantized weights (int16, int8 or int4 with
// per-tensor or per-row scales, read in place, e.g. from flash), float activations and state. The
// same maths as Network's forward, with matvec_accumulate_quantized in place of the float kernel.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lstm_cell.h"
#include "memory_plan.h"
#include "model_format.h"
#include "quantize.h"
#include "span.h"
#include "spec.h"
#include "status.h"
#include "window.h"

namespace edgelstm {

struct HybridLayer {
  QuantizedMatrix weight_ih;  // [4H x input]
  QuantizedMatrix weight_hh;  // [4H x H]
  QuantizedMatrix bias;       // [4H x 1]: bias_ih + bias_hh, quantized (files: int16, quantize_fused_bias)
};

namespace detail {

// kOk when `layers` and the head have the spec's shapes: per layer W_ih [4H x input], W_hh [4H x H]
// and the fused bias [4H x 1] in an integer format, all with data; the head [O x H_top].
inline Status check_hybrid_shapes(const LstmSpec& spec, Span<const HybridLayer> layers, const QuantizedMatrix& head_weight,
                                  const float* head_bias) {
  if (layers.size() != spec.num_layers || head_bias == nullptr) return Status::kInvalidArgument;
  for (std::size_t l = 0; l < spec.num_layers; ++l) {
    const HybridLayer& layer = layers[l];
    const std::size_t rows = 4 * spec.hidden(l);
    if (layer.weight_ih.rows != rows || layer.weight_ih.cols != spec.layer_input(l) || layer.weight_hh.rows != rows ||
        layer.weight_hh.cols != spec.hidden(l) || layer.bias.rows != rows || layer.bias.cols != 1 ||
        layer.bias.format == WeightFormat::kFloat32 || layer.bias.data == nullptr || layer.bias.scales == nullptr ||
        layer.weight_ih.data == nullptr || layer.weight_hh.data == nullptr) {
      return Status::kInvalidArgument;
    }
  }
  if (head_weight.rows != spec.output_size || head_weight.cols != spec.top_hidden() || head_weight.data == nullptr) {
    return Status::kInvalidArgument;
  }
  return Status::kOk;
}

// Binds `network` (a HybridNetwork or a PackedInt8Network: anything with HybridNetwork's bind from
// layers) to the weight matrices, fused biases and head of a quantized model file (read by
// read_model). A float model file is refused (kInvalidArgument).
template <typename QuantizedNetwork>
inline Status bind_quantized_model(QuantizedNetwork& network, const ModelView& model, Span<std::uint8_t> arena) {
  if (model.weight_format() == WeightFormat::kFloat32) return Status::kInvalidArgument;
  const LstmSpec& spec = model.spec();
  ParameterTensor names[4 * kMaxLayers + 2];  // weight_ih, weight_hh, bias per layer
  (void)parameter_tensors(spec, model.weight_format(), names);
  HybridLayer layers[kMaxLayers];
  for (std::size_t l = 0; l < spec.num_layers; ++l) {
    EDGELSTM_TRY(model.quantized_matrix(names[3 * l].name, &layers[l].weight_ih));
    EDGELSTM_TRY(model.quantized_matrix(names[3 * l + 1].name, &layers[l].weight_hh));
    EDGELSTM_TRY(model.quantized_matrix(names[3 * l + 2].name, &layers[l].bias));
  }
  QuantizedMatrix head;
  EDGELSTM_TRY(model.quantized_matrix("head.weight", &head));
  ModelTensor head_bias;
  EDGELSTM_TRY(model.tensor("head.bias", &head_bias));
  return network.bind(spec, Span<const HybridLayer>(layers, spec.num_layers), head, static_cast<const float*>(head_bias.data),
                      arena);
}

}  // namespace detail

class HybridNetwork {
 public:
  // Binds to quantized weights (which must outlive the network) and an arena of
  // inference_in_place_bytes(spec) bytes for the state. Shapes are checked against the spec.
  Status bind(const LstmSpec& spec, Span<const HybridLayer> layers, const QuantizedMatrix& head_weight,
              const float* head_bias, Span<std::uint8_t> arena) {
    EDGELSTM_TRY(validate_spec(spec));
    EDGELSTM_TRY(detail::check_hybrid_shapes(spec, layers, head_weight, head_bias));
    const MemoryPlan plan = plan_memory(spec, Purpose::kInferenceInPlace);
    if (arena.data() == nullptr || arena.size() < plan.total_bytes) return Status::kBufferTooSmall;
    if (reinterpret_cast<std::uintptr_t>(arena.data()) % kArenaAlignment != 0) return Status::kMisalignedBuffer;
    spec_ = spec;
    for (std::size_t l = 0; l < spec.num_layers; ++l) layers_[l] = layers[l];
    head_weight_ = head_weight;
    head_bias_ = head_bias;
    state_ = reinterpret_cast<float*>(arena.data() + plan.state.offset);
    scratch_ = reinterpret_cast<float*>(arena.data() + plan.gate_scratch.offset);
    reset_state();
    return Status::kOk;
  }

  // Binds to a quantized model file read by read_model (its bytes must outlive the network).
  Status bind(const ModelView& model, Span<std::uint8_t> arena) { return detail::bind_quantized_model(*this, model, arena); }

  void reset_state() {
    if (state_ != nullptr) {
      for (std::size_t k = 0; k < 2 * spec_.total_hidden(); ++k) state_[k] = 0.0f;
    }
  }

  // One time step: x (input_size) in, y (output_size) out; h and c advance.
  Status step(Span<const float> x, Span<float> y) {
    if (state_ == nullptr) return Status::kNotBound;
    if (x.size() != spec_.input_size || y.size() != spec_.output_size) return Status::kInvalidArgument;
    if (!all_finite(x.data(), x.size())) return Status::kNonFinite;
    const float* input = x.data();
    float* state = state_;
    for (std::size_t l = 0; l < spec_.num_layers; ++l) {
      const std::size_t hidden = spec_.hidden(l);
      float* h = state;
      float* c = state + hidden;
      const QuantizedMatrix& bias = layers_[l].bias;
      for (std::size_t r = 0; r < 4 * hidden; ++r) scratch_[r] = static_cast<float>(bias.value(r, 0)) * bias.scale(r);
      matvec_accumulate_quantized(layers_[l].weight_ih, input, scratch_);
      matvec_accumulate_quantized(layers_[l].weight_hh, h, scratch_);
      lstm_cell_finish(hidden, scratch_, c, c, h, h);
      input = h;
      state += 2 * hidden;
    }
    for (std::size_t o = 0; o < spec_.output_size; ++o) y[o] = head_bias_[o];
    matvec_accumulate_quantized(head_weight_, input, y.data());
    return Status::kOk;
  }

  // A window of steps (x: steps * input_size); y: the last step's output (kLastStep) or every
  // step's (kEveryStep), as Network::forward: a NaN or Inf anywhere in the window is refused
  // before the first step.
  Status forward(Span<const float> x, Span<float> y) {
    return detail::forward_window(spec_, x, y, [this](Span<const float> x_t, Span<float> y_t) { return step(x_t, y_t); });
  }

  const LstmSpec& spec() const { return spec_; }

 private:
  LstmSpec spec_{};
  HybridLayer layers_[kMaxLayers];
  QuantizedMatrix head_weight_{};
  const float* head_bias_ = nullptr;
  float* state_ = nullptr;
  float* scratch_ = nullptr;
};

}  // namespace edgelstm
