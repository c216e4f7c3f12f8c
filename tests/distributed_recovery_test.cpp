// Faults, on the in-process bus (simulated clock, so every test is bounded in time):
//   - lost, duplicated, reordered and corrupted frames: results still equal one device bit for
//     bit, and the counters show what happened;
//   - a node taken down mid-stream: its neighbours report which node and which round within the
//     timeout, nothing spins, and when the node comes back the cluster resets and resumes: outputs
//     equal one device reset at the same step (warm-up flagged), training resumes from the
//     restarted node's checkpoint, and a restarted node with a stale checkpoint stops the cluster.
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
using edgelstm::SessionEventKind;
using edgelstm::Span;
using edgelstm::Status;
using edgelstm::WindowStart;

using FloatCluster = edgelstm::test::Cluster<PartitionNode>;
FloatCluster& g_faulty = edgelstm::test::float_cluster();
const Span<std::uint8_t> g_single_arena = edgelstm::test::reference_arena();
const Span<std::uint8_t> g_check_arena = edgelstm::test::check_arena();
float g_checkpoint[1024];

constexpr LstmSpec recovery_spec() {
  LstmSpec spec = edgelstm::make_spec(2, 12, 3, 1, 4);
  spec.hidden_size[1] = 10;
  spec.hidden_size[2] = 8;
  return spec;
}

edgelstm::SessionConfig quick_timeouts() {
  edgelstm::SessionConfig config;
  config.link.retransmit_ms = 40;
  config.link.max_retransmits = 10;
  config.heartbeat_ms = 100;
  config.peer_timeout_ms = 500;
  return config;
}

Status bind_node(FloatCluster& c, std::size_t k, bool training, Span<const float> whole, const edgelstm::TrainConfig& config) {
  const edgelstm::Purpose purpose = training ? edgelstm::Purpose::kTraining : edgelstm::Purpose::kInference;
  const Span<std::uint8_t> arena = c.pool.take(edgelstm::node_compute_bytes(c.spec, c.partition, k, purpose, config.optimizer));
  EDGELSTM_TRY(training ? c.nodes[k].bind_training(c.spec, c.partition, k, config, arena)
                        : c.nodes[k].bind_inference(c.spec, c.partition, k, arena));
  return c.nodes[k].load_parameters(whole);
}

Status start(FloatCluster& c, const Partition& partition, Span<const float> whole, bool training,
             const edgelstm::TrainConfig& config, const edgelstm::SessionConfig& session) {
  c.clear();
  c.spec = recovery_spec();
  c.partition = partition;
  c.training = training;
  c.config = session;
  for (std::size_t k = 0; k < partition.nodes; ++k) {
    EDGELSTM_TRY(bind_node(c, k, training, whole, config));
    EDGELSTM_TRY(c.attach(k));
  }
  return c.join() ? Status::kOk : Status::kNotBound;
}

void input(std::size_t t, float* x) { edgelstm::test::fill_uniform(x, 2, 4000 + t, 1.0f); }

// Trains and streams through `partition` with `faults` on the bus; fills outputs[6] and the
// nodes' parameters (node after node) into `parameters`.
void train_and_stream(const Partition& partition, const edgelstm::test::BusFaults& faults, float* outputs,
                      float* parameters) {
  const LstmSpec spec = recovery_spec();
  edgelstm::TrainConfig config;
  config.learning_rate = 0.05f;
  Network initial;
  ASSERT_OK(initial.bind_inference(spec, g_single_arena));
  ASSERT_OK(initial.initialize(61, 1.0f));
  ASSERT_OK(start(g_faulty, partition, initial.parameters(), true, config, quick_timeouts()));
  g_faulty.bus.set_faults(faults);
  float x[4 * 2], target[1];
  for (std::size_t w = 0; w < 6; ++w) {
    edgelstm::test::fill_uniform(x, 8, 70 + w, 1.0f);
    target[0] = 0.1f * static_cast<float>(w);
    ASSERT_OK(g_faulty.sessions[0].submit_window(Span<const float>(x, 8), Span<const float>(target, 1), WindowStart::kCarryState));
    ASSERT_TRUE(g_faulty.finish_round());
    EXPECT_STATUS(g_faulty.last_done[0].status, Status::kOk);
    input(w, x);
    ASSERT_OK(g_faulty.sessions[0].submit_step(Span<const float>(x, 2)));
    ASSERT_TRUE(g_faulty.finish_round());
    outputs[w] = g_faulty.sessions[0].outputs()[0];
  }
  for (std::size_t k = 0; k < partition.nodes; ++k) {
    const Span<float> p = g_faulty.nodes[k].parameters();
    std::memcpy(parameters, p.data(), p.size() * sizeof(float));
    parameters += p.size();
    EXPECT_EQ_INT(g_faulty.lost_events[k], 0);  // no false alarm
  }
}

