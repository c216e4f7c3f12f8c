// What a node of a partition sends per round and how much memory its links need, constexpr so a
// firmware sizes its arena at compile time:
//
//   node_inference_bytes(spec, partition, k)        compute arena + link buffers, float
//   node_train_bytes(spec, partition, k, optimizer) the same for training
//   integer_node_inference_bytes(spec, partition, k) the full-integer path
//   round_traffic(spec, partition, from, to, ...)   data vectors, values, frames and bytes one link
//                                                   carries per round (an inference step or a
//                                                   training window), as NodeSession sends them
//
// The vectors of a round (see node_session.h for their order):
//   pipeline inference  node k -> k + 1: h of k's top layer; head -> 0: the outputs
//   split inference     0 -> every node: x; every node -> every node: its slice of h, per layer
//   pipeline training   k -> k + 1: the window of k's top h; k + 1 -> k: dL/dh of it over the
//                       window; 0 -> head: the targets; head -> 0: the last outputs; commit control
//   split training      0 -> every node: the window of x; every node -> every node: its slice of
//                       h per layer and step; head (0) -> node k: dL/dh of k's top units at the
//                       output steps; node j -> node k: its partial sums of dL/dh_{t-1} for k's
//                       units per layer and step t > 0, and of dL/dx for k's units of the layer
//                       below (per layer above 0, over the window); commit control
//   commit control      every node -> 0: a report (loss, gradient square sum) and a vote;
//                       0 -> every node: the scale and the decision (one frame each)
#pragma once

#include <cstddef>
#include <cstdint>

#include "frame.h"
#include "integer_partition_node.h"
#include "memory_plan.h"
#include "partition.h"
#include "reliable_link.h"
#include "spec.h"
#include "vector_inbox.h"

