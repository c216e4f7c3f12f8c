// `edgelstm cluster`: one network shared among N devices on this host. Starts a Mosquitto broker
// (--transport mqtt: a user and password per node, an ACL per link) or uses UDP on loopback
// (--transport udp, standing for ESP-NOW), starts nodes 1..N-1 as processes of their own, runs
// node 0 here streaming --data through the cluster, and prints every forecast with its time, a
// line when a node joins, leaves or times out, and at the end the step times and what each link
// carried per step.
#include <unistd.h>

#include <climits>
#include <cstdio>

#include "cli/command.h"
#include "cli/node_flags.h"
#include "distributed/cluster.h"
#include "host/child_process.h"
#include "host/csv_reader.h"

namespace edgelstm::cli {
namespace {

using namespace edgelstm::distributed;

class ClusterCommand : public Command {
 public:
  explicit ClusterCommand(CLI::App& app)
      : Command(app.add_subcommand("cluster", "run a network shared among N devices on this host and stream a series "
                                              "through it (a broker or UDP, one process per node)")) {
    app_->add_option("--model", options_.model_path, "model file (float, or integer from quantize --integer)")
        ->required()->check(CLI::ExistingFile);
    app_->add_option("--partition", options_.partition, "pipeline:N, pipeline:FIRST_LAYERS or split:N")->required();
    app_->add_option("--data", options_.data.path, "the CSV node 0 streams")->required()->check(CLI::ExistingFile);
    app_->add_option("--time-column", options_.data.time_column, "timestamp column")->capture_default_str();
    app_->add_option("--value-column", options_.data.value_column, "value column")->capture_default_str();
    app_->add_option("--transport", options_.transport, "udp (loopback datagrams, ESP-NOW stand-in) or mqtt (Mosquitto)")
        ->capture_default_str()->check(CLI::IsMember({"udp", "mqtt"}));
    app_->add_flag("--tls", options_.tls, "MQTT over TLS (a CA and server certificate made at start)");
    app_->add_option("--steps", options_.stream.steps, "readings to stream (0: all)")->capture_default_str();
    app_->add_flag("--learn", options_.stream.learn, "forecast, then learn, at every reading (online learning)");
    app_->add_option("--work", options_.directory, "directory for the broker's files, node logs, checkpoints, figures")
        ->capture_default_str();
    flags_.add(app_);
  }

  void run() override {
    refuse_unless(options_.transport == "mqtt", {"--tls"}, "--transport mqtt");
    refuse_unless(options_.transport == "udp", {"--loss", "--duplicate", "--reorder"}, "--transport udp");
    refuse_unless(options_.stream.learn, {"--lr", "--optimizer", "--clip", "--checkpoint-every"}, "--learn");
    if (given("--train")) throw host::InputError("cluster: --train is for `edgelstm node`; a cluster learns with --learn");
    options_.train = flags_.train_config();
    options_.session = flags_.session();
    options_.faults = flags_.faults();
    options_.checkpoint_every = flags_.checkpoint_every;
    options_.node_program = host::this_program("cluster", "to start the nodes");
    const auto print = [](const std::string& line) {
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
    };
    const ClusterReport report = run_cluster(options_, print);
    for (const std::string& line : summary_lines(report.steps)) print(line);
    const double steps = report.steps.empty() ? 1.0 : static_cast<double>(report.steps.size());
    print("per step and link (from -> to): data frames, data bytes on the wire, acks, retransmitted frames");
    for (const NodeFigures& node : report.nodes) {
      for (std::size_t to = 0; to < node.sent.size(); ++to) {
        const PeerTraffic& t = node.sent[to];
        if (t.wire_bytes == 0) continue;
        char line[200];
        std::snprintf(line, sizeof line, "  %zu -> %zu: %.2f frames, %.1f bytes, %.2f acks, %u retransmitted (total)",
                      node.index, to, t.data_frames / steps, t.data_wire_bytes / steps, t.ack_frames / steps,
                      t.retransmitted_frames);
        print(line);
      }
    }
    for (const NodeFigures& node : report.nodes) {
      print("  node " + std::to_string(node.index) + ": " + std::to_string(node.arena_bytes) + " arena bytes, " +
            std::to_string(node.rounds) + " rounds");
    }
  }

 private:
  ClusterOptions options_{[] {
    ClusterOptions o;
    o.directory = "cluster";
    return o;
  }()};
  NodeFlags flags_;
};

}  // namespace

std::unique_ptr<Command> make_cluster_command(CLI::App& app) { return std::make_unique<ClusterCommand>(app); }

}  // namespace edgelstm::cli
