// IntegerPartitionNode: one node of a partitioned full-integer network (inference; no float
// operation in a step). It holds only its slice of an integer model file (node_integer_model_slice):
// its gate rows of the int8 weights and of the per-row constants, the head on the head node. Each
// unit's step is integer_lstm_units_step, exactly the arithmetic IntegerNetwork runs for it, and
// integer sums are exact in any order, so every partition (pipeline or hidden split) gives outputs
// and states bit-identical to IntegerNetwork on one device.
//
// Per step, for each held layer k: forward_layer(k, input) (input: x_q for layer 0, the whole h of
// the layer below), then the other nodes' slices of h go into hidden_state(k); head_forward on the
// head node.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "integer_kernels.h"
#include "integer_network.h"
#include "memory_plan.h"
#include "model_format.h"
#include "node_slice.h"
#include "partition.h"
#include "span.h"
#include "spec.h"
#include "status.h"

namespace edgelstm {

static_assert(kIntegerGateFields == 3 && kIntegerHeadFields == 3, "node_integer_model_slice assumes 3 fields per row");

// Byte offsets of an integer node's arena.
struct IntegerNodePlan {
  std::size_t weights = 0;    // int8: per held layer its W_ih rows then W_hh rows; then the head's weight
  std::size_t constants = 0;  // int32: per held layer its gate rows x 3; then the head's rows x 3
  std::size_t state = 0;      // int16: per held layer the whole h then the node's units' c
  std::size_t sums = 0;       // int32: two sum buffers of max(4 x max units, outputs)
  std::size_t packed = 0;     // uint32: packed activations of the widest input
  std::size_t weight_bytes = 0, constant_count = 0, state_count = 0, sum_rows = 0;
  std::size_t total_bytes = 0;
};

constexpr IntegerNodePlan plan_integer_node(const LstmSpec& spec, const NodeShare& share) {
  IntegerNodePlan plan;
  std::size_t state = 0, width = share.max_width();
  for (std::size_t k = 0; k < share.layer_count; ++k) {
    const NodeLayer& layer = share.layers[k];
    plan.weight_bytes += 4 * layer.units * (layer.input + layer.hidden);
    plan.constant_count += 4 * layer.units * kIntegerGateFields;
    state += layer.hidden + layer.units;
  }
  plan.sum_rows = 4 * share.max_units();
  if (share.head) {
    plan.weight_bytes += spec.output_size * spec.top_hidden();
    plan.constant_count += spec.output_size * kIntegerHeadFields;
    plan.sum_rows = plan.sum_rows > spec.output_size ? plan.sum_rows : spec.output_size;
  }
  plan.state_count = state;
  plan.weights = 0;
  plan.constants = detail::align_up(plan.weight_bytes);
  plan.state = plan.constants + detail::align_up(plan.constant_count * 4);
  plan.sums = plan.state + detail::align_up(state * 2);
  plan.packed = plan.sums + detail::align_up(2 * plan.sum_rows * 4);
  plan.total_bytes = plan.packed + detail::align_up(packed_activation_words(width) * 4);
  return plan;
}

// Arena bytes of integer node `index` (0 for an invalid spec or partition).
constexpr std::size_t integer_node_bytes(const LstmSpec& spec, const Partition& partition, std::size_t index) {
  if (validate_partition(spec, partition) != Status::kOk || index >= partition.nodes) return 0;
  return plan_integer_node(spec, node_share(spec, partition, index)).total_bytes;
}

class IntegerPartitionNode {
 public:
  using Value = std::int16_t;
  using Output = std::int32_t;
  static constexpr bool kTrains = false;

  Status bind(const LstmSpec& spec, const Partition& partition, std::size_t index, Span<std::uint8_t> arena) {
    EDGELSTM_TRY(validate_partition(spec, partition));
    if (index >= partition.nodes) return Status::kInvalidArgument;
    const NodeShare share = node_share(spec, partition, index);
    for (std::size_t k = 0; k < share.layer_count; ++k) {
      if (share.layers[k].input > kMaxIntegerColumns || share.layers[k].hidden > kMaxIntegerColumns) {
        return Status::kInvalidArgument;
      }
    }
    const IntegerNodePlan plan = plan_integer_node(spec, share);
    EDGELSTM_TRY(detail::check_arena(arena, plan.total_bytes));
    spec_ = spec;
    partition_ = partition;
    share_ = share;
    plan_ = plan;
    base_ = arena.data();
    constants_ = reinterpret_cast<std::int32_t*>(base_ + plan.constants);
    loaded_ = false;
    reset_state();
    return Status::kOk;
  }

