#include "host/online_learning.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "host/csv_reader.h"
#include "host/memory_budget.h"
#include "host/settings.h"
#include "host/statistics.h"

namespace edgelstm::host {

OnlineLearner::OnlineLearner(const Series& series, const FeatureConfig& features, const OnlineOptions& options)
    : features_(features) {
  check_feature_config(features);
  check_network_shape(options.hidden, 1);
  if (features.base != Base::kNone) {
    throw InputError("online from scratch has no base forecast to correct: train a model with a base first");
  }
  const std::size_t day = features.steps_per_day();
  std::vector<std::size_t> first_day;
  for (std::size_t k = 0; k < std::min(day, series.values.size()); ++k) first_day.push_back(k);
  // A first day without change still needs a usable scale: the meter cannot wait for variation.
  const auto fit = [&](const std::vector<double>& values, const std::string& what, double* mean, double* scale) {
    try {
      fit_mean_scale(values, first_day, what, mean, scale);
    } catch (const InputError&) {
      *mean = values.empty() ? 0 : values[0];
      *scale = 1;
    }
  };
  fit(series.values, "value", &norm_.mean, &norm_.scale);
  for (std::size_t c = 0; c < features.covariates.size(); ++c) {
    double mean = 0, scale = 1;
    fit(series.covariates[c], features.covariates[c], &mean, &scale);
    norm_.covariate_mean.push_back(mean);
    norm_.covariate_scale.push_back(scale);
  }
  bind(make_spec(static_cast<std::uint16_t>(features.features()), static_cast<std::uint16_t>(options.hidden), 1, 1,
                 static_cast<std::uint16_t>(features.window)),
       options);
  if (net_.initialize(options.seed, 1.0f) != Status::kOk) throw InputError("cannot initialize the network");
}

OnlineLearner::OnlineLearner(const ModelFile& model, const OnlineOptions& options)
    : features_(features_of(model)), norm_(normalization_of(model)) {
  bind(model.spec, options);
  std::copy(model.parameters.begin(), model.parameters.end(), net_.parameters().begin());
}

void OnlineLearner::bind(const LstmSpec& spec, const OnlineOptions& options) {
  TrainConfig config;
  config.optimizer = OptimizerKind::kAdam;
  config.learning_rate = options.learning_rate;
  config.clip_norm = options.clip_norm;
  check_memory(train_bytes(spec, config.optimizer),
               "online learning with an LSTM of " + std::to_string(spec.hidden(0)) + " units (window " +
                   std::to_string(spec.window) + ", Adam)");
  const Status status = net_.bind_training(spec, config, aligned_arena(storage_, train_bytes(spec, config.optimizer)));
  if (status != Status::kOk) throw InputError(std::string("cannot set up the network: ") + status_name(status));
  window_.resize(static_cast<std::size_t>(features_.window * features_.features()));
}

std::size_t OnlineLearner::first_target() const { return features_.first_target(); }

bool OnlineLearner::observe(const Series& series, std::size_t t, double* forecast) {
  build_window(series, features_, norm_, t, window_.data());
  const float target = target_of(series, features_, norm_, t);
  const TrainResult r = net_.train_step(Span<const float>(window_.data(), window_.size()), Span<const float>(&target, 1),
                                        WindowStart::kZeroState);
  if (r.status != Status::kOk) {
    *forecast = NAN;
    return false;
  }
  *forecast = forecast_of(series, features_, norm_, t, net_.window_outputs()[0]);  // the forward pass before the update
  return true;
}

}  // namespace edgelstm::host
