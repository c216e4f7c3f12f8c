// Instruction counts of the core on a microcontroller, read by the QEMU plugin
// tools/qemu-plugin/insn_count.c around marker instructions (bench/mcu/cost_table.py runs it).
// For H in {16, 32, 64, 100}, input 1, window 6, one layer, head of 1:
//   forward: one streaming time step (Network::step: LSTM + head)
//   train:   one training step on a window of 6 (forward + BPTT + SGD update)
//   forward_int8, forward_int4: the streaming step with weight-only quantized weights
//            (HybridNetwork, per-row scales, float activations)
//   forward_integer: the full-integer step (IntegerNetwork: int8 weights, int16 activations)
// Prints "region <index> <hidden> <kind>" in the order the regions run; region 0 is empty and
// calibrates the cost of the markers themselves. Also prints "stack <hidden> <bytes>": the
// deepest stack the training step used (painted-stack high-water mark).
#include <cstdint>
#include <cstdio>

#include "edgelstm/edgelstm.h"
#include "markers.h"
#include "stack_probe.h"

namespace {

alignas(edgelstm::kArenaAlignment) std::uint8_t g_arena[edgelstm::train_bytes(
    edgelstm::make_spec(1, 100, 1, 1, 6), edgelstm::OptimizerKind::kSgd)];
int g_region = 0;

void announce(int hidden, const char* kind) { std::printf("region %d %d %s\n", g_region++, hidden, kind); }
// Weight-only quantized copies of the H = 100 network at most (int8: 40,500 bytes), and the state.
std::uint8_t g_quantized[4 * 100 * 1 + 4 * 100 * 100 + 100];
float g_scales[4 * 100 + 4 * 100 + 1];
alignas(edgelstm::kArenaAlignment) std::uint8_t g_hybrid_state[edgelstm::inference_in_place_bytes(
    edgelstm::make_spec(1, 100, 1, 1, 6))];

// One streaming step of the network's weights quantized to `format` (per-row scales), measured.
int measure_hybrid(edgelstm::Network& net, int hidden, edgelstm::WeightFormat format, const char* kind) {
  const auto spec = net.spec();
  const std::size_t rows = 4 * static_cast<std::size_t>(hidden);
  edgelstm::LstmLayerParameters<float> p = net.layer_parameters(0);
  std::uint8_t* data = g_quantized;
  float* scales = g_scales;
  auto quantize = [&](const float* w, std::size_t r, std::size_t c) {
    const edgelstm::QuantizedMatrix m{format, edgelstm::ScaleGranularity::kRow, data, scales, r, c};
    edgelstm::quantize_matrix(w, r, c, format, edgelstm::ScaleGranularity::kRow, data, scales);
    data += r * edgelstm::quantized_row_bytes(format, c);
    scales += r;
    return m;
  };
  edgelstm::HybridLayer layer;
  layer.weight_ih = quantize(p.weight_ih.data(), rows, 1);
  layer.weight_hh = quantize(p.weight_hh.data(), rows, static_cast<std::size_t>(hidden));
  layer.bias_ih = p.bias_ih.data();
  layer.bias_hh = p.bias_hh.data();
  const edgelstm::QuantizedMatrix head = quantize(net.head_weight().data(), 1, static_cast<std::size_t>(hidden));
  edgelstm::HybridNetwork hybrid;
  if (hybrid.bind(spec, edgelstm::Span<const edgelstm::HybridLayer>(&layer, 1), head, net.head_bias().data(),
                  g_hybrid_state) != edgelstm::Status::kOk) {
    return 1;
  }
  const float x[4] = {0.1f, -0.2f, 0.3f, 0.5f};
  float y[1];
  for (int k = 0; k < 3; ++k) {
    if (hybrid.step(edgelstm::Span<const float>(x + k, 1), y) != edgelstm::Status::kOk) return 1;
  }
  EDGELSTM_MARK_BEGIN();
  const edgelstm::Status status = hybrid.step(edgelstm::Span<const float>(x + 3, 1), y);
  EDGELSTM_MARK_END();
  if (status != edgelstm::Status::kOk) return 1;
  announce(hidden, kind);
  return 0;
}

// Full-integer copy of the network (int8 weights, their scales, the int32 constants) and its arena.
std::int8_t g_integer_weights[edgelstm::integer_weight_count(edgelstm::make_spec(1, 100, 1, 1, 6))];
float g_integer_scales[edgelstm::integer_scale_count(edgelstm::make_spec(1, 100, 1, 1, 6))];
std::int32_t g_integer_constants[edgelstm::integer_constant_count(edgelstm::make_spec(1, 100, 1, 1, 6))];
alignas(edgelstm::kArenaAlignment) std::uint8_t g_integer_arena[edgelstm::integer_inference_bytes(
    edgelstm::make_spec(1, 100, 1, 1, 6))];

// One streaming step of the full-integer network converted from `net`, measured.
int measure_integer(edgelstm::Network& net, int hidden) {
  const auto spec = net.spec();
  edgelstm::IntegerCalibration calibration;
  calibration.input_scale = 1.0f / 32767.0f;  // inputs within [-1, 1]
  edgelstm::IntegerParameters integer;
  const edgelstm::Status converted = edgelstm::quantize_to_integer(
      spec, edgelstm::Span<const float>(net.parameters().data(), net.parameters().size()), calibration,
      edgelstm::Span<std::int8_t>(g_integer_weights, edgelstm::integer_weight_count(spec)),
      edgelstm::Span<float>(g_integer_scales, edgelstm::integer_scale_count(spec)),
      edgelstm::Span<std::int32_t>(g_integer_constants, edgelstm::integer_constant_count(spec)), &integer);
  edgelstm::IntegerNetwork network;
  if (converted != edgelstm::Status::kOk ||
      network.bind(spec, edgelstm::Span<const edgelstm::IntegerLayer>(integer.layers, 1), integer.head,
                   g_integer_arena) != edgelstm::Status::kOk) {
    return 1;
  }
  const std::int16_t x[4] = {3277, -6554, 9830, 16384};
  std::int32_t y[1];
  for (int k = 0; k < 3; ++k) {
    if (network.step(edgelstm::Span<const std::int16_t>(x + k, 1), y) != edgelstm::Status::kOk) return 1;
  }
  EDGELSTM_MARK_BEGIN();
  const edgelstm::Status status = network.step(edgelstm::Span<const std::int16_t>(x + 3, 1), y);
  EDGELSTM_MARK_END();
  if (status != edgelstm::Status::kOk) return 1;
  announce(hidden, "forward_integer");
  return 0;
}

}  // namespace

