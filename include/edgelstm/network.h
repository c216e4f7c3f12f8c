// BasicNetwork<T>: a stacked LSTM with a dense head that runs and trains (truncated BPTT) entirely
// inside one caller-owned arena. `Network` is the float32 instance used on devices; the double
// instance exists for high-precision reference checks.
//
// Typical firmware use:
//
//   constexpr auto kSpec = edgelstm::make_spec(1, 100, 1, 1, 6);
//   alignas(edgelstm::kArenaAlignment) static std::uint8_t
//       arena[edgelstm::train_bytes(kSpec, edgelstm::OptimizerKind::kSgd)];
//   edgelstm::Network net;
//   edgelstm::TrainConfig config;          // SGD, MSE, lr 0.01
//   if (net.bind_training(kSpec, config, arena) != edgelstm::Status::kOk) { ... }
//   net.initialize(/*seed=*/42);
//   edgelstm::TrainResult r = net.train_step(window, target, edgelstm::WindowStart::kZeroState);
//
// Nothing here allocates, throws or uses RTTI. Calls that can fail return Status; sizes of spans are
// checked once per call (a few compares), the loops inside check nothing.
#pragma once

#include <cstddef>
#include <cstdint>

#include "activations.h"
#include "kernels.h"
#include "loss.h"
#include "lstm_cell.h"
#include "memory_plan.h"
#include "optimizer.h"
#include "random.h"
#include "span.h"
#include "spec.h"
#include "status.h"

namespace edgelstm {

// Where a training window's recurrent state starts.
enum class WindowStart : std::uint8_t {
  kZeroState,   // h = c = 0 (independent windows, as torch.nn.LSTM without h0)
  kCarryState,  // the network's current state: truncated BPTT over a stream. The state flows
                // forward across windows; the gradient stops at the window's first step.
};

// Outcome of one training step. On any status other than kOk the parameters, optimizer state and
// recurrent state are exactly as they were before the call.
struct [[nodiscard]] TrainResult {
  Status status = Status::kOk;
  float loss = 0.0f;           // mean loss over the window's outputs (before the update)
  float gradient_norm = 0.0f;  // global L2 norm of the gradient, before clipping
};

// Writable view of one layer's parameters inside the parameter vector.
template <typename T>
struct LstmLayerParameters {
  Span<T> weight_ih;  // [4H x input], rows i, f, g, o
  Span<T> weight_hh;  // [4H x H]
  Span<T> bias_ih;    // [4H]
  Span<T> bias_hh;    // [4H]
};

template <typename T>
class BasicNetwork {
 public:
  // Binds the network to `arena` for inference (stateful forward only). The arena must hold
  // inference_bytes(spec) bytes (for T = float) and start on a kArenaAlignment boundary. The
  // network does not own the arena; it must outlive the network's use. Parameters are left as they
  // are in the arena (so weights loaded there beforehand are kept); call initialize() or write
  // parameters() to set them. The recurrent state is reset.
  Status bind_inference(const LstmSpec& spec, Span<std::uint8_t> arena) {
    return bind(spec, Purpose::kInference, OptimizerKind::kSgd, arena);
  }

  // Binds for inference with the parameters read in place from `parameters` (typically a const
  // array in flash, e.g. from `edgelstm export --format c-header`), which must hold
  // parameter_count(spec) values in parameters() order and outlive the network. The arena holds
  // only the recurrent state and scratch: inference_in_place_bytes(spec). parameters() (mutable)
  // is then empty and initialize() refuses (kNotBound): the weights are read-only.
  Status bind_inference_in_place(const LstmSpec& spec, Span<const T> parameters, Span<std::uint8_t> arena) {
    EDGELSTM_TRY(validate_spec(spec));
    if (parameters.data() == nullptr || parameters.size() != parameter_count(spec)) return Status::kInvalidArgument;
    EDGELSTM_TRY(bind(spec, Purpose::kInferenceInPlace, OptimizerKind::kSgd, arena));
    weights_ = parameters.data();
    mutable_weights_ = nullptr;
    return Status::kOk;
  }

  // Binds for training with `config` (and inference). The arena must hold
  // train_bytes(spec, config.optimizer) bytes. Optimizer state starts at zero.
  Status bind_training(const LstmSpec& spec, const TrainConfig& config, Span<std::uint8_t> arena) {
    EDGELSTM_TRY(validate_train_config(config));
    const bool classification = spec.task == Task::kClassification;
    if (classification != (config.loss == LossKind::kCrossEntropy)) return Status::kInvalidArgument;
    EDGELSTM_TRY(bind(spec, Purpose::kTraining, config.optimizer, arena));
    config_ = config;
    fill(at(plan_.optimizer_state), plan_.optimizer_state.count, T(0));
    beta1_power_ = beta2_power_ = 1.0;
    return Status::kOk;
  }