float g_clean_parameters[2400];
float g_faulty_parameters[2400];

// Loss 8%, duplication 4%, reordering 4%, corruption 2% on every link change nothing: training and
// inference give the bits the same cluster gives on a clean bus (and so, for the pipeline, the
// bits of one device), and the counters show what the links went through.
EDGELSTM_TEST(DistributedFaults, LossDuplicationAndReorderingChangeNothing) {
  const LstmSpec spec = recovery_spec();
  const Partition partitions[] = {edgelstm::make_layer_pipeline(spec, 3), edgelstm::make_hidden_split(spec, 3)};
  for (const Partition& partition : partitions) {
    float clean_outputs[6], faulty_outputs[6];
    train_and_stream(partition, edgelstm::test::BusFaults{}, clean_outputs, g_clean_parameters);
    edgelstm::test::BusFaults faults;
    faults.drop_per_mille = 80;
    faults.duplicate_per_mille = 40;
    faults.reorder_per_mille = 40;
    faults.corrupt_per_mille = 20;
    faults.seed = 5 + partition.nodes;
    train_and_stream(partition, faults, faulty_outputs, g_faulty_parameters);
    const std::size_t count = edgelstm::parameter_count(spec);
    EXPECT_TRUE(std::memcmp(clean_outputs, faulty_outputs, sizeof clean_outputs) == 0);
    EXPECT_TRUE(std::memcmp(g_clean_parameters, g_faulty_parameters, count * sizeof(float)) == 0);
    edgelstm::ReceiveCounters total{};
    std::uint32_t retransmitted = 0;
    for (std::size_t k = 0; k < 3; ++k) {
      const edgelstm::ReceiveCounters& r = g_faulty.sessions[k].received();
      total.duplicate += r.duplicate;
      total.reordered += r.reordered;
      total.bad_checksum += r.bad_checksum;
      for (std::size_t p = 0; p < 3; ++p) retransmitted += g_faulty.sessions[k].sent_to(p).retransmitted_frames;
    }
    EXPECT_TRUE(retransmitted > 0);
    EXPECT_TRUE(total.duplicate > 0);
    EXPECT_TRUE(total.reordered > 0);
    EXPECT_TRUE(total.bad_checksum > 0);
    EXPECT_TRUE(g_faulty.bus.counts().dropped > 0);
  }
  // The pipeline's result is one device's, bit for bit.
  const Partition pipeline = edgelstm::make_layer_pipeline(spec, 3);
  float outputs[6];
  train_and_stream(pipeline, edgelstm::test::BusFaults{}, outputs, g_clean_parameters);
  edgelstm::TrainConfig config;
  config.learning_rate = 0.05f;
  Network single;
  ASSERT_OK(single.bind_training(spec, config, g_single_arena));
  ASSERT_OK(single.initialize(61, 1.0f));
  float x[8], target[1], y[1];
  int differing = 0;
  for (std::size_t w = 0; w < 6; ++w) {
    edgelstm::test::fill_uniform(x, 8, 70 + w, 1.0f);
    target[0] = 0.1f * static_cast<float>(w);
    ASSERT_OK(single.train_step(Span<const float>(x, 8), Span<const float>(target, 1), WindowStart::kCarryState).status);
    input(w, x);
    ASSERT_OK(single.step(Span<const float>(x, 2), Span<float>(y, 1)));
    differing += std::memcmp(&y[0], &outputs[w], 4) != 0 ? 1 : 0;
  }
  EXPECT_EQ_INT(differing, 0);
  // Node parameters in node order are the network's in state_dict order for a pipeline.
  EXPECT_TRUE(std::memcmp(single.parameters().data(), g_clean_parameters, edgelstm::parameter_count(spec) * sizeof(float)) == 0);
}