  // Copies the node's slice of an integer model file (edgelstm quantize --integer) into the arena;
  // the file is not needed afterwards. kMalformedModel when the file has no integer path, another
  // spec, or constants out of range.
  Status load(const ModelView& model) {
    if (base_ == nullptr) return Status::kNotBound;
    const LstmSpec& file_spec = model.spec();
    if (model.weight_format() != WeightFormat::kInt8 || file_spec.input_size != spec_.input_size ||
        file_spec.num_layers != spec_.num_layers || file_spec.output_size != spec_.output_size) {
      return Status::kMalformedModel;
    }
    for (std::size_t l = 0; l < kMaxLayers; ++l) {
      if (file_spec.hidden_size[l] != spec_.hidden_size[l]) return Status::kMalformedModel;
    }
    ModelTensor config, scale;
    EDGELSTM_TRY(typed(model, "int.config", TensorType::kInt32, kIntegerConfigCount, &config));
    EDGELSTM_TRY(typed(model, "int.input_scale", TensorType::kFloat32, 1, &scale));
    const auto* settings = static_cast<const std::int32_t*>(config.data);
    if (settings[0] != kIntegerFormatVersion || settings[1 + kMaxLayers] != kOutputFractionBits) return Status::kMalformedModel;
    // Each entry's type is the one its name says (int.*: int32 constants, the others int8
    // weights), never the file's word for it: a file typing a weight tensor int32 would
    // otherwise be copied as constants, at offsets meant for bytes, past the constants' region.
    EDGELSTM_TRY(for_each_integer_slice_rows(spec_, partition_, share_.index, [&](const TensorRows& rows) {
      ModelTensor tensor;
      EDGELSTM_TRY(model.tensor(rows.name, &tensor));
      const bool constants = integer_slice_constants(rows);
      if (tensor.type != (constants ? TensorType::kInt32 : TensorType::kInt8)) return Status::kMalformedModel;
      if (constants ? tensor.count % rows.cols != 0 : tensor.cols != rows.cols) return Status::kMalformedModel;
      if (static_cast<std::size_t>(rows.first_row + rows.rows) * rows.cols > tensor.count) return Status::kMalformedModel;
      const std::size_t offset = static_cast<std::size_t>(rows.first_row) * rows.cols, count = std::size_t{rows.rows} * rows.cols;
      if (constants) {
        std::memcpy(constants_ + rows.node_offset, static_cast<const std::int32_t*>(tensor.data) + offset, count * 4);
      } else {
        std::memcpy(base_ + plan_.weights + rows.node_offset, static_cast<const std::int8_t*>(tensor.data) + offset, count);
      }
      return Status::kOk;
    }));
    std::int32_t* gates = constants_;
    for (std::size_t k = 0; k < share_.layer_count; ++k) {
      const NodeLayer& layer = share_.layers[k];
      IntegerLayer& view = layers_[k];
      view.gates = gates;
      view.cell_fraction_bits = settings[1 + layer.layer];
      view.shift_ih = settings[2 + kMaxLayers + layer.layer];
      view.shift_hh = settings[2 + 2 * kMaxLayers + layer.layer];
      if (view.cell_fraction_bits < 0 || view.cell_fraction_bits > kStateFractionBits || !valid_shift(view.shift_ih) ||
          !valid_shift(view.shift_hh)) {
        return Status::kMalformedModel;
      }
      for (std::size_t r = 0; r < 4 * layer.units; ++r) {
        const std::int32_t* g = gates + kIntegerGateFields * r;
        if (g[1] < 0 || g[2] < 0 || g[0] > kMaxGateBias || g[0] < -kMaxGateBias) return Status::kMalformedModel;
      }
      gates += 4 * layer.units * kIntegerGateFields;
    }
    bind_views();
    if (share_.head) {
      for (std::size_t o = 0; o < spec_.output_size; ++o) {
        const std::int32_t* row = head_.rows + kIntegerHeadFields * o;
        if (row[2] < 1 || row[2] > 62 || (row[1] != 0 && row[1] < (std::int32_t{1} << 30))) return Status::kMalformedModel;
      }
    }
    input_scale_ = *static_cast<const float*>(scale.data);
    loaded_ = true;
    reset_state();
    return Status::kOk;
  }