  bool bound() const { return base_ != nullptr; }
  bool bound_for_training() const { return base_ != nullptr && purpose_ == Purpose::kTraining; }
  const LstmSpec& spec() const { return spec_; }
  const TrainConfig& train_config() const { return config_; }
  // Arena bytes the bound network uses: equal to inference_bytes()/train_bytes() for float.
  std::size_t bytes_used() const { return plan_.total_bytes; }

  // Changes learning rate, clipping and the like between steps. The optimizer kind and the loss
  // must stay those the network was bound with (the arena was sized for them).
  Status set_train_config(const TrainConfig& config) {
    if (!bound_for_training()) return Status::kNotBound;
    EDGELSTM_TRY(validate_train_config(config));
    if (config.optimizer != config_.optimizer || config.loss != config_.loss) {
      return Status::kInvalidArgument;
    }
    config_ = config;
    return Status::kOk;
  }

  // ---- Parameters ----------------------------------------------------------------------------

  // All parameters in PyTorch state_dict order: per layer weight_ih, weight_hh, bias_ih, bias_hh;
  // then the head's weight [O x H_top] and bias [O].
  Span<T> parameters() { return Span<T>(mutable_weights_, mutable_weights_ != nullptr ? parameter_count(spec_) : 0); }
  Span<const T> parameters() const { return Span<const T>(weights_, weights_ != nullptr ? parameter_count(spec_) : 0); }
  // dLoss/dparameters of the last backward(), same order as parameters(). Training only.
  Span<const T> gradients() const { return Span<const T>(at(plan_.gradients), plan_.gradients.count); }

  // The optimizer's state, for a checkpoint to save and restore (training only; empty for SGD):
  // momentum's velocity, or Adam's first then second moments, each in parameters() order.
  Span<T> optimizer_state() {
    return bound_for_training() ? Span<T>(at(plan_.optimizer_state), plan_.optimizer_state.count) : Span<T>();
  }
  // Adam's bias-correction terms beta1^t and beta2^t after t committed updates (1 before the
  // first), saved with optimizer_state() so a restored network continues the same sequence.
  double adam_beta1_power() const { return beta1_power_; }
  double adam_beta2_power() const { return beta2_power_; }
  // Refuses powers outside [0, 1] (kInvalidArgument; beta1^t underflows to 0 after some thousand
  // steps) and an unbound network.
  Status restore_adam_powers(double beta1_power, double beta2_power) {
    if (!bound_for_training()) return Status::kNotBound;
    if (!(beta1_power >= 0.0 && beta1_power <= 1.0 && beta2_power >= 0.0 && beta2_power <= 1.0)) {
      return Status::kInvalidArgument;
    }
    beta1_power_ = beta1_power;
    beta2_power_ = beta2_power;
    return Status::kOk;
  }

  LstmLayerParameters<T> layer_parameters(std::size_t layer) {
    T* p = mutable_weights_ + layer_offset(layer);
    const std::size_t hidden = spec_.hidden(layer), input = spec_.layer_input(layer);
    LstmLayerParameters<T> view;
    view.weight_ih = Span<T>(p, 4 * hidden * input);
    view.weight_hh = Span<T>(p + 4 * hidden * input, 4 * hidden * hidden);
    view.bias_ih = Span<T>(p + 4 * hidden * (input + hidden), 4 * hidden);
    view.bias_hh = Span<T>(p + 4 * hidden * (input + hidden + 1), 4 * hidden);
    return view;
  }
  Span<T> head_weight() { return Span<T>(mutable_weights_ + head_offset(), head_weight_count()); }
  Span<T> head_bias() {
    return Span<T>(mutable_weights_ + head_offset() + head_weight_count(), spec_.output_size);
  }

