// Streaming inference with int8 weights on a host (a gateway that runs many models): the weights of
// a quantized model file (the same int8 matrices, scales and fused biases HybridNetwork reads),
// repacked once into panels for byte dot-product instructions (AVX-512 VNNI, AVX-VNNI; AVX2 and
// portable C compute the same integers). Per step and layer, the layer input and h are each
// quantized to int16 with one scale per step (max |value| / 32767), the gate sums of int8 weight
// times int16 activation are exact int32, and one float multiply-add per row applies the row's
// weight scale, the activations' scale and the bias; activations and state stay float.
//
//   alignas(64) static std::uint8_t arena[edgelstm::packed_int8_inference_bytes(kSpec)];
//   edgelstm::PackedInt8Network fast;
//   if (fast.bind(model, arena) != edgelstm::Status::kOk) { ... }   // an int8 model file
//   fast.step(reading, prediction);
//
// Against HybridNetwork with the same file, the only difference is the int16 rounding of the
// activations (a relative step of 1/32767 of the largest one): the outputs agree to about 1e-5,
// a thousandth of what int8 weights change against float (tests/packed_int8_network_test.cpp).
// The gate pre-activations are the same on every instruction set, bit for bit (the activations
// after them use lstm_cell_finish, whose AVX-512, AVX2 and scalar forms differ by an ulp or two),
// and the outputs are the same run to run. On the development machine the H = 100 step takes
// less than half the float PackedNetwork's time: a quarter of the weight bytes, and 64
// multiply-adds per instruction instead of 16 (docs/speed.md).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "arena_state.h"
#include "hybrid_network.h"
#include "kernels.h"
#include "lstm_cell.h"
#include "model_format.h"
#include "packed_int8_kernels.h"
#include "packed_network.h"
#include "quantize.h"
#include "span.h"
#include "spec.h"
#include "status.h"
#include "window.h"

namespace edgelstm {

namespace detail {

constexpr std::size_t int8_groups(std::size_t cols) { return (cols + kInt8Group - 1) / kInt8Group; }

// Byte offsets of a PackedInt8Network's regions, each on a kPackedAlignment boundary.
struct PackedInt8Plan {
  struct Layer {
    std::size_t weights = 0;   // panels: packed_rows(H) x 4 (groups(input) + groups(H)) bytes
    std::size_t row_sums = 0;  // int32 [2][packed_rows(H)]: sum of each row's weights, input then h part
    std::size_t scales = 0;    // float [2][packed_rows(H)]: each row's weight scale in W_ih, then in W_hh
    std::size_t bias = 0;      // float [packed_rows(H)]: the dequantized fused bias
    std::size_t h = 0;         // float [H]
    std::size_t c = 0;         // float [H]
  };
  Layer layers[kMaxLayers];
  std::size_t activations = 0;  // 2 segments x (high, low bytes, int16 values), widest layer
  std::size_t sums = 0;         // int32 [2][16 x kInt8MaxPanelVectors]: one panel's sums (not with AVX-512 VNNI)
  std::size_t gates = 0;        // float [packed_rows(max H)]
  std::size_t head = 0;         // float O x H_top dequantized head weight, then O bias
  std::size_t total_bytes = 0;
};

constexpr std::size_t int8_padded(std::size_t cols) { return int8_groups(cols) * kInt8Group; }

constexpr PackedInt8Plan plan_packed_int8(const LstmSpec& spec) {
  PackedInt8Plan plan;
  std::size_t cursor = 0;
  const auto take = [&cursor](std::size_t bytes) {
    const std::size_t offset = cursor;
    cursor = packed_align(cursor + bytes);
    return offset;
  };
  std::size_t widest = 0;
  for (std::size_t layer = 0; layer < spec.num_layers; ++layer) {
    const std::size_t hidden = spec.hidden(layer), rows = packed_rows(hidden), input = spec.layer_input(layer);
    plan.layers[layer].weights = take(rows * (int8_padded(input) + int8_padded(hidden)));
    plan.layers[layer].row_sums = take(2 * rows * sizeof(std::int32_t));
    plan.layers[layer].scales = take(2 * rows * sizeof(float));
    plan.layers[layer].bias = take(rows * sizeof(float));
    plan.layers[layer].h = take(hidden * sizeof(float));
    plan.layers[layer].c = take(hidden * sizeof(float));
    widest = int8_padded(input) > widest ? int8_padded(input) : widest;
    widest = int8_padded(hidden) > widest ? int8_padded(hidden) : widest;
  }
  plan.activations = take(2 * widest * 4);  // per segment: high and low bytes, int16 values
  plan.sums = take(2 * kPanelVector * kInt8MaxPanelVectors * sizeof(std::int32_t));
  plan.gates = take(packed_rows(spec.max_hidden()) * sizeof(float));
  plan.head = take((spec.output_size * spec.top_hidden() + spec.output_size) * sizeof(float));
  plan.total_bytes = cursor;
  return plan;
}

// The four quantized-activation arrays of segment `which` (0: the layer input, 1: h).
inline QuantizedActivations activation_segment(std::uint8_t* base, std::size_t widest, std::size_t which) {
  std::uint8_t* segment = base + which * widest * 4;
  return {segment, segment + widest, reinterpret_cast<std::int16_t*>(segment + 2 * widest)};
}

}  // namespace detail

// Arena bytes of a PackedInt8Network for `spec`; zero for an invalid spec.
constexpr std::size_t packed_int8_inference_bytes(const LstmSpec& spec) {
  return validate_spec(spec) == Status::kOk ? detail::plan_packed_int8(spec).total_bytes : 0;
}

class PackedInt8Network : public detail::ArenaLstmState<PackedInt8Network> {
 public:
  // Binds to an arena of packed_int8_inference_bytes(spec) bytes on a kPackedAlignment boundary and
  // packs the int8 weights (per-tensor or per-row scales) and fused biases of `layers` and the head
  // (any format); resets the state. Refuses weight formats other than int8 (kInvalidArgument) and
  // the shapes HybridNetwork refuses. The weights are copied: they need not outlive the network.
  Status bind(const LstmSpec& spec, Span<const HybridLayer> layers, const QuantizedMatrix& head_weight,
              const float* head_bias, Span<std::uint8_t> arena) {
    EDGELSTM_TRY(validate_spec(spec));
    EDGELSTM_TRY(detail::check_hybrid_shapes(spec, layers, head_weight, head_bias));
    for (std::size_t l = 0; l < spec.num_layers; ++l) {
      if (layers[l].weight_ih.format != WeightFormat::kInt8 || layers[l].weight_hh.format != WeightFormat::kInt8) {
        return Status::kInvalidArgument;
      }
    }
    const detail::PackedInt8Plan plan = detail::plan_packed_int8(spec);
    if (arena.data() == nullptr || arena.size() < plan.total_bytes) return Status::kBufferTooSmall;
    if (reinterpret_cast<std::uintptr_t>(arena.data()) % kPackedAlignment != 0) return Status::kMisalignedBuffer;
    spec_ = spec;
    plan_ = plan;
    base_ = arena.data();
    widest_ = 0;
    for (std::size_t l = 0; l < spec.num_layers; ++l) {
      widest_ = detail::int8_padded(spec.layer_input(l)) > widest_ ? detail::int8_padded(spec.layer_input(l)) : widest_;
      widest_ = detail::int8_padded(spec.hidden(l)) > widest_ ? detail::int8_padded(spec.hidden(l)) : widest_;
      pack_layer(l, layers[l]);
    }
    float* head = at<float>(plan_.head);
    const std::size_t top = spec.top_hidden(), out = spec.output_size;
    for (std::size_t o = 0; o < out; ++o) {
      for (std::size_t k = 0; k < top; ++k) head[o * top + k] = static_cast<float>(head_weight.value(o, k)) * head_weight.scale(o);
      head[out * top + o] = head_bias[o];
    }
    reset_state();
    return Status::kOk;
  }

