// Nodes as processes of their own (`edgelstm node`), as devices are: a node killed in the middle of
// a stream is reported by its neighbours within the timeout, nothing spins or completes while it is
// down, and when it is started again the stream resumes: inference from the zero state (warm-up
// flagged), equal to one device reset at the same reading; training from the node's checkpoint,
// equal to one device that was never interrupted. And `edgelstm cluster` end to end over MQTT.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "distributed/cluster.h"
#include "distributed/partition_text.h"
#include "distributed/udp_transport.h"
#include "host/child_process.h"
#include "tests/distributed/cluster_fixture.h"

namespace edgelstm::distributed {
namespace {

constexpr int kPeerTimeoutMs = 800, kHeartbeatMs = 100;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The committed windows a node's checkpoint holds (0 when it has none yet).
std::uint32_t checkpoint_committed(const std::string& path) {
  const std::string bytes = read_text(path);
  if (bytes.size() < 24) return 0;
  std::uint32_t committed = 0;
  std::memcpy(&committed, bytes.data() + 20, 4);  // little-endian on every host this runs on
  return committed;
}

struct ProcessCluster {
  std::string directory, model_path;
  Partition partition{};
  int base = 0;
  bool learn = false;
  std::vector<host::ChildProcess> nodes;  // nodes 1.. (index k - 1)

  std::vector<std::string> command(std::size_t k) const {
    std::vector<std::string> argv = {EDGELSTM_CLI, "node", "--model", model_path, "--partition", partition_text(partition),
                                     "--index", std::to_string(k), "--transport", "udp://127.0.0.1:" + std::to_string(base),
                                     "--peer-timeout-ms", std::to_string(kPeerTimeoutMs), "--heartbeat-ms",
                                     std::to_string(kHeartbeatMs), "--retransmit-ms", "30"};
    if (learn) {
      argv.insert(argv.end(), {"--train", "--lr", "0.003", "--clip", "0", "--checkpoint", directory + "/node" + std::to_string(k) + ".checkpoint"});
    }
    return argv;
  }
  void start(std::size_t k) { nodes[k - 1] = host::ChildProcess(command(k), log(k)); }
  std::string log(std::size_t k) const { return directory + "/node" + std::to_string(k) + ".log"; }
};

NodeOptions node0_options(const ProcessCluster& c) {
  NodeOptions options;
  options.model_path = c.model_path;
  options.partition = c.partition;
  options.training = c.learn;
  options.train.optimizer = OptimizerKind::kAdam;  // as the node command's default
  options.train.learning_rate = 0.003f;  // as the nodes are given: Adam at 3e-3, no clipping
  options.train.clip_norm = 0.0f;
  options.session.peer_timeout_ms = kPeerTimeoutMs;
  options.session.heartbeat_ms = kHeartbeatMs;
  options.session.link.retransmit_ms = 30;
  return options;
}

void run_killed_node_scenario(bool learn) {
  ProcessCluster c;
  c.directory = testing::scratch_directory(learn ? "killed_learn" : "killed_infer");
  // Inference over a split (bit for bit with one device); training over a pipeline of three layers
  // (a split's training adds across nodes in another order: equal to rounding only).
  c.model_path = testing::write_forecaster(c.directory, learn ? 8 : 16, learn ? 3 : 1, 21);
  const host::ModelFile model = host::load_model(c.model_path);
  c.partition = parse_partition(learn ? "pipeline:3" : "split:3", model.spec);
  c.base = free_udp_base_port(3);
  c.learn = learn;
  c.nodes.resize(2);
  c.start(1);
  c.start(2);
  UdpTransport transport(0, c.base);
  NodeRuntime node0(node0_options(c), transport);
  const host::Series series = testing::taylor_series();
  const std::size_t first = 12 - 1 + 336;
  std::vector<double> forecasts;
  std::vector<bool> warm_up;
  const auto keep = [&](const StepRecord& r) {
    forecasts.push_back(r.forecast);
    warm_up.push_back(r.warm_up);
  };
  StreamOptions options;
  options.learn = learn;
  options.first = first;
  options.steps = 10;
  (void)stream_series(node0, model, series, options, keep, [](const SessionEvent&) {});
  if (learn) {
    // Node 2 has applied window 10's commit (its checkpoint says so) before it dies. (Dying between
    // node 0's decision and its own checkpoint, it would come back a window behind: node 0 then
    // reports it and stops, as the core tests check.)
    const auto start = std::chrono::steady_clock::now();
    while (checkpoint_committed(c.directory + "/node2.checkpoint") != 10 &&
           std::chrono::steady_clock::now() - start < std::chrono::seconds(10)) {
      node0.pump(10, [](const SessionEvent&) {});
    }
    ASSERT_EQ(checkpoint_committed(c.directory + "/node2.checkpoint"), 10u);
  }

  // Reading 10: node 2 dies as the step starts.
  const host::FeatureConfig features = host::features_of(model);
  const host::Normalization norm = host::normalization_of(model);
  std::vector<float> input(static_cast<std::size_t>(features.window * features.features()));
  const std::size_t t = first + 10;
  float target = norm.apply(series.values[t]);
  if (learn) {
    host::build_window(series, features, norm, t, input.data());
    ASSERT_EQ(node0.submit_window(Span<const float>(input.data(), input.size()), Span<const float>(&target, 1),
                                  WindowStart::kZeroState),
              Status::kOk);
  } else {
    host::FeatureConfig one = features;
    one.window = 1;
    host::build_window(series, one, norm, t, input.data());
    ASSERT_EQ(node0.submit_step(Span<const float>(input.data(), model.spec.input_size)), Status::kOk);
  }
  c.nodes[1].kill_now();
  const auto killed = std::chrono::steady_clock::now();
  SessionEvent lost;
  bool done = false;
  const auto watch = [&](const SessionEvent& e) {
    const std::string line = describe_event(0, e);
    if (!line.empty()) std::printf("%s\n", line.c_str());  // in the test's output when it fails
    if (e.kind == SessionEventKind::kPeerLost) lost = e;
    if (e.kind == SessionEventKind::kStepDone || e.kind == SessionEventKind::kWindowDone) done = true;
  };
  while (lost.kind == SessionEventKind::kNone &&
         std::chrono::steady_clock::now() - killed < std::chrono::milliseconds(10 * kPeerTimeoutMs)) {
    node0.pump(20, watch);
  }
  const double noticed_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - killed).count();
  ASSERT_EQ(lost.kind, SessionEventKind::kPeerLost) << "node 2's loss was never reported";
  EXPECT_EQ(lost.peer, 2);
  EXPECT_EQ(lost.round, 11u);  // the step in flight
  EXPECT_LE(noticed_ms, kPeerTimeoutMs + kHeartbeatMs + 600.0);
  // Two seconds down: the step does not complete and node 0 only idles (heartbeats to node 1).
  const std::uint32_t frames_before = node0.sent_to(1).wire_bytes + node0.sent_to(2).wire_bytes;
  const auto down = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - down < std::chrono::seconds(2)) node0.pump(20, watch);
  EXPECT_FALSE(done);
  EXPECT_TRUE(node0.busy());
  EXPECT_LT(node0.sent_to(1).wire_bytes + node0.sent_to(2).wire_bytes - frames_before, 20u * 40u * 2u);
  EXPECT_NE(read_text(c.log(1)).find("node 1: node 2 timed out"), std::string::npos) << read_text(c.log(1));
  // Node 2 comes back (from its checkpoint when learning); the step runs again after a reset.
  c.start(2);
  const auto back = std::chrono::steady_clock::now();
  while (!done && std::chrono::steady_clock::now() - back < std::chrono::seconds(20)) node0.pump(20, watch);
  ASSERT_TRUE(done) << "the stream did not resume after node 2 restarted";
  forecasts.push_back(norm.invert(node0.outputs()[0]));
  warm_up.push_back(!learn);
  options.first = first + 11;
  options.steps = 9;
  (void)stream_series(node0, model, series, options, keep, [](const SessionEvent&) {});
  for (std::size_t k = 0; k < 2; ++k) c.nodes[k].stop();
  const std::vector<double> single =
      testing::single_device(model, series, 20, learn, node0_options(c).train, learn ? SIZE_MAX : first + 10);
  ASSERT_EQ(forecasts.size(), single.size());
  for (std::size_t k = 0; k < single.size(); ++k) EXPECT_EQ(forecasts[k], single[k]) << "reading " << k;
  if (learn) {
    EXPECT_EQ(node0.committed_windows(), 20u);
  } else {  // the window of steps after the reset is flagged warm-up
    for (std::size_t k = 0; k < warm_up.size(); ++k) EXPECT_EQ(warm_up[k], k >= 10 && k < 10 + static_cast<std::size_t>(features.window)) << k;
  }
  EXPECT_NE(read_text(c.log(1)).find("node 2 rejoined after a restart"), std::string::npos);
}