namespace edgelstm {

// Data vectors on one link per round.
struct LinkTraffic {
  std::size_t vectors = 0;        // data vectors (activations, gradients, inputs, targets, outputs)
  std::size_t values = 0;         // values they carry
  std::size_t frames = 0;         // data frames (fragments), without acks, control or retransmissions
  std::size_t payload_bytes = 0;  // their payload bytes
  std::size_t wire_bytes = 0;     // payload + header and CRC of each frame
  std::size_t control_frames = 0; // training commit control (report, vote or scale, decision)
};

namespace detail {

constexpr void add_vector(LinkTraffic* traffic, PayloadEncoding encoding, std::size_t values) {
  ++traffic->vectors;
  traffic->values += values;
  traffic->frames += fragment_count(encoding, values);
  traffic->payload_bytes += values * encoded_value_bytes(encoding);
  traffic->wire_bytes += vector_wire_bytes(encoding, values);
}

constexpr std::size_t units_of(const LstmSpec& spec, const Partition& partition, std::size_t layer, std::size_t node) {
  return partition.kind == PartitionKind::kHiddenSplit
             ? static_cast<std::size_t>(partition.first_unit[layer][node + 1] - partition.first_unit[layer][node])
             : spec.hidden(layer);
}

// Calls visit(encoding, values) for every data vector node `from` sends node `to` in one round.
// `integer`: the full-integer path (int16 vectors, int32 outputs, inference only).
template <typename Visit>
constexpr void for_each_round_vector(const LstmSpec& spec, const Partition& partition, std::size_t from, std::size_t to,
                                     bool training, bool integer, PayloadEncoding activations, Visit&& visit) {
  if (!nodes_linked(partition, from, to)) return;
  const PayloadEncoding act = integer ? PayloadEncoding::kInt16 : activations;
  const PayloadEncoding input = integer ? PayloadEncoding::kInt16 : PayloadEncoding::kFloat32;
  const PayloadEncoding output = integer ? PayloadEncoding::kInt32 : PayloadEncoding::kFloat32;
  const PayloadEncoding grad = PayloadEncoding::kFloat32;
  const std::size_t head = head_node(partition), window = spec.window;
  if (partition.kind == PartitionKind::kLayerPipeline) {
    const std::size_t top_of_from = partition.first_layer[from + 1] - 1u;
    if (to == from + 1) visit(act, (training ? window : 1) * spec.hidden(top_of_from));
    if (training && to + 1 == from) visit(grad, window * spec.hidden(partition.first_layer[from] - 1u));
    if (from == head && to == 0 && head != 0) visit(output, spec.output_size);
    if (training && from == 0 && to == head && head != 0) visit(PayloadEncoding::kFloat32, spec.output_steps() * spec.output_size);
    return;
  }
  if (from == 0) visit(input, (training ? window : 1) * spec.input_size);
  for (std::size_t t = 0; t < (training ? window : 1); ++t) {
    for (std::size_t l = 0; l < spec.num_layers; ++l) visit(act, units_of(spec, partition, l, from));
  }
  if (!training) return;
  const std::size_t top = spec.num_layers - 1u;
  if (from == head) visit(grad, spec.output_steps() * units_of(spec, partition, top, to));
  for (std::size_t l = spec.num_layers; l-- > 0;) {
    for (std::size_t t = window; t-- > 1;) visit(grad, units_of(spec, partition, l, to));
    if (l > 0) visit(grad, window * units_of(spec, partition, l - 1, to));
  }
}

}  // namespace detail

constexpr LinkTraffic round_traffic(const LstmSpec& spec, const Partition& partition, std::size_t from, std::size_t to,
                                    bool training, PayloadEncoding activations = PayloadEncoding::kFloat32,
                                    bool integer = false) {
  LinkTraffic traffic;
  if (validate_partition(spec, partition) != Status::kOk) return traffic;
  detail::for_each_round_vector(spec, partition, from, to, training, integer, activations,
                                [&](PayloadEncoding encoding, std::size_t values) { detail::add_vector(&traffic, encoding, values); });
  if (training && nodes_linked(partition, from, to) && (from == 0 || to == 0)) traffic.control_frames = 2;
  return traffic;
}

namespace detail {

// The most values of one vector `from` sends `to` (inference and, when `training`, training rounds).
constexpr std::size_t largest_vector(const LstmSpec& spec, const Partition& partition, std::size_t from, std::size_t to,
                                     bool training) {
  std::size_t largest = 0;
  const auto keep = [&](PayloadEncoding, std::size_t values) { largest = values > largest ? values : largest; };
  for_each_round_vector(spec, partition, from, to, false, false, PayloadEncoding::kFloat32, keep);
  if (training) for_each_round_vector(spec, partition, from, to, true, false, PayloadEncoding::kFloat32, keep);
  return largest;
}

// Frames one vector may take: a frame numbers its fragments in one byte.
inline constexpr std::size_t kMaxVectorFragments = 255;

// Whether every vector of a round between any two linked nodes fits in kMaxVectorFragments
// frames (float32 values, the most fragments of any encoding). A training window of a pipeline
// carries window x hidden values in one vector: at most 255 x 54 = 13,770.
constexpr bool vectors_fit_frames(const LstmSpec& spec, const Partition& partition, bool training) {
  for (std::size_t from = 0; from < partition.nodes; ++from) {
    for (std::size_t to = 0; to < partition.nodes; ++to) {
      if (fragment_count(PayloadEncoding::kFloat32, largest_vector(spec, partition, from, to, training)) > kMaxVectorFragments) {
        return false;
      }
    }
  }
  return true;
}

// Frames a link may hold unacknowledged: two of its largest vectors and room for control frames.
constexpr std::size_t link_slots(const LstmSpec& spec, const Partition& partition, std::size_t from, std::size_t to,
                                 bool training) {
  return 2 * fragment_count(PayloadEncoding::kFloat32, largest_vector(spec, partition, from, to, training)) + 6;
}

struct SessionPlan {
  std::size_t send_ring[kMaxNodes] = {};  // byte offsets of each peer's retransmission slots
  std::size_t send_slots[kMaxNodes] = {};
  std::size_t inbox[kMaxNodes] = {};      // byte offsets of each peer's inbox
  std::size_t inbox_bytes[kMaxNodes] = {};
  std::size_t pending = 0;   // node 0: the round's input (and targets), 4 bytes per value
  std::size_t pending_values = 0;
  std::size_t step_input = 0;  // a step's input vector (x or the layer below's h)
  std::size_t step_input_values = 0;
  std::size_t outputs = 0;   // the head's outputs (node 0: the round's outputs)
  std::size_t targets = 0;   // training, a pipeline's head node after node 0: the window's targets
  std::size_t frame = 0;     // one frame being built
  std::size_t total_bytes = 0;
};

constexpr SessionPlan plan_session(const LstmSpec& spec, const Partition& partition, std::size_t index, bool training) {
  SessionPlan plan;
  std::size_t cursor = 0;
  const auto take = [&](std::size_t bytes) {
    const std::size_t offset = cursor;
    cursor = align_up(cursor + bytes);
    return offset;
  };
  for (std::size_t peer = 0; peer < partition.nodes; ++peer) {
    if (!nodes_linked(partition, index, peer)) continue;
    plan.send_slots[peer] = link_slots(spec, partition, index, peer, training);
    plan.send_ring[peer] = take(plan.send_slots[peer] * kLinkSlotBytes);
    plan.inbox_bytes[peer] = inbox_bytes(largest_vector(spec, partition, peer, index, training));
    plan.inbox[peer] = take(plan.inbox_bytes[peer]);
  }
  if (index == 0) {
    plan.pending_values = (training ? spec.window : 1u) * spec.input_size + (training ? spec.output_steps() * spec.output_size : 0u);
    plan.pending = take(plan.pending_values * 4);
  }
  plan.outputs = take(spec.output_size * 4);
  const NodeShare share = node_share(spec, partition, index);
  if (training && share.head && index != 0) plan.targets = take(spec.output_steps() * spec.output_size * 4);
  plan.step_input_values = share.input_width();
  plan.step_input = take(plan.step_input_values * 4);
  plan.frame = take(kMaxFrameBytes);
  plan.total_bytes = cursor;
  return plan;
}

}  // namespace detail

// Bytes of a node's link buffers (retransmission slots, inboxes, its round's input and outputs).
// Zero when the partition is invalid or a vector would need more than kMaxVectorFragments frames.
constexpr std::size_t session_bytes(const LstmSpec& spec, const Partition& partition, std::size_t index, bool training) {
  if (validate_partition(spec, partition) != Status::kOk || index >= partition.nodes) return 0;
  if (!detail::vectors_fit_frames(spec, partition, training)) return 0;
  return detail::plan_session(spec, partition, index, training).total_bytes;
}

// The whole arena node `index` needs: its compute arena, then its link buffers (each part starting
// on a kArenaAlignment boundary). Zero for an invalid spec or partition, or one whose vectors do
// not fit the frames (session_bytes).
namespace detail {
constexpr std::size_t compute_and_links(std::size_t compute, std::size_t links) {
  return compute == 0 || links == 0 ? 0 : compute + links;
}
}  // namespace detail
constexpr std::size_t node_inference_bytes(const LstmSpec& spec, const Partition& partition, std::size_t index) {
  return detail::compute_and_links(node_compute_bytes(spec, partition, index, Purpose::kInference),
                                   session_bytes(spec, partition, index, false));
}
constexpr std::size_t node_train_bytes(const LstmSpec& spec, const Partition& partition, std::size_t index,
                                       OptimizerKind optimizer) {
  return detail::compute_and_links(node_compute_bytes(spec, partition, index, Purpose::kTraining, optimizer),
                                   session_bytes(spec, partition, index, true));
}
constexpr std::size_t integer_node_inference_bytes(const LstmSpec& spec, const Partition& partition, std::size_t index) {
  return detail::compute_and_links(integer_node_bytes(spec, partition, index), session_bytes(spec, partition, index, false));
}

// A 16-bit digest of the partition, carried by every frame: nodes started with different
// partitions drop each other's frames.
constexpr std::uint16_t partition_id(const Partition& partition) {
  std::uint8_t bytes[2 + kMaxNodes + 1 + 2 * kMaxLayers * (kMaxNodes + 1)] = {};
  std::size_t n = 0;
  bytes[n++] = static_cast<std::uint8_t>(partition.kind);
  bytes[n++] = partition.nodes;
  for (std::size_t k = 0; k <= kMaxNodes; ++k) bytes[n++] = partition.first_layer[k];
  for (std::size_t l = 0; l < kMaxLayers; ++l) {
    for (std::size_t k = 0; k <= kMaxNodes; ++k) {
      bytes[n++] = static_cast<std::uint8_t>(partition.first_unit[l][k]);
      bytes[n++] = static_cast<std::uint8_t>(partition.first_unit[l][k] >> 8);
    }
  }
  const std::uint32_t crc = crc32_update(0, bytes, n);
  return static_cast<std::uint16_t>(crc ^ (crc >> 16));
}

}  // namespace edgelstm
