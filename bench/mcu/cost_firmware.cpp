// Instruction counts of the core on a microcontroller, read by the QEMU plugin
// tools/qemu-plugin/insn_count.c around marker instructions (bench/mcu/cost_table.py runs it).
// This file builds two firmwares:
//
// edgelstm_cost_firmware, the H sweep (the README's cost table): H in {16, 32, 64, 100}, input 1,
// window 6, one layer, head of 1:
//   forward: one streaming time step (Network::step: LSTM + head)
//   train:   one training step on a window of 6 (forward + BPTT + SGD update)
//   forward_int8, forward_int4: the streaming step with weight-only quantized weights
//            (HybridNetwork, per-row scales, float activations), from the weights after that step
//   forward_integer: the full-integer step (IntegerNetwork: int8 weights, int16 activations)
//
// edgelstm_cost_study (EDGELSTM_COST_STUDY): the shapes the quantization study evaluates (edgelstm
// quantize --study; bench/mcu/step_costs.csv), one layer, freshly initialized weights (seed 1):
// (input, hidden, outputs) = (7, 32, 1) the Taylor forecaster, (4, 16, 5) the Seattle weather
// classifier, (1, 16, 2) the weekday/weekend classifier, (1, 100, 1) the paper's. One streaming
// step of each kind:
//   f32: Network::step;  int16-tensor, int16-row, int8-tensor, int8-row, int4-tensor, int4-row:
//   HybridNetwork::step with the weights in that format and scale granularity;
//   int8-row-integer: IntegerNetwork::step (int8 weights, per-row scales, int16 activations).
//
// Two programs, not one: GCC decides whether to inline the float kernels (kernels.h) into a step's
// caller from the whole translation unit, and the study's extra call sites made it stop inlining
// them into the sweep's, which moved the sweep's float step by up to 0.5% (H = 100: 89,826 ->
// 90,259 on cortex-m4f). Apart, the sweep's program counts what the single program did (the same
// on cortex-m4f and rv32imc, one instruction more in rv32imafc's hybrid steps). A step's count thus
// carries up to about 1% of compilation context (the study's (1, 100, 1) f32 step and the sweep's
// H = 100 forward step run the same weights and inputs); the study's steps are measured in
// functions that read the shape and the inputs at run time.
//
// Each prints "region <index> <input> <hidden> <outputs> <kind>" in the order the regions run;
// region 0 is empty and calibrates the cost of the markers themselves. The sweep also prints
// "stack <hidden> <bytes>": the deepest stack the training step used (painted-stack high-water mark).
//
// The counts depend on the weights and inputs only through data-dependent branches: the float
// activations (exp's clamps, tanh's small/large branch: activations.h), on rv32imc the soft-float
// routines (every float add and multiply is a libgcc call whose path depends on its operands:
// zeros, exponent differences, normalization; the f32 and hybrid counts there move by a fraction of
// a percent with other weights) and, in the integer step, the saturations of the fixed-point
// functions (fixed_point.h: saturate_q15, the sigmoid/tanh table index clamps, add_saturated). The
// integer matrix-vector kernels have no data-dependent branch. The weights here are the seeded
// initialization, the inputs fixed below.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "edgelstm/edgelstm.h"
#include "markers.h"
#include "stack_probe.h"