  // PyTorch-like initialization from a seeded PRNG: every LSTM weight and bias uniform in
  // [-1/sqrt(H), 1/sqrt(H)), the head's weight and bias uniform in [-1/sqrt(H_top), 1/sqrt(H_top)),
  // drawn in parameter order. A non-zero forget_bias then overwrites the forget rows of every
  // bias_ih (bias_hh's forget rows become 0), so the forget gate starts at sigmoid(forget_bias).
  // Same seed, same weights on every target. Also resets the state and optimizer state.
  Status initialize(std::uint64_t seed, float forget_bias = 0.0f) {
    if (!bound() || mutable_weights_ == nullptr) return Status::kNotBound;
    if (!Math<float>::is_finite(forget_bias)) return Status::kInvalidArgument;
    Random random(seed);
    T* p = mutable_weights_;
    for (std::size_t layer = 0; layer < spec_.num_layers; ++layer) {
      const float bound = 1.0f / Math<float>::sqrt(static_cast<float>(spec_.hidden(layer)));
      const std::size_t count = lstm_layer_parameter_count(spec_.layer_input(layer), spec_.hidden(layer));
      for (std::size_t k = 0; k < count; ++k) *p++ = static_cast<T>(random.uniform_symmetric(bound));
    }
    const float head_bound = 1.0f / Math<float>::sqrt(static_cast<float>(spec_.top_hidden()));
    for (std::size_t k = 0; k < head_weight_count() + spec_.output_size; ++k) {
      *p++ = static_cast<T>(random.uniform_symmetric(head_bound));
    }
    if (forget_bias != 0.0f) {
      for (std::size_t layer = 0; layer < spec_.num_layers; ++layer) {
        const LstmLayerParameters<T> view = layer_parameters(layer);
        const std::size_t hidden = spec_.hidden(layer);
        fill(view.bias_ih.data() + hidden, hidden, static_cast<T>(forget_bias));
        fill(view.bias_hh.data() + hidden, hidden, T(0));
      }
    }
    reset_state();
    if (bound_for_training()) {
      fill(at(plan_.optimizer_state), plan_.optimizer_state.count, T(0));
      beta1_power_ = beta2_power_ = 1.0;
    }
    return Status::kOk;
  }

  // ---- Recurrent state -----------------------------------------------------------------------

  // h = c = 0 in every layer: the start of a new, unrelated sequence.
  void reset_state() {
    if (bound()) fill(at(plan_.state), plan_.state.count, T(0));
  }
  // h and c of `layer`; empty for a layer the spec does not have (or an unbound network).
  Span<const T> hidden_state(std::size_t layer) const {
    return has_layer(layer) ? Span<const T>(state_h(layer), spec_.hidden(layer)) : Span<const T>();
  }
  Span<const T> cell_state(std::size_t layer) const {
    return has_layer(layer) ? Span<const T>(state_c(layer), spec_.hidden(layer)) : Span<const T>();
  }
  Status set_state(std::size_t layer, Span<const T> h, Span<const T> c) {
    if (!bound()) return Status::kNotBound;
    if (layer >= spec_.num_layers || h.size() != spec_.hidden(layer) || c.size() != spec_.hidden(layer)) {
      return Status::kInvalidArgument;
    }
    copy(h.data(), h.size(), state_h(layer));
    copy(c.data(), c.size(), state_c(layer));
    return Status::kOk;
  }

  // ---- Inference -----------------------------------------------------------------------------

  // One time step of streaming inference: consumes x (input_size values), advances h and c of every
  // layer, writes the head's output_size values to y. A non-finite input is refused (kNonFinite)
  // before it can reach the state.
  Status step(Span<const T> x, Span<T> y) {
    if (!bound()) return Status::kNotBound;
    if (x.size() != spec_.input_size || y.size() != spec_.output_size) return Status::kInvalidArgument;
    if (!all_finite(x.data(), x.size())) return Status::kNonFinite;
    T* scratch = at(plan_.gate_scratch);
    const T* input = x.data();
    for (std::size_t layer = 0; layer < spec_.num_layers; ++layer) {
      T* h = state_h(layer);
      T* c = state_c(layer);
      lstm_cell_forward(layer_weights(layer), input, h, c, scratch, c, h, h);
      input = h;
    }
    head_forward(input, y.data());
    return Status::kOk;
  }

