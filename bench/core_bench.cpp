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

// `storage` from its first kPackedAlignment boundary on: the packed networks' arena.
edgelstm::Span<std::uint8_t> packed_arena(std::vector<std::uint8_t>& storage) {
  const std::size_t skip = (edgelstm::kPackedAlignment - reinterpret_cast<std::uintptr_t>(storage.data()) % edgelstm::kPackedAlignment) %
                           edgelstm::kPackedAlignment;
  return edgelstm::Span<std::uint8_t>(storage.data() + skip, storage.size() - skip);
}

// One inference step of a one-input network per iteration, the input alternating in sign.
template <typename Net>
void time_steps(benchmark::State& state, Net& net) {
  float x[1] = {0.3f}, y[1];
  for (auto _ : state) {
    if (net.step(x, y) != edgelstm::Status::kOk) std::abort();
    benchmark::DoNotOptimize(y[0]);
    x[0] = -x[0];
  }
}

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
  time_steps(state, bound.net);
}

void infer_step_packed(benchmark::State& state) {
  Bound bound(static_cast<int>(state.range(0)));
  std::vector<std::uint8_t> storage(edgelstm::packed_inference_bytes(bound.net.spec()) + edgelstm::kPackedAlignment);
  edgelstm::PackedNetwork packed;
  if (packed.bind(bound.net, packed_arena(storage)) != edgelstm::Status::kOk) {
    std::abort();
  }
  time_steps(state, packed);
}

// The same step on the int8 host path (PackedInt8Network), from the network's weights quantized
// to int8 with one scale per row, as `edgelstm quantize --bits 8` writes them.
void infer_step_int8(benchmark::State& state) {
  Bound bound(static_cast<int>(state.range(0)));
  const auto spec = bound.net.spec();
  const std::size_t hidden = spec.hidden(0), rows = 4 * hidden;
  std::vector<std::uint8_t> data(rows * (1 + hidden) + hidden + 2 * rows);
  std::vector<float> scales(2 * rows + 2);
  edgelstm::LstmLayerParameters<float> p = bound.net.layer_parameters(0);
  std::uint8_t* d = data.data();
  float* s = scales.data();
  auto quantize = [&](const float* w, std::size_t r, std::size_t c) {
    const edgelstm::QuantizedMatrix m{edgelstm::WeightFormat::kInt8, edgelstm::ScaleGranularity::kRow, d, s, r, c};
    edgelstm::quantize_matrix(w, r, c, edgelstm::WeightFormat::kInt8, edgelstm::ScaleGranularity::kRow, d, s);
    d += r * c;
    s += r;
    return m;
  };
  edgelstm::HybridLayer layer;
  layer.weight_ih = quantize(p.weight_ih.data(), rows, 1);
  layer.weight_hh = quantize(p.weight_hh.data(), rows, hidden);
  edgelstm::quantize_fused_bias(p.bias_ih.data(), p.bias_hh.data(), rows, d, s);
  layer.bias = edgelstm::QuantizedMatrix{edgelstm::WeightFormat::kInt16, edgelstm::ScaleGranularity::kTensor, d, s, rows, 1};
  d += 2 * rows;
  s += 1;
  const edgelstm::QuantizedMatrix head = quantize(bound.net.head_weight().data(), 1, hidden);
  std::vector<std::uint8_t> storage(edgelstm::packed_int8_inference_bytes(spec) + edgelstm::kPackedAlignment);
  edgelstm::PackedInt8Network packed;
  if (packed.bind(spec, edgelstm::Span<const edgelstm::HybridLayer>(&layer, 1), head, bound.net.head_bias().data(),
                  packed_arena(storage)) != edgelstm::Status::kOk) {
    std::abort();
  }
  time_steps(state, packed);
}