  // Binds to an int8 model file read by read_model (its bytes may be released after binding).
  Status bind(const ModelView& model, Span<std::uint8_t> arena) { return detail::bind_quantized_model(*this, model, arena); }

  bool bound() const { return base_ != nullptr; }
  const LstmSpec& spec() const { return spec_; }
  std::size_t bytes_used() const { return plan_.total_bytes; }

  // One streaming time step, as HybridNetwork::step.
  Status step(Span<const float> x, Span<float> y) {
    EDGELSTM_TRY(check_step(x, y));
    const float* input = x.data();
    float* gates = at<float>(plan_.gates);
    for (std::size_t l = 0; l < spec_.num_layers; ++l) {
      const std::size_t hidden = spec_.hidden(l), in = spec_.layer_input(l);
      gate_sums(l, input, in, hidden, gates);
      lstm_cell_finish(hidden, gates, state_c(l), state_c(l), state_h(l), state_h(l));
      input = state_h(l);
    }
    backwards_ = !backwards_;
    dense_head(at<float>(plan_.head), spec_.output_size, spec_.top_hidden(), input, y.data());
    return Status::kOk;
  }

 private:
  friend class detail::ArenaLstmState<PackedInt8Network>;
  template <typename T>
  T* at(std::size_t offset) const { return reinterpret_cast<T*>(base_ + offset); }
  float* state_h(std::size_t layer) const { return at<float>(plan_.layers[layer].h); }
  float* state_c(std::size_t layer) const { return at<float>(plan_.layers[layer].c); }