TEST(DistributedProcesses, KilledNodeIsReportedAndTheStreamResumes) { run_killed_node_scenario(false); }
TEST(DistributedProcesses, KilledLearningNodeResumesFromItsCheckpoint) { run_killed_node_scenario(true); }

TEST(DistributedProcesses, ClusterCommandStreamsOverMqtt) {
  const std::string directory = testing::scratch_directory("cluster_command");
  const std::string model = testing::write_forecaster(directory, 16, 2, 23);
  const std::string log = directory + "/cluster.log";
  const int status = host::run_program({EDGELSTM_CLI, "cluster", "--model", model, "--partition", "pipeline:2", "--data",
                                        std::string(EDGELSTM_SOURCE_DIR) + "/data/taylor_england_wales_halfhourly_demand_2000.csv",
                                        "--transport", "mqtt", "--steps", "8", "--learn", "--work", directory + "/work"},
                                       log, 120);
  const std::string output = read_text(log);
  ASSERT_EQ(status, 0) << output;
  EXPECT_NE(output.find("node 0: node 1 joined"), std::string::npos) << output;
  std::size_t steps = 0;
  for (std::size_t at = output.find("\nstep "); at != std::string::npos; at = output.find("\nstep ", at + 1)) ++steps;
  EXPECT_EQ(steps, 8u) << output;
  EXPECT_NE(output.find("0 -> 1:"), std::string::npos) << output;
  EXPECT_NE(output.find("node 1 stopped (exit status 0)"), std::string::npos) << output;
  // Bad input: exit status 2 and a message naming the option.
  const int bad = host::run_program({EDGELSTM_CLI, "node", "--model", model, "--partition", "split:99", "--index", "0",
                                     "--transport", "udp://127.0.0.1:40000"},
                                    directory + "/bad.log", 30);
  EXPECT_EQ(bad, 2);
  EXPECT_NE(read_text(directory + "/bad.log").find("--partition 'split:99'"), std::string::npos) << read_text(directory + "/bad.log");
}

}  // namespace
}  // namespace edgelstm::distributed
