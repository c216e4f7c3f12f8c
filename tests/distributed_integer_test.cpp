// The full-integer path over several nodes: every partition gives IntegerNetwork's outputs and
// states bit for bit (integer sums are exact in any order), each node holding only its slice of
// the integer model file.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "edgelstm/edgelstm.h"
#include "support/distributed_support.h"
#include "support/micro_test.h"
#include "support/test_util.h"

namespace {

using edgelstm::IntegerNetwork;
using edgelstm::IntegerPartitionNode;
using edgelstm::LstmSpec;
using edgelstm::Partition;
using edgelstm::Span;
using edgelstm::Status;

constexpr LstmSpec integer_spec() {
  LstmSpec spec = edgelstm::make_spec(2, 12, 2, 2, 4);
  spec.hidden_size[1] = 8;
  return spec;
}

using IntegerCluster = edgelstm::test::Cluster<IntegerPartitionNode>;
IntegerCluster& g_integer = edgelstm::test::integer_cluster();
const Span<std::uint8_t> g_float_arena = edgelstm::test::reference_arena();
const Span<std::uint8_t> g_integer_arena = edgelstm::test::check_arena();
alignas(16) std::uint8_t g_file[8 * 1024];
std::int8_t g_weights[edgelstm::integer_weight_count(integer_spec())];
float g_scales[edgelstm::integer_scale_count(integer_spec())];
std::int32_t g_constants[edgelstm::integer_constant_count(integer_spec())];
std::int16_t g_zero_biases[4 * 12];

float input(std::size_t t, std::size_t k) {
  return static_cast<float>(std::sin(0.21 * static_cast<double>(t) * static_cast<double>(k + 1)) * (k == 0 ? 2.0 : 0.6));
}

// A float network with weights stretched as trained ones are, calibrated on a stream and written
// as an integer model file.
Status make_integer_model(edgelstm::ModelView* view, const char* constants_as_int8 = nullptr) {
  const LstmSpec spec = integer_spec();
  edgelstm::Network net;
  EDGELSTM_TRY(net.bind_inference(spec, g_float_arena));
  EDGELSTM_TRY(net.initialize(23, 1.0f));
  for (float& p : net.parameters()) p *= 2.5f;
  float largest_x = 0.0f, largest_c[2] = {0.0f, 0.0f}, y[2];
  for (std::size_t t = 0; t < 120; ++t) {
    const float x[2] = {input(t, 0), input(t, 1)};
    EDGELSTM_TRY(net.step(x, y));
    for (float v : x) largest_x = std::fmax(largest_x, std::fabs(v));
    for (std::size_t l = 0; l < 2; ++l) {
      for (float c : net.cell_state(l)) largest_c[l] = std::fmax(largest_c[l], std::fabs(c));
    }
  }
  edgelstm::IntegerCalibration calibration;
  calibration.input_scale = largest_x / 32767.0f;
  for (std::size_t l = 0; l < 2; ++l) {
    int bits = 0;
    while (static_cast<float>(1 << bits) <= largest_c[l] * 1.25f) ++bits;
    calibration.cell_fraction_bits[l] = 15 - bits;
  }
  std::size_t written = 0;
  EDGELSTM_TRY(edgelstm::test::write_integer_model(spec, net.parameters(), calibration, g_weights, g_scales, g_constants,
                                                   g_zero_biases, g_file, &written, constants_as_int8));
  return edgelstm::read_model(Span<const std::uint8_t>(g_file, written), view);
}

EDGELSTM_TEST(DistributedInteger, EveryPartitionEqualsIntegerNetworkBitForBit) {
  const LstmSpec spec = integer_spec();
  edgelstm::ModelView view;
  ASSERT_OK(make_integer_model(&view));
  const Partition partitions[] = {edgelstm::make_layer_pipeline(spec, 2), edgelstm::make_hidden_split(spec, 2),
                                  edgelstm::make_hidden_split(spec, 3), edgelstm::make_hidden_split(spec, 1)};
  for (const Partition& partition : partitions) {
    IntegerNetwork single;
    ASSERT_OK(single.bind(view, g_integer_arena));
    IntegerCluster& c = g_integer;
    c.clear();
    c.spec = spec;
    c.partition = partition;
    for (std::size_t k = 0; k < partition.nodes; ++k) {
      ASSERT_OK(c.nodes[k].bind(spec, partition, k, c.pool.take(edgelstm::integer_node_bytes(spec, partition, k))));
      ASSERT_OK(c.nodes[k].load(view));
      ASSERT_OK(c.attach(k));
    }
    ASSERT_TRUE(c.join());
    int differing = 0;
    std::int32_t y_single[2];
    for (std::size_t t = 0; t < 40; ++t) {
      const std::int16_t x[2] = {single.quantize_input(input(t + 7, 0)), single.quantize_input(input(t + 7, 1))};
      ASSERT_OK(single.step(x, y_single));
      ASSERT_OK(c.sessions[0].submit_step(Span<const std::int16_t>(x, 2)));
      ASSERT_TRUE(c.finish_round());
      differing += std::memcmp(c.sessions[0].outputs().data(), y_single, sizeof y_single) != 0 ? 1 : 0;
    }
    EXPECT_EQ_INT(differing, 0);
    for (std::size_t k = 0; k < partition.nodes; ++k) {
      const edgelstm::NodeShare& share = c.nodes[k].share();
      for (std::size_t j = 0; j < share.layer_count; ++j) {
        const edgelstm::NodeLayer& layer = share.layers[j];
        EXPECT_TRUE(std::memcmp(c.nodes[k].hidden_state(j).data(), single.hidden_state(layer.layer).data(), layer.hidden * 2) == 0);
        EXPECT_TRUE(std::memcmp(c.nodes[k].cell_state(j).data(), single.cell_state(layer.layer).data() + layer.first_unit,
                                layer.units * 2) == 0);
      }
    }
    // The states moved (the comparison is not of zeros).
    EXPECT_TRUE(single.hidden_state(1)[0] != 0 || single.hidden_state(1)[1] != 0);
  }
}

EDGELSTM_TEST(DistributedInteger, NodesHoldOnlyTheirSlice) {
  const LstmSpec spec = integer_spec();
  const Partition split = edgelstm::make_hidden_split(spec, 3);
  std::size_t weights = 0, whole = 0;
  for (std::size_t k = 0; k < 3; ++k) {
    const edgelstm::IntegerNodePlan plan = edgelstm::plan_integer_node(spec, edgelstm::node_share(spec, split, k));
    weights += plan.weight_bytes;
    EXPECT_TRUE(plan.weight_bytes < edgelstm::integer_weight_count(spec) / 2);
  }
  whole = edgelstm::integer_weight_count(spec);
  EXPECT_EQ_INT(weights, whole);  // every int8 weight on exactly one node
  // A float file has no integer path; a node refuses it.
  edgelstm::Network net;
  ASSERT_OK(net.bind_inference(spec, g_float_arena));
  ASSERT_OK(net.initialize(1));
  std::size_t written = 0;
  ASSERT_OK(edgelstm::write_model(spec, net.parameters(), Span<const edgelstm::ModelTensor>(), g_file, &written));
  edgelstm::ModelView view;
  ASSERT_OK(edgelstm::read_model(Span<const std::uint8_t>(g_file, written), &view));
  IntegerPartitionNode node;
  ASSERT_OK(node.bind(spec, split, 1, g_integer_arena));
  EXPECT_STATUS(node.load(view), Status::kMalformedModel);
  EXPECT_STATUS(node.bind(spec, split, 1, Span<std::uint8_t>(g_integer_arena.data(), 16)), Status::kBufferTooSmall);
}

// A node takes each tensor's type from its name (int.*: int32 constants; weights: int8), not
// from the file: gate constants typed int8 would otherwise be copied into the weights' region at
// offsets counted in int32 values, and the constants left unset.
EDGELSTM_TEST(DistributedInteger, TensorTypesAreCheckedByName) {
  const LstmSpec spec = integer_spec();
  const Partition pipeline = edgelstm::make_layer_pipeline(spec, 2);
  edgelstm::ModelView view;
  ASSERT_OK(make_integer_model(&view, "int.l0.gates"));
  IntegerPartitionNode node;
  ASSERT_OK(node.bind(spec, pipeline, 0, g_integer_arena));
  EXPECT_STATUS(node.load(view), Status::kMalformedModel);
  EXPECT_TRUE(!node.loaded());
  ASSERT_OK(make_integer_model(&view));
  EXPECT_OK(node.load(view));
}

}  // namespace
