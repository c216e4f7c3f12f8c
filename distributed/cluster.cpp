#include "distributed/cluster.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>

#include "distributed/mqtt_transport.h"
#include "distributed/partition_text.h"
#include "distributed/transport_url.h"
#include "distributed/udp_transport.h"
#include "host/child_process.h"
#include "host/csv_reader.h"
#include "host/mosquitto_broker.h"
#include "host/output_file.h"
#include "host/model_io.h"

namespace edgelstm::distributed {
namespace {

std::string random_password() {
  std::random_device device;
  char text[33];
  for (int k = 0; k < 32; ++k) text[k] = "0123456789abcdef"[device() % 16];
  text[32] = '\0';
  return text;
}

std::string number(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

}  // namespace

std::string describe_event(std::size_t node, const SessionEvent& event) {
  const std::string who = "node " + std::to_string(node) + ": ";
  const std::string peer = "node " + std::to_string(event.peer);
  switch (event.kind) {
    case SessionEventKind::kPeerJoined: return who + peer + " joined";
    case SessionEventKind::kPeerLost: return who + peer + " timed out (left) during round " + std::to_string(event.round);
    case SessionEventKind::kPeerBack: return who + peer + " is back";
    case SessionEventKind::kPeerRestarted: return who + peer + " rejoined after a restart";
    case SessionEventKind::kRoundAborted: return who + "round " + std::to_string(event.round) + " abandoned";
    case SessionEventKind::kReset: return who + "reset to the zero state; resuming at round " + std::to_string(event.round);
    case SessionEventKind::kPeerInconsistent:
      return who + peer + " joined with other training options or committed windows (a stale checkpoint?): stopping";
    case SessionEventKind::kProtocolError: return who + "protocol error in a vector from " + peer;
    default: return "";
  }
}

std::vector<std::string> node_command(const ClusterOptions& options, std::size_t index, const std::string& transport_url) {
  const std::string base = options.directory + "/node" + std::to_string(index);
  std::vector<std::string> argv = {options.node_program, "node", "--model", options.model_path, "--partition",
                                   options.partition, "--index", std::to_string(index), "--transport", transport_url,
                                   "--figures", base + ".figures", "--peer-timeout-ms",
                                   std::to_string(options.session.peer_timeout_ms), "--heartbeat-ms",
                                   std::to_string(options.session.heartbeat_ms), "--retransmit-ms",
                                   std::to_string(options.session.link.retransmit_ms)};
  if (options.session.activations == PayloadEncoding::kQ15) argv.insert(argv.end(), {"--activations", "q15"});
  if (options.stream.learn) {
    argv.insert(argv.end(), {"--train", "--lr", number(options.train.learning_rate), "--clip", number(options.train.clip_norm),
                             "--optimizer", options.train.optimizer == OptimizerKind::kAdam ? "adam"
                                            : options.train.optimizer == OptimizerKind::kMomentum ? "momentum" : "sgd",
                             "--checkpoint", base + ".checkpoint", "--checkpoint-every",
                             std::to_string(options.checkpoint_every)});
  }
  if (options.faults.any()) {
    argv.insert(argv.end(), {"--loss", number(options.faults.loss), "--duplicate", number(options.faults.duplication),
                             "--reorder", number(options.faults.reordering), "--seed",
                             std::to_string(options.faults.seed + index)});
  }
  return argv;
}

void write_figures(const NodeRuntime& node, std::uint32_t rounds, const std::string& path) {
  std::ostringstream out;
  out << "index " << node.index() << "\narena_bytes " << node.arena_bytes() << "\nrounds " << rounds << "\n";
  for (std::size_t p = 0; p < node.share().nodes; ++p) {
    const PeerTraffic& t = node.sent_to(p);
    out << "sent " << p << ' ' << t.data_frames << ' ' << t.data_payload_bytes << ' ' << t.data_wire_bytes << ' '
        << t.control_frames << ' ' << t.ack_frames << ' ' << t.link_frames << ' ' << t.wire_bytes << ' '
        << t.retransmitted_frames << "\n";
  }
  const ReceiveCounters& r = node.received();
  out << "received " << r.frames << ' ' << r.delivered << ' ' << r.truncated << ' ' << r.malformed << ' '
      << r.bad_checksum << ' ' << r.foreign << ' ' << r.duplicate << ' ' << r.reordered << ' ' << r.stale << ' '
      << r.no_room << ' ' << r.out_of_order << ' ' << r.unexpected << "\n";
  host::write_file_atomically(path, out.str());
}

NodeFigures read_figures(const std::string& path, std::size_t nodes) {
  std::ifstream in(path);
  if (!in) throw host::InputError(path + ": no figures (the node did not end cleanly; see its log)");
  NodeFigures figures;
  figures.sent.resize(nodes);
  std::string key;
  while (in >> key) {
    if (key == "index") {
      in >> figures.index;
    } else if (key == "arena_bytes") {
      in >> figures.arena_bytes;
    } else if (key == "rounds") {
      in >> figures.rounds;
    } else if (key == "sent") {
      std::size_t p = 0;
      in >> p;
      PeerTraffic t;
      in >> t.data_frames >> t.data_payload_bytes >> t.data_wire_bytes >> t.control_frames >> t.ack_frames >>
          t.link_frames >> t.wire_bytes >> t.retransmitted_frames;
      if (p < nodes) figures.sent[p] = t;
    } else if (key == "received") {
      ReceiveCounters& r = figures.received;
      in >> r.frames >> r.delivered >> r.truncated >> r.malformed >> r.bad_checksum >> r.foreign >> r.duplicate >>
          r.reordered >> r.stale >> r.no_room >> r.out_of_order >> r.unexpected;
    }
  }
  return figures;
}

ClusterReport run_cluster(const ClusterOptions& options, const std::function<void(const std::string&)>& print) {
  const host::ModelFile model = host::load_model(options.model_path);
  check_streamable(model, options.model_path);
  const Partition partition = parse_partition(options.partition, model.spec);
  const host::Series series = host::load_model_series(options.data, model);
  host::check_output_directory({"--work", options.directory});
  const std::uint32_t model_id = model_file_id(options.model_path);
  const std::string prefix = topic_prefix(model_id, partition_id(partition));
  const std::size_t nodes = partition.nodes;

  // The transport's URL per node (and for MQTT the broker, owned until the end).
  std::unique_ptr<host::MosquittoBroker> broker;
  std::vector<std::string> urls(nodes);
  if (options.transport == "mqtt") {
    std::vector<std::string> passwords;
    for (std::size_t k = 0; k < nodes; ++k) passwords.push_back(random_password());
    host::BrokerOptions broker_options;
    broker_options.directory = options.directory + "/broker";
    broker_options.users = cluster_users(prefix, partition, passwords);
    broker_options.tls = options.tls;
    broker = std::make_unique<host::MosquittoBroker>(broker_options);
    for (std::size_t k = 0; k < nodes; ++k) {
      urls[k] = (options.tls ? "mqtts://" : "mqtt://") + node_user(k) + ":" + passwords[k] + "@127.0.0.1:" +
                std::to_string(options.tls ? broker->tls_port() : broker->port()) +
                (options.tls ? "?ca=" + broker->ca_file() : "");
    }
    print("cluster: Mosquitto on 127.0.0.1:" + std::to_string(broker->port()) + (options.tls ? " (TLS)" : "") +
          ", one user per node, ACL per link (" + broker->directory() + ")");
  } else if (options.transport == "udp") {
    const int base = free_udp_base_port(nodes);
    for (std::size_t k = 0; k < nodes; ++k) urls[k] = "udp://127.0.0.1:" + std::to_string(base);
    print("cluster: UDP on 127.0.0.1:" + std::to_string(base) + ".." + std::to_string(base + static_cast<int>(nodes) - 1));
  } else {
    throw host::InputError("--transport '" + options.transport + "': expected udp or mqtt");
  }

  // A new cluster starts from the model file: checkpoints of an earlier run are not resumed.
  for (std::size_t k = 0; k < nodes; ++k) std::remove((options.directory + "/node" + std::to_string(k) + ".checkpoint").c_str());
  std::vector<host::ChildProcess> children;
  for (std::size_t k = 1; k < nodes; ++k) {
    const std::string log = options.directory + "/node" + std::to_string(k) + ".log";
    std::remove((options.directory + "/node" + std::to_string(k) + ".figures").c_str());
    children.emplace_back(node_command(options, k, urls[k]), log);
    print("cluster: node " + std::to_string(k) + " started (pid " + std::to_string(children.back().pid()) + ", log " + log + ")");
  }

  NodeOptions node_options;
  node_options.model_path = options.model_path;
  node_options.partition = partition;
  node_options.index = 0;
  node_options.training = options.stream.learn;
  node_options.train = options.train;
  node_options.session = options.session;
  if (options.stream.learn) node_options.checkpoint_path = options.directory + "/node0.checkpoint";
  node_options.checkpoint_every = options.checkpoint_every;
  const std::unique_ptr<Transport> base_transport = make_transport(parse_transport_url(urls[0]), 0, partition, prefix);
  FaultyTransport faulty(*base_transport, options.faults);
  Transport& transport = options.faults.any() ? static_cast<Transport&>(faulty) : *base_transport;
  NodeRuntime node(node_options, transport);
  print("cluster: " + node.describe());

  ClusterReport report;
  report.steps = stream_series(
      node, model, series, options.stream,
      [&](const StepRecord& r) {
        char line[200];
        char error[32] = "error n/a (reading 0)";
        if (r.actual != 0) std::snprintf(error, sizeof error, "error %+.2f%%", 100.0 * (r.forecast - r.actual) / r.actual);
        std::snprintf(line, sizeof line, "step %zu  forecast %.1f  actual %.1f  %s  %.2f ms%s%s", r.t, r.forecast,
                      r.actual, error, r.latency_ms,
                      r.warm_up ? "  (warm-up)" : "", r.status != Status::kOk ? "  (refused)" : "");
        print(line);
      },
      [&](const SessionEvent& event) {
        const std::string line = describe_event(0, event);
        if (!line.empty()) print(line);
      });

  // Node 0's figures, then every other node's (written when it stops).
  write_figures(node, static_cast<std::uint32_t>(report.steps.size()), options.directory + "/node0.figures");
  for (std::size_t k = 1; k < nodes; ++k) {
    const int status = children[k - 1].stop();
    print("cluster: node " + std::to_string(k) + " stopped (exit status " + std::to_string(status) + ")");
  }
  for (std::size_t k = 0; k < nodes; ++k) {
    report.nodes.push_back(read_figures(options.directory + "/node" + std::to_string(k) + ".figures", nodes));
  }
  return report;
}

}  // namespace edgelstm::distributed