int main() {
  EDGELSTM_MARK_BEGIN();
  EDGELSTM_MARK_END();
  announce(0, "empty");
  const int sizes[] = {16, 32, 64, 100};
  for (int hidden : sizes) {
    const auto spec = edgelstm::make_spec(1, static_cast<std::uint16_t>(hidden), 1, 1, 6);
    edgelstm::Network net;
    edgelstm::TrainConfig config;
    config.learning_rate = 1e-3f;
    if (net.bind_training(spec, config, g_arena) != edgelstm::Status::kOk) return 1;
    if (net.initialize(1) != edgelstm::Status::kOk) return 1;
    const float window[6] = {0.1f, -0.2f, 0.3f, 0.5f, -0.1f, 0.2f};
    const float target[1] = {0.4f};
    float y[1];
    // Warm the state with a few steps, then measure one.
    for (int k = 0; k < 3; ++k) {
      if (net.step(edgelstm::Span<const float>(window + k, 1), y) != edgelstm::Status::kOk) return 1;
    }
    EDGELSTM_MARK_BEGIN();
    const edgelstm::Status status = net.step(edgelstm::Span<const float>(window + 3, 1), y);
    EDGELSTM_MARK_END();
    if (status != edgelstm::Status::kOk) return 1;
    announce(hidden, "forward");
    const std::uintptr_t stack_top = edgelstm::bench::paint_stack();
    EDGELSTM_MARK_BEGIN();
    const edgelstm::TrainResult result = net.train_step(window, target, edgelstm::WindowStart::kCarryState);
    EDGELSTM_MARK_END();
    const std::size_t stack = edgelstm::bench::stack_used(stack_top);
    if (result.status != edgelstm::Status::kOk) return 1;
    announce(hidden, "train");
    std::printf("stack %d %u\n", hidden, static_cast<unsigned>(stack));
    if (measure_hybrid(net, hidden, edgelstm::WeightFormat::kInt8, "forward_int8") != 0) return 1;
    if (measure_hybrid(net, hidden, edgelstm::WeightFormat::kInt4, "forward_int4") != 0) return 1;
    if (measure_integer(net, hidden) != 0) return 1;
  }
  return 0;
}
