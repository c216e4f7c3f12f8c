// Forecasting a regular series with edgelstm, host side: features, chronological splits,
// training with early stopping, baselines and metrics. Used by the `edgelstm` CLI.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "host/csv_reader.h"
#include "edgelstm/edgelstm.h"
#include "host/model_io.h"

namespace edgelstm::host {

// How inputs are built from the series x. For the forecast of x[t] from steps s = t-W .. t-1,
// step s carries: x[s]; for each lag L, x[s+1-L] (the reading L steps before the step being
// forecast: one day = 48, one week = 336 half-hours); with `calendar`, sin/cos of the time of day
// and of the day of week of step s+1.
struct FeatureConfig {
  int window = 12;
  std::vector<int> lags = {48, 336};
  bool calendar = true;
  std::int64_t interval_seconds = 1800;
  int features() const { return 1 + static_cast<int>(lags.size()) + (calendar ? 4 : 0); }
  int max_lag() const;
  std::string encode() const;                        // stored in the model file ("meta.features")
  static FeatureConfig decode(const std::string& text);  // throws InputError on a bad string
};

// A series of readings with its timestamps.
struct Series {
  std::vector<double> values;
  std::vector<std::int64_t> times;
};

// Value normalization, fitted on the training targets only and stored with the model.
struct Normalization {
  double mean = 0, scale = 1;
  float apply(double v) const { return static_cast<float>((v - mean) / scale); }
  double invert(float v) const { return static_cast<double>(v) * scale + mean; }
};

// Target indices of the chronological split: train | validation | test, no overlap, no shuffling
// across them. The test span is the last test_steps targets, validation the validation_steps before.
struct Split {
  std::vector<std::size_t> train, validation, test;
};
Split chronological_split(const Series& series, const FeatureConfig& features, std::size_t validation_steps,
                          std::size_t test_steps);

// Indices first .. n-1 split into train | validation (validation_count) | test (the last test_count).
// The caller checks that n > first + validation_count + test_count.
Split split_indices(std::size_t first, std::size_t n, std::size_t validation_count, std::size_t test_count);

// One epoch's training order: a Fisher-Yates shuffle of `order` driven by SplitMix64 from `state`
// (tools/torch_forecast_reference.py repeats it exactly).
void shuffle_epoch(std::vector<std::size_t>& order, std::uint64_t& state);

// The input window for target t (window * features floats), normalized.
void build_window(const Series& series, const FeatureConfig& features, const Normalization& norm, std::size_t t,
                  float* out);

struct Metrics {
  double mae = 0, rmse = 0, mape = 0;  // MW (units of the series), MW, percent
  std::size_t count = 0;
};
Metrics metrics_of(const std::vector<double>& forecast, const std::vector<double>& actual);

// The baselines, on exactly the given target indices.
std::vector<double> persistence(const Series& series, const std::vector<std::size_t>& targets);
std::vector<double> seasonal_naive(const Series& series, const std::vector<std::size_t>& targets, int season);
std::vector<double> persistence_with_seasonal_change(const Series& series, const std::vector<std::size_t>& targets,
                                                     int season);

struct TrainOptions {
  // Called once with the initialized, untrained model (for reference runs in other frameworks).
  std::function<void(const ModelFile&)> on_initialized;
  int hidden = 32;
  int layers = 1;
  OptimizerKind optimizer = OptimizerKind::kAdam;
  float learning_rate = 2e-3f;
  float clip_norm = 1.0f;
  int epochs = 40;
  int patience = 6;
  std::uint64_t seed = 1;
  // Quantization-aware training: every step runs on fake-quantized weight matrices (see
  // edgelstm/quantization_aware.h) and validation measures the quantized network.
  bool quantization_aware = false;
  FakeQuantization fake_quantization;
  // Fine-tuning: start from this model's weights (and, for a forecaster, its normalization and
  // features) instead of fresh ones. Its spec must be the one being trained.
  const ModelFile* start_from = nullptr;
};

struct EpochReport {
  int epoch;
  double train_loss, validation_mape, seconds;
};

// The epoch loop both trainers share: each epoch trains on every training example once, in the
// order shuffle_epoch gives (train_example(k) runs one step on example k), then measures
// validation_error() (lower is better); stops after `patience` epochs without improvement.
// Appends (epoch, mean training loss, validation error) to *history for every epoch and returns
// the parameters of the best validation error (the initial ones if no epoch improved on them).
std::vector<float> train_with_early_stopping(Network& net, std::size_t examples, const TrainOptions& options,
                                             const std::function<TrainResult(std::size_t)>& train_example,
                                             const std::function<double()>& validation_error,
                                             const std::function<void(const EpochReport&)>& progress,
                                             std::vector<float>* history);

// One training step on one example, quantization-aware when the options ask for it (`master` is
// the scratch it needs, resized here).
template <typename Targets>
TrainResult train_step_for(Network& net, const TrainOptions& options, Span<const float> x, Span<const Targets> targets,
                           std::vector<float>& master) {
  if (!options.quantization_aware) return net.train_step(x, targets, WindowStart::kZeroState);
  master.resize(net.parameters().size());
  return train_step_quantization_aware(net, x, targets, WindowStart::kZeroState, options.fake_quantization,
                                       Span<float>(master.data(), master.size()));
}

// Normalization fitted on the training targets only.
Normalization fit_normalization(const Series& series, const Split& split);

// Writes the normalized windows and targets of every split as raw little-endian float32 files
// (train_x.f32, train_y.f32, validation_*, test_*) and shapes.txt into `directory`, so a reference
// implementation trains on exactly the same numbers (tools/torch_forecast_reference.py).
void export_dataset(const Series& series, const FeatureConfig& features, const Split& split, const Normalization& norm,
                    const std::string& directory);

// Trains a forecaster; returns the model with the best validation MAPE (early stopping), with its
// normalization, feature settings and learning curve ("train.history") as extra tensors. With
// options.start_from, fine-tunes that model (its normalization and features; `features` is ignored).
ModelFile train_forecaster(const Series& series, const FeatureConfig& features, const Split& split,
                           const TrainOptions& options, const std::function<void(const EpochReport&)>& progress);

// One step of a stateful stream through `net`: feeds the features of step t-1 (a window of one)
// without resetting the state, and returns the network's forecast of x[t].
template <typename Net>
double stream_with(Net& net, const Series& series, FeatureConfig features, const Normalization& norm,
                   std::vector<float>& scratch, std::size_t t) {
  features.window = 1;
  build_window(series, features, norm, t, scratch.data());
  float y = 0;
  if (net.step(Span<const float>(scratch.data(), static_cast<std::size_t>(features.features())), Span<float>(&y, 1)) !=
      Status::kOk) {
    return NAN;
  }
  return norm.invert(y);
}

// x[t] forecast by `net` (a Network or a HybridNetwork) from the window before t, in the units of
// the series; `window` is scratch of window * features floats.
template <typename Net>
double forecast_with(Net& net, const Series& series, const FeatureConfig& features, const Normalization& norm,
                     std::vector<float>& window, std::size_t t) {
  build_window(series, features, norm, t, window.data());
  net.reset_state();
  float y = 0;
  if (net.forward(Span<const float>(window.data(), window.size()), Span<float>(&y, 1)) != Status::kOk) return NAN;
  return norm.invert(y);
}

// A bound network that forecasts with a model file's parameters (the model must be a forecaster).
class Forecaster {
 public:
  explicit Forecaster(const ModelFile& model);
  double forecast(const Series& series, std::size_t t);  // x[t] from the window before it, in MW
  // Stateful streaming, one reading at a time, the state never reset (see stream_with).
  double stream(const Series& series, std::size_t t) { return stream_with(net_, series, features_, norm_, window_, t); }
  void reset_stream() { net_.reset_state(); }
  const FeatureConfig& features() const { return features_; }
  const Normalization& normalization() const { return norm_; }