  // A whole window of `steps` time steps (x holds steps * input_size values, step-major), stateful.
  // y receives the head output of the last step (output_size values) for OutputMode::kLastStep, or
  // of every step (steps * output_size) for kEveryStep.
  // (The same loop as detail::forward_window, written out: through the helper's lambda GCC -O3
  // lays out the Cortex-M4F inference firmware 1.3 KB larger.)
  Status forward(Span<const T> x, Span<T> y) {
    if (!bound()) return Status::kNotBound;
    const std::size_t in = spec_.input_size, out = spec_.output_size;
    if (x.empty() || x.size() % in != 0) return Status::kInvalidArgument;
    const std::size_t steps = x.size() / in;
    const bool every = spec_.output_mode == OutputMode::kEveryStep;
    if (y.size() != (every ? steps * out : out)) return Status::kInvalidArgument;
    if (!all_finite(x.data(), x.size())) return Status::kNonFinite;
    for (std::size_t t = 0; t < steps; ++t) {
      T* y_t = every ? y.data() + t * out : y.data();
      EDGELSTM_TRY(step(x.subspan(t * in, in), Span<T>(y_t, out)));
    }
    return Status::kOk;
  }

  // ---- Training ------------------------------------------------------------------------------

  // One training step on one window: forward with caches, loss, BPTT, gradient clipping, optimizer
  // update. x holds window * input_size values; targets hold output_steps * output_size values
  // (regression). After a successful step the recurrent state is the state at the window's end.
  // A non-finite input, target, loss, gradient or updated weight refuses the step (kNonFinite)
  // and leaves parameters, optimizer state and recurrent state untouched.
  TrainResult train_step(Span<const T> x, Span<const T> targets, WindowStart start) {
    return train_step_with(x, targets, start);
  }

  // The same for classification: labels hold output_steps class indices < output_size.
  TrainResult train_step(Span<const T> x, Span<const std::uint16_t> labels, WindowStart start) {
    return train_step_with(x, labels, start);
  }

  // The pieces of train_step, for tools and tests that need to look between them.
  // forward_train runs the window and caches what BPTT needs; the recurrent state is not changed
  // (commit_state() does that).
  Status forward_train(Span<const T> x, WindowStart start) {
    if (!bound_for_training()) return Status::kNotBound;
    const std::size_t window = spec_.window, in = spec_.input_size;
    if (x.size() != window * in) return Status::kInvalidArgument;
    if (!all_finite(x.data(), x.size())) return Status::kNonFinite;
    copy(x.data(), x.size(), at(plan_.input_cache));
    for (std::size_t layer = 0; layer < spec_.num_layers; ++layer) {
      const MemoryPlan::LayerCache& cache = plan_.layers[layer];
      const std::size_t hidden = spec_.hidden(layer);
      T* h = at(cache.h);
      T* c = at(cache.c);
      if (start == WindowStart::kCarryState) {
        copy(state_h(layer), hidden, h);
        copy(state_c(layer), hidden, c);
      } else {
        fill(h, hidden, T(0));
        fill(c, hidden, T(0));
      }
      const LstmLayerWeights<T> weights = layer_weights(layer);
      std::size_t t = 0;
#if EDGELSTM_HAVE_AVX2_FMA
      // From a zero state the first step's W_hh h_{-1} is zero: on hosts it is skipped (one of
      // the window's passes over W_hh). Microcontroller builds keep the one loop below, so the
      // instruction counts of their cost tables stay what they were.
      if (start == WindowStart::kZeroState) {
        T* gates = at(cache.gates);
        lstm_gate_preactivations(weights.weight_ih, weights.weight_hh, weights.bias_ih, weights.bias_hh, 4 * hidden,
                                 weights.input, 0, layer_input_at(layer, 0), h, gates);
        lstm_cell_finish(hidden, gates, c, c + hidden, at(cache.tanh_c), h + hidden);
        t = 1;
      }
#endif
      for (; t < window; ++t) {
        lstm_cell_forward(weights, layer_input_at(layer, t), h + t * hidden, c + t * hidden,
                          at(cache.gates) + t * 4 * hidden, c + (t + 1) * hidden,
                          at(cache.tanh_c) + t * hidden, h + (t + 1) * hidden);
      }
    }
#if EDGELSTM_HAVE_AVX2_FMA
    zero_start_ = start == WindowStart::kZeroState;
#endif
    const std::size_t top = spec_.num_layers - 1, top_hidden = spec_.top_hidden();
    const std::size_t first_output_step = window - spec_.output_steps();
    for (std::size_t s = 0; s < spec_.output_steps(); ++s) {
      head_forward(at(plan_.layers[top].h) + (first_output_step + s + 1) * top_hidden,
                   at(plan_.outputs) + s * spec_.output_size);
    }
    return Status::kOk;
  }

  // Head outputs of the last forward_train: output_steps * output_size values.
  Span<const T> window_outputs() const { return Span<const T>(at(plan_.outputs), plan_.outputs.count); }

