#include "host/classify.h"

#include "host/quantized_forecaster.h"
#include "host/settings.h"
#include "host/statistics.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

namespace edgelstm::host {
namespace {

struct FeatureNorm {
  std::vector<double> mean, scale;
};

FeatureNorm fit(const ClassData& data, const std::vector<std::size_t>& sample_rows, int window) {
  // Day profiles: every reading of the training days; otherwise the training rows themselves.
  std::vector<std::size_t> rows;
  for (std::size_t r : sample_rows) {
    if (!data.window_ends_at_row) {
      rows.push_back(r);
    } else {
      for (std::size_t s = r + 1 - static_cast<std::size_t>(window); s <= r; ++s) rows.push_back(s);
    }
  }
  const std::size_t f = data.feature_names.size();
  FeatureNorm norm{std::vector<double>(f, 0.0), std::vector<double>(f, 0.0)};
  for (std::size_t k = 0; k < f; ++k) {
    const MeanAndSpread fitted = mean_and_spread(rows.size(), [&](std::size_t r) { return data.features[rows[r]][k]; });
    norm.mean[k] = fitted.mean;
    norm.scale[k] = std::max(1e-9, fitted.spread);  // a constant feature carries nothing but must not divide by 0
    check_normalization(norm.mean[k], norm.scale[k], "the normalization of feature column '" + data.feature_names[k] + "'");
  }
  return norm;
}

// The normalization a classifier model stores (norm.features: means, then scales).
FeatureNorm stored_norm(const ModelFile& model, std::size_t features) {
  const auto stored = model.floats.find("norm.features");
  if (stored == model.floats.end() || stored->second.size() != 2 * features) {
    throw InputError("the model is not a classifier for these " + std::to_string(features) + " feature columns");
  }
  FeatureNorm norm;
  norm.mean.assign(stored->second.begin(), stored->second.begin() + static_cast<long>(features));
  norm.scale.assign(stored->second.begin() + static_cast<long>(features), stored->second.end());
  return norm;
}

void window_of(const ClassData& data, const FeatureNorm& norm, int window, std::size_t row, float* out) {
  const std::size_t end = data.window_ends_at_row ? row + 1 : row;
  for (std::size_t s = end - static_cast<std::size_t>(window); s < end; ++s) {
    for (std::size_t k = 0; k < data.feature_names.size(); ++k) {
      *out++ = static_cast<float>((data.features[s][k] - norm.mean[k]) / norm.scale[k]);
    }
  }
}

int argmax(Span<const float> values) {
  return static_cast<int>(std::max_element(values.begin(), values.end()) - values.begin());
}

}  // namespace

ClassData read_class_data(const std::string& path, const std::string& time_column,
                          const std::vector<std::string>& feature_columns, const std::string& label_column) {
  check_column_names(feature_columns, "--feature-columns");
  check_column_names({label_column}, "--label-column");
  std::vector<ColumnRequest> requests;
  for (const std::string& name : feature_columns) requests.push_back({name, true});
  requests.push_back({label_column, false});
  const Table table = read_table(path, time_column, requests, true);
  ClassData data;
  data.feature_names = feature_columns;
  data.label_name = label_column;
  data.times = table.times;
  const std::vector<std::string>& labels = table.text.back();
  data.classes = labels;
  std::sort(data.classes.begin(), data.classes.end());
  data.classes.erase(std::unique(data.classes.begin(), data.classes.end()), data.classes.end());
  if (data.classes.size() < 2) throw InputError(path + ": column '" + label_column + "' has fewer than two classes");
  try {
    check_class_names(data.classes);
  } catch (const InputError& error) {
    throw InputError(path + ": column '" + label_column + "': " + error.what());
  }
  for (std::size_t r = 0; r < table.rows(); ++r) {
    std::vector<double> row;
    for (std::size_t k = 0; k < feature_columns.size(); ++k) row.push_back(table.numbers[k][r]);
    data.features.push_back(row);
    data.labels.push_back(static_cast<int>(std::lower_bound(data.classes.begin(), data.classes.end(), labels[r]) -
                                           data.classes.begin()));
  }
  return data;
}

ClassMetrics class_metrics(const std::vector<int>& predicted, const std::vector<int>& actual, std::size_t classes) {
  ClassMetrics m;
  m.confusion.assign(classes, std::vector<int>(classes, 0));
  std::size_t correct = 0;
  for (std::size_t k = 0; k < actual.size(); ++k) {
    ++m.confusion[static_cast<std::size_t>(actual[k])][static_cast<std::size_t>(predicted[k])];
    correct += predicted[k] == actual[k] ? 1 : 0;
  }
  m.accuracy = actual.empty() ? 0 : static_cast<double>(correct) / actual.size();
  double f1_sum = 0;
  for (std::size_t c = 0; c < classes; ++c) {
    double tp = m.confusion[c][c], fp = 0, fn = 0;
    for (std::size_t o = 0; o < classes; ++o) {
      if (o == c) continue;
      fp += m.confusion[o][c];
      fn += m.confusion[c][o];
    }
    f1_sum += tp == 0 ? 0.0 : 2 * tp / (2 * tp + fp + fn);
  }
  m.macro_f1 = f1_sum / classes;
  return m;
}

Split class_split(std::size_t rows, int window, std::size_t validation_rows, std::size_t test_rows) {
  const std::size_t first = static_cast<std::size_t>(window);
  if (rows < first + validation_rows + test_rows + 1) {
    throw InputError("too few rows (" + std::to_string(rows) + ") for a window of " + std::to_string(window) +
                     " and validation + test spans of " + std::to_string(validation_rows + test_rows));
  }
  return split_indices(first, rows, validation_rows, test_rows);
}

int majority_class(const ClassData& data, const std::vector<std::size_t>& train_rows) {
  std::vector<int> counts(data.classes.size(), 0);
  for (std::size_t r : train_rows) ++counts[static_cast<std::size_t>(data.labels[r])];
  return static_cast<int>(std::max_element(counts.begin(), counts.end()) - counts.begin());
}

ModelFile train_classifier(const ClassData& data, int window, const Split& split, const TrainOptions& options,
                           const std::function<void(const EpochReport&)>& progress) {
  const std::size_t features = data.feature_names.size();
  check_network_shape(options.hidden, options.layers);
  if (window < 1 || window > kMaxWindow) {
    throw InputError("window " + std::to_string(window) + " rows, expected 1.." + std::to_string(kMaxWindow));
  }
  const ModelFile* start = options.start_from;
  const FeatureNorm norm = start != nullptr ? stored_norm(*start, features) : fit(data, split.train, window);
  if (start != nullptr) {
    const auto classes = start->texts.find("meta.classes");
    if (start->spec.task != Task::kClassification || classes == start->texts.end() || start->spec.input_size != features) {
      throw InputError("the model to fine-tune is not a classifier of these " + std::to_string(features) + " feature columns");
    }
    if (start->spec.window != window || split_list(classes->second) != data.classes) {
      throw InputError("the classifier to fine-tune has a window of " + std::to_string(start->spec.window) +
                       " rows and the classes " + classes->second + "; the data: " + std::to_string(window) +
                       " rows and " + join_list(data.classes));
    }
  }
  const LstmSpec spec = start != nullptr ? start->spec : make_spec(static_cast<std::uint16_t>(features), static_cast<std::uint16_t>(options.hidden),
                                  static_cast<std::uint8_t>(options.layers), static_cast<std::uint16_t>(data.classes.size()),
                                  static_cast<std::uint16_t>(window), Task::kClassification);
  const std::size_t floats = static_cast<std::size_t>(window) * features;
  check_training_memory(spec, options.optimizer, split.train.size(), floats);
  std::vector<std::uint8_t> storage;
  Network net;
  bind_for_training(net, storage, spec, options, LossKind::kCrossEntropy);
  std::vector<float> windows(split.train.size() * floats), scratch(floats), logits(data.classes.size());
  for (std::size_t k = 0; k < split.train.size(); ++k) window_of(data, norm, window, split.train[k], windows.data() + k * floats);
  // Validation error: 100 - accuracy (percent), lower is better.
  auto validation_error = [&]() {
    std::size_t correct = 0;
    for (std::size_t r : split.validation) {
      window_of(data, norm, window, r, scratch.data());
      net.reset_state();
      (void)net.forward(Span<const float>(scratch.data(), floats), Span<float>(logits.data(), logits.size()));
      correct += argmax(Span<const float>(logits.data(), logits.size())) == data.labels[r] ? 1 : 0;
    }
    return 100.0 - 100.0 * correct / split.validation.size();
  };
  std::vector<float> history, master;
  EarlyStopping chosen = train_with_early_stopping(
      net, split.train.size(), options,
      [&](std::size_t k) {
        const std::uint16_t label = static_cast<std::uint16_t>(data.labels[split.train[k]]);
        return train_step_for(net, options, Span<const float>(windows.data() + k * floats, floats),
                              Span<const std::uint16_t>(&label, 1), master);
      },
      validation_error, progress, &history);
  chosen.measure = "validation error %";
  const std::vector<float>& best = chosen.parameters;
  ModelFile model;
  model.spec = spec;
  model.parameters = best;
  model.texts["train.early_stopping"] = chosen.encode();
  std::vector<float> stored;
  for (double m : norm.mean) stored.push_back(static_cast<float>(m));
  for (double s : norm.scale) stored.push_back(static_cast<float>(s));
  model.floats["norm.features"] = stored;
  model.floats["train.history"] = history;
  model.texts["meta.classes"] = join_list(data.classes);
  model.texts["meta.feature_columns"] = join_list(data.feature_names);
  model.texts["meta.label_column"] = data.label_name;
  if (options.quantization_aware && !(start != nullptr && best == start->parameters)) {  // only when it changed
    model.texts["meta.quantization_aware"] = quantization_aware_label(options.fake_quantization);
  }
  return model;
}

std::vector<int> classify(const ModelFile& model, const ClassData& data, const std::vector<std::size_t>& rows,
                          WeightFormat format, ScaleGranularity granularity) {
  const auto classes = model.texts.find("meta.classes");
  const std::size_t features = data.feature_names.size();
  if (model.spec.task != Task::kClassification || classes == model.texts.end() || model.spec.input_size != features) {
    throw InputError("the model is not a classifier for these " + std::to_string(features) + " feature columns");
  }
  const FeatureNorm norm = stored_norm(model, features);
  if (split_list(classes->second) != data.classes) {
    throw InputError("the model's classes (" + classes->second + ") differ from the data's (" + join_list(data.classes) + ")");
  }
  const int window = model.spec.window;
  std::vector<float> scratch(static_cast<std::size_t>(window) * features), logits(model.spec.output_size);
  std::vector<int> predicted;
  const auto run = [&](auto& net) {
    for (std::size_t r : rows) {
      window_of(data, norm, window, r, scratch.data());
      net.reset_state();
      (void)net.forward(Span<const float>(scratch.data(), scratch.size()), Span<float>(logits.data(), logits.size()));
      predicted.push_back(argmax(Span<const float>(logits.data(), logits.size())));
    }
  };
  if (format != WeightFormat::kFloat32) {
    QuantizedNetwork quantized(model, format, granularity);
    run(quantized.net());
    return predicted;
  }
  std::vector<std::uint8_t> storage;
  Network net;
  if (net.bind_inference(model.spec, aligned_arena(storage, inference_bytes(model.spec))) != Status::kOk) {
    throw InputError("cannot bind the classifier");
  }
  std::copy(model.parameters.begin(), model.parameters.end(), net.parameters().begin());
  run(net);
  return predicted;
}

ClassData day_type_data(const Series& series) {
  ClassData data;
  data.feature_names = {"value"};
  data.label_name = "day_type";
  data.classes = {"weekday", "weekend"};
  data.times = series.times;
  data.window_ends_at_row = true;
  for (std::size_t r = 0; r < series.values.size(); ++r) {
    const std::int64_t days_since_epoch = series.times[r] >= 0 ? series.times[r] / 86400 : (series.times[r] - 86399) / 86400;
    const int weekday = static_cast<int>(((days_since_epoch + 4) % 7 + 7) % 7);  // 1970-01-01: a Thursday; 0 = Sunday
    data.features.push_back({series.values[r]});
    data.labels.push_back(weekday == 0 || weekday == 6 ? 1 : 0);
  }
  return data;
}

Split day_type_split(const ClassData& data, std::size_t day, std::size_t validation_days, std::size_t test_days) {
  // Rows of the last reading of a whole day: the reading before the next midnight, with a whole day
  // of readings in the series up to it.
  std::vector<std::size_t> ends;
  if (data.times.size() >= 2) {
    const std::int64_t interval = data.times[1] - data.times[0];
    if (interval <= 0 || static_cast<std::int64_t>(day) * interval != 86400) {
      throw InputError("day_type_split: " + std::to_string(day) + " readings of " + std::to_string(interval) +
                       " s are not one day");
    }
    for (std::size_t r = day - 1; r < data.times.size(); ++r) {
      const std::int64_t next = data.times[r] + interval;
      if (((next % 86400) + 86400) % 86400 == 0) ends.push_back(r);
    }
  }
  if (ends.size() < validation_days + test_days + 1) {
    throw InputError("too few whole days (" + std::to_string(ends.size()) + ") for validation and test spans of " +
                     std::to_string(validation_days + test_days) + " days");
  }
  const Split by_day = split_indices(0, ends.size(), validation_days, test_days);
  Split split;
  for (std::size_t d : by_day.train) split.train.push_back(ends[d]);
  for (std::size_t d : by_day.validation) split.validation.push_back(ends[d]);
  for (std::size_t d : by_day.test) split.test.push_back(ends[d]);
  return split;
}

std::vector<std::string> model_feature_columns(const ModelFile& model) {
  const auto found = model.texts.find("meta.feature_columns");
  if (found == model.texts.end()) throw InputError("the classifier model names no feature columns (meta.feature_columns)");
  return split_list(found->second);
}

std::string model_label_column(const ModelFile& model) {
  const auto found = model.texts.find("meta.label_column");
  if (found == model.texts.end()) throw InputError("the classifier model names no label column (meta.label_column)");
  return found->second;
}

std::string class_report(const std::vector<std::string>& classes, const std::vector<std::pair<std::string, ClassMetrics>>& rows) {
  std::ostringstream out;
  char line[200];
  out << "| classifier | accuracy | macro-F1 |\n|---|---:|---:|\n";
  for (const auto& [name, m] : rows) {
    std::snprintf(line, sizeof line, "| %s | %.3f | %.3f |\n", name.c_str(), m.accuracy, m.macro_f1);
    out << line;
  }
  out << "\nConfusion matrix of " << rows.front().first << " (rows: actual, columns: predicted)\n\n| |";
  for (const std::string& c : classes) out << " " << c << " |";
  out << "\n|---|";
  for (std::size_t k = 0; k < classes.size(); ++k) out << "---:|";
  out << "\n";
  for (std::size_t a = 0; a < classes.size(); ++a) {
    out << "| " << classes[a] << " |";
    for (std::size_t p = 0; p < classes.size(); ++p) out << " " << rows.front().second.confusion[a][p] << " |";
    out << "\n";
  }
  return out.str();
}

}  // namespace edgelstm::host
