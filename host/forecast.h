// Forecasting a regular series with edgelstm, host side: training a one-step forecaster with early
// stopping, the model file's forecasting settings, and forecasters that run a model file. Used by
// the `edgelstm` CLI. The parts: features.h (inputs), splits.h (train / validation / test),
// baselines.h, metrics.h, training.h (the epoch loop).
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "edgelstm/edgelstm.h"
#include "host/baselines.h"
#include "host/csv_reader.h"
#include "host/features.h"
#include "host/metrics.h"
#include "host/model_io.h"
#include "host/splits.h"
#include "host/training.h"

namespace edgelstm::host {

// Normalization fitted on the training targets only: the value's, each covariate's and, with a
// base (series.base filled), the root mean square of the base's error there.
Normalization fit_normalization(const Series& series, const FeatureConfig& features, const Split& split);

// Fills series.base with the one-step forecasts of the base the features name (nothing for
// Base::kNone), with the parameters stored in `model` ("base.dshw").
void attach_base(Series& series, const FeatureConfig& features, const ModelFile& model);

// Writes the normalized windows and targets of every split as raw little-endian float32 files
// (train_x.f32, train_y.f32, validation_*, test_*), the validation and test spans' readings and
// base forecasts as float64 (*_actual.f64, *_base.f64) and shapes.txt into `directory`, so a
// reference implementation trains on exactly the same numbers (tools/torch_forecast_reference.py).
void export_dataset(const Series& series, const FeatureConfig& features, const Split& split, const Normalization& norm,
                    const std::string& directory);

// Trains a forecaster; returns the model with the best validation score (early stopping on
// options.early_stopping), with its normalization, feature settings, base parameters, the spans
// of `split` ("meta.split", for `value_column`), the learning curve ("train.history") and what
// early stopping chose ("train.early_stopping"). With a double seasonal base, its parameters are
// fitted on the readings up to the last training target. With options.start_from, fine-tunes that
// model (its normalization, features and base; `features` is ignored).
ModelFile train_forecaster(const Series& series, const FeatureConfig& features, const Split& split,
                           const TrainOptions& options, const std::function<void(const EpochReport&)>& progress,
                           const std::string& value_column = "");

// The base a forecaster's training chooses for `series` when the user leaves it to the data
// (--base auto): double seasonal Holt-Winters when it applies (readings several times a day,
// every reading of the training span > 0, two weeks before the first target) and its one-step
// MAE on the validation span is below persistence's; otherwise none. *why gets the reason.
Base choose_base(const Series& series, const FeatureConfig& features, const Split& split, std::string* why);

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
  return forecast_of(series, features, norm, t, y);
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
  return forecast_of(series, features, norm, t, y);
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

// Read from a forecaster model: its normalization, feature settings, the spans it was trained,
// validated and tested on (false for files without them) and what early stopping chose.
Normalization normalization_of(const ModelFile& model);
FeatureConfig features_of(const ModelFile& model);
bool split_spans_of(const ModelFile& model, SplitSpans* spans);

}  // namespace edgelstm::host
