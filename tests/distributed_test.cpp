// One network over several nodes equals one device. Every node runs its session in this program,
// connected by the in-process bus (on the host and on every target):
//   - pipeline inference and training, and split inference: bit for bit with Network (float) and
//     IntegerNetwork (the full-integer path);
//   - split training: to float rounding (the sums of dL/dh_{t-1} run across nodes, in node order),
//     and bit for bit with a single-device reference that adds in that order;
//   - a refused window is refused on every node; clipping uses the global norm;
//   - each link carries what round_traffic() says; Q15 activations halve it.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "edgelstm/edgelstm.h"
#include "support/distributed_support.h"
#include "support/micro_test.h"
#include "support/test_util.h"

namespace {

using edgelstm::LstmSpec;
using edgelstm::Network;
using edgelstm::Partition;
using edgelstm::PartitionNode;
using edgelstm::SessionEvent;
using edgelstm::SessionEventKind;
using edgelstm::Span;
using edgelstm::Status;
using edgelstm::WindowStart;

using FloatCluster = edgelstm::test::Cluster<PartitionNode>;
FloatCluster& g_cluster = edgelstm::test::float_cluster();
const Span<std::uint8_t> g_single_arena = edgelstm::test::reference_arena();
const Span<std::uint8_t> g_check_arena = edgelstm::test::check_arena();

constexpr LstmSpec stacked_spec(std::uint16_t window, edgelstm::OutputMode mode = edgelstm::OutputMode::kLastStep) {
  LstmSpec spec = edgelstm::make_spec(3, 12, 3, 2, window, edgelstm::Task::kRegression, mode);
  spec.hidden_size[1] = 10;
  spec.hidden_size[2] = 8;
  return spec;
}
constexpr LstmSpec two_layer_spec(std::uint16_t window) {
  LstmSpec spec = edgelstm::make_spec(2, 16, 2, 1, window);
  spec.hidden_size[1] = 12;
  return spec;
}

// Binds every node of the partition, copies its rows out of `whole`, connects the sessions and
// waits until they have greeted each other.
Status start(FloatCluster& c, const LstmSpec& spec, const Partition& partition, Span<const float> whole, bool training,
             const edgelstm::TrainConfig& config = edgelstm::TrainConfig{},
             const edgelstm::SessionConfig& session = edgelstm::SessionConfig{}) {
  c.clear();
  c.spec = spec;
  c.partition = partition;
  c.training = training;
  c.config = session;
  for (std::size_t k = 0; k < partition.nodes; ++k) {
    const edgelstm::Purpose purpose = training ? edgelstm::Purpose::kTraining : edgelstm::Purpose::kInference;
    const Span<std::uint8_t> arena = c.pool.take(edgelstm::node_compute_bytes(spec, partition, k, purpose, config.optimizer));
    EDGELSTM_TRY(training ? c.nodes[k].bind_training(spec, partition, k, config, arena)
                          : c.nodes[k].bind_inference(spec, partition, k, arena));
    EDGELSTM_TRY(c.nodes[k].load_parameters(whole));
    EDGELSTM_TRY(c.attach(k));
  }
  return c.join() ? Status::kOk : Status::kNotBound;
}

bool run_step(FloatCluster& c, const float* x, float* y) {
  if (c.sessions[0].submit_step(Span<const float>(x, c.spec.input_size)) != Status::kOk) return false;
  if (!c.finish_round()) return false;
  std::memcpy(y, c.sessions[0].outputs().data(), c.spec.output_size * sizeof(float));
  return c.last_done[0].kind == SessionEventKind::kStepDone;
}

SessionEvent run_window(FloatCluster& c, const float* x, const float* targets, WindowStart start) {
  const std::size_t xs = c.spec.window * c.spec.input_size, ts = c.spec.output_steps() * c.spec.output_size;
  if (c.sessions[0].submit_window(Span<const float>(x, xs), Span<const float>(targets, ts), start) != Status::kOk) {
    return SessionEvent{};
  }
  if (!c.finish_round()) return SessionEvent{};
  return c.last_done[0];
}

// Whether node k of the cluster holds exactly (or, with tolerance > 0, within `tolerance`
// relative) the rows a node would load from the single network's parameters.
bool node_matches(FloatCluster& c, std::size_t k, const Network& single, double tolerance) {
  PartitionNode check;
  if (check.bind_inference(c.spec, c.partition, k, g_check_arena) != Status::kOk) return false;
  if (check.load_parameters(single.parameters()) != Status::kOk) return false;
  const Span<const float> mine = static_cast<const PartitionNode&>(c.nodes[k]).parameters();
  const Span<const float> theirs = static_cast<const PartitionNode&>(check).parameters();
  if (tolerance == 0.0) return std::memcmp(mine.data(), theirs.data(), mine.size() * sizeof(float)) == 0;
  return edgelstm::test::max_relative_error(mine.data(), theirs.data(), mine.size()) <= tolerance;
}

// The node's recurrent state (its whole h of each held layer, its units' c) against the single
// network's.
bool state_matches(FloatCluster& c, std::size_t k, const Network& single) {
  const edgelstm::NodeShare& share = c.nodes[k].share();
  for (std::size_t j = 0; j < share.layer_count; ++j) {
    const edgelstm::NodeLayer& layer = share.layers[j];
    const Span<const float> h = single.hidden_state(layer.layer), cell = single.cell_state(layer.layer);
    if (std::memcmp(c.nodes[k].hidden_state(j).data(), h.data(), layer.hidden * sizeof(float)) != 0) return false;
    if (std::memcmp(c.nodes[k].cell_state(j).data(), cell.data() + layer.first_unit, layer.units * sizeof(float)) != 0) {
      return false;
    }
  }
  return true;
}

void check_inference(const LstmSpec& spec, const Partition& partition, std::uint64_t seed) {
  Network single;
  ASSERT_OK(single.bind_inference(spec, g_single_arena));
  ASSERT_OK(single.initialize(seed, 1.0f));
  for (float& p : single.parameters()) p *= 2.0f;  // gates away from their linear region, as trained ones are
  ASSERT_OK(start(g_cluster, spec, partition, single.parameters(), false));
  float x[4], y_single[2], y_nodes[2];
  int differing = 0;
  for (std::uint64_t t = 0; t < 24; ++t) {
    edgelstm::test::fill_uniform(x, spec.input_size, seed * 1000 + t, 1.5f);
    ASSERT_OK(single.step(Span<const float>(x, spec.input_size), Span<float>(y_single, spec.output_size)));
    ASSERT_TRUE(run_step(g_cluster, x, y_nodes));
    differing += std::memcmp(y_single, y_nodes, spec.output_size * sizeof(float)) != 0 ? 1 : 0;
  }
  EXPECT_EQ_INT(differing, 0);
  for (std::size_t k = 0; k < partition.nodes; ++k) EXPECT_TRUE(state_matches(g_cluster, k, single));
  EXPECT_EQ_INT(g_cluster.sessions[0].round(), 24);
}

EDGELSTM_TEST(Distributed, PipelineInferenceEqualsOneDeviceBitForBit) {
  check_inference(stacked_spec(4), edgelstm::make_layer_pipeline(stacked_spec(4), 2), 3);
  check_inference(stacked_spec(4), edgelstm::make_layer_pipeline(stacked_spec(4), 3), 4);
}

EDGELSTM_TEST(Distributed, HiddenSplitInferenceEqualsOneDeviceBitForBit) {
  for (std::size_t nodes = 2; nodes <= 4; ++nodes) {
    check_inference(two_layer_spec(4), edgelstm::make_hidden_split(two_layer_spec(4), nodes), 10 + nodes);
  }
  check_inference(stacked_spec(4), edgelstm::make_hidden_split(stacked_spec(4), 3), 20);
}

// Windows of a stream: carried state, then one window from the zero state.
struct Stream {
  float x[16 * 3];
  float targets[16 * 2];
};
Stream stream_window(const LstmSpec& spec, std::uint64_t seed) {
  Stream s;
  edgelstm::test::fill_uniform(s.x, spec.window * spec.input_size, seed, 1.0f);
  edgelstm::test::fill_uniform(s.targets, spec.output_steps() * spec.output_size, seed + 7, 0.8f);
  return s;
}

// Trains the cluster and one device on the same windows; returns the largest relative distance of
// any node's parameters (0: bit for bit) and whether every window's loss was bit-identical.
void check_training(const LstmSpec& spec, const Partition& partition, const edgelstm::TrainConfig& config,
                    double tolerance, int windows = 6) {
  Network single;
  ASSERT_OK(single.bind_training(spec, config, g_single_arena));
  ASSERT_OK(single.initialize(41, 1.0f));
  ASSERT_OK(start(g_cluster, spec, partition, single.parameters(), true, config));
  int loss_differs = 0, refused = 0;
  for (int w = 0; w < windows; ++w) {
    const Stream s = stream_window(spec, 500 + static_cast<std::uint64_t>(w));
    const WindowStart start_mode = w == windows - 2 ? WindowStart::kZeroState : WindowStart::kCarryState;
    const edgelstm::TrainResult r = single.train_step(Span<const float>(s.x, spec.window * spec.input_size),
                                                      Span<const float>(s.targets, spec.output_steps() * spec.output_size),
                                                      start_mode);
    ASSERT_OK(r.status);
    const SessionEvent done = run_window(g_cluster, s.x, s.targets, start_mode);
    ASSERT_TRUE(done.kind == SessionEventKind::kWindowDone);
    refused += done.status != Status::kOk ? 1 : 0;
    if (tolerance == 0.0 || w == 0) {
      loss_differs += std::memcmp(&done.loss, &r.loss, sizeof r.loss) != 0 ? 1 : 0;
      // Node 0 has the window's last outputs, computed before the update.
      const Span<const float> outputs = single.window_outputs();
      loss_differs += std::memcmp(g_cluster.sessions[0].outputs().data(), outputs.data() + outputs.size() - spec.output_size,
                                  spec.output_size * sizeof(float)) != 0 ? 1 : 0;
    }
    EXPECT_NEAR(done.gradient_norm, r.gradient_norm, 1e-5 * r.gradient_norm);
  }
  EXPECT_EQ_INT(refused, 0);
  EXPECT_EQ_INT(loss_differs, 0);
  for (std::size_t k = 0; k < partition.nodes; ++k) {
    EXPECT_TRUE(node_matches(g_cluster, k, single, tolerance));
    if (tolerance == 0.0) EXPECT_TRUE(state_matches(g_cluster, k, single));
    EXPECT_EQ_INT(g_cluster.sessions[k].committed_windows(), windows);
    EXPECT_EQ_INT(g_cluster.done_count[k], windows);
  }
}

edgelstm::TrainConfig adam_config() {
  edgelstm::TrainConfig config;
  config.optimizer = edgelstm::OptimizerKind::kAdam;
  config.learning_rate = 0.02f;
  config.weight_decay = 0.01f;
  return config;
}

EDGELSTM_TEST(Distributed, PipelineTrainingEqualsOneDeviceBitForBit) {
  edgelstm::TrainConfig sgd;
  sgd.learning_rate = 0.05f;
  check_training(stacked_spec(5), edgelstm::make_layer_pipeline(stacked_spec(5), 3), sgd, 0.0);
  const LstmSpec every = stacked_spec(4, edgelstm::OutputMode::kEveryStep);
  check_training(every, edgelstm::make_layer_pipeline(every, 2), adam_config(), 0.0);
}

// One node holding everything runs Network's arithmetic exactly, in either partition kind.
EDGELSTM_TEST(Distributed, SingleNodePartitionEqualsNetworkBitForBit) {
  check_training(stacked_spec(5), edgelstm::make_layer_pipeline(stacked_spec(5), 1), adam_config(), 0.0);
  check_training(stacked_spec(5), edgelstm::make_hidden_split(stacked_spec(5), 1), adam_config(), 0.0);
}

edgelstm::TrainConfig momentum_config() {
  edgelstm::TrainConfig config;
  config.optimizer = edgelstm::OptimizerKind::kMomentum;
  config.learning_rate = 0.02f;
  config.weight_decay = 0.01f;
  return config;
}

// A split adds dL/dh_{t-1} across nodes in node order where one device adds row after row: with
// SGD (with or without momentum) the weights after training agree to 1e-6 relative. (Adam divides
// each update by the root of the squared gradients, so a gradient near zero whose last bits differ
// moves its weight by a visibly different step: that case is checked bit for bit against a device
// that adds in the split's order, distributed_reference_test.cpp.)
EDGELSTM_TEST(Distributed, HiddenSplitTrainingMatchesOneDeviceToRounding) {
  check_training(two_layer_spec(6), edgelstm::make_hidden_split(two_layer_spec(6), 3), momentum_config(), 1e-6);
  edgelstm::TrainConfig sgd;
  check_training(stacked_spec(5), edgelstm::make_hidden_split(stacked_spec(5), 2), sgd, 1e-6);
}

// Clipping scales every node's gradient by the global norm (the sum over nodes of their square
// sums, rounded differently from one device's sum): within float rounding, clipping active.
EDGELSTM_TEST(Distributed, ClippingUsesTheGlobalNorm) {
  edgelstm::TrainConfig config = momentum_config();
  config.clip_norm = 0.05f;
  check_training(stacked_spec(5), edgelstm::make_layer_pipeline(stacked_spec(5), 3), config, 1e-6);
  EXPECT_TRUE(g_cluster.last_done[0].gradient_norm > 0.05f);
  check_training(two_layer_spec(6), edgelstm::make_hidden_split(two_layer_spec(6), 2), config, 1e-6);
  EXPECT_TRUE(g_cluster.last_done[0].gradient_norm > 0.05f);
}

// A window whose loss overflows is refused on every node, as on one device: parameters and state
// are unchanged everywhere.
EDGELSTM_TEST(Distributed, NonFiniteWindowIsRefusedOnEveryNode) {
  const LstmSpec spec = stacked_spec(5);
  const Partition partitions[] = {edgelstm::make_layer_pipeline(spec, 3), edgelstm::make_hidden_split(spec, 3)};
  for (const Partition& partition : partitions) {
    Network single;
    ASSERT_OK(single.bind_training(spec, edgelstm::TrainConfig{}, g_single_arena));
    ASSERT_OK(single.initialize(3));
    ASSERT_OK(start(g_cluster, spec, partition, single.parameters(), true));
    Stream s = stream_window(spec, 77);
    ASSERT_TRUE(run_window(g_cluster, s.x, s.targets, WindowStart::kZeroState).status == Status::kOk);
    static float before[3][1024];
    for (std::size_t k = 0; k < 3; ++k) {
      const Span<float> p = g_cluster.nodes[k].parameters();
      std::memcpy(before[k], p.data(), p.size() * sizeof(float));
    }
    const float h_before = g_cluster.nodes[2].hidden_state(0)[0];
    s.targets[0] = 3e38f;  // finite, but (y - target)^2 overflows
    const SessionEvent refused = run_window(g_cluster, s.x, s.targets, WindowStart::kCarryState);
    EXPECT_TRUE(refused.kind == SessionEventKind::kWindowDone);
    EXPECT_STATUS(refused.status, Status::kNonFinite);
    for (std::size_t k = 0; k < 3; ++k) {
      EXPECT_STATUS(g_cluster.last_done[k].status, Status::kNonFinite);
      const Span<float> p = g_cluster.nodes[k].parameters();
      EXPECT_TRUE(std::memcmp(before[k], p.data(), p.size() * sizeof(float)) == 0);
      EXPECT_EQ_INT(g_cluster.sessions[k].committed_windows(), 1);
    }
    EXPECT_TRUE(g_cluster.nodes[2].hidden_state(0)[0] == h_before);
    // The next good window trains normally.
    s.targets[0] = 0.1f;
    EXPECT_STATUS(run_window(g_cluster, s.x, s.targets, WindowStart::kCarryState).status, Status::kOk);
    // An input with a NaN never starts a round.
    s.x[1] = std::nanf("");
    const Status nan_input = g_cluster.sessions[0].submit_window(Span<const float>(s.x, spec.window * spec.input_size),
                                                                 Span<const float>(s.targets, 2), WindowStart::kCarryState);
    EXPECT_STATUS(nan_input, Status::kNonFinite);
  }
}

// Every link carries what round_traffic() predicts: data vectors, frames and bytes, per round.
EDGELSTM_TEST(Distributed, LinksCarryWhatThePlanSays) {
  const LstmSpec spec = stacked_spec(5);
  const Partition partitions[] = {edgelstm::make_layer_pipeline(spec, 3), edgelstm::make_hidden_split(spec, 3)};
  for (const Partition& partition : partitions) {
    Network single;
    ASSERT_OK(single.bind_training(spec, edgelstm::TrainConfig{}, g_single_arena));
    ASSERT_OK(single.initialize(8));
    ASSERT_OK(start(g_cluster, spec, partition, single.parameters(), true));
    const int steps = 3, windows = 2;
    float x[3] = {0.1f, 0.2f, 0.3f}, y[2];
    for (int s = 0; s < steps; ++s) ASSERT_TRUE(run_step(g_cluster, x, y));
    for (int w = 0; w < windows; ++w) {
      const Stream s = stream_window(spec, 90 + static_cast<std::uint64_t>(w));
      ASSERT_TRUE(run_window(g_cluster, s.x, s.targets, WindowStart::kCarryState).status == Status::kOk);
    }
    for (std::size_t from = 0; from < 3; ++from) {
      for (std::size_t to = 0; to < 3; ++to) {
        const edgelstm::LinkTraffic step = edgelstm::round_traffic(spec, partition, from, to, false);
        const edgelstm::LinkTraffic window = edgelstm::round_traffic(spec, partition, from, to, true);
        const edgelstm::PeerTraffic& sent = g_cluster.sessions[from].sent_to(to);
        EXPECT_EQ_INT(sent.data_frames, steps * step.frames + windows * window.frames);
        EXPECT_EQ_INT(sent.data_payload_bytes, steps * step.payload_bytes + windows * window.payload_bytes);
        EXPECT_EQ_INT(sent.data_wire_bytes, steps * step.wire_bytes + windows * window.wire_bytes);
        EXPECT_EQ_INT(sent.control_frames, windows * window.control_frames);
        EXPECT_EQ_INT(sent.retransmitted_frames, 0);
      }
    }
  }
}

// Q15 activations: half the activation bytes, outputs within the rounding of h to 2^-16.
EDGELSTM_TEST(Distributed, Q15ActivationsHalveTheBytesAndStayClose) {
  const LstmSpec spec = two_layer_spec(4);
  const Partition partition = edgelstm::make_hidden_split(spec, 2);
  Network single;
  ASSERT_OK(single.bind_inference(spec, g_single_arena));
  ASSERT_OK(single.initialize(12, 1.0f));
  edgelstm::SessionConfig session;
  session.activations = edgelstm::PayloadEncoding::kQ15;
  ASSERT_OK(start(g_cluster, spec, partition, single.parameters(), false, edgelstm::TrainConfig{}, session));
  float x[2], y_single[1], y_nodes[1], worst = 0.0f;
  for (std::uint64_t t = 0; t < 20; ++t) {
    edgelstm::test::fill_uniform(x, 2, 300 + t, 1.0f);
    ASSERT_OK(single.step(Span<const float>(x, 2), Span<float>(y_single, 1)));
    ASSERT_TRUE(run_step(g_cluster, x, y_nodes));
    worst = std::fmax(worst, std::fabs(y_single[0] - y_nodes[0]));
  }
  EXPECT_LT(worst, 2e-4f);
  EXPECT_TRUE(worst > 0.0f);  // it is lossy
  const edgelstm::LinkTraffic q15 = edgelstm::round_traffic(spec, partition, 1, 0, false, edgelstm::PayloadEncoding::kQ15);
  const edgelstm::LinkTraffic f32 = edgelstm::round_traffic(spec, partition, 1, 0, false);
  EXPECT_EQ_INT(2 * q15.payload_bytes, f32.payload_bytes);
  EXPECT_EQ_INT(g_cluster.sessions[1].sent_to(0).data_payload_bytes, 20 * q15.payload_bytes);
}

// A session refuses a node it cannot run: training over a node bound for inference (its arena
// has no room for a window), a partition other than the node's, and a round whose vectors need
// more than 255 fragments (a frame numbers them in one byte: a long training window).
EDGELSTM_TEST(Distributed, SessionRefusesWhatItsNodeCannotCarry) {
  const LstmSpec spec = two_layer_spec(4);
  const Partition pipeline = edgelstm::make_layer_pipeline(spec, 2);
  const Partition split = edgelstm::make_hidden_split(spec, 2);
  FloatCluster& c = g_cluster;
  c.clear();
  const edgelstm::SessionConfig config{};
  const auto output = &edgelstm::test::InProcessBus::output;
  PartitionNode& node = c.nodes[1];
  ASSERT_OK(node.bind_inference(spec, pipeline, 1,
                                c.pool.take(edgelstm::node_compute_bytes(spec, pipeline, 1, edgelstm::Purpose::kInference))));
  const Span<std::uint8_t> memory = c.pool.take(edgelstm::session_bytes(spec, pipeline, 1, true));
  ASSERT_TRUE(memory.size() > 0);
  EXPECT_STATUS(c.sessions[1].bind(&node, pipeline, config, true, memory, output, c.bus.context(1)), Status::kNotBound);
  EXPECT_STATUS(c.sessions[1].bind(&node, split, config, false, memory, output, c.bus.context(1)), Status::kInvalidArgument);
  EXPECT_OK(c.sessions[1].bind(&node, pipeline, config, false, memory, output, c.bus.context(1)));

  // 54 floats a fragment, 255 fragments: a pipeline's window of 26 units fits over 529 steps,
  // not over 530 (13,780 values).
  LstmSpec fits = edgelstm::make_spec(1, 26, 2, 1, 529);
  fits.hidden_size[1] = 1;
  LstmSpec too_long = fits;
  too_long.window = 530;
  const Partition long_pipeline = edgelstm::make_layer_pipeline(too_long, 2);
  const edgelstm::OptimizerKind sgd = edgelstm::OptimizerKind::kSgd;
  EXPECT_TRUE(edgelstm::session_bytes(fits, long_pipeline, 1, true) > 0);
  EXPECT_EQ_INT(edgelstm::session_bytes(too_long, long_pipeline, 0, true), 0);
  EXPECT_EQ_INT(edgelstm::session_bytes(too_long, long_pipeline, 1, true), 0);
  EXPECT_EQ_INT(edgelstm::node_train_bytes(too_long, long_pipeline, 1, sgd), 0);
  EXPECT_TRUE(edgelstm::node_inference_bytes(too_long, long_pipeline, 1) > 0);  // a step's vectors are small
  c.clear();
  edgelstm::TrainConfig train{};
  train.optimizer = sgd;
  const std::size_t compute = edgelstm::node_compute_bytes(too_long, long_pipeline, 1, edgelstm::Purpose::kTraining, sgd);
  ASSERT_OK(node.bind_training(too_long, long_pipeline, 1, train, c.pool.take(compute)));
  const Span<std::uint8_t> rest = c.pool.take(1024);  // refused before the memory is looked at
  ASSERT_TRUE(rest.size() > 0);
  EXPECT_STATUS(c.sessions[1].bind(&node, long_pipeline, config, true, rest, output, c.bus.context(1)), Status::kInvalidSpec);
  c.clear();
}

}  // namespace
