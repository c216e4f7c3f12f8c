#include "cli/command.h"

#include "host/csv_reader.h"

namespace edgelstm::cli {

void Command::refuse_unless(bool allowed, std::initializer_list<const char*> options, const char* where) const {
  if (allowed) return;
  for (const char* option : options) {
    if (given(option)) throw host::InputError(app_->get_name() + ": " + option + " applies to " + where + " only");
  }
}

CLI::Validator unsigned_integer() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (host::is_decimal(text, 20) && (text.size() < 20 || text <= "18446744073709551615")) return "";
        return "expected a whole number 0 .. 18446744073709551615, found " + host::excerpt(text);
      },
      "UINT64");
}

void add_data_options(CLI::App* command, host::DataOptions& data) {
  command->add_option("--data", data.path, "CSV file with a header line (" + host::csv_limits_text() + ")")
      ->required()->check(CLI::ExistingFile);
  command->add_option("--time-column", data.time_column, "name of the timestamp column")->capture_default_str();
  command->add_option("--value-column", data.value_column, "name of the column to forecast")->capture_default_str();
  command->add_option("--validation-days", data.validation_days, "days before the test span used for early stopping")
      ->capture_default_str()->check(CLI::Range(1, 3650));
  command->add_option("--test-days", data.test_days, "days at the end held out for evaluation")
      ->capture_default_str()->check(CLI::Range(1, 3650));
}

void add_feature_options(CLI::App* command, std::string& lags, bool& no_calendar) {
  command->add_option("--lags", lags,
                      "forecast: lag features in steps before the step forecast, e.g. 48,336; auto: one day and one "
                      "week before it for readings several a day (48,336 half-hourly, 24,168 hourly), one week (7) "
                      "for daily readings, each kept where the training span holds at least as many targets as "
                      "the lag; none: no lags")
      ->capture_default_str();
  command->add_flag("--no-calendar", no_calendar, "forecast: no time-of-day / day-of-week features");
}

}  // namespace edgelstm::cli
