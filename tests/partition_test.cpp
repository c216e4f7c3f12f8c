// Partitions: validation, the even split, each node's share of parameters and memory (sized from
// its slice, not the whole network), the model-file rows it loads, and the traffic per link.
#include <cstdint>
#include <cstring>

#include "edgelstm/edgelstm.h"
#include "support/micro_test.h"

namespace {

using edgelstm::LstmSpec;
using edgelstm::Partition;
using edgelstm::PartitionKind;
using edgelstm::Status;

constexpr LstmSpec kStacked = [] {
  LstmSpec spec = edgelstm::make_spec(3, 12, 3, 2, 4);
  spec.hidden_size[1] = 10;
  spec.hidden_size[2] = 8;
  return spec;
}();
constexpr LstmSpec kPaper = edgelstm::make_spec(1, 100, 1, 1, 6);  // the paper's 6 x 100 network

EDGELSTM_TEST(Partition, FactoriesShareLayersAndUnitsEvenly) {
  const Partition pipeline = edgelstm::make_layer_pipeline(kStacked, 2);
  EXPECT_OK(edgelstm::validate_partition(kStacked, pipeline));
  EXPECT_EQ_INT(pipeline.first_layer[1], 2);  // the first node takes the extra layer
  EXPECT_EQ_INT(pipeline.first_layer[2], 3);
  EXPECT_STATUS(edgelstm::validate_partition(kStacked, edgelstm::make_layer_pipeline(kStacked, 4)),
                Status::kInvalidArgument);  // more nodes than layers
  const Partition split = edgelstm::make_hidden_split(kPaper, 4);
  EXPECT_OK(edgelstm::validate_partition(kPaper, split));
  // 100 units over 4 nodes, every share even: 24, 26, 24, 26.
  const int expected[] = {0, 24, 50, 74, 100};
  for (int k = 0; k <= 4; ++k) EXPECT_EQ_INT(split.first_unit[0][k], expected[k]);
  // An odd layer size is shared as evenly as possible (13 over 3: 4, 4, 5).
  const LstmSpec odd = edgelstm::make_spec(2, 13, 1, 1, 2);
  const Partition odd_split = edgelstm::make_hidden_split(odd, 3);
  EXPECT_OK(edgelstm::validate_partition(odd, odd_split));
  EXPECT_EQ_INT(odd_split.first_unit[0][1], 4);
  EXPECT_EQ_INT(odd_split.first_unit[0][2], 8);
  EXPECT_STATUS(edgelstm::validate_partition(odd, edgelstm::make_hidden_split(odd, 14)), Status::kInvalidArgument);
}

EDGELSTM_TEST(Partition, ValidationRefusesGapsOverlapsAndEmptyNodes) {
  Partition split = edgelstm::make_hidden_split(kStacked, 2);
  split.first_unit[1][1] = 0;  // node 0 would hold no unit of layer 1
  EXPECT_STATUS(edgelstm::validate_partition(kStacked, split), Status::kInvalidArgument);
  split = edgelstm::make_hidden_split(kStacked, 2);
  split.first_unit[2][2] = 7;  // does not cover layer 2's 8 units
  EXPECT_STATUS(edgelstm::validate_partition(kStacked, split), Status::kInvalidArgument);
  Partition pipeline = edgelstm::make_layer_pipeline(kStacked, 3);
  pipeline.first_layer[2] = 1;  // node 1 would hold no layer
  EXPECT_STATUS(edgelstm::validate_partition(kStacked, pipeline), Status::kInvalidArgument);
  pipeline = edgelstm::make_layer_pipeline(kStacked, 3);
  pipeline.nodes = 0;
  EXPECT_STATUS(edgelstm::validate_partition(kStacked, pipeline), Status::kInvalidArgument);
  pipeline.nodes = edgelstm::kMaxNodes + 1;
  EXPECT_STATUS(edgelstm::validate_partition(kStacked, pipeline), Status::kInvalidArgument);
  EXPECT_EQ_INT(edgelstm::node_train_bytes(kStacked, pipeline, 0, edgelstm::OptimizerKind::kSgd), 0);
}

// Every parameter of the network is held by exactly one node (the split shares each layer's rows;
// the head sits on one node), and the slices list exactly the node's parameters.
EDGELSTM_TEST(Partition, NodesHoldEveryParameterOnce) {
  const Partition partitions[] = {edgelstm::make_layer_pipeline(kStacked, 3), edgelstm::make_hidden_split(kStacked, 3),
                                  edgelstm::make_hidden_split(kStacked, 1)};
  for (const Partition& partition : partitions) {
    std::size_t total = 0;
    int rows_seen[edgelstm::kMaxLayers][2][4 * 12] = {};
    for (std::size_t k = 0; k < partition.nodes; ++k) {
      const edgelstm::NodeShare share = edgelstm::node_share(kStacked, partition, k);
      const std::size_t count = edgelstm::node_parameter_count(kStacked, share);
      total += count;
      edgelstm::TensorRows slice[edgelstm::kMaxNodeSliceEntries];
      const std::size_t entries = edgelstm::node_model_slice(kStacked, partition, k, slice);
      std::size_t listed = 0;
      for (std::size_t e = 0; e < entries; ++e) {
        EXPECT_EQ_INT(slice[e].node_offset, listed);  // in node order, back to back
        listed += std::size_t{slice[e].rows} * slice[e].cols;
        const char* name = slice[e].name;
        if (std::strncmp(name, "lstm.weight_", 12) == 0) {
          const int layer = name[std::strlen(name) - 1] - '0';
          const int kind = name[12] == 'i' ? 0 : 1;
          for (std::uint32_t r = 0; r < slice[e].rows; ++r) ++rows_seen[layer][kind][slice[e].first_row + r];
        }
      }
      EXPECT_EQ_INT(listed, count);
    }
    EXPECT_EQ_INT(total, edgelstm::parameter_count(kStacked));
    for (std::size_t l = 0; l < kStacked.num_layers; ++l) {
      for (int kind = 0; kind < 2; ++kind) {
        for (std::size_t r = 0; r < 4 * kStacked.hidden(l); ++r) EXPECT_EQ_INT(rows_seen[l][kind][r], 1);
      }
    }
  }
}

// A node's arena is sized from its share. The paper's 6 x 100 network needs 357 KB to train with
// SGD on one device (more than an STM32F405's 128 KB); split over 4 nodes each needs about a
// quarter of the weights plus the whole-width vectors it must see.
EDGELSTM_TEST(Partition, ArenasAreSizedFromTheShare) {
  const std::size_t whole = edgelstm::train_bytes(kPaper, edgelstm::OptimizerKind::kSgd);
  EXPECT_TRUE(whole > 128 * 1024);
  const Partition split = edgelstm::make_hidden_split(kPaper, 4);
  for (std::size_t k = 0; k < 4; ++k) {
    const std::size_t node = edgelstm::node_train_bytes(kPaper, split, k, edgelstm::OptimizerKind::kSgd);
    EXPECT_TRUE(node < whole / 3);
    EXPECT_TRUE(node < 128 * 1024);
    EXPECT_TRUE(edgelstm::node_compute_bytes(kPaper, split, k, edgelstm::Purpose::kTraining) < node);
  }
  // A deeper network over a pipeline: each node holds a third of the layers.
  const LstmSpec deep = edgelstm::make_spec(1, 100, 3, 1, 6);
  const Partition pipeline = edgelstm::make_layer_pipeline(deep, 3);
  const std::size_t deep_whole = edgelstm::train_bytes(deep, edgelstm::OptimizerKind::kSgd);
  for (std::size_t k = 0; k < 3; ++k) {
    EXPECT_TRUE(edgelstm::node_train_bytes(deep, pipeline, k, edgelstm::OptimizerKind::kSgd) < deep_whole / 2);
  }
  // One node holding everything needs no more than the network (it keeps no initial-state
  // gradients), plus its link buffers.
  const Partition single = edgelstm::make_hidden_split(kPaper, 1);
  EXPECT_LE(edgelstm::node_compute_bytes(kPaper, single, 0, edgelstm::Purpose::kTraining), whole);
  EXPECT_TRUE(edgelstm::node_compute_bytes(kPaper, single, 0, edgelstm::Purpose::kTraining) > whole - 1024);
  EXPECT_EQ_INT(edgelstm::node_compute_bytes(kPaper, single, 0, edgelstm::Purpose::kInference),
                edgelstm::inference_bytes(kPaper));
}

alignas(16) std::uint8_t g_node_arena[24 * 1024];

EDGELSTM_TEST(Partition, BindUsesExactlyThePlannedBytes) {
  const Partition split = edgelstm::make_hidden_split(kStacked, 3);
  edgelstm::PartitionNode node;
  edgelstm::TrainConfig config;
  config.optimizer = edgelstm::OptimizerKind::kAdam;
  const std::size_t bytes = edgelstm::node_compute_bytes(kStacked, split, 1, edgelstm::Purpose::kTraining, config.optimizer);
  ASSERT_TRUE(bytes <= sizeof g_node_arena);
  EXPECT_STATUS(node.bind_training(kStacked, split, 1, config, edgelstm::Span<std::uint8_t>(g_node_arena, bytes - 1)),
                Status::kBufferTooSmall);
  ASSERT_OK(node.bind_training(kStacked, split, 1, config, edgelstm::Span<std::uint8_t>(g_node_arena, bytes)));
  EXPECT_EQ_INT(node.bytes_used(), bytes);
  EXPECT_STATUS(node.bind_inference(kStacked, split, 3, g_node_arena), Status::kInvalidArgument);
  EXPECT_STATUS(node.bind_inference(kStacked, split, 0, edgelstm::Span<std::uint8_t>(g_node_arena + 4, 4096)),
                Status::kMisalignedBuffer);
}

// The traffic of a round follows from the partition: a pipeline link carries the top h (and its
// gradient in training), a split link each node's slices.
EDGELSTM_TEST(Partition, TrafficPerLinkFollowsTheShares) {
  const Partition pipeline = edgelstm::make_layer_pipeline(kStacked, 2);
  const edgelstm::LinkTraffic forward = edgelstm::round_traffic(kStacked, pipeline, 0, 1, false);
  EXPECT_EQ_INT(forward.values, 10);  // node 0's top layer is layer 1 (10 units)
  EXPECT_EQ_INT(forward.frames, 1);
  EXPECT_EQ_INT(forward.payload_bytes, 40);
  EXPECT_EQ_INT(forward.wire_bytes, 40 + edgelstm::kFrameHeaderBytes + edgelstm::kFrameTrailerBytes);
  const edgelstm::LinkTraffic back = edgelstm::round_traffic(kStacked, pipeline, 1, 0, false);
  EXPECT_EQ_INT(back.values, 2);  // the head's outputs return to node 0
  const edgelstm::LinkTraffic train = edgelstm::round_traffic(kStacked, pipeline, 1, 0, true);
  EXPECT_EQ_INT(train.values, 4 * 10 + 2);  // dL/dh over the window, then the outputs
  EXPECT_EQ_INT(train.control_frames, 2);
  // The paper's network split in 4: per step node 1 sends node 2 its 26 units' h.
  const Partition split = edgelstm::make_hidden_split(kPaper, 4);
  EXPECT_EQ_INT(edgelstm::round_traffic(kPaper, split, 1, 2, false).values, 26);
  EXPECT_EQ_INT(edgelstm::round_traffic(kPaper, split, 0, 2, false).values, 1 + 24);  // x and node 0's h
  EXPECT_EQ_INT(edgelstm::round_traffic(kPaper, split, 1, 2, false, edgelstm::PayloadEncoding::kQ15).payload_bytes, 52);
  // A window of 6 steps: 6 slices forward; node 2's 24 units back for 5 steps; node 0 also
  // sends the window of x and the head's gradient.
  EXPECT_EQ_INT(edgelstm::round_traffic(kPaper, split, 1, 2, true).values, 6 * 26 + 5 * 24);
  EXPECT_EQ_INT(edgelstm::round_traffic(kPaper, split, 0, 2, true).values, 6 + 6 * 24 + 24 + 5 * 24);
  EXPECT_EQ_INT(edgelstm::round_traffic(kPaper, pipeline, 0, 1, true).values, 0);  // another spec: invalid
  EXPECT_TRUE(edgelstm::partition_id(split) != edgelstm::partition_id(edgelstm::make_hidden_split(kPaper, 2)));
  EXPECT_TRUE(edgelstm::partition_id(pipeline) != edgelstm::partition_id(edgelstm::make_hidden_split(kStacked, 2)));
}

}  // namespace
