// Google Benchmark cases for the core, single-threaded, batch 1, input 1, window 6:
//   train_step/H : forward over 6 steps + BPTT + SGD update (Network::train_step)
//   infer_step/H : one streaming time step, LSTM + dense head (Network::step, weights in place)
//   infer_step_packed/H : the same step with the weights repacked once (PackedNetwork::step)
// bench/run_bench.py runs these and PyTorch on the same shapes in the same run, and prints ratios.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "edgelstm/edgelstm.h"

namespace {

struct Bound {
  std::vector<std::uint8_t> storage;
  edgelstm::Network net;
  explicit Bound(int hidden) {
    const auto spec = edgelstm::make_spec(1, static_cast<std::uint16_t>(hidden), 1, 1, 6);
    edgelstm::TrainConfig config;  // SGD, MSE
    config.learning_rate = 1e-3f;
    storage.resize(edgelstm::train_bytes(spec, config.optimizer) + edgelstm::kArenaAlignment);
    auto* aligned = reinterpret_cast<std::uint8_t*>((reinterpret_cast<std::uintptr_t>(storage.data()) + 15) / 16 * 16);
    if (net.bind_training(spec, config, edgelstm::Span<std::uint8_t>(aligned, storage.size() - 16)) != edgelstm::Status::kOk ||
        net.initialize(1) != edgelstm::Status::kOk) {
      std::abort();
    }
  }
};

void train_step(benchmark::State& state) {
  Bound bound(static_cast<int>(state.range(0)));
  const float x[6] = {0.1f, -0.2f, 0.3f, 0.5f, -0.1f, 0.2f};
  const float target[1] = {0.4f};
  for (auto _ : state) {
    const edgelstm::TrainResult result = bound.net.train_step(x, target, edgelstm::WindowStart::kZeroState);
    benchmark::DoNotOptimize(result.loss);
  }
}

void infer_step(benchmark::State& state) {
  Bound bound(static_cast<int>(state.range(0)));
  float x[1] = {0.3f}, y[1];
  for (auto _ : state) {
    if (bound.net.step(x, y) != edgelstm::Status::kOk) std::abort();
    benchmark::DoNotOptimize(y[0]);
    x[0] = -x[0];
  }
}

void infer_step_packed(benchmark::State& state) {
  Bound bound(static_cast<int>(state.range(0)));
  std::vector<std::uint8_t> storage(edgelstm::packed_inference_bytes(bound.net.spec()) + edgelstm::kPackedAlignment);
  const std::size_t skip = (edgelstm::kPackedAlignment - reinterpret_cast<std::uintptr_t>(storage.data()) % edgelstm::kPackedAlignment) %
                           edgelstm::kPackedAlignment;
  edgelstm::PackedNetwork packed;
  if (packed.bind(bound.net, edgelstm::Span<std::uint8_t>(storage.data() + skip, storage.size() - skip)) != edgelstm::Status::kOk) {
    std::abort();
  }
  float x[1] = {0.3f}, y[1];
  for (auto _ : state) {
    if (packed.step(x, y) != edgelstm::Status::kOk) std::abort();
    benchmark::DoNotOptimize(y[0]);
    x[0] = -x[0];
  }
}

BENCHMARK(train_step)->Arg(32)->Arg(64)->Arg(100)->Arg(128);
BENCHMARK(infer_step)->Arg(32)->Arg(64)->Arg(100)->Arg(128);
BENCHMARK(infer_step_packed)->Arg(32)->Arg(64)->Arg(100)->Arg(128);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("edgelstm kernels", edgelstm::kernel_variant());
  benchmark::AddCustomContext("edgelstm packed panels", edgelstm::packed_kernel_variant());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
