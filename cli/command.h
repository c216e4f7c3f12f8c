// One `edgelstm` subcommand: its constructor declares the options on the application, run() does
// the work when the user chose it. Bad input is an InputError (main prints it, exit status 2).
#pragma once

#include <CLI/CLI.hpp>

#include <initializer_list>
#include <memory>
#include <string>

#include "host/data_loading.h"

namespace edgelstm::cli {

class Command {
 public:
  explicit Command(CLI::App* app) : app_(app) {}
  virtual ~Command() = default;
  Command(const Command&) = delete;
  Command& operator=(const Command&) = delete;

  bool parsed() const { return app_->parsed(); }
  virtual void run() = 0;

 protected:
  // Whether the user gave `option` on the command line.
  bool given(const char* option) const { return app_->get_option(option)->count() > 0; }
  // Refuses, by name, each of `options` the user gave, unless `allowed`: "<command>: --x applies to <where> only".
  void refuse_unless(bool allowed, std::initializer_list<const char*> options, const char* where) const;

  CLI::App* app_;
};

// A whole number 0 .. 2^64 - 1 written in decimal digits only (CLI11 would take "-1" as a huge
// unsigned number, or answer with a 300-digit range).
CLI::Validator unsigned_integer();

// --data (required), --time-column, --value-column, --validation-days, --test-days.
void add_data_options(CLI::App* command, host::DataOptions& data);

// A forecaster's --lags (auto, none or a list) and --no-calendar, as train and online take them.
void add_feature_options(CLI::App* command, std::string& lags, bool& no_calendar);

// The commands, in the order `edgelstm --help` lists them.
std::unique_ptr<Command> make_train_command(CLI::App& app);
std::unique_ptr<Command> make_eval_command(CLI::App& app);
std::unique_ptr<Command> make_predict_command(CLI::App& app);
std::unique_ptr<Command> make_online_command(CLI::App& app);
std::unique_ptr<Command> make_inspect_command(CLI::App& app);
std::unique_ptr<Command> make_export_command(CLI::App& app);
std::unique_ptr<Command> make_import_torch_command(CLI::App& app);
std::unique_ptr<Command> make_quantize_command(CLI::App& app);
std::unique_ptr<Command> make_policy_command(CLI::App& app);
std::unique_ptr<Command> make_node_command(CLI::App& app);
std::unique_ptr<Command> make_cluster_command(CLI::App& app);
std::unique_ptr<Command> make_gateway_command(CLI::App& app);
std::unique_ptr<Command> make_fleet_command(CLI::App& app);

}  // namespace edgelstm::cli
