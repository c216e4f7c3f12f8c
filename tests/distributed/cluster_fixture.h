// Host test helpers for the distributed runtime: a small forecaster model file for the bundled
// Taylor series, one device's stream of the same readings (the reference), and nodes 1..N-1 of a
// cluster running in threads of the test (node 0 stays with the test).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "distributed/node_runtime.h"
#include "distributed/stream.h"
#include "distributed/transport.h"
#include "host/data_loading.h"
#include "host/forecast.h"
#include "host/model_io.h"

namespace edgelstm::distributed::testing {

inline std::string scratch_directory(const std::string& name) {
  const std::string path = ::testing::TempDir() + "edgelstm_distributed_" + name + "_" + std::to_string(::getpid());
  std::system(("rm -rf '" + path + "' && mkdir -p '" + path + "'").c_str());
  return path;
}

inline host::Series taylor_series() {
  host::DataOptions data;
  data.path = std::string(EDGELSTM_SOURCE_DIR) + "/data/taylor_england_wales_halfhourly_demand_2000.csv";
  std::int64_t interval = 0;
  return host::load_series(data, {}, &interval);
}

// An untrained forecaster with the Taylor features (window 12, lags 48 and 336, calendar: 7
// inputs) and `layers` x `hidden` units, its weights stretched as trained ones are. Its feature
// settings are written as the model files of every version store them ("window=12;lags=48,336;
// calendar=1;interval=1800"). With `hybrid`, it corrects double seasonal Holt-Winters as `edgelstm
// train`'s default forecaster does (two more inputs: the base's forecast and its last error).
inline std::string write_forecaster(const std::string& directory, int hidden, int layers, std::uint64_t seed,
                                    bool hybrid = false) {
  host::FeatureConfig features;
  if (hybrid) features.base = host::Base::kDoubleSeasonal;
  const LstmSpec spec = make_spec(static_cast<std::uint16_t>(features.features()), static_cast<std::uint16_t>(hidden),
                                  static_cast<std::uint8_t>(layers), 1, static_cast<std::uint16_t>(features.window));
  std::vector<std::uint8_t> storage;
  Network net;
  EXPECT_EQ(net.bind_inference(spec, host::aligned_arena(storage, inference_bytes(spec))), Status::kOk);
  EXPECT_EQ(net.initialize(seed, 1.0f), Status::kOk);
  host::ModelFile model;
  model.spec = spec;
  for (float p : net.parameters()) model.parameters.push_back(1.5f * p);
  model.floats["norm.value"] = {30000.0f, 5000.0f};
  model.texts["meta.features"] = hybrid ? features.encode() : "window=12;lags=48,336;calendar=1;interval=1800";
  if (hybrid) {
    host::DshwParameters dshw;  // about what a fit on Taylor's first weeks gives
    dshw.alpha = 0.02, dshw.beta = 0.0, dshw.gamma = 0.2, dshw.omega = 0.2, dshw.phi = 0.9;
    model.texts["base.dshw"] = dshw.encode();
    model.floats["norm.base_error"] = {150.0f};
  }
  const std::string path = directory + "/" + (hybrid ? "hybrid_" : "forecaster_") + std::to_string(layers) + "x" +
                           std::to_string(hidden) + ".elstm";
  host::save_model(model, path);
  return path;
}

// One device's forecasts of the model's series (host::load_model_series: with its base forecasts)
// from its first target on, `steps` of them: stateful streaming, or (learn) one
// training window per reading from the zero state, the forecast being the output before the update.
inline std::vector<double> single_device(const host::ModelFile& model, const host::Series& series, std::size_t steps,
                                         bool learn, const TrainConfig& config, std::size_t reset_at = SIZE_MAX) {
  const host::FeatureConfig features = host::features_of(model);
  const host::Normalization norm = host::normalization_of(model);
  std::vector<std::uint8_t> storage;
  Network net;
  EXPECT_EQ(net.bind_training(model.spec, config, host::aligned_arena(storage, train_bytes(model.spec, config.optimizer))),
            Status::kOk);
  std::copy(model.parameters.begin(), model.parameters.end(), net.parameters().begin());
  host::FeatureConfig one = features;
  one.window = 1;
  std::vector<float> window(static_cast<std::size_t>(features.window * features.features()));
  const std::size_t first = features.first_target();
  std::vector<double> forecasts;
  for (std::size_t t = first; t < first + steps; ++t) {
    if (t == reset_at) net.reset_state();
    float y = 0;
    if (learn) {
      host::build_window(series, features, norm, t, window.data());
      const float target = host::target_of(series, features, norm, t);
      const TrainResult r = net.train_step(Span<const float>(window.data(), window.size()), Span<const float>(&target, 1),
                                           WindowStart::kZeroState);
      EXPECT_EQ(r.status, Status::kOk);
      y = net.window_outputs()[0];
    } else {
      host::build_window(series, one, norm, t, window.data());
      EXPECT_EQ(net.step(Span<const float>(window.data(), model.spec.input_size), Span<float>(&y, 1)), Status::kOk);
    }
    forecasts.push_back(host::forecast_of(series, features, norm, t, y));
  }
  return forecasts;
}

// Nodes 1..N-1, each a NodeRuntime over its own transport, pumping in a thread of its own until
// stopped (or destroyed).
class HelperNodes {
 public:
  void add(std::unique_ptr<Transport> transport, const NodeOptions& options) {
    transports_.push_back(std::move(transport));
    nodes_.push_back(std::make_unique<NodeRuntime>(options, *transports_.back()));
  }
  void start() {
    stop_ = false;
    for (auto& node : nodes_) {
      NodeRuntime* runtime = node.get();
      threads_.emplace_back([this, runtime] {
        while (!stop_) runtime->pump(20, [](const SessionEvent&) {});
      });
    }
  }
  void stop() {
    stop_ = true;
    for (std::thread& thread : threads_) thread.join();
    threads_.clear();
  }
  // Stops the threads, then runs every node here until done(node) holds for all (or `seconds`
  // pass): the last frames of a round may still be on their way when node 0 has finished it.
  bool stop_when(const std::function<bool(NodeRuntime&)>& done, double seconds) {
    stop();
    const auto start = std::chrono::steady_clock::now();
    for (;;) {
      bool all = true;
      for (auto& node : nodes_) {
        node->pump(10, [](const SessionEvent&) {});
        all = all && done(*node);
      }
      if (all) return true;
      if (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > seconds) return false;
    }
  }
  ~HelperNodes() { stop(); }
  NodeRuntime& node(std::size_t k) { return *nodes_.at(k); }

 private:
  std::vector<std::unique_ptr<Transport>> transports_;
  std::vector<std::unique_ptr<NodeRuntime>> nodes_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
};

}  // namespace edgelstm::distributed::testing