  bool loaded() const { return loaded_; }
  bool bound() const { return base_ != nullptr; }
  bool bound_for_training() const { return false; }
  const Partition& partition() const { return partition_; }
  const LstmSpec& spec() const { return spec_; }
  const NodeShare& share() const { return share_; }
  std::size_t bytes_used() const { return plan_.total_bytes; }
  float input_scale() const { return input_scale_; }

  void reset_state() {
    if (base_ != nullptr) std::memset(state(), 0, plan_.state_count * 2);
  }
  Span<std::int16_t> hidden_state(std::size_t k) { return Span<std::int16_t>(state_h(k), share_.layers[k].hidden); }
  Span<const std::int16_t> cell_state(std::size_t k) const {
    return Span<const std::int16_t>(state_h(k) + share_.layers[k].hidden, share_.layers[k].units);
  }

  void forward_layer(std::size_t k, const std::int16_t* input) {
    const NodeLayer& layer = share_.layers[k];
    std::int16_t* h = state_h(k);
    integer_lstm_units_step(layers_[k], layer.units, layer.input, layer.hidden, input, h, h + layer.hidden,
                            h + layer.first_unit, packed(), sums(), sums() + plan_.sum_rows);
  }
  void head_forward(std::int32_t* y) {
    integer_head_step(head_, spec_.output_size, spec_.top_hidden(), state_h(share_.layer_count - 1), packed(), sums(), y);
  }

 private:
  static constexpr bool valid_shift(std::int32_t shift) { return shift >= kMinGateShift && shift <= 62; }
  static Status typed(const ModelView& model, const char* name, TensorType type, std::size_t count, ModelTensor* out) {
    EDGELSTM_TRY(model.tensor(name, out));
    return out->type == type && out->count == count ? Status::kOk : Status::kMalformedModel;
  }
  std::size_t head_constants_offset() const {
    std::size_t offset = 0;
    for (std::size_t k = 0; k < share_.layer_count; ++k) offset += 4 * share_.layers[k].units * kIntegerGateFields;
    return offset;
  }
  // Weight and head views into the arena (the layout of node_integer_model_slice's offsets).
  void bind_views() {
    const std::int8_t* weights = reinterpret_cast<const std::int8_t*>(base_ + plan_.weights);
    for (std::size_t k = 0; k < share_.layer_count; ++k) {
      const NodeLayer& layer = share_.layers[k];
      layers_[k].weight_ih = weights;
      weights += 4 * layer.units * layer.input;
      layers_[k].weight_hh = weights;
      weights += 4 * layer.units * layer.hidden;
    }
    head_.weight = weights;
    head_.rows = constants_ + head_constants_offset();
  }
  std::int16_t* state() const { return reinterpret_cast<std::int16_t*>(base_ + plan_.state); }
  std::int16_t* state_h(std::size_t k) const {
    std::size_t offset = 0;
    for (std::size_t j = 0; j < k; ++j) offset += share_.layers[j].hidden + share_.layers[j].units;
    return state() + offset;
  }
  std::int32_t* sums() const { return reinterpret_cast<std::int32_t*>(base_ + plan_.sums); }
  std::uint32_t* packed() const { return reinterpret_cast<std::uint32_t*>(base_ + plan_.packed); }

  LstmSpec spec_{};
  Partition partition_{};
  NodeShare share_{};
  IntegerNodePlan plan_{};
  std::uint8_t* base_ = nullptr;
  std::int32_t* constants_ = nullptr;
  IntegerLayer layers_[kMaxLayers];
  IntegerHead head_{};
  float input_scale_ = 0.0f;
  bool loaded_ = false;
};

}  // namespace edgelstm
