// Instructions each node of a partitioned network runs per inference step and per training
// window, counted exactly on the emulated Cortex-M4F by tools/qemu-plugin/insn_count.c
// (bench/distributed/distributed_bench.py reads them). Every node's session runs in this program,
// connected by a queue; every call into a session (receive, poll) is one marked region, so a
// node's count is all it does for the round: its share of the arithmetic, encoding and decoding
// frames, CRC-32, links, reassembly and commit control. One device's Network::step and
// Network::train_step on the same network are measured beside them.
//
// Output: "region <i> <config> <nodes> <node> <kind>" for every marked region (kind: step, window,
// single-step, single-window, empty), matched with the plugin's "insn_count <i> <n>".
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <initializer_list>

#include "edgelstm/edgelstm.h"
#include "markers.h"

namespace {

using edgelstm::LstmSpec;
using edgelstm::Partition;
using edgelstm::PartitionNode;
using edgelstm::Span;
using edgelstm::Status;
using Session = edgelstm::NodeSession<PartitionNode>;

struct Config {
  const char* name;
  LstmSpec spec;
  bool split;
};

// The Taylor forecaster (7 inputs: the reading, two lags, four calendar terms; 32 units; window
// 12) and the paper's 6 x 100 network, one layer each, shared by a hidden split; and four-layer
// versions of both, shared by a layer pipeline.
const Config kConfigs[] = {
    {"taylor-1x32", edgelstm::make_spec(7, 32, 1, 1, 12), true},
    {"paper-1x100", edgelstm::make_spec(1, 100, 1, 1, 6), true},
    {"taylor-4x32", edgelstm::make_spec(7, 32, 4, 1, 12), false},
    {"paper-4x100", edgelstm::make_spec(1, 100, 4, 1, 6), false},
};

struct Frame {
  std::uint8_t from, to;
  std::uint16_t size;
  std::uint8_t bytes[edgelstm::kMaxFrameBytes];
};
Frame g_queue[512];
std::size_t g_head = 0, g_count = 0;

void output(void* context, std::size_t peer, Span<const std::uint8_t> frame) {
  if (g_count == sizeof g_queue / sizeof g_queue[0]) return;  // never: the queue is drained every pass
  Frame& f = g_queue[(g_head + g_count++) % (sizeof g_queue / sizeof g_queue[0])];
  f.from = static_cast<std::uint8_t>(reinterpret_cast<std::uintptr_t>(context));
  f.to = static_cast<std::uint8_t>(peer);
  f.size = static_cast<std::uint16_t>(frame.size());
  std::memcpy(f.bytes, frame.data(), frame.size());
}

alignas(16) std::uint8_t g_pool[6 * 1024 * 1024];
std::size_t g_used = 0;
Span<std::uint8_t> take(std::size_t bytes) {
  const std::size_t start = (g_used + 15) / 16 * 16;
  g_used = start + bytes;
  return Span<std::uint8_t>(g_pool + start, bytes);
}

PartitionNode g_nodes[4];
Session g_sessions[4];
std::uint32_t g_now = 0;
unsigned g_region = 0;
bool g_measuring = false;
const char* g_label = "";
std::size_t g_nodes_count = 0;
const char* g_kind = "";

void announce(std::size_t node) {
  std::printf("region %u %s %u %u %s\n", g_region++, g_label, static_cast<unsigned>(g_nodes_count),
              static_cast<unsigned>(node), g_kind);
}

// Delivers what is queued and polls every node; marked when measuring. Returns the events of node 0.
int g_done[4] = {};
void pass(std::size_t nodes) {
  while (g_count > 0) {
    const Frame frame = g_queue[g_head];
    g_head = (g_head + 1) % (sizeof g_queue / sizeof g_queue[0]);
    --g_count;
    if (g_measuring) {
      EDGELSTM_MARK_BEGIN();
      (void)g_sessions[frame.to].receive(Span<const std::uint8_t>(frame.bytes, frame.size), g_now);
      EDGELSTM_MARK_END();
      announce(frame.to);
    } else {
      (void)g_sessions[frame.to].receive(Span<const std::uint8_t>(frame.bytes, frame.size), g_now);
    }
  }
  for (std::size_t k = 0; k < nodes; ++k) {
    for (;;) {
      edgelstm::SessionEvent event;
      if (g_measuring) {
        EDGELSTM_MARK_BEGIN();
        event = g_sessions[k].poll(g_now);
        EDGELSTM_MARK_END();
        announce(k);
      } else {
        event = g_sessions[k].poll(g_now);
      }
      if (event.kind == edgelstm::SessionEventKind::kNone) break;
      if (event.kind == edgelstm::SessionEventKind::kStepDone || event.kind == edgelstm::SessionEventKind::kWindowDone) {
        ++g_done[k];
      }
    }
  }
}

// Runs until every node has finished one more round.
bool finish_round(std::size_t nodes) {
  int before[4];
  for (std::size_t k = 0; k < nodes; ++k) before[k] = g_done[k];
  for (int pass_count = 0; pass_count < 10000; ++pass_count) {
    bool all = true;
    for (std::size_t k = 0; k < nodes; ++k) all = all && g_done[k] > before[k];
    if (all) return true;
    const bool idle = g_count == 0;
    pass(nodes);
    if (idle && g_count == 0) ++g_now;
  }
  return false;
}

alignas(16) std::uint8_t g_single[4 * 1024 * 1024];

int measure(const Config& config, std::size_t nodes) {
  const LstmSpec& spec = config.spec;
  const Partition partition = config.split ? edgelstm::make_hidden_split(spec, nodes) : edgelstm::make_layer_pipeline(spec, nodes);
  if (edgelstm::validate_partition(spec, partition) != Status::kOk) return 0;
  edgelstm::Network single;
  edgelstm::TrainConfig train;
  if (single.bind_training(spec, train, g_single) != Status::kOk || single.initialize(7, 1.0f) != Status::kOk) return 1;
  g_used = 0;
  g_head = g_count = 0;
  for (std::size_t k = 0; k < nodes; ++k) {
    g_done[k] = 0;
    const std::size_t bytes = edgelstm::node_compute_bytes(spec, partition, k, edgelstm::Purpose::kTraining);
    if (g_nodes[k].bind_training(spec, partition, k, train, take(bytes)) != Status::kOk) return 1;
    if (g_nodes[k].load_parameters(single.parameters()) != Status::kOk) return 1;
    edgelstm::SessionConfig session;
    if (g_sessions[k].bind(&g_nodes[k], partition, session, true, take(edgelstm::session_bytes(spec, partition, k, true)),
                           &output, reinterpret_cast<void*>(k)) != Status::kOk) {
      return 1;
    }
  }
  for (int k = 0; k < 100 && !g_sessions[0].ready(); ++k) pass(nodes);
  if (!g_sessions[0].ready()) return 1;
  float x[12 * 7], target[1] = {0.3f};
  for (std::size_t k = 0; k < sizeof x / sizeof x[0]; ++k) x[k] = 0.01f * static_cast<float>(k % 17) - 0.08f;
  g_label = config.name;
  g_nodes_count = nodes;
  for (int round = 0; round < 3; ++round) {  // two rounds to warm the state, the third measured
    g_measuring = round == 2;
    g_kind = "step";
    if (g_sessions[0].submit_step(Span<const float>(x, spec.input_size)) != Status::kOk || !finish_round(nodes)) return 1;
    g_kind = "window";
    if (g_sessions[0].submit_window(Span<const float>(x, spec.window * spec.input_size), Span<const float>(target, 1),
                                    edgelstm::WindowStart::kCarryState) != Status::kOk ||
        !finish_round(nodes)) {
      return 1;
    }
    g_measuring = false;
  }
  if (nodes == 1) {  // one device, the same step and window
    float y[1];
    for (int k = 0; k < 2; ++k) (void)single.step(Span<const float>(x, spec.input_size), y);
    EDGELSTM_MARK_BEGIN();
    const Status stepped = single.step(Span<const float>(x, spec.input_size), y);
    EDGELSTM_MARK_END();
    g_kind = "single-step";
    announce(0);
    EDGELSTM_MARK_BEGIN();
    const edgelstm::TrainResult trained = single.train_step(Span<const float>(x, spec.window * spec.input_size),
                                                            Span<const float>(target, 1), edgelstm::WindowStart::kCarryState);
    EDGELSTM_MARK_END();
    g_kind = "single-window";
    announce(0);
    if (stepped != Status::kOk || trained.status != Status::kOk) return 1;
  }
  return 0;
}

}  // namespace

int main() {
  EDGELSTM_MARK_BEGIN();
  EDGELSTM_MARK_END();
  g_label = "none";
  g_kind = "empty";
  announce(0);
  for (const Config& config : kConfigs) {
    for (std::size_t nodes : {1u, 2u, 4u}) {
      if (measure(config, nodes) != 0) {
        std::printf("failed: %s over %u nodes\n", config.name, static_cast<unsigned>(nodes));
        return 1;
      }
    }
  }
  return 0;
}
