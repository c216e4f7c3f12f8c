#include "host/online_learning.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "host/csv_reader.h"

namespace edgelstm::host {

OnlineLearner::OnlineLearner(const Series& series, const FeatureConfig& features, const OnlineOptions& options)
    : features_(features) {
  const std::size_t day = static_cast<std::size_t>(86400 / features.interval_seconds);
  const std::size_t known = std::min(day, series.values.size());
  double sum = 0, squares = 0;
  for (std::size_t k = 0; k < known; ++k) sum += series.values[k];
  norm_.mean = sum / day;
  for (std::size_t k = 0; k < known; ++k) squares += std::pow(series.values[k] - norm_.mean, 2);
  norm_.scale = std::max(1e-9, std::sqrt(squares / day));
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
  const Status status = net_.bind_training(spec, config, aligned_arena(storage_, train_bytes(spec, config.optimizer)));
  if (status != Status::kOk) throw InputError(std::string("cannot set up the network: ") + status_name(status));
  window_.resize(static_cast<std::size_t>(features_.window * features_.features()));
}

std::size_t OnlineLearner::first_target() const {
  return static_cast<std::size_t>(features_.window - 1 + features_.max_lag());
}

bool OnlineLearner::observe(const Series& series, std::size_t t, double* forecast) {
  build_window(series, features_, norm_, t, window_.data());
  const float target = norm_.apply(series.values[t]);
  const TrainResult r = net_.train_step(Span<const float>(window_.data(), window_.size()), Span<const float>(&target, 1),
                                        WindowStart::kZeroState);
  if (r.status != Status::kOk) {
    *forecast = NAN;
    return false;
  }
  *forecast = norm_.invert(net_.window_outputs()[0]);  // the forward pass before the update
  return true;
}

}  // namespace edgelstm::host
