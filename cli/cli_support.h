// Shared pieces of the `edgelstm` commands: data options, series loading and small parsers.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "classify.h"
#include "forecast.h"

namespace edgelstm::cli {

struct DataOptions {
  std::string path;
  std::string time_column = "timestamp";
  std::string value_column = "demand_mw";
  int validation_days = 7;
  int test_days = 14;
};

// --data (required), --time-column, --value-column, --validation-days, --test-days.
void add_data_options(CLI::App* command, DataOptions& data);

// The value column as a regular series; *interval gets its step in seconds.
Series load_series(const DataOptions& data, std::int64_t* interval);

std::size_t steps_per_day(std::int64_t interval);

// A model's data: the series of `data`, refused (InputError) when its readings are not
// `features.interval_seconds` apart, and its chronological split for those features.
struct ModelData {
  Series series;
  std::size_t day = 0;  // readings per day
  Split split;
};
ModelData load_model_data(const DataOptions& data, const FeatureConfig& features);
// A classifier's rows split chronologically with validation and test spans given in days (`data`'s
// validation_days and test_days, scaled by the readings per day).
Split class_split_days(const ClassData& classes, int window, const DataOptions& data);

// A classifier model's data: `data`'s columns the model names, and their split by days.
struct ClassifierData {
  ClassData classes;
  Split split;
};
ClassifierData load_classifier_data(const DataOptions& data, const ModelFile& model);

std::vector<int> parse_lags(const std::string& text);
std::vector<std::string> parse_columns(const std::string& text);
OptimizerKind parse_optimizer(const std::string& name);
std::string format_metrics_row(const std::string& name, const Metrics& m);
void ensure_directory(const std::string& path);

// `edgelstm export --format model-bytes`: the model file as an aligned byte array; with replay
// data (integer models only), the int16 input stream of the first `replay_steps` test readings
// and the int32 outputs IntegerNetwork computes on the host, for a firmware to compare bit for bit.
void run_export_model_bytes(const std::string& model_path, const std::string& out_path, const std::string& prefix,
                            const DataOptions& replay_data, int replay_steps);

// `edgelstm export --format c-header`.
void run_export_c_header(const std::string& model_path, const std::string& out_path, const std::string& prefix);

}  // namespace edgelstm::cli
