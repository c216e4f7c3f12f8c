// BasicPartitionNode<T>: what one node of a partitioned network computes, in its own arena of
// node_compute_bytes(spec, partition, index, ...) bytes. It knows nothing of links: the caller
// (NodeSession, or a test) moves vectors between nodes in the order the methods below document.
//
// Each method runs exactly the arithmetic BasicNetwork runs for the same rows (the same kernels
// with the same operands, row by row), so:
//   - a pipeline node's forward and backward equal the single network's bit for bit;
//   - a split node's forward equals it bit for bit (each gate row is summed alone); its backward
//     differs only where a sum runs across nodes: dL/dh_{t-1} (and dL/dx of a layer above the
//     first) is W^T dz summed over every gate row, which the single network adds in row order and a
//     split adds node by node (node 0's rows, then node 1's, ...). Those sums are rounded
//     differently (a few ulp), so split training matches one device to ~1e-7 relative, not bit
//     for bit; tests compare it bit for bit with a single-node run that adds in the split's order.
//
// Streaming inference, per step, for each held layer k in order:
//   forward_layer(k, input)  input: the layer's input (x for layer 0, the whole h of the layer below)
//   -> own units' h in hidden_state(k); in a split, write the other nodes' slices of h there too
//   then head_forward(y) on the head node.
// Training, per window: begin_window, then forward_train_step(k, t) for t, k (split: all-gather each
// slice into cached_hidden(k, t + 1)), head_outputs + compute_loss + head_backward on the head node,
// backward per layer (top first), gradient_square_sum, update_is_finite, apply_update, commit_state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels.h"
#include "loss.h"
#include "lstm_cell.h"
#include "model_format.h"
#include "network.h"
#include "node_slice.h"
#include "optimizer.h"
#include "partition.h"
#include "span.h"
#include "spec.h"
#include "status.h"

namespace edgelstm {

template <typename T>
class BasicPartitionNode {
 public:
  using Value = T;   // activations and inputs
  using Output = T;  // head outputs
  static constexpr bool kTrains = true;

  Status bind_inference(const LstmSpec& spec, const Partition& partition, std::size_t index, Span<std::uint8_t> arena) {
    return bind(spec, partition, index, Purpose::kInference, TrainConfig{}, arena);
  }
  Status bind_training(const LstmSpec& spec, const Partition& partition, std::size_t index, const TrainConfig& config,
                       Span<std::uint8_t> arena) {
    EDGELSTM_TRY(validate_train_config(config));
    if ((spec.task == Task::kClassification) != (config.loss == LossKind::kCrossEntropy)) return Status::kInvalidArgument;
    return bind(spec, partition, index, Purpose::kTraining, config, arena);
  }

  bool bound() const { return base_ != nullptr; }
  bool bound_for_training() const { return base_ != nullptr && purpose_ == Purpose::kTraining; }
  const LstmSpec& spec() const { return spec_; }
  const NodeShare& share() const { return share_; }
  const Partition& partition() const { return partition_; }
  const TrainConfig& train_config() const { return config_; }
  std::size_t bytes_used() const { return plan_.total_bytes; }

  // The node's parameters (node order: see node_parameter_count) and the matching gradients and
  // optimizer state (for checkpoints).
  Span<T> parameters() { return region(plan_.parameters); }
  Span<const T> parameters() const { return Span<const T>(at(plan_.parameters), plan_.parameters.count); }
  Span<const T> gradients() const { return Span<const T>(at(plan_.gradients), plan_.gradients.count); }
  Span<T> optimizer_state() { return region(plan_.optimizer_state); }
  // Adam's bias-correction products (beta1^t, beta2^t) after t committed updates.
  double beta1_power() const { return beta1_power_; }
  double beta2_power() const { return beta2_power_; }
  void set_beta_powers(double beta1_power, double beta2_power) {
    beta1_power_ = beta1_power;
    beta2_power_ = beta2_power;
  }

  // Copies the node's rows out of a whole network's parameters (BasicNetwork::parameters() order).
  Status load_parameters(Span<const T> whole) {
    if (!bound()) return Status::kNotBound;
    if (whole.size() != parameter_count(spec_)) return Status::kInvalidArgument;
    detail::ParameterTensor names[4 * kMaxLayers + 2];
    const std::size_t tensors = detail::parameter_tensors(spec_, WeightFormat::kFloat32, names);
    return copy_slice([&](const char* name, const T** data, std::size_t* count) {
      std::size_t offset = 0;
      for (std::size_t k = 0; k < tensors; ++k) {
        if (std::strncmp(names[k].name, name, kModelTensorNameBytes) == 0) {
          *data = whole.data() + offset;
          *count = names[k].count;
          return Status::kOk;
        }
        offset += names[k].count;
      }
      return Status::kMalformedModel;
    });
  }

