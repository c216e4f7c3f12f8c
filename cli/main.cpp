// The `edgelstm` command line: train, evaluate, forecast and stream a smart-meter series, inspect,
// export, import and quantize models, study a home battery policy. Every command has --help; each
// lives in its own file here and calls the host library (host/, policy/). Bad input stops with a
// message naming the file, the line and what was expected, and exit status 2.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <vector>

#include "cli/command.h"
#include "host/csv_reader.h"

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

  CLI11_PARSE(app, argc, argv);

  try {
    for (const auto& command : commands) {
      if (command->parsed()) command->run();
    }
  } catch (const edgelstm::host::InputError& error) {
    std::fprintf(stderr, "edgelstm: %s\n", error.what());
    return 2;
  }
  return 0;
}
