// A node's weights seen from the whole network: which of the whole network's parameters (by their
// index in Network::parameters(), PyTorch state_dict order) a node of a partition holds and where
// (the rows of edgelstm::node_model_slice), and the node's share of the whole network's seeded
// initialization. A board thus starts from exactly the weights Network::initialize(seed) gives one
// device, without ever holding the whole network, and reports its weights by their whole-network
// index so they can be compared with one device's.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstring>

#include "edgelstm/model_format.h"
#include "edgelstm/node_slice.h"
#include "edgelstm/partition.h"
#include "edgelstm/random.h"
#include "edgelstm/span.h"

namespace cluster {

// Calls held(whole_index, node_index) for every parameter node `index` holds, in whole-network order.
template <typename Held>
void for_each_held_parameter(const edgelstm::LstmSpec& spec, const edgelstm::Partition& partition,
                             std::size_t index, Held&& held) {
  edgelstm::TensorRows rows[edgelstm::kMaxNodeSliceEntries];
  const std::size_t entries = edgelstm::node_model_slice(spec, partition, index, rows);
  edgelstm::detail::ParameterTensor tensors[4 * edgelstm::kMaxLayers + 2];
  const std::size_t count = edgelstm::detail::parameter_tensors(spec, edgelstm::WeightFormat::kFloat32, tensors);
  std::size_t first = 0;  // whole-network index of the tensor's first value
  for (std::size_t t = 0; t < count; ++t) {
    for (std::size_t e = 0; e < entries; ++e) {
      if (std::strncmp(rows[e].name, tensors[t].name, edgelstm::kModelTensorNameBytes) != 0) continue;
      const std::size_t values = static_cast<std::size_t>(rows[e].rows) * rows[e].cols;
      const std::size_t whole = first + static_cast<std::size_t>(rows[e].first_row) * rows[e].cols;
      for (std::size_t k = 0; k < values; ++k) held(whole + k, rows[e].node_offset + k);
    }
    first += tensors[t].count;
  }
}

// Writes into `parameters` (the node's, node order) the values Network::initialize(seed,
// forget_bias) gives the whole network at the positions the node holds: every parameter drawn in
// whole-network order from one seeded generator, uniform in +-1/sqrt(H) for a layer and
// +-1/sqrt(top H) for the head, then the forget gate's bias_ih rows set to forget_bias and its
// bias_hh rows to 0. (The draws of rows other nodes hold are made and discarded: the generator's
// sequence is what keeps every node in step with one device.)
inline void initialize_node_like_network(const edgelstm::LstmSpec& spec, const edgelstm::Partition& partition,
                                         std::size_t index, std::uint64_t seed, float forget_bias,
                                         edgelstm::Span<float> parameters) {
  // Ranges of whole indices: each layer's parameters, then the head, with their bounds.
  struct Range {
    std::size_t end;
    float bound;
  };
  Range ranges[edgelstm::kMaxLayers + 1];
  std::size_t range_count = 0, end = 0;
  for (std::size_t layer = 0; layer < spec.num_layers; ++layer) {
    end += edgelstm::lstm_layer_parameter_count(spec.layer_input(layer), spec.hidden(layer));
    ranges[range_count++] = {end, 1.0f / std::sqrt(static_cast<float>(spec.hidden(layer)))};
  }
  end += spec.output_size * spec.top_hidden() + spec.output_size;
  ranges[range_count++] = {end, 1.0f / std::sqrt(static_cast<float>(spec.top_hidden()))};
  edgelstm::Random random(seed);
  std::size_t next = 0, range = 0;  // the whole index of the next draw, and its range
  for_each_held_parameter(spec, partition, index, [&](std::size_t whole, std::size_t node) {
    // Other nodes' values: one draw each (uniform_symmetric takes exactly one next_u32()).
    for (; next < whole; ++next) (void)random.next_u32();
    while (whole >= ranges[range].end) ++range;
    parameters[node] = random.uniform_symmetric(ranges[range].bound);
    ++next;
  });
  if (forget_bias == 0.0f) return;
  // The forget gate's rows [H, 2H) of each layer's bias_ih and bias_hh.
  std::size_t layer_first = 0;
  for (std::size_t layer = 0; layer < spec.num_layers; ++layer) {
    const std::size_t hidden = spec.hidden(layer), input = spec.layer_input(layer);
    const std::size_t bias_ih = layer_first + 4 * hidden * (input + hidden), bias_hh = bias_ih + 4 * hidden;
    for_each_held_parameter(spec, partition, index, [&](std::size_t whole, std::size_t node) {
      if (whole >= bias_ih + hidden && whole < bias_ih + 2 * hidden) parameters[node] = forget_bias;
      if (whole >= bias_hh + hidden && whole < bias_hh + 2 * hidden) parameters[node] = 0.0f;
    });
    layer_first += edgelstm::lstm_layer_parameter_count(input, hidden);
  }
}

}  // namespace cluster