  // Copies the node's rows (node_model_slice) out of a float model file (T = float).
  Status load(const ModelView& model) {
    if (!bound()) return Status::kNotBound;
    if constexpr (!std::is_same_v<T, float>) return Status::kInvalidArgument;
    if (model.weight_format() != WeightFormat::kFloat32 || !same_spec(model.spec(), spec_)) return Status::kMalformedModel;
    return copy_slice([&](const char* name, const T** data, std::size_t* count) {
      ModelTensor tensor;
      EDGELSTM_TRY(model.tensor(name, &tensor));
      if (tensor.type != TensorType::kFloat32) return Status::kMalformedModel;
      *data = static_cast<const T*>(tensor.data);
      *count = tensor.count;
      return Status::kOk;
    });
  }

  // ---- Streaming inference -------------------------------------------------------------------

  void reset_state() {
    if (bound()) fill(at(plan_.state), plan_.state.count, T(0));
  }
  // The whole h of held layer k (all units; the node's own slice at share().layers[k].first_unit)
  // and the node's units' c. The caller writes the other nodes' slices of h here after each step.
  Span<T> hidden_state(std::size_t k) { return Span<T>(state_h(k), share_.layers[k].hidden); }
  Span<const T> hidden_state(std::size_t k) const { return Span<const T>(state_h(k), share_.layers[k].hidden); }
  Span<T> cell_state(std::size_t k) { return Span<T>(state_h(k) + share_.layers[k].hidden, share_.layers[k].units); }

  // One step of the node's units of held layer k: `input` holds the layer's whole input. Reads the
  // whole h of the previous step from hidden_state(k), then writes the node's slice of the new h there.
  void forward_layer(std::size_t k, const T* input) {
    const NodeLayer& layer = share_.layers[k];
    T* h = state_h(k);
    T* c = h + layer.hidden;
    T* gates = at(plan_.gate_scratch);
    preactivations(k, input, h, gates);
    T* h_own = h + layer.first_unit;
    // As Network::step: tanh(c) lands in h's slot, then h overwrites it.
    lstm_cell_finish(layer.units, gates, c, c, h_own, h_own);
  }

  // The head on the top layer's whole h (head node only): y = W h + b, output_size values.
  void head_forward(T* y) const { head_forward_from(state_h(share_.layer_count - 1), y); }

  // ---- Training ------------------------------------------------------------------------------

  // Starts a window: `input` holds window x input_width values (x for the first layer; in a pipeline
  // the node before's h over the window). The caches' step 0 is the carried or zero state.
  Status begin_window(Span<const T> input, WindowStart start) {
    if (!bound_for_training()) return Status::kNotBound;
    if (input.size() != spec_.window * share_.input_width()) return Status::kInvalidArgument;
    copy(input.data(), input.size(), at(plan_.input_cache));
    return begin_window(start);
  }
  // The same with the input already written into window_input().
  Status begin_window(WindowStart start) {
    if (!bound_for_training()) return Status::kNotBound;
    for (std::size_t k = 0; k < share_.layer_count; ++k) {
      const NodeLayer& layer = share_.layers[k];
      T* h = at(plan_.layers[k].h);
      T* c = at(plan_.layers[k].c);
      if (start == WindowStart::kCarryState) {
        copy(state_h(k), layer.hidden, h);
        copy(state_h(k) + layer.hidden, layer.units, c);
      } else {
        fill(h, layer.hidden, T(0));
        fill(c, layer.units, T(0));
      }
    }
    return Status::kOk;
  }
  Span<T> window_input() { return region(plan_.input_cache); }

  // Step t of the window for the node's units of held layer k; the slice of h_t it computes lands
  // in cached_hidden(k, t + 1) (the other nodes' slices must be written there before step t + 1 or
  // the layer above runs).
  void forward_train_step(std::size_t k, std::size_t t) {
    const NodeLayer& layer = share_.layers[k];
    const NodeMemoryPlan::LayerCache& cache = plan_.layers[k];
    T* gates = at(cache.gates) + t * 4 * layer.units;
    preactivations(k, layer_input_at(k, t), at(cache.h) + t * layer.hidden, gates);
    lstm_cell_finish(layer.units, gates, at(cache.c) + t * layer.units, at(cache.c) + (t + 1) * layer.units,
                     at(cache.tanh_c) + t * layer.units, at(cache.h) + (t + 1) * layer.hidden + layer.first_unit);
  }
  // The whole h of held layer k at cache index `index` (0: the window's initial state, t + 1: step t).
  Span<T> cached_hidden(std::size_t k, std::size_t index) {
    return Span<T>(at(plan_.layers[k].h) + index * share_.layers[k].hidden, share_.layers[k].hidden);
  }

