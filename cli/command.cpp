#include "cli/command.h"

#include "host/csv_reader.h"

namespace edgelstm::cli {

void Command::refuse_unless(bool allowed, std::initializer_list<const char*> options, const char* where) const {
  if (allowed) return;
  for (const char* option : options) {
    if (given(option)) throw host::InputError(app_->get_name() + ": " + option + " applies to " + where + " only");
  }
}

void add_data_options(CLI::App* command, host::DataOptions& data) {
  command->add_option("--data", data.path, "CSV file with a header line")->required()->check(CLI::ExistingFile);
  command->add_option("--time-column", data.time_column, "name of the timestamp column")->capture_default_str();
  command->add_option("--value-column", data.value_column, "name of the column to forecast")->capture_default_str();
  command->add_option("--validation-days", data.validation_days, "days before the test span used for early stopping")
      ->capture_default_str()->check(CLI::Range(1, 3650));
  command->add_option("--test-days", data.test_days, "days at the end held out for evaluation")
      ->capture_default_str()->check(CLI::Range(1, 3650));
}

}  // namespace edgelstm::cli