// Malformed, truncated, foreign frames given to a session are counted and change nothing.
EDGELSTM_TEST(DistributedFaults, DamagedAndForeignFramesAreDroppedAndCounted) {
  const LstmSpec spec = recovery_spec();
  const Partition partition = edgelstm::make_hidden_split(spec, 2);
  Network single;
  ASSERT_OK(single.bind_inference(spec, g_single_arena));
  ASSERT_OK(single.initialize(2));
  ASSERT_OK(start(g_faulty, partition, single.parameters(), false, edgelstm::TrainConfig{}, quick_timeouts()));
  edgelstm::NodeSession<PartitionNode>& session = g_faulty.sessions[1];
  const edgelstm::ReceiveCounters before = session.received();
  std::uint8_t frame[edgelstm::kMaxFrameBytes];
  edgelstm::FrameHeader header;
  header.kind = edgelstm::FrameKind::kHeartbeat;
  header.model_id = 0;  // the clusters' model id
  header.partition_id = edgelstm::partition_id(partition);
  header.sender = 0;
  header.receiver = 1;
  const std::size_t size = edgelstm::encode_frame(header, {}, frame);
  const std::uint32_t now = g_faulty.bus.now();
  EXPECT_TRUE(session.receive(Span<const std::uint8_t>(frame, size - 1), now) == edgelstm::FrameError::kTruncated);
  frame[5] ^= 1;
  EXPECT_TRUE(session.receive(Span<const std::uint8_t>(frame, size), now) == edgelstm::FrameError::kBadChecksum);
  frame[5] ^= 1;
  frame[0] = 'Z';
  EXPECT_TRUE(session.receive(Span<const std::uint8_t>(frame, size), now) == edgelstm::FrameError::kBadMagic);
  const auto foreign = [&](edgelstm::FrameHeader h) {
    const std::size_t n = edgelstm::encode_frame(h, {}, frame);
    (void)session.receive(Span<const std::uint8_t>(frame, n), now);
  };
  edgelstm::FrameHeader other = header;
  other.model_id = 7;  // another model
  foreign(other);
  other = header;
  other.partition_id ^= 1;  // another partition
  foreign(other);
  other = header;
  other.receiver = 2;  // meant for someone else
  foreign(other);
  other = header;
  other.sender = 5;  // no such node
  foreign(other);
  const edgelstm::ReceiveCounters& after = session.received();
  EXPECT_EQ_INT(after.truncated - before.truncated, 1);
  EXPECT_EQ_INT(after.bad_checksum - before.bad_checksum, 1);
  EXPECT_EQ_INT(after.malformed - before.malformed, 1);
  EXPECT_EQ_INT(after.foreign - before.foreign, 4);
  EXPECT_EQ_INT(after.delivered, before.delivered);
  float x[2], y_single[1];
  input(0, x);
  ASSERT_OK(single.step(Span<const float>(x, 2), Span<float>(y_single, 1)));
  ASSERT_OK(g_faulty.sessions[0].submit_step(Span<const float>(x, 2)));
  ASSERT_TRUE(g_faulty.finish_round());
  EXPECT_TRUE(std::memcmp(g_faulty.sessions[0].outputs().data(), y_single, 4) == 0);
}

