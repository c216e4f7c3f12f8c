// Loading a command's data: the series or the classifier's columns of a CSV file, checked against
// a model's settings, and split chronologically; small parsers for option values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "host/classify.h"
#include "host/forecast.h"

namespace edgelstm::host {

// Which file and columns, and how many days the validation and test spans hold.
struct DataOptions {
  std::string path;
  std::string time_column = "timestamp";
  std::string value_column = "demand_mw";
  int validation_days = 7;
  int test_days = 14;
};

// The value column (and the `covariates` columns) as a regular series; *interval gets its step in
// seconds.
Series load_series(const DataOptions& data, const std::vector<std::string>& covariates, std::int64_t* interval);

std::size_t steps_per_day(std::int64_t interval);

// A forecaster model's series: `data`'s readings with the model's covariate columns (a missing one
// is an InputError naming it) and its base forecasts, refused when its readings are not the
// model's interval apart. What a stream of the model's forecasts (online, a cluster) reads.
Series load_model_series(const DataOptions& data, const ModelFile& model);

// A forecaster model's data: the series of `data` with the model's covariate columns (a missing
// one is an InputError naming it) and its base forecasts, refused when its readings are not the
// model's interval apart, and its chronological split for the model's features.
struct ModelData {
  Series series;
  std::size_t day = 0;  // readings per day
  Split split;
  double mase_scale = 0;  // persistence's mean one-step error before the test span (MASE)
};
ModelData load_model_data(const DataOptions& data, const ModelFile& model);
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
void ensure_directory(const std::string& path);

}  // namespace edgelstm::host