  // Loss of the cached outputs against regression targets; also stores dLoss/doutputs.
  Status compute_loss(Span<const T> targets, T* loss) {
    if (!bound_for_training()) return Status::kNotBound;
    if (spec_.task != Task::kRegression) return Status::kInvalidArgument;
    if (targets.size() != plan_.outputs.count) return Status::kInvalidArgument;
    return regression_loss(config_.loss, static_cast<T>(config_.huber_delta), at(plan_.outputs), targets.data(),
                           targets.size(), at(plan_.output_grad), loss);
  }

  // Mean softmax cross-entropy of the cached logits against class labels.
  Status compute_loss(Span<const std::uint16_t> labels, T* loss) {
    if (!bound_for_training()) return Status::kNotBound;
    if (spec_.task != Task::kClassification) return Status::kInvalidArgument;
    return classification_loss(at(plan_.outputs), spec_.output_steps(), spec_.output_size, labels,
                               at(plan_.output_grad), loss);
  }

  // Backpropagation through time over the cached window: overwrites gradients() with
  // dLoss/dparameters and fills the initial-state gradients. Needs forward_train + compute_loss.
  void backward() { backward_with(nullptr); }

  // dLoss/dh and dLoss/dc of a layer's state at the window start (after backward()); empty for a
  // layer the spec does not have or a network not bound for training.
  Span<const T> initial_hidden_gradient(std::size_t layer) const {
    if (!bound_for_training() || !has_layer(layer)) return Span<const T>();
    return Span<const T>(at(plan_.initial_state_grad) + state_offset(layer), spec_.hidden(layer));
  }
  Span<const T> initial_cell_gradient(std::size_t layer) const {
    if (!bound_for_training() || !has_layer(layer)) return Span<const T>();
    return Span<const T>(at(plan_.initial_state_grad) + state_offset(layer) + spec_.hidden(layer),
                         spec_.hidden(layer));
  }

  // Clips and applies the current gradients with the configured optimizer. Refuses (kNonFinite,
  // nothing written) when the gradient norm or any updated value would not be finite.
  // `gradient_norm` (may be null) receives the norm before clipping.
  Status apply_gradients(float* gradient_norm_out) { return apply_gradients_with(gradient_norm_out, nullptr); }

  // The same with given gradients (parameter_count values in parameters() order, e.g. the sum over
  // a minibatch, BatchTrainer), which gradients() then holds.
  Status apply_gradients(Span<const T> gradients, float* gradient_norm_out) {
    if (!bound_for_training()) return Status::kNotBound;
    if (gradients.size() != plan_.gradients.count) return Status::kInvalidArgument;
    copy(gradients.data(), gradients.size(), at(plan_.gradients));
    return apply_gradients(gradient_norm_out);
  }

  // Makes the state at the end of the cached window the network's recurrent state.
  void commit_state() {
    for (std::size_t layer = 0; layer < spec_.num_layers; ++layer) {
      const std::size_t hidden = spec_.hidden(layer), end = spec_.window * hidden;
      copy(at(plan_.layers[layer].h) + end, hidden, state_h(layer));
      copy(at(plan_.layers[layer].c) + end, hidden, state_c(layer));
    }
  }

 private:
  Status bind(const LstmSpec& spec, Purpose purpose, OptimizerKind optimizer, Span<std::uint8_t> arena) {
    EDGELSTM_TRY(validate_spec(spec));
    const MemoryPlan plan = plan_memory(spec, purpose, optimizer, sizeof(T));
    if (arena.data() == nullptr || arena.size() < plan.total_bytes) return Status::kBufferTooSmall;
    if (reinterpret_cast<std::uintptr_t>(arena.data()) % kArenaAlignment != 0) {
      return Status::kMisalignedBuffer;
    }
    spec_ = spec;
    plan_ = plan;
    purpose_ = purpose;
    base_ = arena.data();
    mutable_weights_ = purpose == Purpose::kInferenceInPlace ? nullptr : at(plan_.parameters);
    weights_ = mutable_weights_;
    reset_state();
    return Status::kOk;
  }