// Minibatch training (BatchTrainer): one SGD step on B windows of the shape (input, H, window),
// args {input, H, window, B}; items are windows (samples).
void train_batch(benchmark::State& state) {
  const auto input = static_cast<std::uint16_t>(state.range(0)), hidden = static_cast<std::uint16_t>(state.range(1));
  const auto window = static_cast<std::uint16_t>(state.range(2));
  const auto batch = static_cast<std::size_t>(state.range(3));
  const auto spec = edgelstm::make_spec(input, hidden, 1, 1, window);
  edgelstm::TrainConfig config;
  config.learning_rate = 1e-3f;
  std::vector<std::uint8_t> storage(edgelstm::train_bytes(spec, config.optimizer) + 64);
  std::vector<std::uint8_t> batch_storage(edgelstm::batch_train_bytes(spec, batch) + 64);
  const auto aligned = [](std::vector<std::uint8_t>& v) {
    const std::size_t skip = (64 - reinterpret_cast<std::uintptr_t>(v.data()) % 64) % 64;
    return edgelstm::Span<std::uint8_t>(v.data() + skip, v.size() - skip);
  };
  edgelstm::Network net;
  edgelstm::BatchTrainer trainer;
  if (net.bind_training(spec, config, aligned(storage)) != edgelstm::Status::kOk || net.initialize(1) != edgelstm::Status::kOk ||
      trainer.bind(net, batch, aligned(batch_storage)) != edgelstm::Status::kOk) {
    std::abort();
  }
  std::vector<float> x(batch * window * input), targets(batch);
  edgelstm::Random random(3);
  for (float& v : x) v = random.uniform_symmetric(1.0f);
  for (float& v : targets) v = random.uniform_symmetric(1.0f);
  for (auto _ : state) {
    const edgelstm::TrainResult r = trainer.train_step(edgelstm::Span<const float>(x.data(), x.size()), edgelstm::Span<const float>(targets.data(), targets.size()));
    if (r.status != edgelstm::Status::kOk) std::abort();
    benchmark::DoNotOptimize(r.loss);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch));
}

// The packed step of the forecaster's shape: 7 inputs (reading, two lags, time of day and day of
// week as sin/cos), 32 units.
void infer_step_packed_forecaster(benchmark::State& state) {
  const auto spec = edgelstm::make_spec(7, 32, 1, 1, 12);
  std::vector<std::uint8_t> network_storage(edgelstm::inference_bytes(spec) + 64);
  std::vector<std::uint8_t> storage(edgelstm::packed_inference_bytes(spec) + 64);
  const auto aligned = [](std::vector<std::uint8_t>& v) {
    const std::size_t skip = (64 - reinterpret_cast<std::uintptr_t>(v.data()) % 64) % 64;
    return edgelstm::Span<std::uint8_t>(v.data() + skip, v.size() - skip);
  };
  edgelstm::Network net;
  edgelstm::PackedNetwork packed;
  if (net.bind_inference(spec, aligned(network_storage)) != edgelstm::Status::kOk || net.initialize(1) != edgelstm::Status::kOk ||
      packed.bind(net, aligned(storage)) != edgelstm::Status::kOk) {
    std::abort();
  }
  float x[7] = {0.3f, -0.2f, 0.1f, 0.5f, -0.5f, 0.7f, 0.7f}, y[1];
  for (auto _ : state) {
    if (packed.step(x, y) != edgelstm::Status::kOk) std::abort();
    benchmark::DoNotOptimize(y[0]);
    x[0] = -x[0];
  }
}

BENCHMARK(train_step)->Arg(32)->Arg(64)->Arg(100)->Arg(128);
BENCHMARK(train_batch)->Args({1, 100, 6, 64})->Args({1, 100, 6, 256})->Args({7, 32, 12, 64})->Args({7, 32, 12, 256});
BENCHMARK(infer_step_packed_forecaster);
BENCHMARK(infer_step)->Arg(32)->Arg(64)->Arg(100)->Arg(128);
BENCHMARK(infer_step_packed)->Arg(8)->Arg(16)->Arg(32)->Arg(64)->Arg(100)->Arg(128)->Arg(256);
BENCHMARK(infer_step_int8)->Arg(16)->Arg(32)->Arg(64)->Arg(100)->Arg(128)->Arg(256);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("edgelstm kernels", edgelstm::kernel_variant());
  benchmark::AddCustomContext("edgelstm packed panels", edgelstm::packed_kernel_variant());
  benchmark::AddCustomContext("edgelstm int8 panels", edgelstm::int8_kernel_variant());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
