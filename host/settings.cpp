#include "host/settings.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "host/input_error.h"

namespace edgelstm::host {
namespace {

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    items.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) return items;
    start = comma + 1;
  }
}

void check_name(const std::string& name, const std::string& what) {
  if (name.empty()) throw InputError(what + ": an empty name");
  if (name.size() > kMaxNameBytes) {
    throw InputError(what + ": the name " + excerpt(name) + " is longer than " + std::to_string(kMaxNameBytes) + " bytes");
  }
  if (name.find(',') != std::string::npos) throw InputError(what + ": the name " + excerpt(name) + " holds a comma");
}

const std::vector<float>& float_tensor(const ModelFile& model, const std::string& name, std::size_t count) {
  const std::vector<float>& values = model.floats.at(name);
  if (values.size() != count) {
    throw InputError(name + ": " + std::to_string(values.size()) + " values, expected " + std::to_string(count));
  }
  return values;
}

}  // namespace

bool parse_integer(std::string_view text, std::int64_t* value) {
  const char* end = text.data() + text.size();
  const auto parsed = std::from_chars(text.data(), end, *value);
  return !text.empty() && parsed.ec == std::errc() && parsed.ptr == end;
}

void check_feature_config(const FeatureConfig& features) {
  const std::string prefix = "feature settings: ";
  if (features.window < 1 || features.window > kMaxWindow) {
    throw InputError(prefix + "window " + std::to_string(features.window) + ", expected 1.." + std::to_string(kMaxWindow) +
                     " steps");
  }
  if (features.lags.size() > kMaxLags) {
    throw InputError(prefix + std::to_string(features.lags.size()) + " lags, at most " + std::to_string(kMaxLags));
  }
  std::set<int> seen;
  for (int lag : features.lags) {
    if (lag < 1 || lag > kMaxLag) {
      throw InputError(prefix + "lag " + std::to_string(lag) + ", expected 1.." + std::to_string(kMaxLag) +
                       " steps before the forecast step (0 would give the network the value it forecasts)");
    }
    if (!seen.insert(lag).second) throw InputError(prefix + "lag " + std::to_string(lag) + " given twice");
  }
  if (features.interval_seconds < 1 || features.interval_seconds > kMaxIntervalSeconds ||
      kMaxIntervalSeconds % features.interval_seconds != 0) {
    throw InputError(prefix + "interval " + std::to_string(features.interval_seconds) +
                     " s, expected 1..86400 s and a whole number of readings per day");
  }
}

void check_network_shape(int hidden, int layers) {
  if (hidden < 1 || hidden > kMaxHidden) {
    throw InputError("hidden units " + std::to_string(hidden) + ", expected 1.." + std::to_string(kMaxHidden));
  }
  if (layers < 1 || layers > kMaxTrainedLayers) {
    throw InputError("layers " + std::to_string(layers) + ", expected 1.." + std::to_string(kMaxTrainedLayers));
  }
}

void check_normalization(double mean, double scale, const std::string& what) {
  const float stored_mean = static_cast<float>(mean), stored_scale = static_cast<float>(scale);
  if (!std::isfinite(mean) || !std::isfinite(scale) || !std::isfinite(stored_mean) || !std::isfinite(stored_scale) ||
      !(stored_scale > 0.0f)) {
    char values[96];
    std::snprintf(values, sizeof values, "mean %.6g, scale %.6g", mean, scale);
    throw InputError(what + ": normalization " + values + "; expected finite float32 values and a scale above zero");
  }
}

void check_class_names(const std::vector<std::string>& classes) {
  if (classes.size() < 2 || classes.size() > kMaxClasses) {
    throw InputError("classes: " + std::to_string(classes.size()) + " of them, expected 2.." + std::to_string(kMaxClasses));
  }
  for (std::size_t k = 0; k < classes.size(); ++k) {
    check_name(classes[k], "classes");
    if (k > 0 && !(classes[k - 1] < classes[k])) {
      throw InputError("classes: " + excerpt(classes[k - 1]) + " and " + excerpt(classes[k]) +
                       " are not distinct and in sorted order");
    }
  }
}

void check_column_names(const std::vector<std::string>& columns, const std::string& what) {
  if (columns.empty()) throw InputError(what + ": no column names");
  for (const std::string& column : columns) check_name(column, what);
}

void check_model_settings(const ModelFile& model) {
  const LstmSpec& spec = model.spec;
  for (std::size_t k = 0; k < model.parameters.size(); ++k) {
    if (!std::isfinite(model.parameters[k])) throw InputError("parameter " + std::to_string(k) + " is NaN or Inf");
  }
  for (const auto& [name, values] : model.floats) {
    if (name == "train.history") continue;
    for (std::size_t k = 0; k < values.size(); ++k) {
      if (!std::isfinite(values[k])) throw InputError(name + ": value " + std::to_string(k) + " is NaN or Inf");
    }
  }
  if (const auto found = model.texts.find("meta.features"); found != model.texts.end()) {
    const FeatureConfig features = FeatureConfig::decode(found->second);  // checks them
    if (features.features() != spec.input_size || features.window != spec.window) {
      throw InputError("meta.features: the settings " + excerpt(found->second) + " describe " +
                       std::to_string(features.features()) + " inputs and a window of " + std::to_string(features.window) +
                       "; the network has " + std::to_string(spec.input_size) + " inputs and a window of " +
                       std::to_string(spec.window));
    }
  }
  if (model.floats.count("norm.value") != 0) {
    const std::vector<float>& norm = float_tensor(model, "norm.value", 2);
    check_normalization(norm[0], norm[1], "norm.value");
  }
  if (const auto found = model.texts.find("meta.classes"); found != model.texts.end()) {
    const std::vector<std::string> classes = split_commas(found->second);
    check_class_names(classes);
    if (spec.task != Task::kClassification || classes.size() != spec.output_size) {
      throw InputError("meta.classes: " + std::to_string(classes.size()) + " classes; the network has " +
                       std::to_string(spec.output_size) + " outputs" +
                       (spec.task == Task::kClassification ? "" : " and is not a classifier"));
    }
  }
  if (const auto found = model.texts.find("meta.feature_columns"); found != model.texts.end()) {
    const std::vector<std::string> columns = split_commas(found->second);
    check_column_names(columns, "meta.feature_columns");
    if (columns.size() != spec.input_size) {
      throw InputError("meta.feature_columns: " + std::to_string(columns.size()) + " columns; the network has " +
                       std::to_string(spec.input_size) + " inputs");
    }
    if (model.floats.count("norm.features") != 0) {
      const std::vector<float>& norm = float_tensor(model, "norm.features", 2 * columns.size());
      for (std::size_t k = 0; k < columns.size(); ++k) {
        check_normalization(norm[k], norm[columns.size() + k], "norm.features (" + columns[k] + ")");
      }
    }
  }
  if (const auto found = model.texts.find("meta.label_column"); found != model.texts.end()) {
    check_column_names({found->second}, "meta.label_column");
  }
  if (model.floats.count("int.input_scale") != 0 && !(float_tensor(model, "int.input_scale", 1)[0] > 0.0f)) {
    throw InputError("int.input_scale: expected a scale above zero");
  }
}

}  // namespace edgelstm::host