  // train_step for float targets or class labels (the compute_loss overload decides).
  template <typename Targets>
  TrainResult train_step_with(Span<const T> x, Span<const Targets> targets, WindowStart start) {
    TrainResult result;
    result.status = forward_train(x, start);
    if (result.status != Status::kOk) return result;
    T loss = 0;
    result.status = compute_loss(targets, &loss);
    result.loss = static_cast<float>(loss);
    if (result.status != Status::kOk) return result;
    // On AVX-512 hosts the last backward step's pass over each W_hh also forms dW_hh, its sum of
    // squares and the weights' largest magnitude (matvec_transposed_with_gradient_avx512): the
    // update's norm pass then skips W_hh and its gradient, and the separate weight-gradient pass
    // is gone. The gradients are bit for bit those of the pieces (backward, apply_gradients); the
    // norm adds its squares in another order, so the updated weights are theirs bit for bit unless
    // clipping scales the update (by limit / norm, whose last bits may differ).
#if EDGELSTM_HAVE_AVX512F
    FusedWeightPass passes[kMaxLayers];
    FusedWeightPass* fused = passes;
#else
    FusedWeightPass* fused = nullptr;
#endif
    backward_with(fused);
    result.status = apply_gradients_with(&result.gradient_norm, fused);
    if (result.status == Status::kOk) commit_state();
    return result;
  }

  // backward(); `fused` (kMaxLayers entries, or null) asks for the fused last pass over W_hh where
  // the build has it, and receives what each layer's pass measured.
  void backward_with(FusedWeightPass* fused);
  // apply_gradients(); `fused` (or null) is what backward_with measured: the layers whose entry is
  // done take their W_hh sums and bounds from it instead of a pass over W_hh and its gradient.
  Status apply_gradients_with(float* gradient_norm_out, const FusedWeightPass* fused);

  void head_forward(const T* h, T* y) const {
    const T* weight = weights_ + head_offset();
    const T* bias = weight + head_weight_count();
    copy(bias, spec_.output_size, y);
    matvec_accumulate(weight, spec_.output_size, spec_.top_hidden(), h, y);
  }

  // The input of `layer` at step t of the cached window: the network input for layer 0, the
  // cached h_t of the layer below otherwise.
  const T* layer_input_at(std::size_t layer, std::size_t t) const {
    if (layer == 0) return at(plan_.input_cache) + t * spec_.input_size;
    return at(plan_.layers[layer - 1].h) + (t + 1) * spec_.hidden(layer - 1);
  }

  LstmLayerWeights<T> layer_weights(std::size_t layer) const {
    const T* p = weights_ + layer_offset(layer);
    LstmLayerWeights<T> weights;
    weights.input = spec_.layer_input(layer);
    weights.hidden = spec_.hidden(layer);
    weights.weight_ih = p;
    weights.weight_hh = p + 4 * weights.hidden * weights.input;
    weights.bias_ih = weights.weight_hh + 4 * weights.hidden * weights.hidden;
    weights.bias_hh = weights.bias_ih + 4 * weights.hidden;
    return weights;
  }

  std::size_t layer_offset(std::size_t layer) const {
    std::size_t offset = 0;
    for (std::size_t l = 0; l < layer; ++l) {
      offset += lstm_layer_parameter_count(spec_.layer_input(l), spec_.hidden(l));
    }
    return offset;
  }
  std::size_t head_offset() const { return layer_offset(spec_.num_layers); }
  std::size_t head_weight_count() const { return spec_.output_size * spec_.top_hidden(); }
  std::size_t state_offset(std::size_t layer) const {
    std::size_t offset = 0;
    for (std::size_t l = 0; l < layer; ++l) offset += 2 * spec_.hidden(l);
    return offset;
  }
  T* state_h(std::size_t layer) const { return at(plan_.state) + state_offset(layer); }
  T* state_c(std::size_t layer) const { return state_h(layer) + spec_.hidden(layer); }

  bool has_layer(std::size_t layer) const { return bound() && layer < spec_.num_layers && layer < kMaxLayers; }

  T* at(const MemoryPlan::Region& region) const {
    return reinterpret_cast<T*>(base_ + region.offset);
  }