namespace {

// The quantization study's shapes (one layer; the classifiers' task is classification).
struct StudyShape {
  std::uint16_t input, hidden, outputs;
  edgelstm::Task task;
};
constexpr StudyShape kStudyShapes[] = {
    {7, 32, 1, edgelstm::Task::kRegression},      // the Taylor forecaster
    {4, 16, 5, edgelstm::Task::kClassification},  // the Seattle weather classifier
    {1, 16, 2, edgelstm::Task::kClassification},  // weekday / weekend
    {1, 100, 1, edgelstm::Task::kRegression},     // the paper's
};
constexpr edgelstm::LstmSpec study_spec(const StudyShape& shape) {
  return edgelstm::make_spec(shape.input, shape.hidden, 1, shape.outputs, 6, shape.task);
}
constexpr edgelstm::LstmSpec kSweepLargest = edgelstm::make_spec(1, 100, 1, 1, 6);

// The largest of `bytes(spec)` over the H sweep's widest network and the study's shapes: every
// buffer below is sized once for all the networks measured one after the other.
template <typename Bytes>
constexpr std::size_t largest(Bytes bytes) {
  std::size_t n = bytes(kSweepLargest);
  for (const StudyShape& shape : kStudyShapes) n = bytes(study_spec(shape)) > n ? bytes(study_spec(shape)) : n;
  return n;
}
// Bytes and scales of every weight matrix of one layer and the head in `format`, per-row scales.
constexpr std::size_t hybrid_bytes(const edgelstm::LstmSpec& spec, edgelstm::WeightFormat format) {
  const std::size_t hidden = spec.hidden(0), rows = 4 * hidden;
  const std::size_t row_ih = edgelstm::quantized_row_bytes(format, spec.input_size);
  const std::size_t row_hh = edgelstm::quantized_row_bytes(format, hidden);
  return rows * (row_ih + row_hh) + spec.output_size * row_hh + 2 * rows;  // + the fused int16 bias
}
constexpr std::size_t hybrid_scales(const edgelstm::LstmSpec& spec) { return 8 * spec.hidden(0) + spec.output_size + 1; }

// One arena for the float network (the H sweep trains; the study's shapes only infer).
alignas(edgelstm::kArenaAlignment) std::uint8_t g_arena[edgelstm::train_bytes(kSweepLargest,
                                                                               edgelstm::OptimizerKind::kSgd)];
static_assert(largest([](const edgelstm::LstmSpec& s) { return edgelstm::inference_bytes(s); }) <= sizeof(g_arena),
              "the study's float networks fit the sweep's training arena");
int g_region = 0;

// "region <index> <input> <hidden> <outputs> <kind>"
void announce(int input, int hidden, int outputs, const char* kind) {
  std::printf("region %d %d %d %d %s\n", g_region++, input, hidden, outputs, kind);
#if defined(__xtensa__)
  std::printf("ccount %d %u\n", g_region - 1, static_cast<unsigned>(edgelstm::bench::region_ccount_ticks()));
#endif
}

// Weight-only quantized copies (int16, the widest format, of the largest network: 81,000 bytes) and
// the state.
std::uint8_t g_quantized[largest([](const edgelstm::LstmSpec& s) {
  return hybrid_bytes(s, edgelstm::WeightFormat::kInt16);
})];
float g_scales[largest(hybrid_scales)];
alignas(edgelstm::kArenaAlignment) std::uint8_t g_hybrid_state[largest(edgelstm::inference_in_place_bytes)];
// Full-integer copy of the network (int8 weights, their scales, the int32 constants) and its arena.
std::int8_t g_integer_weights[largest(edgelstm::integer_weight_count)];
float g_integer_scales[largest(edgelstm::integer_scale_count)];
std::int32_t g_integer_constants[largest(edgelstm::integer_constant_count)];
alignas(edgelstm::kArenaAlignment) std::uint8_t g_integer_arena[largest(edgelstm::integer_inference_bytes)];

#ifndef EDGELSTM_COST_STUDY

void announce(int hidden, const char* kind) { announce(1, hidden, 1, kind); }  // the H sweep's

// ---- The H sweep (the README's table), as measured since that table was made.

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
  edgelstm::quantize_fused_bias(p.bias_ih.data(), p.bias_hh.data(), rows, data, scales);
  layer.bias = edgelstm::QuantizedMatrix{edgelstm::WeightFormat::kInt16, edgelstm::ScaleGranularity::kTensor, data, scales,
                                         rows, 1};
  data += 2 * rows;
  scales += 1;
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
  announce(0, 0, 0, "empty");
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

#else  // EDGELSTM_COST_STUDY

void announce(const edgelstm::LstmSpec& spec, const char* kind) {
  announce(spec.input_size, spec.hidden(0), spec.output_size, kind);
}

// Inputs of the study's four streaming steps (three warm the state, the fourth is measured): step k
// of a network with n inputs reads g_inputs[k n .. k n + n), within [-1, 1); the integer step reads
// g_inputs_q15 = round(32768 x). main() copies them from kInputs at run time: a measured step reads
// its input from RAM, as on a device, not from constants the compiler could see through.
constexpr float kInputs[4 * 7] = {0.1f,  -0.2f,  0.3f,  0.5f,   -0.1f, 0.2f,   -0.4f, 0.25f, 0.6f,  -0.3f,
                                  0.05f, -0.5f,  0.35f, 0.45f,  -0.15f, 0.7f,  -0.6f, 0.15f, 0.55f, -0.25f,
                                  0.4f,  -0.05f, 0.65f, -0.35f, 0.3f,   -0.45f, 0.2f,  0.1f};
float g_inputs[4 * 7];
std::int16_t g_inputs_q15[4 * 7];
constexpr std::size_t kMaxOutputs = 5;

// ---- The quantization study's shapes.

// One streaming step of the network's weights quantized to `format` with `granularity`, measured.
int measure_study_hybrid(edgelstm::Network& net, edgelstm::WeightFormat format,
                         edgelstm::ScaleGranularity granularity, const char* kind) {
  const auto spec = net.spec();
  const std::size_t hidden = spec.hidden(0), rows = 4 * hidden;
  edgelstm::LstmLayerParameters<float> p = net.layer_parameters(0);
  std::uint8_t* data = g_quantized;
  float* scales = g_scales;
  auto quantize = [&](const float* w, std::size_t r, std::size_t c) {
    const edgelstm::QuantizedMatrix m{format, granularity, data, scales, r, c};
    edgelstm::quantize_matrix(w, r, c, format, granularity, data, scales);
    data += r * edgelstm::quantized_row_bytes(format, c);
    scales += edgelstm::scale_count(granularity, r);
    return m;
  };
  edgelstm::HybridLayer layer;
  layer.weight_ih = quantize(p.weight_ih.data(), rows, spec.input_size);
  layer.weight_hh = quantize(p.weight_hh.data(), rows, hidden);
  edgelstm::quantize_fused_bias(p.bias_ih.data(), p.bias_hh.data(), rows, data, scales);
  layer.bias = edgelstm::QuantizedMatrix{edgelstm::WeightFormat::kInt16, edgelstm::ScaleGranularity::kTensor, data, scales,
                                         rows, 1};
  data += 2 * rows;
  scales += 1;
  const edgelstm::QuantizedMatrix head = quantize(net.head_weight().data(), spec.output_size, hidden);
  edgelstm::HybridNetwork hybrid;
  if (hybrid.bind(spec, edgelstm::Span<const edgelstm::HybridLayer>(&layer, 1), head, net.head_bias().data(),
                  g_hybrid_state) != edgelstm::Status::kOk) {
    return 1;
  }
  const std::size_t in = spec.input_size;
  float out[kMaxOutputs];
  const edgelstm::Span<float> y(out, spec.output_size);
  for (std::size_t k = 0; k < 3; ++k) {
    if (hybrid.step(edgelstm::Span<const float>(g_inputs + k * in, in), y) != edgelstm::Status::kOk) return 1;
  }
  EDGELSTM_MARK_BEGIN();
  const edgelstm::Status status = hybrid.step(edgelstm::Span<const float>(g_inputs + 3 * in, in), y);
  EDGELSTM_MARK_END();
  if (status != edgelstm::Status::kOk) return 1;
  announce(spec, kind);
  return 0;
}

// One streaming step of the full-integer network converted from `net`, measured.
int measure_study_integer(edgelstm::Network& net, const char* kind) {
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
                   edgelstm::Span<std::uint8_t>(g_integer_arena, edgelstm::integer_inference_bytes(spec))) !=
          edgelstm::Status::kOk) {
    return 1;
  }
  const std::size_t in = spec.input_size;
  std::int32_t out[kMaxOutputs];
  const edgelstm::Span<std::int32_t> y(out, spec.output_size);
  for (std::size_t k = 0; k < 3; ++k) {
    const edgelstm::Span<const std::int16_t> x(g_inputs_q15 + k * in, in);
    if (network.step(x, y) != edgelstm::Status::kOk) return 1;
  }
  EDGELSTM_MARK_BEGIN();
  const edgelstm::Status status = network.step(edgelstm::Span<const std::int16_t>(g_inputs_q15 + 3 * in, in), y);
  EDGELSTM_MARK_END();
  if (status != edgelstm::Status::kOk) return 1;
  announce(spec, kind);
  return 0;
}

