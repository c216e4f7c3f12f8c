#include "host/data_loading.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "host/csv_reader.h"
#include "host/settings.h"

namespace edgelstm::host {

Series load_series(const DataOptions& data, const std::vector<std::string>& covariates, std::int64_t* interval) {
  std::vector<ColumnRequest> requests = {ColumnRequest{data.value_column, true}};
  for (const std::string& column : covariates) {
    if (column == data.value_column || column == data.time_column) {
      throw InputError("--feature-columns: '" + column + "' is the " +
                       (column == data.time_column ? "timestamp" : "value") + " column, not a covariate");
    }
    requests.push_back(ColumnRequest{column, true});
  }
  const Table table = read_table(data.path, data.time_column, requests, true);
  if (table.rows() < 2) throw InputError(data.path + ": at least two readings are needed");
  Series series{table.numbers[0], table.times, {}, {}};
  series.covariates.assign(table.numbers.begin() + 1, table.numbers.end());
  *interval = series.times[1] - series.times[0];
  return series;
}

std::size_t steps_per_day(std::int64_t interval) {
  if (86400 % interval != 0) throw InputError("the series interval (" + std::to_string(interval) + " s) does not divide a day");
  return static_cast<std::size_t>(86400 / interval);
}

Series load_model_series(const DataOptions& data, const ModelFile& model) {
  const FeatureConfig features = features_of(model);
  std::int64_t interval = 0;
  Series series;
  try {
    series = load_series(data, features.covariates, &interval);
  } catch (const InputError& error) {
    if (features.covariates.empty()) throw;
    std::string names;
    for (const std::string& column : features.covariates) names += (names.empty() ? "" : ", ") + column;
    throw InputError(std::string(error.what()) + " (the model takes the covariate column(s) " + names +
                     " as inputs: the data must hold them)");
  }
  if (interval != features.interval_seconds) {
    throw InputError(data.path + ": readings every " + std::to_string(interval) + " s, the model was trained on " +
                     std::to_string(features.interval_seconds) + " s");
  }
  attach_base(series, features, model);
  return series;
}

ModelData load_model_data(const DataOptions& data, const ModelFile& model) {
  const FeatureConfig features = features_of(model);
  ModelData out;
  out.series = load_model_series(data, model);
  const std::int64_t interval = features.interval_seconds;
  out.day = steps_per_day(interval);
  out.split = chronological_split(out.series, features, data.validation_days * out.day, data.test_days * out.day);
  out.mase_scale = persistence_scale(out.series.values, out.split.test.front());
  return out;
}

Split class_split_days(const ClassData& classes, int window, const DataOptions& data) {
  const std::size_t per_day = steps_per_day(classes.times[1] - classes.times[0]);
  return class_split(classes.labels.size(), window, static_cast<std::size_t>(data.validation_days) * per_day,
                     static_cast<std::size_t>(data.test_days) * per_day);
}

ClassifierData load_classifier_data(const DataOptions& data, const ModelFile& model) {
  ClassifierData out;
  out.classes = read_class_data(data.path, data.time_column, model_feature_columns(model), model_label_column(model));
  out.split = class_split_days(out.classes, model.spec.window, data);
  return out;
}

std::vector<int> parse_lags(const std::string& text) {
  // Whole numbers only ("48abc" is not 48); their range is check_feature_config's.
  std::vector<int> lags;
  if (text == "none") return lags;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    std::int64_t lag = 0;
    if (!parse_integer(std::string_view(text).substr(start, comma - start), &lag) || lag < 1 || lag > kMaxLag) {
      throw InputError("--lags: expected auto, none or comma-separated whole numbers of steps, 1.." +
                       std::to_string(kMaxLag) + ", found " + excerpt(text));
    }
    lags.push_back(static_cast<int>(lag));
    start = comma + 1;
  }
  return lags;
}

std::vector<std::string> parse_columns(const std::string& text) {
  std::vector<std::string> columns;
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) columns.push_back(item);
  }
  if (columns.empty()) throw InputError("--feature-columns: expected comma-separated column names");
  return columns;
}

OptimizerKind parse_optimizer(const std::string& name) {
  if (name == "sgd") return OptimizerKind::kSgd;
  if (name == "momentum") return OptimizerKind::kMomentum;
  if (name == "adam") return OptimizerKind::kAdam;
  throw InputError("--optimizer " + excerpt(name) + ": expected sgd, momentum or adam");
}

void ensure_directory(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) throw InputError(path + ": cannot create the directory");
}

}  // namespace edgelstm::host