  LstmSpec spec_{};
  MemoryPlan plan_{};
  Purpose purpose_ = Purpose::kInference;
  TrainConfig config_{};
  std::uint8_t* base_ = nullptr;
  const T* weights_ = nullptr;   // what forward reads: in the arena, or in place (flash)
  T* mutable_weights_ = nullptr; // the same when they are in the arena, null when read-only
#if EDGELSTM_HAVE_AVX2_FMA
  bool zero_start_ = false;  // the cached window started from h = c = 0 (forward_train; hosts only)
#endif
  double beta1_power_ = 1;  // beta1^t and beta2^t after t committed Adam updates
  double beta2_power_ = 1;
};

template <typename T>
void BasicNetwork<T>::backward_with(FusedWeightPass* fused) {
  (void)fused;  // used by AVX-512 builds only
  const std::size_t window = spec_.window, out = spec_.output_size;
  const std::size_t top = spec_.num_layers - 1, top_hidden = spec_.top_hidden();
  // Every gradient below is written exactly once (no clearing needed).
  T* gradients = at(plan_.gradients);

  // Head: y_s = W h_t + b  =>  dW += dy h_t^T, db += dy, dh_t = W^T dy.
  T* dh_above = at(plan_.dh_from_above);
  T* dh_below = at(plan_.dh_to_below);
  fill(dh_above, window * top_hidden, T(0));
  const T* head_weight = weights_ + head_offset();
  T* head_weight_grad = gradients + head_offset();
  const std::size_t steps = spec_.output_steps(), first = window - steps;
  const T* top_h = at(plan_.layers[top].h) + (first + 1) * top_hidden;
  outer_product_sum(at(plan_.output_grad), out, top_h, top_hidden, steps, out, top_hidden,
                    head_weight_grad);
  row_sum(at(plan_.output_grad), out, steps, out, head_weight_grad + head_weight_count());
  for (std::size_t s = 0; s < steps; ++s) {
    matvec_transposed_accumulate(head_weight, out, top_hidden, at(plan_.output_grad) + s * out,
                                 dh_above + (first + s) * top_hidden);
  }

  // LSTM layers, top to bottom; inside a layer, last step to first.
  for (std::size_t layer = spec_.num_layers; layer-- > 0;) {
    const MemoryPlan::LayerCache& cache = plan_.layers[layer];
    const LstmLayerWeights<T> weights = layer_weights(layer);
    const std::size_t hidden = weights.hidden, input = weights.input, rows = 4 * hidden;
    T* dh_next = at(plan_.dh_next);
    T* dc_next = at(plan_.dc_next);
    fill(dh_next, hidden, T(0));  // no gradient flows in from beyond the window's end
    fill(dc_next, hidden, T(0));
    if (layer > 0) fill(dh_below, window * input, T(0));
    for (std::size_t t = window; t-- > 0;) {
      T* dh = dh_above + t * hidden;
      for (std::size_t j = 0; j < hidden; ++j) dh[j] += dh_next[j];
      T* dz = at(cache.gates) + t * rows;
      lstm_cell_backward(hidden, dh, dc_next, dz, at(cache.c) + t * hidden,
                         at(cache.tanh_c) + t * hidden);
      fill(dh_next, hidden, T(0));
      bool formed_gradient = false;
#if EDGELSTM_HAVE_AVX512F
      if constexpr (std::is_same_v<T, float>) {
        if (fused != nullptr && t == 0 && hidden >= 16) {
          // The last pass over W_hh: dh_{-1} = W_hh^T dz_0 and, as below, dW_hh (from a zero state
          // without step 0's term, which is zero).
          const std::size_t skip = zero_start_ ? 1 : 0;
          fused[layer] = matvec_transposed_with_gradient_avx512(
              weights.weight_hh, rows, hidden, dz, dh_next, at(cache.gates) + skip * rows, rows,
              at(cache.h) + skip * hidden, hidden, window - skip, gradients + layer_offset(layer) + rows * input);
          formed_gradient = true;
        }
      }
#endif
      if (!formed_gradient) matvec_transposed_accumulate(weights.weight_hh, rows, hidden, dz, dh_next);
      if (layer > 0) {
        matvec_transposed_accumulate(weights.weight_ih, rows, input, dz, dh_below + t * input);
      }
    }
    T* initial = at(plan_.initial_state_grad) + state_offset(layer);
    copy(dh_next, hidden, initial);
    copy(dc_next, hidden, initial + hidden);

    // Weight gradients for the whole window at once: dW_ih = sum_t dz_t x_t^T,
    // dW_hh = sum_t dz_t h_{t-1}^T, db_ih = db_hh = sum_t dz_t.
    T* grad = gradients + layer_offset(layer);
    T* grad_hh = grad + rows * input;
    T* grad_bias_ih = grad_hh + rows * hidden;
    T* grad_bias_hh = grad_bias_ih + rows;
    outer_product_sum(at(cache.gates), rows, layer_input_at(layer, 0), input, window, rows, input,
                      grad);
#if EDGELSTM_HAVE_AVX2_FMA
    // From a zero state h_{-1} = 0 adds nothing to dW_hh: on hosts step 0 is left out.
    if (fused != nullptr && fused[layer].done) {
      // formed in the last pass over W_hh above
    } else if (zero_start_) {
      outer_product_sum(at(cache.gates) + rows, rows, at(cache.h) + hidden, hidden, window - 1, rows, hidden, grad_hh);
    } else {
      outer_product_sum(at(cache.gates), rows, at(cache.h), hidden, window, rows, hidden, grad_hh);
    }
#else
    outer_product_sum(at(cache.gates), rows, at(cache.h), hidden, window, rows, hidden, grad_hh);
#endif
    row_sum(at(cache.gates), rows, window, rows, grad_bias_ih);
    copy(grad_bias_ih, rows, grad_bias_hh);

    T* swap = dh_above;
    dh_above = dh_below;
    dh_below = swap;
  }
}

template <typename T>
Status BasicNetwork<T>::apply_gradients_with(float* gradient_norm_out, const FusedWeightPass* fused) {
  if (!bound_for_training()) return Status::kNotBound;
  const std::size_t count = plan_.gradients.count;
  const T* gradients = at(plan_.gradients);
  T* parameters = mutable_weights_;
  T parameter_bound = 0;
  T square_sum = 0;
#if EDGELSTM_HAVE_AVX512F
  if (fused != nullptr) {
    // Every parameter but the W_hh the fused passes covered, in address order; then theirs.
    double squares = 0;
    decltype(detail::magnitude_bits(T())) largest = 0;  // as detail::max_magnitude_bits: a NaN stays
    const auto keep_largest = [&](T bound) {
      const auto bits = detail::magnitude_bits(bound);
      if (bits > largest) largest = bits;
    };
    std::size_t start = 0;
    const auto add_range = [&](std::size_t end) {
      T bound = 0;
      squares += static_cast<double>(
          detail::gradient_square_sum_and_bound<T>(gradients + start, parameters + start, end - start, &bound));
      keep_largest(bound);
    };
    for (std::size_t layer = 0; layer < spec_.num_layers; ++layer) {
      if (!fused[layer].done) continue;
      const std::size_t hidden = spec_.hidden(layer), rows = 4 * hidden;
      const std::size_t weight_hh = layer_offset(layer) + rows * spec_.layer_input(layer);
      add_range(weight_hh);
      start = weight_hh + rows * hidden;
      squares += fused[layer].square_sum;
      keep_largest(static_cast<T>(detail::bound_from_bits<float>(fused[layer].weight_bits)));
    }
    add_range(count);
    square_sum = static_cast<T>(squares);
    parameter_bound = detail::bound_from_bits<T>(largest);
  } else
#endif
  {
    (void)fused;  // non-null in AVX-512 builds only
    square_sum = detail::gradient_square_sum_and_bound<T>(gradients, parameters, count, &parameter_bound);
  }
  const T norm = Math<T>::sqrt(square_sum);
  if (gradient_norm_out != nullptr) *gradient_norm_out = static_cast<float>(norm);
  if (!Math<T>::is_finite(norm)) return Status::kNonFinite;
  const T scale = clip_scale(norm, static_cast<T>(config_.clip_norm));
  const double beta1_power = beta1_power_ * config_.beta1;
  const double beta2_power = beta2_power_ * config_.beta2;
  T* state = at(plan_.optimizer_state);
  // The guard: an update that would make any value non-finite is refused before anything is
  // written. When bounds of the gradients, parameters and state prove it cannot happen (always,
  // short of values near the float range), the checking pass is skipped: one pass less over every
  // parameter, and the same arithmetic for the update itself.
  T state_bounds[2] = {0, 0};
  for (std::size_t slot = 0; slot < optimizer_state_slots(config_.optimizer); ++slot) {
    state_bounds[slot] = magnitude_bound(state + slot * count, count);
  }
  if (!update_is_surely_finite(config_, scale, beta1_power, norm, parameter_bound, state_bounds) &&
      !optimizer_update<false>(config_, scale, beta1_power, beta2_power, count, gradients, state, parameters)) {
    return Status::kNonFinite;
  }
  (void)optimizer_update<true>(config_, scale, beta1_power, beta2_power, count, gradients, state,
                               parameters);
  beta1_power_ = beta1_power;
  beta2_power_ = beta2_power;
  return Status::kOk;
}

using Network = BasicNetwork<float>;

}  // namespace edgelstm