// A node goes down during step 10 of a stream. Its neighbours report it (which node, which round)
// within the timeout; nothing completes and nothing spins while it is down; when it comes back
// (fresh, weights from the model) the cluster resets to the zero state and reruns step 10, and
// from there every output equals one device reset at step 10; the first `window` outputs are
// flagged warm-up.
EDGELSTM_TEST(DistributedFaults, LostNodeIsReportedAndTheStreamResumes) {
  const LstmSpec spec = recovery_spec();
  const Partition partitions[] = {edgelstm::make_hidden_split(spec, 3), edgelstm::make_layer_pipeline(spec, 3)};
  for (const Partition& partition : partitions) {
    Network single;
    ASSERT_OK(single.bind_inference(spec, g_single_arena));
    ASSERT_OK(single.initialize(13, 1.0f));
    const edgelstm::SessionConfig session = quick_timeouts();
    ASSERT_OK(start(g_faulty, partition, single.parameters(), false, edgelstm::TrainConfig{}, session));
    FloatCluster& c = g_faulty;
    float x[2], y[1];
    for (std::size_t t = 0; t < 10; ++t) {
      input(t, x);
      ASSERT_OK(single.step(Span<const float>(x, 2), Span<float>(y, 1)));
      ASSERT_OK(c.sessions[0].submit_step(Span<const float>(x, 2)));
      ASSERT_TRUE(c.finish_round());
      EXPECT_TRUE(!c.last_done[0].warm_up);
    }
    input(10, x);
    ASSERT_OK(c.sessions[0].submit_step(Span<const float>(x, 2)));
    c.bus.take_down(2);
    const std::uint32_t down_at = c.bus.now();
    const std::uint32_t done_before = c.done_count[0];
    ASSERT_TRUE(c.bus.run([&] { return c.lost_events[0] > 0 && c.lost_events[1] > 0; },
                          [&](std::size_t k, const edgelstm::SessionEvent& e) { c.on_event(k, e); }, 5000));
    EXPECT_EQ_INT(c.last_lost[0].peer, 2);
    EXPECT_EQ_INT(c.last_lost[1].peer, 2);
    EXPECT_EQ_INT(c.last_lost[0].round, 11);  // step 10 is round 11
    EXPECT_LE(c.bus.now() - down_at, session.peer_timeout_ms + session.heartbeat_ms + 10);
    // Down for 3 s: no step completes, node 0 keeps the step, the links only idle.
    const std::uint32_t sent_before = c.bus.counts().sent;
    c.bus.run([] { return false; }, [&](std::size_t k, const edgelstm::SessionEvent& e) { c.on_event(k, e); }, 3000);
    EXPECT_EQ_INT(c.done_count[0], done_before);
    EXPECT_TRUE(c.sessions[0].busy());
    EXPECT_LE(c.bus.counts().sent - sent_before, 3000 / session.heartbeat_ms * 2 * 3 + 40);
    // Back, as after a reboot: a new incarnation, weights from the model file (the whole network here).
    ++c.restarts[2];
    ASSERT_OK(bind_node(c, 2, false, single.parameters(), edgelstm::TrainConfig{}));
    ASSERT_OK(c.attach(2));
    single.reset_state();
    int differing = 0, warm_up = 0;
    for (std::size_t t = 10; t < 20; ++t) {
      input(t, x);
      ASSERT_OK(single.step(Span<const float>(x, 2), Span<float>(y, 1)));
      if (t > 10) ASSERT_OK(c.sessions[0].submit_step(Span<const float>(x, 2)));
      ASSERT_TRUE(c.finish_round(5000));
      differing += std::memcmp(c.sessions[0].outputs().data(), y, 4) != 0 ? 1 : 0;
      warm_up += c.last_done[0].warm_up ? 1 : 0;
      EXPECT_EQ_INT(c.last_done[0].warm_up ? 1 : 0, t < 10u + spec.window ? 1 : 0);
    }
    EXPECT_EQ_INT(differing, 0);
    EXPECT_EQ_INT(warm_up, spec.window);
    EXPECT_EQ_INT(c.reset_events, 1);
  }
}

