// The first thing to run: the paper's network (6 time steps x 100 hidden units, 1 input, dense
// head of 1 output) learns, in a static arena and without a heap, to forecast the next value of a
// noisy sine wave from the previous six, and prints its loss falling. Same code as on a device:
// only printf and the core.
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "edgelstm/edgelstm.h"

namespace {

constexpr auto kSpec = edgelstm::make_spec(/*input_size=*/1, /*hidden_size=*/100, /*num_layers=*/1,
                                           /*output_size=*/1, /*window=*/6);
constexpr edgelstm::OptimizerKind kOptimizer = edgelstm::OptimizerKind::kAdam;
alignas(edgelstm::kArenaAlignment) std::uint8_t g_arena[edgelstm::train_bytes(kSpec, kOptimizer)];

// A sine with period 24 samples plus a little deterministic noise.
float signal(int t) {
  const float noise = 0.05f * std::sin(12.9898f * static_cast<float>(t)) * std::cos(78.233f * static_cast<float>(t));
  return std::sin(6.2831853f * static_cast<float>(t) / 24.0f) + noise;
}

float window_and_target(int start, float* window) {
  for (int k = 0; k < 6; ++k) window[k] = signal(start + k);
  return signal(start + 6);
}

}  // namespace

int main() {
  std::printf("edgelstm demo: the paper's network (6 steps x 100 units) learns a sine wave\n");
  std::printf("arena: inference %zu bytes, training with SGD %zu, momentum %zu, Adam %zu (used here)\n",
              edgelstm::inference_bytes(kSpec), edgelstm::train_bytes(kSpec, edgelstm::OptimizerKind::kSgd),
              edgelstm::train_bytes(kSpec, edgelstm::OptimizerKind::kMomentum), sizeof g_arena);
  edgelstm::Network net;
  edgelstm::TrainConfig config;
  config.optimizer = kOptimizer;
  config.learning_rate = 2e-3f;
  config.clip_norm = 1.0f;
  if (net.bind_training(kSpec, config, g_arena) != edgelstm::Status::kOk) return 1;
  if (net.initialize(/*seed=*/1, /*forget_bias=*/1.0f) != edgelstm::Status::kOk) return 1;

  constexpr int kSteps = 3000, kReport = 300;
  float window[6], running = 0, first_report = 0, last_report = 0;
  for (int step = 1; step <= kSteps; ++step) {
    const float target = window_and_target(step * 7 % 2000, window);
    const edgelstm::TrainResult result = net.train_step(window, edgelstm::Span<const float>(&target, 1),
                                                        edgelstm::WindowStart::kZeroState);
    if (result.status != edgelstm::Status::kOk) {
      std::printf("step %d refused: %s\n", step, edgelstm::status_name(result.status));
      return 1;
    }
    running += result.loss;
    if (step % kReport == 0) {
      const float mean = running / kReport;
      std::printf("step %5d  mean training MSE %.6f\n", step, static_cast<double>(mean));
      if (step == kReport) first_report = mean;
      last_report = mean;
      running = 0;
    }
  }
  // Forecast unseen windows (t >= 5000) one step ahead.
  double squared = 0;
  for (int start = 5000; start < 5200; ++start) {
    const float target = window_and_target(start, window);
    float forecast = 0;
    net.reset_state();
    if (net.forward(window, edgelstm::Span<float>(&forecast, 1)) != edgelstm::Status::kOk) return 1;
    squared += static_cast<double>((forecast - target) * (forecast - target));
  }
  std::printf("held-out one-step RMSE %.4f (signal amplitude 1, noise amplitude 0.05)\n", std::sqrt(squared / 200));
  std::printf("training MSE fell from %.5f to %.5f\n", static_cast<double>(first_report), static_cast<double>(last_report));
  return last_report < first_report ? 0 : 1;
}
