// A forecaster's inputs: which features each window step carries, how they are normalized, and
// the forecast the network corrects (its base). Settings and normalization are stored in the
// model file, so eval, predict, online and export build exactly the inputs training built.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "host/double_seasonal.h"

namespace edgelstm::host {

// What the network forecasts x[t] on top of. kNone: x[t] itself. kDoubleSeasonal: the one-step
// error of double seasonal Holt-Winters (periods one day and one week, parameters fitted on the
// training span): forecast = Holt-Winters' forecast + the network's correction.
enum class Base { kNone, kDoubleSeasonal };

// How inputs are built from the series x. For the forecast of x[t] from steps s = t-W .. t-1,
// step s carries: x[s]; for each lag L, x[s+1-L] (the reading L steps before the step being
// forecast: one day = 48, one week = 336 half-hours); with `calendar`, sin/cos of the time of day
// (sub-daily data only) and of the day of week of step s+1; each covariate column at step s+1
// (known for the step forecast, as a weather forecast's temperature is); with a base, its forecast
// of x[s+1] and its error at s, x[s] - base[s].
struct FeatureConfig {
  int window = 12;
  std::vector<int> lags = {48, 336};
  bool calendar = true;
  std::int64_t interval_seconds = 1800;
  std::vector<std::string> covariates;  // column names
  Base base = Base::kNone;
  // Daily data with the time of day as well (a constant there): what model files written before
  // daily data got the day of week only hold (features_of recognises them by their input size).
  bool daily_time_of_day = false;

  int calendar_features() const;  // 4, 2 for daily data (no time of day), 0 without calendar
  int features() const;           // inputs per window step
  int max_lag() const;
  std::size_t steps_per_day() const;  // 86400 / interval (the interval divides a day)
  // The first target with every input inside the series (and, with a base, after the two weeks
  // its initial state is computed from, so no target's inputs see readings after it).
  std::size_t first_target() const;
  // The names of one step's inputs, in order ("x[s]", "x[s+1-48]", "sin(time of day)", ...).
  std::vector<std::string> input_names() const;
  std::string encode() const;                            // stored in the model file ("meta.features")
  static FeatureConfig decode(const std::string& text);  // throws InputError on a bad string
};

// The default lags for readings `interval_seconds` apart: one day and one week before the step
// forecast for sub-daily data (48 and 336 half-hours, 24 and 168 hours), one week (7) for daily
// data; a lag is left out when the training span would hold fewer targets than the lag itself
// (`readings` in all, `held_out` of them for validation and test).
std::vector<int> default_lags(std::int64_t interval_seconds, std::size_t readings, std::size_t held_out, int window);

// A series of readings with its timestamps, the covariate columns a model uses and, for a model
// with a base, the base's one-step forecast of every reading (attach_base).
struct Series {
  std::vector<double> values;
  std::vector<std::int64_t> times;
  std::vector<std::vector<double>> covariates;  // one column per FeatureConfig::covariates
  std::vector<double> base;                     // empty without a base
};

// Fitted on the training span only and stored with the model: the value's mean and scale, each
// covariate's, and with a base the scale of its one-step error (the network's target unit).
struct Normalization {
  double mean = 0, scale = 1;
  double error_scale = 1;
  std::vector<double> covariate_mean, covariate_scale;
  float apply(double v) const { return static_cast<float>((v - mean) / scale); }
  double invert(float v) const { return static_cast<double>(v) * scale + mean; }
};

// The input window for target t (window * features floats), normalized.
void build_window(const Series& series, const FeatureConfig& features, const Normalization& norm, std::size_t t,
                  float* out);
// The network's target for x[t], and the forecast of x[t] from the network's output y.
float target_of(const Series& series, const FeatureConfig& features, const Normalization& norm, std::size_t t);
double forecast_of(const Series& series, const FeatureConfig& features, const Normalization& norm, std::size_t t,
                   float y);

// Comma-separated lists as model files store them (column names, class names, lags).
std::vector<std::string> split_list(const std::string& text);
std::string join_list(const std::vector<std::string>& items);

// Mean and scale (population standard deviation, in double) of values[k] for k in `span`; throws
// InputError naming `what` when they are constant there.
void fit_mean_scale(const std::vector<double>& values, const std::vector<std::size_t>& span, const std::string& what,
                    double* mean, double* scale);

}  // namespace edgelstm::host
