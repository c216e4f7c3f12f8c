// The `edgelstm` command line: train, evaluate, forecast and stream a smart-meter series, inspect,
// export, import and quantize models, study a home battery policy, run a node of a split network
// or a cluster of them. Every command has --help; each lives in its own file here and calls the
// host library (host/, distributed/, policy/). Bad input — a file, an option, a model's settings,
// and also what CLI11 itself refuses (a missing --data file, an unknown option) — stops with a
// message naming what is wrong and exit status 2, before anything is written.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "cli/command.h"
#include "host/input_error.h"

namespace {

// "train, eval, predict, ...": the commands, for messages.
std::string command_names(CLI::App& app) {
  std::string names;
  for (const CLI::App* command : app.get_subcommands([](const CLI::App*) { return true; })) {
    names += (names.empty() ? "" : ", ") + command->get_name();
  }
  return names;
}

bool is_command(CLI::App& app, const char* name) {
  for (const CLI::App* command : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (command->get_name() == name) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace edgelstm::cli;
  CLI::App app{"edgelstm: LSTM forecasting that can train on the device; host tools"};
  app.require_subcommand(1);
  std::vector<std::unique_ptr<Command>> commands;
  for (auto make : {make_train_command, make_eval_command, make_predict_command, make_online_command,
                    make_inspect_command, make_export_command, make_import_torch_command, make_quantize_command,
                    make_policy_command, make_node_command, make_cluster_command, make_gateway_command,
                    make_fleet_command}) {
    commands.push_back(make(app));
  }

  // The first argument is the command; CLI11 alone would answer "A subcommand is required" to a
  // misspelled one.
  if (argc < 2 || (argv[1][0] != '-' && !is_command(app, argv[1]))) {
    std::fprintf(stderr, "edgelstm: %s%s%s; the commands: %s (edgelstm COMMAND --help)\n",
                 argc < 2 ? "a command is required" : "unknown command '", argc < 2 ? "" : argv[1],
                 argc < 2 ? "" : "'", command_names(app).c_str());
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& help) {
    return app.exit(help);  // --help: printed, status 0
  } catch (const CLI::ParseError& error) {
    (void)app.exit(error);  // CLI11's message ("--data: File does not exist: x.csv") and its hint
    return 2;
  }

  try {
    for (const auto& command : commands) {
      if (command->parsed()) command->run();
    }
  } catch (const edgelstm::host::InputError& error) {
    std::fprintf(stderr, "edgelstm: %s\n", error.what());
    return 2;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "edgelstm: out of memory\n");
    return 1;
  }
  return 0;
}