  // Head node: the head on the cached top h of the output steps.
  void head_outputs() {
    const std::size_t top = share_.layer_count - 1, hidden = share_.layers[top].hidden;
    const std::size_t steps = spec_.output_steps(), first = spec_.window - steps;
    for (std::size_t s = 0; s < steps; ++s) {
      head_forward_from(at(plan_.layers[top].h) + (first + s + 1) * hidden, at(plan_.outputs) + s * spec_.output_size);
    }
  }
  Span<const T> window_outputs() const { return Span<const T>(at(plan_.outputs), plan_.outputs.count); }

  // Loss of the cached outputs (head node), as BasicNetwork::compute_loss.
  Status compute_loss(Span<const T> targets, T* loss) {
    if (!share_.head || spec_.task != Task::kRegression) return Status::kInvalidArgument;
    if (targets.size() != plan_.outputs.count) return Status::kInvalidArgument;
    return regression_loss(config_.loss, static_cast<T>(config_.huber_delta), at(plan_.outputs), targets.data(),
                           targets.size(), at(plan_.output_grad), loss);
  }
  Status compute_loss(Span<const std::uint16_t> labels, T* loss) {
    if (!share_.head || spec_.task != Task::kClassification) return Status::kInvalidArgument;
    return classification_loss(at(plan_.outputs), spec_.output_steps(), spec_.output_size, labels,
                               at(plan_.output_grad), loss);
  }

  // Head node: the head's weight gradients, and dL/dh of the whole top layer at every step (zero
  // where no output reads it) in head_hidden_gradient(): window x top hidden values.
  void head_backward() {
    const std::size_t top = share_.layer_count - 1, hidden = share_.layers[top].hidden;
    const std::size_t out = spec_.output_size, steps = spec_.output_steps(), first = spec_.window - steps;
    T* dh = at(plan_.dh_partial);
    fill(dh, spec_.window * hidden, T(0));
    const T* weight = at(plan_.parameters) + head_offset();
    T* weight_grad = at(plan_.gradients) + head_offset();
    outer_product_sum(at(plan_.output_grad), out, at(plan_.layers[top].h) + (first + 1) * hidden, hidden, steps, out,
                      hidden, weight_grad);
    row_sum(at(plan_.output_grad), out, steps, out, weight_grad + out * hidden);
    for (std::size_t s = 0; s < steps; ++s) {
      matvec_transposed_accumulate(weight, out, hidden, at(plan_.output_grad) + s * out, dh + (first + s) * hidden);
    }
  }
  Span<T> head_hidden_gradient() {
    return Span<T>(at(plan_.dh_partial), spec_.window * share_.layers[share_.layer_count - 1].hidden);
  }

  // dL/dh of the node's units of held layer k at every step of the window (window x units), from
  // above: the head's or the next layer's gradient (in a split, summed over the nodes), written by
  // the caller before backward_layer_begin(k).
  Span<T> hidden_gradient(std::size_t k) { return Span<T>(at(plan_.dh_above), spec_.window * share_.layers[k].units); }

