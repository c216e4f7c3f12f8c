// `edgelstm node`: runs one node of a partitioned network (one process per device). Node 0 is the
// source: it streams --data through the cluster and prints every forecast and the step's time;
// the other nodes serve until stopped (SIGTERM or Ctrl-C), printing a line when a node joins,
// leaves, times out or comes back, and their figures (--figures) when they stop.
#include <csignal>
#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "cli/node_flags.h"
#include "distributed/cluster.h"
#include "distributed/mqtt_transport.h"
#include "distributed/node_runtime.h"
#include "distributed/partition_text.h"
#include "distributed/stream.h"
#include "distributed/transport_url.h"
#include "host/csv_reader.h"
#include "host/data_loading.h"
#include "host/model_io.h"
#include "host/output_file.h"

namespace edgelstm::cli {
namespace {

using namespace edgelstm::distributed;

volatile std::sig_atomic_t g_stop = 0;
void request_stop(int) { g_stop = 1; }

class NodeCommand : public Command {
 public:
  explicit NodeCommand(CLI::App& app)
      : Command(app.add_subcommand("node", "run one node of a network shared among several devices (node 0 streams the data)")) {
    app_->add_option("--model", model_path_, "model file (float, or integer from quantize --integer)")
        ->required()->check(CLI::ExistingFile);
    app_->add_option("--partition", partition_, "pipeline:N, pipeline:FIRST_LAYERS (e.g. 0,2) or split:N")->required();
    app_->add_option("--index", index_, "this node's number, 0..N-1")->required()->check(CLI::Range(0, 7));
    app_->add_option("--transport", transport_,
                     "udp://127.0.0.1:PORT (node k on PORT+k) or mqtt://USER:PASSWORD@127.0.0.1:PORT (mqtts://...?ca=FILE)")
        ->required();
    app_->add_option("--data", data_.path, "node 0: the CSV to stream")->check(CLI::ExistingFile);
    app_->add_option("--time-column", data_.time_column, "node 0: timestamp column")->capture_default_str();
    app_->add_option("--value-column", data_.value_column, "node 0: value column")->capture_default_str();
    app_->add_option("--steps", stream_.steps, "node 0: readings to stream (0: all)")->capture_default_str();
    app_->add_flag("--learn", stream_.learn, "node 0: forecast, then learn, at every reading (implies --train)");
    app_->add_option("--checkpoint", checkpoint_, "training: keep this node's weights here after every committed window "
                                                  "(and start from them)");
    app_->add_option("--figures", figures_, "write this node's traffic and memory figures here when it stops");
    flags_.add(app_);
  }

  void run() override {
    refuse_unless(index_ == 0, {"--data", "--steps", "--learn"}, "node 0");
    const bool training = flags_.train || stream_.learn;
    refuse_unless(training, {"--lr", "--optimizer", "--clip", "--checkpoint", "--checkpoint-every"},
                  "training (--train, or --learn on node 0)");
    const host::ModelFile model = host::load_model(model_path_);
    if (index_ == 0) check_streamable(model, model_path_);
    NodeOptions options;
    options.model_path = model_path_;
    options.partition = parse_partition(partition_, model.spec);
    if (index_ == 0 && data_.path.empty()) throw host::InputError("node: node 0 is the source: --data is required");
    // Everything this node will write is checked before it joins: not an input, a place that takes a file.
    const std::vector<host::NamedPath> inputs = {{"--model", model_path_}, {"--data", data_.path}};
    if (!checkpoint_.empty()) host::check_output_file({"--checkpoint", checkpoint_}, inputs);
    if (!figures_.empty()) host::check_output_file({"--figures", figures_}, inputs);
    if (!checkpoint_.empty() && !figures_.empty()) {
      host::check_distinct_outputs({"--checkpoint", checkpoint_}, {"--figures", figures_});
    }
    // Node 0 reads its whole series before it joins: bad data stops it before any other node waits on it.
    host::Series series;
    if (index_ == 0) series = host::load_model_series(data_, model);
    options.index = index_;
    options.training = training;
    options.train = flags_.train_config();
    options.session = flags_.session();
    options.checkpoint_path = checkpoint_;
    options.checkpoint_every = flags_.checkpoint_every;
    const TransportUrl url = parse_transport_url(transport_);
    refuse_unless(url.kind == TransportUrl::Kind::kUdp, {"--loss", "--duplicate", "--reorder"}, "udp transports");
    const std::unique_ptr<Transport> base =
        make_transport(url, index_, options.partition, topic_prefix(model_file_id(model_path_), partition_id(options.partition)));
    FaultyTransport faulty(*base, flags_.faults());
    Transport& transport = flags_.faults().any() ? static_cast<Transport&>(faulty) : *base;
    NodeRuntime node(options, transport);
    std::printf("%s\n", node.describe().c_str());
    std::fflush(stdout);
    std::signal(SIGTERM, request_stop);
    std::signal(SIGINT, request_stop);
    std::uint32_t rounds = 0;
    const auto print_alerts = [&] {
      for (const std::string& alert : node.take_alerts()) std::printf("%s\n", alert.c_str());
    };
    const auto on_event = [&](const SessionEvent& event) {
      print_alerts();  // a refused publish before the loss of the peer it causes
      if (event.kind == SessionEventKind::kStepDone || event.kind == SessionEventKind::kWindowDone) ++rounds;
      const std::string line = describe_event(index_, event);
      if (!line.empty()) {
        std::printf("%s\n", line.c_str());
        std::fflush(stdout);
      }
    };
    if (index_ == 0) {
      const std::vector<StepRecord> records = stream_series(
          node, model, series, stream_,
          [](const StepRecord& r) {
            std::printf("step %zu  forecast %.1f  actual %.1f  %.2f ms%s\n", r.t, r.forecast, r.actual, r.latency_ms,
                        r.warm_up ? "  (warm-up)" : "");
          },
          on_event);
      for (const std::string& line : summary_lines(records)) std::printf("%s\n", line.c_str());
    } else {
      while (g_stop == 0) {
        node.pump(100, on_event);
        print_alerts();
      }
    }
    print_alerts();
    if (!figures_.empty()) write_figures(node, rounds, figures_);
    std::printf("node %d: stopped after %u rounds\n", index_, rounds);
  }

 private:
  std::string model_path_, partition_, transport_, checkpoint_, figures_;
  int index_ = 0;
  host::DataOptions data_;
  StreamOptions stream_;
  NodeFlags flags_;
};

}  // namespace

std::unique_ptr<Command> make_node_command(CLI::App& app) { return std::make_unique<NodeCommand>(app); }

}  // namespace edgelstm::cli
