// A meter that learns on its own stream, host side: at each reading it forecasts the reading from
// the window before it, then takes one training step on it (predict, then learn), as the meter
// firmware does on the device. Used by `edgelstm online`.
#pragma once

#include <cstdint>
#include <vector>

#include "edgelstm/edgelstm.h"
#include "host/forecast.h"
#include "host/model_io.h"

namespace edgelstm::host {

struct OnlineOptions {
  int hidden = 16;               // hidden units when starting from scratch
  float learning_rate = 3e-3f;   // Adam
  float clip_norm = 1.0f;
  std::uint64_t seed = 1;        // initialization when starting from scratch
};

// The default learning rates: from scratch, and from a trained model (small enough that learning
// on the stream does not undo what offline training found: measured in docs/forecasting.md).
inline constexpr float kOnlineLearningRateFromScratch = 3e-3f;
inline constexpr float kOnlineLearningRateFromModel = 1e-4f;

class OnlineLearner {
 public:
  // From scratch: a one-layer network with `features` (no base); the normalization of the value
  // and of each covariate from the first day of `series` (all a meter that has just started knows).
  OnlineLearner(const Series& series, const FeatureConfig& features, const OnlineOptions& options);
  // From a trained forecaster: its weights, features and normalization. A series it observes
  // carries the model's covariates and base (load_model_data).
  OnlineLearner(const ModelFile& model, const OnlineOptions& options);

  // The first reading the learner can forecast (its window and lags lie inside the series).
  std::size_t first_target() const;
  // Forecasts x[t] from the window before it, then learns from x[t]. Returns false (and changes
  // nothing) when the step was refused (a non-finite input, loss or update); *forecast then is NaN.
  bool observe(const Series& series, std::size_t t, double* forecast);

  const FeatureConfig& features() const { return features_; }
  const Normalization& normalization() const { return norm_; }

 private:
  void bind(const LstmSpec& spec, const OnlineOptions& options);

  FeatureConfig features_;
  Normalization norm_;
  std::vector<std::uint8_t> storage_;
  Network net_;
  std::vector<float> window_;
};

}  // namespace edgelstm::host
