// Partition: how one LstmSpec network is shared among several devices (nodes), and what each node
// holds, needs and sends. Two ways to split, both constexpr so firmware can size its arena:
//
//   layer pipeline   node k holds the whole layers [first_layer[k], first_layer[k+1]); the last node
//                    also holds the head. Each step node k sends its top layer's h_t to node k + 1;
//                    in training dL/dh of that h flows back over the window.
//   hidden split     node k holds the hidden units [first_unit[l][k], first_unit[l][k+1]) of every
//                    layer l: their four gate rows of W_ih and W_hh (all columns) and their biases.
//                    Each step, after each layer, the nodes exchange their slices of h_t (an
//                    all-gather); node 0 runs the head. In training each node forms its rows'
//                    gradients; the contributions to dL/dh_{t-1} are summed across nodes each
//                    backward step (a reduce-scatter: each node receives the sums of its units).
//
// Node 0 is the source in both: it receives the application's input (and targets) and the outputs
// (in the pipeline the head node returns them), and it coordinates training commits and recovery.
// A single-node partition is the whole network on one device.
#pragma once

#include <cstddef>
#include <cstdint>

#include "memory_plan.h"
#include "spec.h"
#include "status.h"

namespace edgelstm {

inline constexpr std::size_t kMaxNodes = 8;

enum class PartitionKind : std::uint8_t {
  kLayerPipeline = 0,
  kHiddenSplit = 1,
};

struct Partition {
  PartitionKind kind = PartitionKind::kLayerPipeline;
  std::uint8_t nodes = 1;
  // Pipeline: node k holds layers [first_layer[k], first_layer[k + 1]); first_layer[nodes] is the
  // number of layers. Unused entries are 0.
  std::uint8_t first_layer[kMaxNodes + 1] = {};
  // Hidden split: node k holds units [first_unit[l][k], first_unit[l][k + 1]) of layer l;
  // first_unit[l][nodes] is the layer's hidden size. Unused entries are 0.
  std::uint16_t first_unit[kMaxLayers][kMaxNodes + 1] = {};
};

// kOk when the partition fits the spec: 1..kMaxNodes nodes, every node holding at least one layer
// (pipeline) or at least one unit of every layer (split), ranges contiguous and covering all.
constexpr Status validate_partition(const LstmSpec& spec, const Partition& partition) {
  EDGELSTM_TRY(validate_spec(spec));
  const std::size_t nodes = partition.nodes;
  if (nodes == 0 || nodes > kMaxNodes) return Status::kInvalidArgument;
  if (partition.kind == PartitionKind::kLayerPipeline) {
    if (partition.first_layer[0] != 0 || partition.first_layer[nodes] != spec.num_layers) return Status::kInvalidArgument;
    for (std::size_t k = 0; k < nodes; ++k) {
      if (partition.first_layer[k + 1] <= partition.first_layer[k]) return Status::kInvalidArgument;
    }
    return Status::kOk;
  }
  if (partition.kind != PartitionKind::kHiddenSplit) return Status::kInvalidArgument;
  for (std::size_t l = 0; l < spec.num_layers; ++l) {
    const std::uint16_t* bounds = partition.first_unit[l];
    if (bounds[0] != 0 || bounds[nodes] != spec.hidden(l)) return Status::kInvalidArgument;
    for (std::size_t k = 0; k < nodes; ++k) {
      if (bounds[k + 1] <= bounds[k]) return Status::kInvalidArgument;
    }
  }
  return Status::kOk;
}

// Layers shared as evenly as contiguous ranges allow (the first nodes take the extra layers).
// Invalid (validate_partition fails) when there are more nodes than layers.
constexpr Partition make_layer_pipeline(const LstmSpec& spec, std::size_t nodes) {
  Partition partition;
  partition.kind = PartitionKind::kLayerPipeline;
  partition.nodes = static_cast<std::uint8_t>(nodes > kMaxNodes ? 0 : nodes);
  if (partition.nodes == 0 || nodes > spec.num_layers) return partition;
  std::size_t layer = 0;
  for (std::size_t k = 0; k < nodes; ++k) {
    partition.first_layer[k] = static_cast<std::uint8_t>(layer);
    layer += spec.num_layers / nodes + (k < spec.num_layers % nodes ? 1 : 0);
  }
  partition.first_layer[nodes] = static_cast<std::uint8_t>(layer);
  return partition;
}

// Every layer's units shared as evenly as possible, each share rounded to an even number of units
// where the layer's size is even (then a node's 4 x units gate rows are a multiple of 8: the AVX2
// host kernels take rows eight at a time, and a row outside such a block is summed in another
// order, so only even shares keep the forward step bit-identical to one device on AVX2 hosts;
// microcontroller kernels sum each row the same way wherever it sits). Invalid when a layer has
// fewer units than nodes.
constexpr Partition make_hidden_split(const LstmSpec& spec, std::size_t nodes) {
  Partition partition;
  partition.kind = PartitionKind::kHiddenSplit;
  partition.nodes = static_cast<std::uint8_t>(nodes > kMaxNodes ? 0 : nodes);
  if (partition.nodes == 0) return partition;
  for (std::size_t l = 0; l < spec.num_layers; ++l) {
    const std::size_t hidden = spec.hidden(l);
    if (hidden < nodes) return partition;
    const bool even = hidden % 2 == 0 && hidden >= 2 * nodes;
    for (std::size_t k = 0; k <= nodes; ++k) {
      std::size_t bound = k * hidden / nodes;
      if (even) bound -= bound % 2;
      partition.first_unit[l][k] = static_cast<std::uint16_t>(bound);
    }
  }
  return partition;
}

// A layer as one node holds it.
struct NodeLayer {
  std::size_t layer = 0;       // index in the spec
  std::size_t first_unit = 0;  // the node's hidden units [first_unit, first_unit + units)
  std::size_t units = 0;
  std::size_t hidden = 0;      // the layer's whole hidden size (width of h, columns of W_hh)
  std::size_t input = 0;       // the layer's input width (columns of W_ih)
};

// What node `index` holds and does.
struct NodeShare {
  std::size_t index = 0;
  std::size_t nodes = 1;
  PartitionKind kind = PartitionKind::kLayerPipeline;
  std::size_t first_layer = 0;  // layers [first_layer, first_layer + layer_count)
  std::size_t layer_count = 0;
  NodeLayer layers[kMaxLayers];
  bool head = false;            // runs the dense head (and the loss)
  bool input_gradient = false;  // training: forms dL/dx of its first layer's input for the node before it
  std::size_t head_node = 0;

