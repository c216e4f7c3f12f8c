// One board of four that together train the paper's network (6 steps x 100 hidden units, dense
// head; taylor_training.h) on the Taylor stream: a hidden split, each board holding 24 or 26 of the
// 100 units (their gate rows of W_ih and W_hh, their biases; board 0 also the head) and the arena
// the core sizes for that share alone. One board cannot train this network (SGD needs 357 KB of
// arena; the STM32F405 has 128 KB of RAM); this image links for the chip's real 128 KB and fails to
// link if the share does not fit.
//
// The boards talk over their UARTs (a line to each peer; board.h, serial_link.h) in the core's
// wire frames (edgelstm/frame.h, CRC-32) inside COBS framing; the core's session (NodeSession:
// greetings, reliable links, the rounds of a window, the two-phase commit of each update) runs the
// protocol. Board 0 feeds the stream, one window per reading, and prints the weekly forecast error
// beside persistence's; every board prints its progress, and at the end its weights (by their
// index in the whole network), its stack and its link counters.
//
// Built once per node (CLUSTER_NODE = 0..3), so each image holds only its node's static arena.
// usage (semihosting arguments, run_cluster.py gives the first two): <node> <nodes> <windows>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "board.h"
#include "edgelstm/node_session.h"
#include "edgelstm/partition_node.h"
#include "markers.h"
#include "node_weights.h"
#include "session_lines.h"
#include "taylor_training.h"

#ifndef CLUSTER_NODE
#error "build one image per node: -DCLUSTER_NODE=<0..3>"
#endif

namespace {

using namespace cluster::taylor;
using edgelstm::SessionEventKind;

constexpr std::size_t kNodes = 4;
constexpr std::size_t kMe = CLUSTER_NODE;
static_assert(kMe < kNodes, "CLUSTER_NODE must be 0..3");
constexpr edgelstm::Partition kPartition = edgelstm::make_hidden_split(kSpec, kNodes);
constexpr edgelstm::OptimizerKind kOptimizer = edgelstm::OptimizerKind::kSgd;
constexpr std::size_t kComputeBytes =
    edgelstm::node_compute_bytes(kSpec, kPartition, kMe, edgelstm::Purpose::kTraining, kOptimizer);
constexpr std::size_t kSessionBytes = edgelstm::session_bytes(kSpec, kPartition, kMe, /*training=*/true);
static_assert(kComputeBytes != 0 && kSessionBytes != 0, "the partition does not fit the spec");

// The node's whole static arena: its compute arena (its share of the network) and its session.
alignas(edgelstm::kArenaAlignment) std::uint8_t g_compute[kComputeBytes];
alignas(edgelstm::kArenaAlignment) std::uint8_t g_session_memory[kSessionBytes];

edgelstm::PartitionNode g_node;
edgelstm::NodeSession<edgelstm::PartitionNode> g_session;
cluster::SessionLines<edgelstm::NodeSession<edgelstm::PartitionNode>, kNodes - 1> g_lines(&g_session, kMe);

void print_link_summary() {
  std::uint32_t retransmitted = 0, data_frames = 0, data_bytes = 0, framing = 0, sent = 0, received = 0;
  for (std::size_t line = 0; line < kNodes - 1; ++line) {
    const edgelstm::PeerTraffic& traffic = g_session.sent_to(g_lines.peer_on(line));
    retransmitted += traffic.retransmitted_frames;
    data_frames += traffic.data_frames;
    data_bytes += traffic.data_wire_bytes;
    framing += g_lines.line(line).frames_refused();
    sent += g_lines.line(line).bytes_sent();
    received += g_lines.line(line).bytes_received();
  }
  const edgelstm::ReceiveCounters& counters = g_session.received();
  std::printf("node %u: %u data frames (%u bytes in frames) sent, %u resent; on the lines %u bytes sent, %u received; "
              "stack high water %u bytes\n",
              static_cast<unsigned>(kMe), static_cast<unsigned>(data_frames), static_cast<unsigned>(data_bytes),
              static_cast<unsigned>(retransmitted), static_cast<unsigned>(sent), static_cast<unsigned>(received),
              static_cast<unsigned>(cluster::board::stack_high_water_bytes()));
  const std::uint32_t refused = framing + counters.truncated + counters.malformed + counters.bad_checksum;
  std::printf("stats refused=%u framing=%u bad_checksum=%u duplicates=%u retransmits=%u overruns=%u\n",
              static_cast<unsigned>(refused), static_cast<unsigned>(framing),
              static_cast<unsigned>(counters.bad_checksum), static_cast<unsigned>(counters.duplicate),
              static_cast<unsigned>(retransmitted), static_cast<unsigned>(cluster::board::receive_overruns()));
}

}  // namespace