// Training: a node restarted from its checkpoint (the weights of the last committed window) lets
// the cluster resume, equal to one device reset at the same window; a node whose checkpoint is a
// window behind stops the cluster (kPeerInconsistent) instead of training on silently.
EDGELSTM_TEST(DistributedFaults, TrainingResumesFromACheckpointAndRefusesAStaleOne) {
  const LstmSpec spec = recovery_spec();
  const Partition partition = edgelstm::make_layer_pipeline(spec, 3);
  for (int stale = 0; stale <= 1; ++stale) {
    edgelstm::TrainConfig config;
    config.learning_rate = 0.05f;
    Network single;
    ASSERT_OK(single.bind_training(spec, config, g_single_arena));
    ASSERT_OK(single.initialize(19, 1.0f));
    ASSERT_OK(start(g_faulty, partition, single.parameters(), true, config, quick_timeouts()));
    FloatCluster& c = g_faulty;
    float x[8], target[1] = {0.3f};
    const auto window = [&](std::size_t w) { edgelstm::test::fill_uniform(x, 8, 800 + w, 1.0f); };
    for (std::size_t w = 0; w < 3; ++w) {
      window(w);
      ASSERT_OK(single.train_step(Span<const float>(x, 8), Span<const float>(target, 1), WindowStart::kCarryState).status);
      ASSERT_OK(c.sessions[0].submit_window(Span<const float>(x, 8), Span<const float>(target, 1), WindowStart::kCarryState));
      ASSERT_TRUE(c.finish_round());
      if (w == 1) {  // the checkpoint node 1 writes after window 1 (the stale one)
        std::memcpy(g_checkpoint, c.nodes[1].parameters().data(), c.nodes[1].parameters().size() * sizeof(float));
      }
    }
    if (stale == 0) std::memcpy(g_checkpoint, c.nodes[1].parameters().data(), c.nodes[1].parameters().size() * sizeof(float));
    window(3);
    ASSERT_OK(c.sessions[0].submit_window(Span<const float>(x, 8), Span<const float>(target, 1), WindowStart::kCarryState));
    c.bus.take_down(1);
    ASSERT_TRUE(c.bus.run([&] { return c.lost_events[0] > 0; },
                          [&](std::size_t k, const edgelstm::SessionEvent& e) { c.on_event(k, e); }, 5000));
    EXPECT_EQ_INT(c.last_lost[0].peer, 1);
    ++c.restarts[1];
    ASSERT_OK(bind_node(c, 1, true, single.parameters(), config));
    std::memcpy(c.nodes[1].parameters().data(), g_checkpoint, c.nodes[1].parameters().size() * sizeof(float));
    ASSERT_OK(c.attach(1, stale != 0 ? 2 : 3));
    if (stale != 0) {
      bool inconsistent = false;
      c.bus.run([&] { return inconsistent; },
                [&](std::size_t, const edgelstm::SessionEvent& e) { inconsistent |= e.kind == SessionEventKind::kPeerInconsistent; },
                3000);
      EXPECT_TRUE(inconsistent);
      EXPECT_TRUE(c.sessions[0].inconsistent());
      EXPECT_TRUE(!c.sessions[0].ready());
      EXPECT_EQ_INT(c.sessions[0].committed_windows(), 3);
      continue;
    }
    single.reset_state();
    for (std::size_t w = 3; w < 6; ++w) {
      window(w);
      ASSERT_OK(single.train_step(Span<const float>(x, 8), Span<const float>(target, 1), WindowStart::kCarryState).status);
      if (w > 3) ASSERT_OK(c.sessions[0].submit_window(Span<const float>(x, 8), Span<const float>(target, 1), WindowStart::kCarryState));
      ASSERT_TRUE(c.finish_round(5000));
      EXPECT_STATUS(c.last_done[0].status, Status::kOk);
    }
    for (std::size_t k = 0; k < 3; ++k) {
      PartitionNode check;
      ASSERT_OK(check.bind_inference(spec, partition, k, g_check_arena));
      ASSERT_OK(check.load_parameters(single.parameters()));
      EXPECT_TRUE(std::memcmp(c.nodes[k].parameters().data(), check.parameters().data(),
                              check.parameters().size() * sizeof(float)) == 0);
      EXPECT_EQ_INT(c.sessions[k].committed_windows(), 6);
    }
  }
}

// Every node must train with the same options: node 0 refuses a node whose greeting carries
// another configuration (here another learning rate), before any round.
EDGELSTM_TEST(DistributedFaults, NodesWithOtherTrainingOptionsAreRefused) {
  const LstmSpec spec = recovery_spec();
  const Partition partition = edgelstm::make_hidden_split(spec, 2);
  FloatCluster& c = g_faulty;
  c.clear();
  c.spec = spec;
  c.partition = partition;
  c.training = true;
  edgelstm::TrainConfig config;
  Network single;
  ASSERT_OK(single.bind_inference(spec, g_single_arena));
  ASSERT_OK(single.initialize(4));
  for (std::size_t k = 0; k < 2; ++k) {
    if (k == 1) config.learning_rate = 0.02f;
    ASSERT_OK(bind_node(c, k, true, single.parameters(), config));
    ASSERT_OK(c.attach(k));
  }
  bool inconsistent = false;
  c.bus.run([&] { return inconsistent; },
            [&](std::size_t k, const edgelstm::SessionEvent& e) {
              inconsistent |= k == 0 && e.kind == SessionEventKind::kPeerInconsistent && e.peer == 1;
            },
            3000);
  EXPECT_TRUE(inconsistent);
  EXPECT_TRUE(!c.sessions[0].ready());
}

}  // namespace
