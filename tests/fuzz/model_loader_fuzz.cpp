// libFuzzer target: the command line's model loading with its settings, as eval, predict, online
// and inspect use it (host/model_io.h parse_model, then features_of, normalization_of and the
// forecast, or the classifier's columns, classes and predictions). Any bytes must either be
// refused with an InputError or give a model whose use is safe: a forecast of a short synthetic
// series that is finite (or refused), predicted classes among the model's, and a float model that
// saves and loads again to the same parameters. A crash, a sanitizer report or another exception
// is a bug: this is where a negative lag read outside the series, an empty file passed a null
// pointer to memcpy, and NaN weights evaluated to nan. Mutations are structure-aware
// (model_mutator.h), so most inputs carry a valid CRC.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/model_mutator.h"
#include "host/classify.h"
#include "host/forecast.h"
#include "host/input_error.h"
#include "host/integer_forecaster.h"
#include "host/model_io.h"

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t max_size,
                                               unsigned int seed) {
  return edgelstm::fuzz::mutate_model(data, size, max_size, seed);
}

namespace {

using namespace edgelstm::host;

// Work per input stays small: networks beyond these sizes are only loaded, not run.
constexpr std::size_t kMaxParameters = 200000;
constexpr std::size_t kMaxReadings = 4000;

void use_forecaster(const ModelFile& model) {
  const FeatureConfig features = features_of(model);
  (void)normalization_of(model);
  const std::size_t first = static_cast<std::size_t>(features.window - 1 + features.max_lag());
  if (first + 8 > kMaxReadings) return;
  Series series;
  for (std::size_t k = 0; k < first + 8; ++k) {
    series.values.push_back(30000 + 5000 * std::sin(0.13 * static_cast<double>(k)));
    series.times.push_back(946684800 + static_cast<std::int64_t>(k) * features.interval_seconds);
  }
  const Split split = chronological_split(series, features, 2, 4);
  const std::vector<double> forecasts = forecast_targets(model, series, split.test);
  if (forecasts.size() != split.test.size()) __builtin_trap();
  for (double f : forecasts) {
    if (!std::isfinite(f)) __builtin_trap();  // forecast_targets refuses what is not finite
  }
}

void use_classifier(const ModelFile& model) {
  const std::vector<std::string> columns = model_feature_columns(model);
  (void)model_label_column(model);
  const auto classes = model.texts.find("meta.classes");
  if (classes == model.texts.end()) return;
  ClassData data;
  data.feature_names = columns;
  for (std::size_t start = 0;;) {
    const std::size_t comma = classes->second.find(',', start);
    data.classes.push_back(classes->second.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  const std::size_t rows = static_cast<std::size_t>(model.spec.window) + 4;
  if (rows > kMaxReadings) return;
  for (std::size_t r = 0; r < rows; ++r) {
    data.features.push_back(std::vector<double>(columns.size(), std::cos(0.7 * static_cast<double>(r))));
    data.labels.push_back(static_cast<int>(r % data.classes.size()));
    data.times.push_back(946684800 + static_cast<std::int64_t>(r) * 86400);
  }
  std::vector<std::size_t> targets;
  for (std::size_t r = model.spec.window; r < rows; ++r) targets.push_back(r);
  for (int predicted : classify(model, data, targets)) {
    if (predicted < 0 || static_cast<std::size_t>(predicted) >= data.classes.size()) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ModelFile model;
  try {
    model = parse_model(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.elstm");
  } catch (const InputError&) {
    return 0;
  }
  if (model.parameters.size() != edgelstm::parameter_count(model.spec)) __builtin_trap();
  if (model.parameters.size() > kMaxParameters) return 0;
  // What loads must save, and (float files) load again to the same parameters.
  const std::vector<std::uint8_t> saved = serialize_model(model);
  const ModelFile again = parse_model(std::string_view(reinterpret_cast<const char*>(saved.data()), saved.size()), "again");
  if (model.format == edgelstm::WeightFormat::kFloat32 && again.parameters != model.parameters) __builtin_trap();
  try {
    if (model.spec.task == edgelstm::Task::kRegression && model.texts.count("meta.features") != 0) use_forecaster(model);
    if (model.spec.task == edgelstm::Task::kClassification && model.texts.count("meta.feature_columns") != 0) {
      use_classifier(model);
    }
  } catch (const InputError&) {
  }
  return 0;
}