  // Backward through held layer k, last step first: backward_layer_begin(k), then for t = T-1..0
  // backward_layer_step(k, t) followed by recurrent_gradient_own(k) being set to dL/dh_{t-1} of the
  // node's units (in a pipeline: a copy of recurrent_gradient(k); in a split: the sum over nodes of
  // their recurrent_gradient(k) slices), then backward_layer_end(k).
  void backward_layer_begin(std::size_t k) {
    const NodeLayer& layer = share_.layers[k];
    fill(at(plan_.dh_next_own), layer.units, T(0));  // nothing flows in from beyond the window's end
    fill(at(plan_.dc_next), layer.units, T(0));
    if (forms_input_gradient(k)) fill(at(plan_.dh_partial), spec_.window * layer.input, T(0));
  }
  void backward_layer_step(std::size_t k, std::size_t t) {
    const NodeLayer& layer = share_.layers[k];
    const NodeMemoryPlan::LayerCache& cache = plan_.layers[k];
    const std::size_t units = layer.units, rows = 4 * units;
    const T* dh_next_own = at(plan_.dh_next_own);
    T* dh = at(plan_.dh_above) + t * units;
    for (std::size_t j = 0; j < units; ++j) dh[j] += dh_next_own[j];
    T* dz = at(cache.gates) + t * rows;
    lstm_cell_backward(units, dh, at(plan_.dc_next), dz, at(cache.c) + t * units, at(cache.tanh_c) + t * units);
    const LayerView weights = layer_view(k);
    T* dh_next = at(plan_.dh_next);
    fill(dh_next, layer.hidden, T(0));
    matvec_transposed_accumulate(weights.weight_hh, rows, layer.hidden, dz, dh_next);
    if (forms_input_gradient(k)) {
      matvec_transposed_accumulate(weights.weight_ih, rows, layer.input, dz, at(plan_.dh_partial) + t * layer.input);
    }
  }
  // W_hh^T dz of the node's rows at the last backward_layer_step: the whole hidden width.
  Span<const T> recurrent_gradient(std::size_t k) const { return Span<const T>(at(plan_.dh_next), share_.layers[k].hidden); }
  // dL/dh_{t-1} of the node's units, for the next (earlier) backward_layer_step.
  Span<T> recurrent_gradient_own(std::size_t k) { return Span<T>(at(plan_.dh_next_own), share_.layers[k].units); }
  void backward_layer_end(std::size_t k) {
    const NodeLayer& layer = share_.layers[k];
    const NodeMemoryPlan::LayerCache& cache = plan_.layers[k];
    const std::size_t rows = 4 * layer.units, window = spec_.window;
    // dW_ih = sum_t dz_t x_t^T, dW_hh = sum_t dz_t h_{t-1}^T, db_ih = db_hh = sum_t dz_t.
    T* grad = at(plan_.gradients) + layer_offset(k);
    T* grad_hh = grad + rows * layer.input;
    T* grad_bias_ih = grad_hh + rows * layer.hidden;
    outer_product_sum(at(cache.gates), rows, layer_input_at(k, 0), layer.input, window, rows, layer.input, grad);
    outer_product_sum(at(cache.gates), rows, at(cache.h), layer.hidden, window, rows, layer.hidden, grad_hh);
    row_sum(at(cache.gates), rows, window, rows, grad_bias_ih);
    copy(grad_bias_ih, rows, grad_bias_ih + rows);
  }
  // Whether backward forms dL/dx of held layer k's input: for every layer above the node's first
  // (in a split, every layer above layer 0), and for the first layer of a pipeline node after node 0.
  bool forms_input_gradient(std::size_t k) const { return k > 0 || share_.input_gradient; }
  // dL/dx of held layer k's input over the window (window x input values; in a split, the node's
  // partial sums), after backward_layer_end(k).
  Span<T> input_gradient(std::size_t k) { return Span<T>(at(plan_.dh_partial), spec_.window * share_.layers[k].input); }

  // ---- Commit ----------------------------------------------------------------------------------

  // Sum of squares of the node's gradients (the global norm is the root of the sum over nodes).
  T gradient_square_sum() const { return edgelstm::gradient_square_sum(at(plan_.gradients), plan_.gradients.count); }
  // Whether the update with gradient scale `scale` (clip_scale of the global norm) keeps every
  // parameter and optimizer value finite. Writes nothing.
  bool update_is_finite(T scale) const {
    return optimizer_update<false>(config_, scale, beta1_power_ * config_.beta1, beta2_power_ * config_.beta2,
                                   plan_.gradients.count, at(plan_.gradients), at(plan_.optimizer_state),
                                   at(plan_.parameters));
  }
  void apply_update(T scale) {
    beta1_power_ *= config_.beta1;
    beta2_power_ *= config_.beta2;
    (void)optimizer_update<true>(config_, scale, beta1_power_, beta2_power_, plan_.gradients.count, at(plan_.gradients),
                                 at(plan_.optimizer_state), at(plan_.parameters));
  }
  // The state at the end of the cached window becomes the recurrent state.
  void commit_state() {
    for (std::size_t k = 0; k < share_.layer_count; ++k) {
      const NodeLayer& layer = share_.layers[k];
      copy(at(plan_.layers[k].h) + spec_.window * layer.hidden, layer.hidden, state_h(k));
      copy(at(plan_.layers[k].c) + spec_.window * layer.units, layer.units, state_h(k) + layer.hidden);
    }
  }

 private:
  struct LayerView {
    const T* weight_ih;
    const T* weight_hh;
    const T* bias_ih;
    const T* bias_hh;
  };

