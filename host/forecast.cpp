#include "host/forecast.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "host/memory_budget.h"
#include "host/output_file.h"
#include "host/settings.h"

namespace edgelstm::host {
namespace {

constexpr const char* kBaseParameters = "base.dshw";

// Double seasonal Holt-Winters' periods for the features' interval: one day and one week.
void periods_of(const FeatureConfig& features, int* day, int* week) {
  *day = static_cast<int>(features.steps_per_day());
  *week = 7 * *day;
}

// The forecasts of `net` for `targets` and their metrics.
Metrics span_metrics(Network& net, const Series& series, const FeatureConfig& features, const Normalization& norm,
                     const std::vector<std::size_t>& targets) {
  std::vector<float> window(static_cast<std::size_t>(features.window * features.features()));
  std::vector<double> forecast, actual;
  for (std::size_t t : targets) {
    forecast.push_back(forecast_with(net, series, features, norm, window, t));
    actual.push_back(series.values[t]);
  }
  return metrics_of(forecast, actual);
}

}  // namespace

Normalization fit_normalization(const Series& series, const FeatureConfig& features, const Split& split) {
  Normalization norm;
  fit_mean_scale(series.values, split.train, "value", &norm.mean, &norm.scale);
  for (std::size_t c = 0; c < features.covariates.size(); ++c) {
    double mean = 0, scale = 1;
    fit_mean_scale(series.covariates[c], split.train, "covariate '" + features.covariates[c] + "'", &mean, &scale);
    norm.covariate_mean.push_back(mean);
    norm.covariate_scale.push_back(scale);
  }
  if (features.base != Base::kNone) {
    double squares = 0;
    for (std::size_t t : split.train) squares += (series.values[t] - series.base[t]) * (series.values[t] - series.base[t]);
    norm.error_scale = std::sqrt(squares / static_cast<double>(split.train.size()));
    if (!(norm.error_scale > 0) || !std::isfinite(norm.error_scale)) {
      throw InputError("the base forecast's error on the training span is " + std::to_string(norm.error_scale) +
                       ": nothing for the network to learn");
    }
  }
  return norm;
}

void attach_base(Series& series, const FeatureConfig& features, const ModelFile& model) {
  series.base.clear();
  if (features.base == Base::kNone) return;
  const auto found = model.texts.find(kBaseParameters);
  if (found == model.texts.end()) throw InputError("the model corrects a Holt-Winters base but holds no parameters (base.dshw)");
  int day = 0, week = 0;
  periods_of(features, &day, &week);
  series.base = dshw_one_step_forecasts(series.values, day, week, DshwParameters::decode(found->second));
}

void export_dataset(const Series& series, const FeatureConfig& features, const Split& split, const Normalization& norm,
                    const std::string& directory) {
  const std::size_t floats = static_cast<std::size_t>(features.window * features.features());
  std::ostringstream shapes;
  shapes.precision(17);
  shapes << "window " << features.window << "\nfeatures " << features.features() << "\nmean " << norm.mean
         << "\nscale " << norm.scale << "\nbase " << (features.base == Base::kNone ? 0 : 1) << "\nerror_scale "
         << norm.error_scale << "\n";
  const std::pair<const char*, const std::vector<std::size_t>*> parts[] = {
      {"train", &split.train}, {"validation", &split.validation}, {"test", &split.test}};
  const auto bytes = [](const auto& values) {
    return std::string_view(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(values[0]));
  };
  for (const auto& [name, targets] : parts) {
    const std::size_t count = targets->size();
    std::vector<float> x(count * floats), y(count);
    std::vector<double> actual(count), base(count);
    for (std::size_t k = 0; k < count; ++k) {
      const std::size_t t = (*targets)[k];
      build_window(series, features, norm, t, x.data() + k * floats);
      y[k] = target_of(series, features, norm, t);
      actual[k] = series.values[t];
      base[k] = series.base.empty() ? 0.0 : series.base[t];
    }
    const std::string prefix = directory + "/" + name;
    write_file_atomically(prefix + "_x.f32", bytes(x));
    write_file_atomically(prefix + "_y.f32", bytes(y));
    write_file_atomically(prefix + "_actual.f64", bytes(actual));
    write_file_atomically(prefix + "_base.f64", bytes(base));
    shapes << name << " " << count << "\n";
  }
  write_file_atomically(directory + "/shapes.txt", shapes.str());
}

Base choose_base(const Series& series, const FeatureConfig& features, const Split& split, std::string* why) {
  FeatureConfig with_base = features;
  with_base.base = Base::kDoubleSeasonal;
  if (features.interval_seconds >= 86400 || 86400 % features.interval_seconds != 0) {
    *why = "none: Holt-Winters' periods are one day and one week, and the readings are not several a day";
    return Base::kNone;
  }
  const std::size_t validation = split.validation.size(), test = split.test.size();
  Split based;
  try {
    based = chronological_split(series, with_base, validation, test);
  } catch (const InputError&) {
    *why = "none: too few readings for two weeks of Holt-Winters start-up before the training span";
    return Base::kNone;
  }
  const std::size_t fit_end = based.train.back() + 1;
  const std::vector<double> prefix(series.values.begin(), series.values.begin() + static_cast<std::ptrdiff_t>(fit_end));
  if (!all_positive(prefix)) {
    *why = "none: the training span holds readings <= 0 (Holt-Winters here is multiplicative)";
    return Base::kNone;
  }
  int day = 0, week = 0;
  periods_of(features, &day, &week);
  const std::vector<double> base = dshw_one_step_forecasts(series.values, day, week, fit_dshw(prefix, day, week, DshwFit::kConverged));
  std::vector<double> holt_winters, actual;
  for (std::size_t t : based.validation) {
    holt_winters.push_back(base[t]);
    actual.push_back(series.values[t]);
  }
  const Metrics ours = metrics_of(holt_winters, actual), last = metrics_of(persistence(series, based.validation), actual);
  const int decimals = decimals_for(std::min(ours.mae, last.mae));
  const std::string versus = "its validation MAE " + format_fixed(ours.mae, decimals) + " against persistence's " +
                             format_fixed(last.mae, decimals);
  if (ours.defined() && ours.mae < last.mae) {
    *why = "double seasonal Holt-Winters (fitted on the training span; " + versus + "): the network learns its error";
    return Base::kDoubleSeasonal;
  }
  *why = "none: double seasonal Holt-Winters does not beat persistence on the validation span (" + versus + ")";
  return Base::kNone;
}

ModelFile train_forecaster(const Series& raw_series, const FeatureConfig& requested_features, const Split& split,
                           const TrainOptions& options, const std::function<void(const EpochReport&)>& progress,
                           const std::string& value_column) {
  check_network_shape(options.hidden, options.layers);
  check_feature_config(requested_features);
  const ModelFile* start = options.start_from;
  if (start != nullptr && (start->spec.task != Task::kRegression || start->spec.output_size != 1 ||
                           start->spec.output_mode != OutputMode::kLastStep)) {
    throw InputError("the model to fine-tune is not a one-step forecaster (regression, 1 output, last step)");
  }
  const FeatureConfig features = start != nullptr ? features_of(*start) : requested_features;
  Series series = raw_series;
  std::string base_parameters;
  if (features.base == Base::kDoubleSeasonal) {
    if (start != nullptr) {
      base_parameters = start->texts.at(kBaseParameters);
    } else {
      int day = 0, week = 0;
      periods_of(features, &day, &week);
      const std::vector<double> prefix(series.values.begin(),
                                       series.values.begin() + static_cast<std::ptrdiff_t>(split.train.back() + 1));
      base_parameters = fit_dshw(prefix, day, week, DshwFit::kConverged).encode();
    }
    ModelFile holder;
    holder.texts[kBaseParameters] = base_parameters;
    attach_base(series, features, holder);
  }
  const Normalization norm = start != nullptr ? normalization_of(*start) : fit_normalization(series, features, split);
  const LstmSpec spec = start != nullptr ? start->spec
                                         : make_spec(static_cast<std::uint16_t>(features.features()),
                                                     static_cast<std::uint16_t>(options.hidden),
                                                     static_cast<std::uint8_t>(options.layers), 1,
                                                     static_cast<std::uint16_t>(features.window));
  check_training_memory(spec, options.optimizer, split.train.size(),
                        static_cast<std::size_t>(features.window * features.features()));
  std::vector<std::uint8_t> storage;
  Network net;
  bind_for_training(net, storage, spec, options, LossKind::kMse);
  auto snapshot = [&](const std::vector<float>& parameters, const std::vector<float>& history) {
    ModelFile model;
    model.spec = spec;
    model.parameters = parameters;
    model.floats["norm.value"] = {static_cast<float>(norm.mean), static_cast<float>(norm.scale)};
    if (!features.covariates.empty()) {
      std::vector<float>& stored = model.floats["norm.covariates"];
      for (std::size_t c = 0; c < features.covariates.size(); ++c) {
        stored.push_back(static_cast<float>(norm.covariate_mean[c]));
        stored.push_back(static_cast<float>(norm.covariate_scale[c]));
      }
    }
    if (features.base != Base::kNone) {
      model.floats["norm.base_error"] = {static_cast<float>(norm.error_scale)};
      model.texts[kBaseParameters] = base_parameters;
    }
    model.floats["train.history"] = history;
    model.texts["meta.features"] = features.encode();
    if (!value_column.empty()) model.texts["meta.split"] = spans_of(series, split, value_column).encode();
    // Marked only when fine-tuning changed the weights (early stopping may keep the start's).
    if (options.quantization_aware && !(start != nullptr && parameters == start->parameters)) {
      model.texts["meta.quantization_aware"] = quantization_aware_label(options.fake_quantization);
    }
    return model;
  };
  // The stored normalization is float32: train with exactly what a loaded model will use.
  const Normalization used = start != nullptr ? norm : normalization_of(snapshot({net.parameters().begin(), net.parameters().end()}, {}));
  if (options.on_initialized) options.on_initialized(snapshot({net.parameters().begin(), net.parameters().end()}, {}));

  const std::size_t window_floats = static_cast<std::size_t>(features.window * features.features());
  std::vector<float> windows(split.train.size() * window_floats), targets(split.train.size());
  for (std::size_t k = 0; k < split.train.size(); ++k) {
    build_window(series, features, used, split.train[k], windows.data() + k * window_floats);
    targets[k] = target_of(series, features, used, split.train[k]);
  }
  const auto validation_score = [&]() {
    return score_of(span_metrics(net, series, features, used, split.validation), options.early_stopping, "validation");
  };
  std::vector<float> history;  // epoch, train loss, validation score
  std::vector<float> master;
  EarlyStopping chosen = train_with_early_stopping(
      net, split.train.size(), options,
      [&](std::size_t k) {
        return train_step_for(net, options, Span<const float>(windows.data() + k * window_floats, window_floats),
                              Span<const float>(&targets[k], 1), master);
      },
      validation_score, progress, &history);
  chosen.measure = score_name(options.early_stopping);
  ModelFile model = snapshot(chosen.parameters, history);
  model.texts["train.early_stopping"] = chosen.encode();
  return model;
}

Forecaster::Forecaster(const ModelFile& model) : features_(features_of(model)), norm_(normalization_of(model)) {
  if (model.spec.task != Task::kRegression || model.spec.output_size != 1 || model.spec.output_mode != OutputMode::kLastStep) {
    throw InputError("the model is not a one-step forecaster (regression, 1 output, last step)");
  }
  Status status = net_.bind_inference(model.spec, aligned_arena(arena_, inference_bytes(model.spec)));
  if (status != Status::kOk) throw InputError(std::string("cannot bind the model: ") + status_name(status));
  std::copy(model.parameters.begin(), model.parameters.end(), net_.parameters().begin());
  window_.resize(static_cast<std::size_t>(features_.window * features_.features()));
}

double Forecaster::forecast(const Series& series, std::size_t t) {
  return forecast_with(net_, series, features_, norm_, window_, t);
}

Normalization normalization_of(const ModelFile& model) {
  const auto found = model.floats.find("norm.value");
  if (found == model.floats.end() || found->second.size() != 2) {
    throw InputError("the model holds no value normalization (norm.value): not a forecaster made by `edgelstm train`");
  }
  Normalization norm;
  norm.mean = found->second[0];
  norm.scale = found->second[1];
  check_normalization(norm.mean, norm.scale, "norm.value");
  const FeatureConfig features = features_of(model);
  if (!features.covariates.empty()) {
    const auto covariates = model.floats.find("norm.covariates");
    if (covariates == model.floats.end() || covariates->second.size() != 2 * features.covariates.size()) {
      throw InputError("the model's covariates need a mean and a scale each (norm.covariates)");
    }
    for (std::size_t c = 0; c < features.covariates.size(); ++c) {
      norm.covariate_mean.push_back(covariates->second[2 * c]);
      norm.covariate_scale.push_back(covariates->second[2 * c + 1]);
      check_normalization(norm.covariate_mean.back(), norm.covariate_scale.back(),
                          "norm.covariates (" + features.covariates[c] + ")");
    }
  }
  if (features.base != Base::kNone) {
    const auto error = model.floats.find("norm.base_error");
    if (error == model.floats.end() || error->second.size() != 1) {
      throw InputError("the model corrects a Holt-Winters base but holds no error scale (norm.base_error)");
    }
    norm.error_scale = error->second[0];
    check_normalization(0.0, norm.error_scale, "norm.base_error");
  }
  return norm;
}

FeatureConfig features_of(const ModelFile& model) {
  const auto found = model.texts.find("meta.features");
  if (found == model.texts.end()) throw InputError("the model holds no feature settings (meta.features)");
  FeatureConfig config = FeatureConfig::decode(found->second);
  if (config.calendar && config.calendar_features() == 2 && config.features() + 2 == model.spec.input_size) {
    config.daily_time_of_day = true;  // an older daily model: its calendar kept the (constant) time of day
  }
  if (config.features() != model.spec.input_size || config.window != model.spec.window) {
    throw InputError("the model's feature settings (" + found->second + ") do not match its input size " +
                     std::to_string(model.spec.input_size) + " and window " + std::to_string(model.spec.window));
  }
  return config;
}

bool split_spans_of(const ModelFile& model, SplitSpans* spans) {
  const auto found = model.texts.find("meta.split");
  if (found == model.texts.end()) return false;
  *spans = SplitSpans::decode(found->second);
  return true;
}

}  // namespace edgelstm::host