int main(int argc, char** argv) {
  const long windows = argc == 4 ? std::strtol(argv[3], nullptr, 10) : 0;
  if (argc != 4 || std::strtol(argv[1], nullptr, 10) != static_cast<long>(kMe) ||
      std::strtol(argv[2], nullptr, 10) != static_cast<long>(kNodes) || windows <= 0 ||
      windows > static_cast<long>(kStreamWindows)) {
    std::printf("usage: node %u of %u: <node> <nodes> <windows 1..%u>\n", static_cast<unsigned>(kMe),
                static_cast<unsigned>(kNodes), static_cast<unsigned>(kStreamWindows));
    return 2;
  }
  cluster::board::init();
  if (g_node.bind_training(kSpec, kPartition, kMe, train_config(), g_compute) != edgelstm::Status::kOk) return 1;
  cluster::initialize_node_like_network(kSpec, kPartition, kMe, kSeed, kForgetBias, g_node.parameters());
  edgelstm::SessionConfig config;
  config.model_id = static_cast<std::uint32_t>(kSeed);  // every node starts from the same seeded network
  // A busy host runs four boards at about 10 KB/s each: a window's frames can take a second to
  // cross, so acknowledgements are waited for longer than the core's defaults (made for ESP-NOW).
  config.link.retransmit_ms = 1500;
  config.heartbeat_ms = 1000;
  config.peer_timeout_ms = 10000;
  if (g_session.bind(&g_node, kPartition, config, /*training=*/true, g_session_memory, g_lines.send, &g_lines) !=
      edgelstm::Status::kOk) {
    return 1;
  }
  cluster::print_node_start(g_node.share(), "float", kComputeBytes, kSessionBytes);

  ForecastError week, day;  // node 0
  const std::size_t last_t = kFirstReading + static_cast<std::size_t>(windows) - 1;
  std::size_t next_t = kFirstReading;  // node 0: the reading the next window forecasts
  long done = 0;
  std::size_t joined = 0;
  const std::uint32_t start = cluster::board::milliseconds();
  bool measuring = false;
  while (done < windows) {
    const std::uint32_t now = cluster::board::milliseconds();
    for (edgelstm::SessionEvent event = g_session.poll(now); event.kind != SessionEventKind::kNone;
         event = g_session.poll(now)) {
      if (event.kind == SessionEventKind::kWindowDone) {
        if (measuring) EDGELSTM_MARK_END();  // the window's instructions, for bench/mcu/cluster_costs.py
        measuring = false;
        if (event.status != edgelstm::Status::kOk) {
          std::printf("node %u: window %ld refused: %s\n", static_cast<unsigned>(kMe), done + 1,
                      edgelstm::status_name(event.status));
          return 1;
        }
        ++done;
        const std::size_t t = kFirstReading + static_cast<std::size_t>(done) - 1;  // the reading forecast
        if (kMe == 0) {
          add_to_week(&week, t, g_session.outputs()[0], last_t);
          day.add(t, g_session.outputs()[0]);
        }
        if (done % 48 == 0 || done == windows) {  // a day's readings: each board's progress line
          const unsigned seconds = static_cast<unsigned>((cluster::board::milliseconds() - start) / 1000);
          if (kMe == 0) {
            std::printf("node 0: %ld windows, %u s; the last %u forecasts: MAPE %.2f%% (persistence %.2f%%)\n", done,
                        seconds, static_cast<unsigned>((done - 1) % 48 + 1), day.mape(), day.persistence_mape());
            day.clear();
          } else {
            std::printf("node %u: %ld windows, %u s\n", static_cast<unsigned>(kMe), done, seconds);
          }
        }
        if (done < windows) {
          EDGELSTM_MARK_BEGIN();
          measuring = true;
        }
      } else if (event.kind == SessionEventKind::kPeerJoined) {
        if (++joined == kNodes - 1) {
          std::printf("node %u: all %u peers joined after %u ms\n", static_cast<unsigned>(kMe),
                      static_cast<unsigned>(kNodes - 1), static_cast<unsigned>(cluster::board::milliseconds() - start));
          EDGELSTM_MARK_BEGIN();
          measuring = true;
        }
      } else {
        // Peer lost, restarted, reset, protocol error: a test run expects none of them.
        std::printf("node %u: %s (peer %u, round %u)\n", static_cast<unsigned>(kMe),
                    edgelstm::session_event_name(event.kind), static_cast<unsigned>(event.peer),
                    static_cast<unsigned>(event.round));
      }
    }
    if (kMe == 0 && next_t <= last_t && g_session.ready()) {
      float x[kWindow], target = 0;
      window_for(next_t, x, &target);
      if (g_session.submit_window(x, edgelstm::Span<const float>(&target, 1), edgelstm::WindowStart::kZeroState) !=
          edgelstm::Status::kOk) {
        return 1;
      }
      ++next_t;
      continue;
    }
    g_lines.receive(now + 50);
  }
  g_lines.linger(g_lines.linger_for(config.link));  // the last acknowledgements may still be on their way
  std::printf("node %u: %ld windows in %u ms\n", static_cast<unsigned>(kMe), done,
              static_cast<unsigned>(cluster::board::milliseconds() - start));
  const edgelstm::Span<const float> parameters = static_cast<const edgelstm::PartitionNode&>(g_node).parameters();
  char who[16];
  std::snprintf(who, sizeof who, "node%u", static_cast<unsigned>(kMe));
  print_weight_digest(who, [&](auto&& visit) {
    cluster::for_each_held_parameter(kSpec, kPartition, kMe,
                                     [&](std::size_t whole, std::size_t node) { visit(whole, parameters[node]); });
  });
  print_link_summary();
  return 0;
}