  // gates[r] = bias[r] + scale_ih[r] s_a sum_k w_ih[r][k] a_k + scale_hh[r] s_b sum_k w_hh[r][k] b_k,
  // a and b the layer input and h as int16 with their scales s_a and s_b: the two exact integer
  // sums panel by panel, then one pass of float arithmetic in a fixed order (the same on every
  // instruction set: products, then one fused multiply-add, then the bias). The panels are
  // independent, so as in PackedNetwork they run last to first every other step: a step starts
  // on the panels the previous one read last, still in L1.
  void gate_sums(std::size_t layer, const float* input, std::size_t in, std::size_t hidden, float* gates) const {
    const detail::PackedInt8Plan::Layer& regions = plan_.layers[layer];
    std::uint8_t* activations = at<std::uint8_t>(plan_.activations);
    detail::Int8PanelOperands p;
    p.a = detail::activation_segment(activations, widest_, 0);
    p.b = detail::activation_segment(activations, widest_, 1);
    const std::size_t in_padded = detail::int8_padded(in), hidden_padded = detail::int8_padded(hidden);
    p.s_a = detail::quantize_activations(input, in, in_padded, detail::activation_limit(in_padded), p.a);
    p.s_b = detail::quantize_activations(state_h(layer), hidden, hidden_padded, detail::activation_limit(hidden_padded), p.b);
    p.groups_a = in_padded / detail::kInt8Group;
    p.groups_b = hidden_padded / detail::kInt8Group;
    const std::size_t rows = detail::packed_rows(hidden), vectors = rows / detail::kPanelVector;
    const std::size_t panels = detail::int8_panel_count(vectors);
    const std::int8_t* weights = at<std::int8_t>(regions.weights);
    const std::int32_t* row_sums = at<std::int32_t>(regions.row_sums);
    const float* scales = at<float>(regions.scales);
    const float* bias = at<float>(regions.bias);
    std::int32_t* sums = at<std::int32_t>(plan_.sums);
    std::size_t first = backwards_ ? rows : 0;
    for (std::size_t i = 0; i < panels; ++i) {
      const std::size_t panel = backwards_ ? panels - 1 - i : i;
      const std::size_t v = detail::int8_panel_vectors(vectors, panel);
      if (backwards_) first -= detail::kPanelVector * v;
      p.weights = weights + first * (in_padded + hidden_padded);
      p.row_sums_a = row_sums + first;
      p.row_sums_b = row_sums + rows + first;
      p.scale_a = scales + first;
      p.scale_b = scales + rows + first;
      p.bias = bias + first;
      detail::panel_int8_gates_any(v, p, sums, gates + first);
      if (!backwards_) first += detail::kPanelVector * v;
    }
  }

  // Packs one layer: int8 panels (zero rows and columns as padding), each row's weight sums per
  // segment, the row scales of both matrices and the dequantized fused bias.
  void pack_layer(std::size_t layer, const HybridLayer& weights) {
    const detail::PackedInt8Plan::Layer& regions = plan_.layers[layer];
    const std::size_t in = spec_.layer_input(layer), hidden = spec_.hidden(layer), real_rows = 4 * hidden;
    const std::size_t rows = detail::packed_rows(hidden), vectors = rows / detail::kPanelVector;
    const std::size_t in_padded = detail::int8_padded(in), hidden_padded = detail::int8_padded(hidden);
    std::int8_t* out = at<std::int8_t>(regions.weights);
    std::int32_t* row_sums = at<std::int32_t>(regions.row_sums);
    float* scales = at<float>(regions.scales);
    float* bias = at<float>(regions.bias);
    for (std::size_t p = 0, first = 0; p < detail::int8_panel_count(vectors); ++p) {
      const std::size_t v = detail::int8_panel_vectors(vectors, p);
      std::int8_t* panel = out + first * (in_padded + hidden_padded);
      const QuantizedMatrix* matrices[2] = {&weights.weight_ih, &weights.weight_hh};
      const std::size_t widths[2] = {in_padded, hidden_padded};
      std::int8_t* segment = panel;
      for (std::size_t s = 0; s < 2; ++s) {
        const QuantizedMatrix& m = *matrices[s];
        for (std::size_t i = 0; i < 16 * v; ++i) {
          const std::size_t r = first + i;
          std::int32_t sum = 0;
          for (std::size_t k = 0; k < widths[s]; ++k) {
            const int q = r < real_rows && k < m.cols ? m.value(r, k) : 0;
            // group k / 4, vector i / 16, row i % 16, column k % 4
            segment[(k / 4) * 64 * v + (i / 16) * 64 + (i % 16) * 4 + k % 4] = static_cast<std::int8_t>(q);
            sum += q;
          }
          row_sums[s * rows + r] = sum;
          scales[s * rows + r] = r < real_rows ? m.scale(r) : 0.0f;
        }
        segment += 16 * v * widths[s];
      }
      first += 16 * v;
    }
    for (std::size_t r = 0; r < rows; ++r) {
      bias[r] = r < real_rows ? static_cast<float>(weights.bias.value(r, 0)) * weights.bias.scale(r) : 0.0f;
    }
  }

  LstmSpec spec_{};
  detail::PackedInt8Plan plan_{};
  std::uint8_t* base_ = nullptr;
  std::size_t widest_ = 0;
  bool backwards_ = false;  // the panels' order in the next step (see gate_sums)
};

}  // namespace edgelstm
