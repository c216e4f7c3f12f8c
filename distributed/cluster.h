// A cluster on one host, as `edgelstm cluster` runs it: for MQTT a Mosquitto broker with one
// user per node and the ACL of the partition's links (host::MosquittoBroker), then nodes 1..N-1
// as processes of their own (`edgelstm node ...`, each with its log), node 0 in this process
// streaming the series; at the end the nodes are stopped and their figures collected. Every
// process it starts is stopped when it ends (and dies with it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "distributed/node_runtime.h"
#include "distributed/stream.h"
#include "distributed/transport.h"
#include "host/data_loading.h"

namespace edgelstm::distributed {

struct ClusterOptions {
  std::string model_path;
  std::string partition;          // text: pipeline:N, split:N, pipeline:0,2
  host::DataOptions data;         // the series node 0 streams
  std::string transport = "udp";  // "udp" or "mqtt"
  bool tls = false;               // MQTT over TLS (certificates made at start)
  StreamOptions stream;
  TrainConfig train{};            // learn: every node's optimizer (the same everywhere)
  SessionConfig session{};        // timers and activation encoding of every node
  LinkFaults faults{};            // UDP: losses injected on every node's sends
  std::uint32_t checkpoint_every = 1;  // learn: windows between the nodes' checkpoints (0: none)
  std::string directory;          // broker files, node logs, checkpoints, figures (created)
  std::string node_program;       // the `edgelstm` executable that runs a node
};

// What one node sent to each peer, and what it holds (from its figures file).
struct NodeFigures {
  std::size_t index = 0;
  std::size_t arena_bytes = 0;
  std::uint32_t rounds = 0;
  std::vector<PeerTraffic> sent;  // per peer
  ReceiveCounters received{};
};

struct ClusterReport {
  std::vector<StepRecord> steps;
  std::vector<NodeFigures> nodes;  // node 0 first
};

// Runs the cluster; `print` gets every line meant for the user (joins, losses, forecasts).
// Throws host::InputError on bad input or when the cluster cannot finish (with the node logs named).
ClusterReport run_cluster(const ClusterOptions& options, const std::function<void(const std::string&)>& print);

// The command line of node `index` (for `edgelstm node`), and the figures file format it writes.
std::vector<std::string> node_command(const ClusterOptions& options, std::size_t index, const std::string& transport_url);
void write_figures(const NodeRuntime& node, std::uint32_t rounds, const std::string& path);
NodeFigures read_figures(const std::string& path, std::size_t nodes);

// "node 2 timed out at round 17" and the like, for a node's event (empty for routine ones).
std::string describe_event(std::size_t node, const SessionEvent& event);

}  // namespace edgelstm::distributed