  Status bind(const LstmSpec& spec, const Partition& partition, std::size_t index, Purpose purpose,
              const TrainConfig& config, Span<std::uint8_t> arena) {
    EDGELSTM_TRY(validate_partition(spec, partition));
    if (index >= partition.nodes) return Status::kInvalidArgument;
    const NodeShare share = node_share(spec, partition, index);
    const NodeMemoryPlan plan = plan_node_memory(spec, share, purpose, config.optimizer, sizeof(T));
    EDGELSTM_TRY(detail::check_arena(arena, plan.total_bytes));
    spec_ = spec;
    partition_ = partition;
    share_ = share;
    plan_ = plan;
    purpose_ = purpose;
    config_ = config;
    base_ = arena.data();
    beta1_power_ = beta2_power_ = 1.0;
    fill(at(plan_.optimizer_state), plan_.optimizer_state.count, T(0));
    reset_state();
    return Status::kOk;
  }

  static bool same_spec(const LstmSpec& a, const LstmSpec& b) {
    bool same = a.input_size == b.input_size && a.num_layers == b.num_layers && a.output_size == b.output_size &&
                a.window == b.window && a.task == b.task && a.output_mode == b.output_mode;
    for (std::size_t l = 0; l < kMaxLayers; ++l) same = same && a.hidden_size[l] == b.hidden_size[l];
    return same;
  }

  // Copies every TensorRows of the node's slice from the tensors `find(name, &data, &count)` gives.
  template <typename Find>
  Status copy_slice(Find&& find) {
    T* parameters = at(plan_.parameters);
    return for_each_node_slice_rows(spec_, partition_, share_.index, [&](const TensorRows& rows) {
      const T* data = nullptr;
      std::size_t count = 0;
      EDGELSTM_TRY(find(rows.name, &data, &count));
      if (static_cast<std::size_t>(rows.first_row + rows.rows) * rows.cols > count) return Status::kMalformedModel;
      copy(data + static_cast<std::size_t>(rows.first_row) * rows.cols, static_cast<std::size_t>(rows.rows) * rows.cols,
           parameters + rows.node_offset);
      return Status::kOk;
    });
  }

  void preactivations(std::size_t k, const T* input, const T* h_prev, T* gates) const {
    const NodeLayer& layer = share_.layers[k];
    const LayerView weights = layer_view(k);
    lstm_gate_preactivations(weights.weight_ih, weights.weight_hh, weights.bias_ih, weights.bias_hh, 4 * layer.units,
                             layer.input, layer.hidden, input, h_prev, gates);
  }

  void head_forward_from(const T* h, T* y) const {
    const T* weight = at(plan_.parameters) + head_offset();
    copy(weight + spec_.output_size * spec_.top_hidden(), spec_.output_size, y);
    matvec_accumulate(weight, spec_.output_size, spec_.top_hidden(), h, y);
  }

  const T* layer_input_at(std::size_t k, std::size_t t) const {
    if (k == 0) return at(plan_.input_cache) + t * share_.input_width();
    return at(plan_.layers[k - 1].h) + (t + 1) * share_.layers[k - 1].hidden;
  }

  LayerView layer_view(std::size_t k) const {
    const NodeLayer& layer = share_.layers[k];
    const T* p = at(plan_.parameters) + layer_offset(k);
    const std::size_t rows = 4 * layer.units;
    return LayerView{p, p + rows * layer.input, p + rows * (layer.input + layer.hidden),
                     p + rows * (layer.input + layer.hidden + 1)};
  }
  std::size_t layer_offset(std::size_t k) const {
    std::size_t offset = 0;
    for (std::size_t j = 0; j < k; ++j) {
      offset += 4 * share_.layers[j].units * (share_.layers[j].input + share_.layers[j].hidden) + 8 * share_.layers[j].units;
    }
    return offset;
  }
  std::size_t head_offset() const { return layer_offset(share_.layer_count); }
  T* state_h(std::size_t k) const {
    std::size_t offset = 0;
    for (std::size_t j = 0; j < k; ++j) offset += share_.layers[j].hidden + share_.layers[j].units;
    return at(plan_.state) + offset;
  }
  Span<T> region(const MemoryPlan::Region& r) { return Span<T>(at(r), r.count); }
  T* at(const MemoryPlan::Region& r) const { return reinterpret_cast<T*>(base_ + r.offset); }

  LstmSpec spec_{};
  Partition partition_{};
  NodeShare share_{};
  NodeMemoryPlan plan_{};
  Purpose purpose_ = Purpose::kInference;
  TrainConfig config_{};
  std::uint8_t* base_ = nullptr;
  double beta1_power_ = 1;
  double beta2_power_ = 1;
};

using PartitionNode = BasicPartitionNode<float>;

}  // namespace edgelstm