// One streaming step of the float network, measured (three steps warm the state first).
int measure_study_float(edgelstm::Network& net, const char* kind) {
  const auto spec = net.spec();
  const std::size_t in = spec.input_size;
  float out[kMaxOutputs];
  const edgelstm::Span<float> y(out, spec.output_size);
  for (std::size_t k = 0; k < 3; ++k) {
    if (net.step(edgelstm::Span<const float>(g_inputs + k * in, in), y) != edgelstm::Status::kOk) return 1;
  }
  EDGELSTM_MARK_BEGIN();
  const edgelstm::Status status = net.step(edgelstm::Span<const float>(g_inputs + 3 * in, in), y);
  EDGELSTM_MARK_END();
  if (status != edgelstm::Status::kOk) return 1;
  announce(spec, kind);
  return 0;
}

// A study shape: every kind from the same freshly initialized weights.
int measure_study(const StudyShape& shape) {
  const edgelstm::LstmSpec spec = study_spec(shape);
  edgelstm::Network net;
  if (net.bind_inference(spec, edgelstm::Span<std::uint8_t>(g_arena, edgelstm::inference_bytes(spec))) !=
          edgelstm::Status::kOk ||
      net.initialize(1) != edgelstm::Status::kOk) {
    return 1;
  }
  if (measure_study_float(net, "f32") != 0) return 1;
  struct Hybrid {
    edgelstm::WeightFormat format;
    edgelstm::ScaleGranularity granularity;
    const char* kind;
  };
  constexpr Hybrid kHybrids[] = {
      {edgelstm::WeightFormat::kInt16, edgelstm::ScaleGranularity::kTensor, "int16-tensor"},
      {edgelstm::WeightFormat::kInt16, edgelstm::ScaleGranularity::kRow, "int16-row"},
      {edgelstm::WeightFormat::kInt8, edgelstm::ScaleGranularity::kTensor, "int8-tensor"},
      {edgelstm::WeightFormat::kInt8, edgelstm::ScaleGranularity::kRow, "int8-row"},
      {edgelstm::WeightFormat::kInt4, edgelstm::ScaleGranularity::kTensor, "int4-tensor"},
      {edgelstm::WeightFormat::kInt4, edgelstm::ScaleGranularity::kRow, "int4-row"},
  };
  for (const Hybrid& h : kHybrids) {
    if (measure_study_hybrid(net, h.format, h.granularity, h.kind) != 0) return 1;
  }
  return measure_study_integer(net, "int8-row-integer");
}

}  // namespace

int main() {
  EDGELSTM_MARK_BEGIN();
  EDGELSTM_MARK_END();
  announce(0, 0, 0, "empty");
  for (std::size_t k = 0; k < 4 * 7; ++k) {
    g_inputs[k] = kInputs[k];
    g_inputs_q15[k] = static_cast<std::int16_t>(std::lround(kInputs[k] * 32768.0f));
  }
  for (const StudyShape& shape : kStudyShapes) {
    if (measure_study(shape) != 0) return 1;
  }
  return 0;
}

#endif  // EDGELSTM_COST_STUDY
