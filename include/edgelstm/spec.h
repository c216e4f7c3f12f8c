// LstmSpec: the compile-time description of a stacked LSTM network with a dense output head.
//
//   input x_t (input_size) -> LSTM layer 0 (hidden_size[0]) -> ... -> LSTM layer L-1
//   -> dense head (output_size), applied to the last step only or to every step of the window.
//
// A spec is a plain aggregate so that firmware can declare it constexpr and size a static arena:
//
//   constexpr edgelstm::LstmSpec kSpec = edgelstm::make_spec(1, 100, 1, 1, 6);
//   alignas(edgelstm::kArenaAlignment) static std::uint8_t arena[edgelstm::train_bytes(kSpec,
//       edgelstm::OptimizerKind::kSgd)];
#pragma once

#include <cstddef>
#include <cstdint>

#include "status.h"

namespace edgelstm {

inline constexpr std::size_t kMaxLayers = 4;

// What the head computes and which loss applies to it.
enum class Task : std::uint8_t {
  kRegression,      // linear outputs; MSE or Huber loss against float targets
  kClassification,  // logits; softmax cross-entropy against integer class labels
};

// Which time steps of the window produce an output.
enum class OutputMode : std::uint8_t {
  kLastStep,   // one output vector per window, from h at the last step
  kEveryStep,  // one output vector per step (sequence-to-sequence)
};

struct LstmSpec {
  std::uint16_t input_size = 1;                 // features per time step
  std::uint8_t num_layers = 1;                  // stacked LSTM layers, 1..kMaxLayers
  std::uint16_t hidden_size[kMaxLayers] = {};   // hidden units of each layer (first num_layers used)
  std::uint16_t output_size = 1;                // regression targets or classes
  std::uint16_t window = 1;                     // time steps per training window (BPTT length)
  Task task = Task::kRegression;
  OutputMode output_mode = OutputMode::kLastStep;

  constexpr std::size_t hidden(std::size_t layer) const { return hidden_size[layer]; }
  // Input width of a layer: the network input for layer 0, the hidden size below otherwise.
  constexpr std::size_t layer_input(std::size_t layer) const {
    return layer == 0 ? input_size : hidden_size[layer - 1];
  }
  constexpr std::size_t top_hidden() const { return hidden_size[num_layers - 1]; }
  constexpr std::size_t max_hidden() const {
    std::size_t largest = 0;
    for (std::size_t layer = 0; layer < num_layers; ++layer) {
      if (hidden_size[layer] > largest) largest = hidden_size[layer];
    }
    return largest;
  }
  constexpr std::size_t total_hidden() const {
    std::size_t sum = 0;
    for (std::size_t layer = 0; layer < num_layers; ++layer) sum += hidden_size[layer];
    return sum;
  }
  // Number of output vectors per window: 1 or `window`.
  constexpr std::size_t output_steps() const {
    return output_mode == OutputMode::kEveryStep ? window : 1;
  }
};

// A spec whose layers all have the same hidden size (the common case, and PyTorch's nn.LSTM).
constexpr LstmSpec make_spec(std::uint16_t input_size, std::uint16_t hidden_size,
                             std::uint8_t num_layers, std::uint16_t output_size,
                             std::uint16_t window, Task task = Task::kRegression,
                             OutputMode output_mode = OutputMode::kLastStep) {
  LstmSpec spec;
  spec.input_size = input_size;
  spec.num_layers = num_layers;
  for (std::size_t layer = 0; layer < kMaxLayers; ++layer) {
    spec.hidden_size[layer] = layer < num_layers ? hidden_size : 0;
  }
  spec.output_size = output_size;
  spec.window = window;
  spec.task = task;
  spec.output_mode = output_mode;
  return spec;
}

namespace detail {

// An upper bound, computed in 64 bits, on the elements of the largest arena any binding of `spec`
// asks for: Adam training (parameters, gradients, two moments) with its BPTT caches and scratch,
// and the packed host inference (gate rows rounded up to 16), plus every region's alignment
// padding. validate_spec refuses a spec whose byte counts, with 8-byte elements (a double
// network), would not fit in size_t, so they can never wrap to a small number. The bound is
// deliberately simple and a little generous: on a 32-bit target the widest valid one-layer,
// 1-input network has H of about 5,780 (a float inference arena of 536 MB, far beyond any
// microcontroller); 64-bit hosts accept every spec the fields can express.
// Out of line on GCC/Clang: its 64-bit arithmetic would otherwise be inlined into every bind and
// model loader (1.4 KB more flash in the Cortex-M4F training firmware); it runs once per bind.
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noinline))
#endif
constexpr std::uint64_t arena_element_bound(const LstmSpec& spec) {
  const std::uint64_t window = spec.window, outputs = spec.output_size;
  std::uint64_t weights = 0, hidden_sum = 0;
  for (std::size_t layer = 0; layer < spec.num_layers && layer < kMaxLayers; ++layer) {
    const std::uint64_t in = layer == 0 ? spec.input_size : spec.hidden_size[layer - 1];
    const std::uint64_t hidden = spec.hidden_size[layer];
    weights += (4 * hidden + 16) * (in + hidden) + 8 * hidden + 16;
    hidden_sum += hidden + in;
  }
  weights += outputs * hidden_sum + outputs;
  return 4 * weights + (window + 2) * (16 * hidden_sum + 2 * outputs) + 4096;
}

}  // namespace detail

// kOk when every field is within its documented range, kInvalidSpec otherwise. Classification
// needs at least two classes; unused hidden_size entries must be zero so specs compare equal; the
// arena sizes must be representable in size_t (detail::arena_element_bound, 8-byte elements).
constexpr Status validate_spec(const LstmSpec& spec) {
  if (spec.input_size == 0 || spec.output_size == 0 || spec.window == 0) {
    return Status::kInvalidSpec;
  }
  if (spec.num_layers == 0 || spec.num_layers > kMaxLayers) return Status::kInvalidSpec;
  for (std::size_t layer = 0; layer < kMaxLayers; ++layer) {
    const bool used = layer < spec.num_layers;
    if (used != (spec.hidden_size[layer] != 0)) return Status::kInvalidSpec;
  }
  if (spec.task == Task::kClassification && spec.output_size < 2) return Status::kInvalidSpec;
  if (detail::arena_element_bound(spec) > static_cast<std::uint64_t>(SIZE_MAX) / 8) return Status::kInvalidSpec;
  return Status::kOk;
}

// Parameters of one LSTM layer in PyTorch's order: weight_ih [4H x K], weight_hh [4H x H],
// bias_ih [4H], bias_hh [4H]. Both biases are kept so a torch state_dict maps one to one.
constexpr std::size_t lstm_layer_parameter_count(std::size_t input, std::size_t hidden) {
  return 4 * hidden * input + 4 * hidden * hidden + 8 * hidden;
}

// All trainable parameters: every LSTM layer, then the head's weight [O x H_top] and bias [O].
constexpr std::size_t parameter_count(const LstmSpec& spec) {
  std::size_t count = 0;
  for (std::size_t layer = 0; layer < spec.num_layers; ++layer) {
    count += lstm_layer_parameter_count(spec.layer_input(layer), spec.hidden(layer));
  }
  return count + spec.output_size * spec.top_hidden() + spec.output_size;
}

}  // namespace edgelstm
