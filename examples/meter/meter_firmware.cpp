// A smart meter that learns by itself: the on-device training firmware.
//
// The meter sees the half-hourly demand series one reading at a time (Taylor 2000, compiled into
// flash as it has no file system). At each reading it first forecasts that reading from the
// previous kWindow readings, then learns from its own error: one training step (forward + BPTT +
// Adam) on that window, predict-then-learn, all in a static arena with no heap. Every week it
// prints the rolling error of its forecasts next to persistence's (the previous reading), and at
// the end a digest of its weights, which tests compare across targets.
//
// Builds unchanged for the host and for every microcontroller target.
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "edgelstm/edgelstm.h"
#include "taylor_demand.h"

namespace {

// A build may change the network (the 128 KB STM32F405 build trains a wider one with SGD).
#ifndef EDGELSTM_METER_HIDDEN
#define EDGELSTM_METER_HIDDEN 16
#endif
#ifndef EDGELSTM_METER_OPTIMIZER
#define EDGELSTM_METER_OPTIMIZER kAdam
#endif
constexpr std::uint16_t kWindow = 6;  // 3 hours of half-hourly readings
constexpr auto kSpec = edgelstm::make_spec(/*input_size=*/1, /*hidden_size=*/EDGELSTM_METER_HIDDEN,
                                           /*num_layers=*/1, /*output_size=*/1, kWindow);
constexpr edgelstm::OptimizerKind kOptimizer = edgelstm::OptimizerKind::EDGELSTM_METER_OPTIMIZER;
alignas(edgelstm::kArenaAlignment) std::uint8_t g_arena[edgelstm::train_bytes(kSpec, kOptimizer)];

// The meter's configured nominal load and spread, used to scale readings to about [-2, 2].
constexpr float kNominalMw = 30000.0f;
constexpr float kSpreadMw = 5000.0f;
constexpr std::size_t kWeek = 336;

#ifndef EDGELSTM_METER_READINGS
#define EDGELSTM_METER_READINGS kTaylorReadings  // a build may stop earlier (slow soft-float targets)
#endif
constexpr std::size_t kReadings = EDGELSTM_METER_READINGS;
static_assert(kReadings <= kTaylorReadings, "more readings than the series holds");

float scaled(std::size_t t) { return (static_cast<float>(kTaylorDemandMw[t]) - kNominalMw) / kSpreadMw; }

}  // namespace

int main() {
  edgelstm::Network net;
  edgelstm::TrainConfig config;
  config.optimizer = kOptimizer;
  config.learning_rate = kOptimizer == edgelstm::OptimizerKind::kAdam ? 3e-3f : 0.05f;
  config.clip_norm = 1.0f;
  if (net.bind_training(kSpec, config, g_arena) != edgelstm::Status::kOk) return 1;
  if (net.initialize(/*seed=*/2000, /*forget_bias=*/1.0f) != edgelstm::Status::kOk) return 1;
  std::printf("meter: LSTM %u x %u, window %u, %s; arena %u bytes; %u readings\n",
              static_cast<unsigned>(kSpec.hidden_size[0]), 1u, static_cast<unsigned>(kWindow),
              kOptimizer == edgelstm::OptimizerKind::kAdam ? "Adam" : "SGD",
              static_cast<unsigned>(sizeof g_arena), static_cast<unsigned>(kReadings));

  float window[kWindow];
  double week_error = 0, week_percent = 0, week_persistence_percent = 0;
  std::size_t week_count = 0, refused = 0;
  for (std::size_t t = kWindow; t < kReadings; ++t) {
    for (std::size_t k = 0; k < kWindow; ++k) window[k] = scaled(t - kWindow + k);
    const float target = scaled(t);
    // train_step forecasts with the current weights (window_outputs) before it learns.
    const edgelstm::TrainResult result =
        net.train_step(window, edgelstm::Span<const float>(&target, 1), edgelstm::WindowStart::kZeroState);
    if (result.status != edgelstm::Status::kOk) {
      ++refused;
      continue;
    }
    const double forecast_mw = static_cast<double>(net.window_outputs()[0]) * kSpreadMw + kNominalMw;
    const double actual_mw = kTaylorDemandMw[t];
    const double error_mw = std::fabs(forecast_mw - actual_mw);
    week_error += error_mw;
    week_percent += 100.0 * error_mw / actual_mw;
    week_persistence_percent += 100.0 * std::fabs(static_cast<double>(kTaylorDemandMw[t - 1]) - actual_mw) / actual_mw;
    ++week_count;
    if ((t + 1) % kWeek == 0 || t + 1 == kReadings) {
      std::printf("week %2u  MAE %6.0f MW  MAPE %5.2f%%  (persistence %5.2f%%)\n",
                  static_cast<unsigned>((t + 1 + kWeek - 1) / kWeek), week_error / week_count,
                  week_percent / week_count, week_persistence_percent / week_count);
      week_error = week_percent = week_persistence_percent = 0;
      week_count = 0;
    }
  }
  // Digest of the learned weights: compared across targets by tests/firmware/compare_meter.py.
  const edgelstm::Span<const float> weights = static_cast<const edgelstm::Network&>(net).parameters();
  double sum = 0, sum_squares = 0;
  for (float w : weights) {
    sum += w;
    sum_squares += static_cast<double>(w) * w;
  }
  std::printf("refused steps %u\n", static_cast<unsigned>(refused));
  std::printf("weights count %u sum %.6f sumsq %.6f\n", static_cast<unsigned>(weights.size()), sum, sum_squares);
  std::printf("weights first %.6f %.6f %.6f %.6f last %.6f %.6f\n", static_cast<double>(weights[0]),
              static_cast<double>(weights[1]), static_cast<double>(weights[2]), static_cast<double>(weights[3]),
              static_cast<double>(weights[weights.size() - 2]), static_cast<double>(weights[weights.size() - 1]));
#ifdef EDGELSTM_METER_PRINT_WEIGHTS
  // The learned weights as a C++ header for an inference-only firmware (meter_inference.cpp).
  std::printf("// Generated by edgelstm_meter_weights (the host build of meter_firmware.cpp with\n"
              "// EDGELSTM_METER_PRINT_WEIGHTS); do not edit.\n#pragma once\n\n"
              "inline constexpr float kMeterWeights[%u] = {\n", static_cast<unsigned>(weights.size()));
  for (std::size_t k = 0; k < weights.size(); ++k) {
    std::printf("%s%.8ef,%s", k % 6 == 0 ? "    " : " ", static_cast<double>(weights[k]), k % 6 == 5 ? "\n" : "");
  }
  std::printf("\n};\n");
#endif
  return refused == 0 ? 0 : 1;
}
