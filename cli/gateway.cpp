// `edgelstm gateway`: the classical platform's centre as a service. Connects to the broker with a
// persistent session, stores every meter reading in SQLite, trains the central model every night
// and answers each reading with its acknowledgement and the meter's next forecast, until SIGTERM or
// SIGINT (then it writes its statistics). See fleet/gateway.h and docs/fleet.md.
#include <csignal>
#include <cstdio>

#include "cli/command.h"
#include "fleet/fleet_protocol.h"
#include "fleet/gateway.h"
#include "host/csv_reader.h"

namespace edgelstm::cli {
namespace {

std::atomic<bool> g_stop{false};
extern "C" void request_stop(int) { g_stop.store(true); }

class GatewayCommand : public Command {
 public:
  explicit GatewayCommand(CLI::App& app)
      : Command(app.add_subcommand(
            "gateway", "the classical platform's centre: store every meter reading in SQLite, train a central model "
                       "nightly, send forecasts back (runs until SIGTERM)")) {
    CLI::App* c = app_;
    c->add_option("--host", options_.host, "broker host")->capture_default_str();
    c->add_option("--port", options_.port, "broker port")->required()->check(CLI::Range(1, 65535));
    c->add_option("--ca-file", options_.ca_file, "TLS: the CA that signed the broker's certificate")->check(CLI::ExistingFile);
    c->add_option("--credentials", credentials_, "file holding user:password (readable by its owner only)")
        ->required()->check(CLI::ExistingFile);
    c->add_option("--client-id", options_.client_id, "MQTT client id (the broker's session key)")->capture_default_str();
    c->add_option("--shared-group", options_.shared_group,
                  "share the meters with other gateways through $share/<group>/... (MQTT 5 shared subscriptions)");
    c->add_option("--db", options_.database, "SQLite file of the readings (created when missing)")->required();
    c->add_option("--model", options_.model_file, "the central model file (written when training, read otherwise)")
        ->required();
    c->add_option("--stats", options_.stats_file, "write statistics here after each training and at exit");
    c->add_option("--ready-file", options_.ready_file, "write this file once connected and subscribed");
    c->add_flag("--no-train", no_train_, "do not train: forecast with the model file another gateway writes");
    c->add_option("--hidden", options_.model.hidden, "hidden units of the central LSTM")->capture_default_str()
        ->check(CLI::Range(1, 256));
    c->add_option("--epochs", options_.model.epochs, "passes over the training span each night")->capture_default_str()
        ->check(CLI::Range(1, 100));
    c->add_option("--history-days", options_.model.history_days, "days of readings each training uses")
        ->capture_default_str()->check(CLI::Range(1, 3650));
    c->add_option("--first-training-days", options_.first_training_days, "days of readings before the first training")
        ->capture_default_str()->check(CLI::Range(1, 365));
    c->add_option("--seed", options_.model.seed, "initial weights and shuffling")->capture_default_str();
  }

  void run() override {
    fleet::read_credentials(credentials_, &options_.user, &options_.password);
    options_.train = !no_train_;
    std::signal(SIGTERM, request_stop);
    std::signal(SIGINT, request_stop);
    fleet::Gateway gateway(options_);
    gateway.run(g_stop);
    const fleet::GatewayStats& s = gateway.stats();
    std::printf("gateway: %llu messages, %llu readings stored (%llu duplicates, %llu conflicts), %llu summaries, "
                "%zu trainings, ingest %.2f s CPU, training %.2f s CPU\n",
                static_cast<unsigned long long>(s.messages), static_cast<unsigned long long>(s.readings_inserted),
                static_cast<unsigned long long>(s.duplicates), static_cast<unsigned long long>(s.conflicts),
                static_cast<unsigned long long>(s.summaries), s.trainings.size(), s.ingest_cpu_seconds,
                s.train_cpu_seconds);
  }

 private:
  fleet::GatewayOptions options_;
  std::string credentials_;
  bool no_train_ = false;
};

}  // namespace

std::unique_ptr<Command> make_gateway_command(CLI::App& app) { return std::make_unique<GatewayCommand>(app); }

}  // namespace edgelstm::cli
