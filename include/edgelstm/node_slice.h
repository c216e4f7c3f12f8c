// The slice of a model file a node of a partition loads: which tensors, which rows of each, and
// where they go in the node's own parameter vector. A device of a partition never needs the whole
// file in RAM: it copies these rows (or receives them) and nothing else.
//
// Float files (float nodes): per held layer the node's gate rows of lstm.weight_ih_l<l>,
// lstm.weight_hh_l<l>, lstm.bias_ih_l<l>, lstm.bias_hh_l<l> (rows i, f, g, o of its units: four
// blocks of rows in a split, the whole tensor in a pipeline), then head.weight and head.bias on the
// head node. Integer files (edgelstm quantize --integer, integer nodes): the int8 weight rows,
// int.l<l>.gates rows (bias and multipliers per gate row), and on the head node head.weight and
// int.head; every node also reads int.config and int.input_scale whole.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "model_format.h"
#include "partition.h"
#include "spec.h"
#include "status.h"

namespace edgelstm {

// Rows [first_row, first_row + rows) of tensor `name` (each `cols` values), which the node stores
// at element `node_offset` of its parameter vector (float nodes; integer nodes keep one region per
// tensor kind and use node_offset within it).
struct TensorRows {
  char name[kModelTensorNameBytes] = {};
  std::uint32_t first_row = 0;
  std::uint32_t rows = 0;
  std::uint32_t cols = 0;
  std::uint32_t node_offset = 0;
};

inline constexpr std::size_t kMaxNodeSliceEntries = kMaxLayers * 16 + 4;

namespace detail {

inline void tensor_name(char* out, const char* kind, std::size_t layer) {
  std::memset(out, 0, kModelTensorNameBytes);
  std::size_t length = std::strlen(kind);
  std::memcpy(out, kind, length);
  if (layer < kMaxLayers) {
    out[length++] = '_';
    out[length++] = 'l';
    out[length] = static_cast<char>('0' + layer);
  }
}

// Visits the node's gate rows of a [4H x cols] tensor: one entry when it holds every unit, four
// (one per gate) otherwise. *node_offset advances past them.
template <typename Visit>
Status visit_gate_rows(const NodeLayer& layer, const char* name, std::size_t cols, std::size_t* node_offset,
                       Visit& visit) {
  const bool whole = layer.units == layer.hidden;
  TensorRows entry;
  std::memcpy(entry.name, name, kModelTensorNameBytes);
  for (std::size_t gate = 0; gate < (whole ? 1u : 4u); ++gate) {
    entry.first_row = static_cast<std::uint32_t>(gate * layer.hidden + layer.first_unit);
    entry.rows = static_cast<std::uint32_t>(whole ? 4 * layer.hidden : layer.units);
    entry.cols = static_cast<std::uint32_t>(cols);
    entry.node_offset = static_cast<std::uint32_t>(*node_offset);
    EDGELSTM_TRY(visit(static_cast<const TensorRows&>(entry)));
    *node_offset += entry.rows * cols;
  }
  return Status::kOk;
}

template <typename Visit>
Status visit_whole(const char* name, std::size_t rows, std::size_t cols, std::size_t node_offset, Visit& visit) {
  TensorRows entry;
  tensor_name(entry.name, name, kMaxLayers);
  entry.rows = static_cast<std::uint32_t>(rows);
  entry.cols = static_cast<std::uint32_t>(cols);
  entry.node_offset = static_cast<std::uint32_t>(node_offset);
  return visit(static_cast<const TensorRows&>(entry));
}

// Collects visited entries into an array of kMaxNodeSliceEntries.
struct SliceCollector {
  TensorRows* out;
  std::size_t count;
  Status operator()(const TensorRows& rows) {
    out[count++] = rows;
    return Status::kOk;
  }
};

}  // namespace detail

// Calls visit(const TensorRows&) -> Status for each of the float file's rows node `index` loads,
// in the order of its parameter vector (offsets are in floats), one entry at a time (no array of
// entries on a small stack). Stops at the first error visit returns; kInvalidArgument when the
// partition is invalid for the spec.
template <typename Visit>
Status for_each_node_slice_rows(const LstmSpec& spec, const Partition& partition, std::size_t index, Visit&& visit) {
  if (validate_partition(spec, partition) != Status::kOk || index >= partition.nodes) return Status::kInvalidArgument;
  const NodeShare share = node_share(spec, partition, index);
  std::size_t offset = 0;
  char name[kModelTensorNameBytes];
  for (std::size_t k = 0; k < share.layer_count; ++k) {
    const NodeLayer& layer = share.layers[k];
    detail::tensor_name(name, "lstm.weight_ih", layer.layer);
    EDGELSTM_TRY(detail::visit_gate_rows(layer, name, layer.input, &offset, visit));
    detail::tensor_name(name, "lstm.weight_hh", layer.layer);
    EDGELSTM_TRY(detail::visit_gate_rows(layer, name, layer.hidden, &offset, visit));
    detail::tensor_name(name, "lstm.bias_ih", layer.layer);
    EDGELSTM_TRY(detail::visit_gate_rows(layer, name, 1, &offset, visit));
    detail::tensor_name(name, "lstm.bias_hh", layer.layer);
    EDGELSTM_TRY(detail::visit_gate_rows(layer, name, 1, &offset, visit));
  }
  if (share.head) {
    EDGELSTM_TRY(detail::visit_whole("head.weight", spec.output_size, spec.top_hidden(), offset, visit));
    offset += spec.output_size * spec.top_hidden();
    EDGELSTM_TRY(detail::visit_whole("head.bias", spec.output_size, 1, offset, visit));
  }
  return Status::kOk;
}

// The same for the integer file's rows: per held layer lstm.weight_ih_l<l> and
// lstm.weight_hh_l<l> (int8; node offsets in bytes within the node's weight region, weight_ih
// and weight_hh rows layer after layer) and int.l<l>.gates (3 int32 per row: kIntegerGateFields;
// offsets in int32 within the node's gate table); the head node adds head.weight and int.head
// (3 int32 per output). int.config and int.input_scale are read whole by every node, not listed.
// The int.* entries are int32 constants, the others int8 weights (integer_slice_constants).
template <typename Visit>
Status for_each_integer_slice_rows(const LstmSpec& spec, const Partition& partition, std::size_t index, Visit&& visit) {
  if (validate_partition(spec, partition) != Status::kOk || index >= partition.nodes) return Status::kInvalidArgument;
  const NodeShare share = node_share(spec, partition, index);
  constexpr std::size_t kFields = 3;  // integer_network.h: kIntegerGateFields, kIntegerHeadFields
  std::size_t bytes = 0, gate_values = 0;
  char name[kModelTensorNameBytes];
  for (std::size_t k = 0; k < share.layer_count; ++k) {
    const NodeLayer& layer = share.layers[k];
    detail::tensor_name(name, "lstm.weight_ih", layer.layer);
    EDGELSTM_TRY(detail::visit_gate_rows(layer, name, layer.input, &bytes, visit));
    detail::tensor_name(name, "lstm.weight_hh", layer.layer);
    EDGELSTM_TRY(detail::visit_gate_rows(layer, name, layer.hidden, &bytes, visit));
    char gates[] = "int.l0.gates";
    gates[5] = static_cast<char>('0' + layer.layer);
    std::memset(name, 0, sizeof name);
    std::memcpy(name, gates, sizeof gates);
    EDGELSTM_TRY(detail::visit_gate_rows(layer, name, kFields, &gate_values, visit));
  }
  if (share.head) {
    EDGELSTM_TRY(detail::visit_whole("head.weight", spec.output_size, spec.top_hidden(), bytes, visit));
    EDGELSTM_TRY(detail::visit_whole("int.head", spec.output_size, kFields, gate_values, visit));
  }
  return Status::kOk;
}

// Whether an entry of the integer slice holds int32 constants (int.*) rather than int8 weights.
inline bool integer_slice_constants(const TensorRows& rows) { return std::strncmp(rows.name, "int.", 4) == 0; }

// The entries as an array (host tools and tests; `out` holds kMaxNodeSliceEntries entries).
// Returns the number of entries (0 when the partition is invalid for the spec).
inline std::size_t node_model_slice(const LstmSpec& spec, const Partition& partition, std::size_t index,
                                    TensorRows* out) {
  detail::SliceCollector collect{out, 0};
  return for_each_node_slice_rows(spec, partition, index, collect) == Status::kOk ? collect.count : 0;
}
inline std::size_t node_integer_model_slice(const LstmSpec& spec, const Partition& partition, std::size_t index,
                                            TensorRows* out) {
  detail::SliceCollector collect{out, 0};
  return for_each_integer_slice_rows(spec, partition, index, collect) == Status::kOk ? collect.count : 0;
}

}  // namespace edgelstm