 private:
  std::vector<std::uint8_t> arena_;
  Network net_;
  FeatureConfig features_;
  Normalization norm_;
  std::vector<float> window_;
};

// Reads the normalization and feature settings stored in a forecaster model.
Normalization normalization_of(const ModelFile& model);
FeatureConfig features_of(const ModelFile& model);

// A 16-byte aligned arena of `bytes` inside `storage`.
Span<std::uint8_t> aligned_arena(std::vector<std::uint8_t>& storage, std::size_t bytes);

// Options that fine-tune `start` from `base`: at most `epochs` epochs at `learning_rate`, early
// stopping after 3 without improvement; quantization-aware with `fq` unless its format is
// kFloat32 (then plain fine-tuning: the control for the quantization-aware runs).
TrainOptions fine_tuning_options(TrainOptions base, const ModelFile& start, const FakeQuantization& fq,
                                 float learning_rate, int epochs);

// "int4 per row" and the like: stored as meta.quantization_aware in models trained that way.
std::string quantization_aware_label(const FakeQuantization& fq);

// Binds `net` for training `spec` with the options' optimizer, learning rate and clipping, in an
// arena inside `storage`, and initializes it from the options' seed (forget bias 1), or with
// options.start_from's weights.
void bind_for_training(Network& net, std::vector<std::uint8_t>& storage, const LstmSpec& spec,
                       const TrainOptions& options, LossKind loss);


}  // namespace edgelstm::host
