// The cluster's learning task, shared by the boards (node 0 feeds it) and the single host process
// they are compared with (cluster_reference.cpp): the paper's network, 6 time steps x 100 hidden
// units with a dense head, learning the half-hourly England & Wales demand (Taylor 2000,
// examples/meter/taylor_demand.h) one reading at a time with SGD and truncated BPTT over 6 steps.
//
// The network forecasts the change from the last reading: window t holds the 6 half-hourly
// changes before reading t (in units of 1,000 MW), its target is the change to reading t, and the
// forecast is reading t-1 plus the predicted change. An untrained network's output is near zero,
// i.e. near persistence, and learning improves on that from the first day (a network trained on the
// raw readings, as the meter does, needs three to four weeks to pass persistence at this size).
// Each window starts from the zero state, as in meter_firmware.cpp.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "edgelstm/network.h"
#include "edgelstm/optimizer.h"
#include "edgelstm/spec.h"
#include "taylor_demand.h"

namespace cluster::taylor {

constexpr std::uint16_t kWindow = 6;
constexpr auto kSpec = edgelstm::make_spec(/*input_size=*/1, /*hidden_size=*/100, /*num_layers=*/1,
                                           /*output_size=*/1, kWindow);
constexpr std::uint64_t kSeed = 2000;
constexpr float kForgetBias = 1.0f;
constexpr float kChangeUnitMw = 1000.0f;
constexpr std::size_t kWeek = 336;  // half-hourly readings

inline edgelstm::TrainConfig train_config() {
  edgelstm::TrainConfig config;
  config.optimizer = edgelstm::OptimizerKind::kSgd;
  config.learning_rate = 0.1f;
  config.clip_norm = 1.0f;
  return config;
}

// Window w forecasts reading kFirstReading + w; the stream holds kStreamWindows of them.
constexpr std::size_t kFirstReading = kWindow + 1;
constexpr std::size_t kStreamWindows = kTaylorReadings - kFirstReading;

inline float change(std::size_t t) {
  return static_cast<float>(kTaylorDemandMw[t] - kTaylorDemandMw[t - 1]) / kChangeUnitMw;
}

// The inputs (kWindow values) and the target of the window forecasting reading t.
inline void window_for(std::size_t t, float* x, float* target) {
  for (std::size_t k = 0; k < kWindow; ++k) x[k] = change(t - kWindow + k);
  *target = change(t);
}

// The error of the forecasts against the readings over a period, beside persistence's.
class ForecastError {
 public:
  // The network's output for the window forecasting reading t (made before it learned from it).
  void add(std::size_t t, float output) {
    const double forecast_mw = kTaylorDemandMw[t - 1] + static_cast<double>(output) * kChangeUnitMw;
    const double actual_mw = kTaylorDemandMw[t];
    const double error_mw = std::fabs(forecast_mw - actual_mw);
    error_ += error_mw;
    percent_ += 100.0 * error_mw / actual_mw;
    persistence_percent_ += 100.0 * std::fabs(static_cast<double>(kTaylorDemandMw[t - 1]) - actual_mw) / actual_mw;
    ++count_;
  }
  double mae_mw() const { return error_ / count_; }
  double mape() const { return percent_ / count_; }
  double persistence_mape() const { return persistence_percent_ / count_; }
  void clear() { *this = ForecastError{}; }

 private:
  double error_ = 0, percent_ = 0, persistence_percent_ = 0;
  std::size_t count_ = 0;
};

// Adds the forecast of reading t and prints the week's line, as meter_firmware.cpp prints it, at
// the end of a week and at the last reading (then covering the readings since the last full week).
inline void add_to_week(ForecastError* week, std::size_t t, float output, std::size_t last_t) {
  week->add(t, output);
  if ((t + 1) % kWeek == 0 || t == last_t) {
    std::printf("week %2u  MAE %6.0f MW  MAPE %5.2f%%  (persistence %5.2f%%)\n",
                static_cast<unsigned>((t + kWeek) / kWeek), week->mae_mw(), week->mape(), week->persistence_mape());
    week->clear();
  }
}

// The weights as the comparison reads them (tests/firmware/compare_cluster.py): every
// kSampleEvery-th value by its index in the whole network (PyTorch state_dict order), then per
// tensor of the whole network the count, sum and sum of squares of the values this program holds.
// `for_each_held(visit)` calls visit(whole_index, value) for each value held, in increasing index.
constexpr std::size_t kSampleEvery = 37;

template <typename ForEachHeld>
void print_weight_digest(const char* who, ForEachHeld&& for_each_held) {
  const std::size_t hidden = kSpec.hidden(0), gates = 4 * hidden;
  constexpr std::size_t kTensors = 6;
  const char* const names[kTensors] = {"lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0",
                                       "lstm.bias_hh_l0",   "head.weight",       "head.bias"};
  const std::size_t counts[kTensors] = {gates * kSpec.input_size, gates * hidden, gates, gates,
                                        kSpec.output_size * hidden, kSpec.output_size};
  std::size_t ends[kTensors], held[kTensors] = {};
  double sums[kTensors] = {}, squares[kTensors] = {};
  for (std::size_t t = 0, end = 0; t < kTensors; ++t) ends[t] = end += counts[t];
  std::size_t tensor = 0;
  for_each_held([&](std::size_t index, float value) {
    while (index >= ends[tensor]) ++tensor;
    ++held[tensor];
    sums[tensor] += value;
    squares[tensor] += static_cast<double>(value) * value;
    if (index % kSampleEvery == 0) std::printf("%s w %u %.9g\n", who, static_cast<unsigned>(index), static_cast<double>(value));
  });
  for (std::size_t t = 0; t < kTensors; ++t) {
    std::printf("%s tensor %s held %u sum %.9g sumsq %.9g\n", who, names[t], static_cast<unsigned>(held[t]), sums[t],
                squares[t]);
  }
}

}  // namespace cluster::taylor