  constexpr const NodeLayer& top() const { return layers[layer_count - 1]; }
  constexpr std::size_t input_width() const { return layers[0].input; }
  constexpr std::size_t max_units() const {
    std::size_t largest = 0;
    for (std::size_t k = 0; k < layer_count; ++k) largest = layers[k].units > largest ? layers[k].units : largest;
    return largest;
  }
  constexpr std::size_t max_width() const {  // widest h or input vector of the node's layers
    std::size_t largest = 0;
    for (std::size_t k = 0; k < layer_count; ++k) {
      largest = layers[k].hidden > largest ? layers[k].hidden : largest;
      largest = layers[k].input > largest ? layers[k].input : largest;
    }
    return largest;
  }
};

// The node that runs the head: the last one in a pipeline, node 0 in a split.
constexpr std::size_t head_node(const Partition& partition) {
  return partition.kind == PartitionKind::kLayerPipeline ? partition.nodes - 1u : 0u;
}

// The share of node `index` (the partition must be valid for the spec and index < nodes).
constexpr NodeShare node_share(const LstmSpec& spec, const Partition& partition, std::size_t index) {
  NodeShare share;
  share.index = index;
  share.nodes = partition.nodes;
  share.kind = partition.kind;
  share.head_node = head_node(partition);
  share.head = index == share.head_node;
  const bool pipeline = partition.kind == PartitionKind::kLayerPipeline;
  share.first_layer = pipeline ? partition.first_layer[index] : 0;
  share.layer_count = pipeline ? partition.first_layer[index + 1] - partition.first_layer[index] : spec.num_layers;
  share.input_gradient = pipeline && index > 0;
  for (std::size_t k = 0; k < share.layer_count; ++k) {
    NodeLayer& layer = share.layers[k];
    layer.layer = share.first_layer + k;
    layer.hidden = spec.hidden(layer.layer);
    layer.input = spec.layer_input(layer.layer);
    layer.first_unit = pipeline ? 0 : partition.first_unit[layer.layer][index];
    layer.units = pipeline ? layer.hidden : partition.first_unit[layer.layer][index + 1] - layer.first_unit;
  }
  return share;
}

// Whether two partitions are the same (every field; unused entries are 0 in both).
constexpr bool same_partition(const Partition& a, const Partition& b) {
  if (a.kind != b.kind || a.nodes != b.nodes) return false;
  for (std::size_t k = 0; k <= kMaxNodes; ++k) {
    if (a.first_layer[k] != b.first_layer[k]) return false;
    for (std::size_t l = 0; l < kMaxLayers; ++l) {
      if (a.first_unit[l][k] != b.first_unit[l][k]) return false;
    }
  }
  return true;
}

// Whether nodes a and b exchange frames: in a split every pair; in a pipeline neighbours, and node
// 0 with every node (it coordinates commits and recovery and exchanges inputs and outputs with the
// head node).
constexpr bool nodes_linked(const Partition& partition, std::size_t a, std::size_t b) {
  if (a == b || a >= partition.nodes || b >= partition.nodes) return false;
  if (partition.kind == PartitionKind::kHiddenSplit) return true;
  return a == 0 || b == 0 || a + 1 == b || b + 1 == a;
}

// ---- Parameters and memory of a node -----------------------------------------------------------

// Parameters of a node in its own order: per held layer its gate rows of weight_ih [4U x input],
// weight_hh [4U x hidden], bias_ih [4U], bias_hh [4U] (rows i, f, g, o of its units), then the
// head's weight and bias if it holds the head.
constexpr std::size_t node_parameter_count(const LstmSpec& spec, const NodeShare& share) {
  std::size_t count = 0;
  for (std::size_t k = 0; k < share.layer_count; ++k) {
    const NodeLayer& layer = share.layers[k];
    count += 4 * layer.units * (layer.input + layer.hidden) + 8 * layer.units;
  }
  if (share.head) count += spec.output_size * spec.top_hidden() + spec.output_size;
  return count;
}

// Byte offsets of a node's regions in its compute arena (the analogue of MemoryPlan).
struct NodeMemoryPlan {
  using Region = MemoryPlan::Region;
  struct LayerCache {
    Region h;       // (T + 1) x hidden: the whole h of the layer at every step (all units)
    Region c;       // (T + 1) x units
    Region gates;   // T x 4 units
    Region tanh_c;  // T x units
  };
  Region parameters;
  Region state;          // per layer: h (hidden: all units) then c (units)
  Region gate_scratch;   // 4 x max units
  Region gradients;
  Region optimizer_state;
  Region input_cache;    // T x input width of the first held layer
  LayerCache layers[kMaxLayers];
  Region outputs;        // head: output_steps x O
  Region output_grad;    // head: output_steps x O
  Region dh_above;       // T x max units: dL/dh of the node's units from above (head or next layer)
  Region dh_partial;     // T x max width: dL/dx of a layer (partial sums in a split), the head's dL/dh
  Region dh_next;        // max width: W_hh^T dz of the node's rows (all units)
  Region dh_next_own;    // max units: dL/dh_{t-1} of the node's units (summed over nodes)
  Region dc_next;        // max units
  std::size_t total_bytes = 0;
};

constexpr NodeMemoryPlan plan_node_memory(const LstmSpec& spec, const NodeShare& share, Purpose purpose,
                                          OptimizerKind optimizer = OptimizerKind::kSgd,
                                          std::size_t element_bytes = sizeof(float)) {
  NodeMemoryPlan plan;
  detail::PlanBuilder builder{element_bytes};
  const std::size_t parameters = node_parameter_count(spec, share);
  const std::size_t window = spec.window, units = share.max_units(), width = share.max_width();
  std::size_t state = 0;
  for (std::size_t k = 0; k < share.layer_count; ++k) state += share.layers[k].hidden + share.layers[k].units;
  plan.parameters = builder.take(parameters);
  plan.state = builder.take(state);
  plan.gate_scratch = builder.take(4 * units);
  if (purpose == Purpose::kTraining) {
    plan.gradients = builder.take(parameters);
    plan.optimizer_state = builder.take(optimizer_state_slots(optimizer) * parameters);
    plan.input_cache = builder.take(window * share.input_width());
    for (std::size_t k = 0; k < share.layer_count; ++k) {
      const NodeLayer& layer = share.layers[k];
      plan.layers[k].h = builder.take((window + 1) * layer.hidden);
      plan.layers[k].c = builder.take((window + 1) * layer.units);
      plan.layers[k].gates = builder.take(window * 4 * layer.units);
      plan.layers[k].tanh_c = builder.take(window * layer.units);
    }
    const std::size_t outputs = share.head ? spec.output_steps() * spec.output_size : 0;
    plan.outputs = builder.take(outputs);
    plan.output_grad = builder.take(outputs);
    plan.dh_above = builder.take(window * units);
    plan.dh_partial = builder.take(window * width);
    plan.dh_next = builder.take(width);
    plan.dh_next_own = builder.take(units);
    plan.dc_next = builder.take(units);
  }
  plan.total_bytes = builder.cursor;
  return plan;
}

// Bytes of the compute arena of node `index` (float32; zero for an invalid spec or partition).
// Sized from the node's share: its rows of the weights, its units' state and caches, and the
// whole-width vectors it must see (h of its layers, its input), never the whole network.
constexpr std::size_t node_compute_bytes(const LstmSpec& spec, const Partition& partition, std::size_t index,
                                         Purpose purpose, OptimizerKind optimizer = OptimizerKind::kSgd) {
  if (validate_partition(spec, partition) != Status::kOk || index >= partition.nodes) return 0;
  return plan_node_memory(spec, node_share(spec, partition, index), purpose, optimizer).total_bytes;
}

}  // namespace edgelstm
