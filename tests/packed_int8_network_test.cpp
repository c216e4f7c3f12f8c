// PackedInt8Network: the int8 host path gives HybridNetwork's outputs up to the int16 rounding of
// its activations, its gate sums are exact integers on every instruction set, it is bit-identical
// run to run, it binds a model file, uses exactly packed_int8_inference_bytes() and refuses what
// it cannot run.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "edgelstm/edgelstm.h"
#include "support/micro_test.h"
#include "support/packed_specs.h"
#include "support/test_util.h"

namespace {

using edgelstm::QuantizedMatrix;
using edgelstm::ScaleGranularity;
using edgelstm::WeightFormat;

// The emulated microcontrollers run the specs up to H = 32 only (the forecaster's: a 22 KB float
// network, a 10 KB int8 copy); hosts also the four-layer and the paper's network.
#if EDGELSTM_SCALAR_CORE
constexpr std::size_t kFloatKiB = 24, kKiB = 12;
#else
constexpr std::size_t kFloatKiB = 200, kKiB = 200;
#endif
alignas(64) std::uint8_t g_float_arena[kFloatKiB * 1024];
alignas(64) std::uint8_t g_packed_arena[kKiB * 1024];
alignas(64) std::uint8_t g_second_arena[kKiB * 1024];
alignas(16) std::uint8_t g_hybrid_state[8192];
std::uint8_t g_weights[kFloatKiB * 256];
float g_scales[4096];

// Panels of 6, 5, 4, 3 and 1 vectors with padding rows (tests/support/packed_specs.h).
const edgelstm::LstmSpec kOddSpec = edgelstm::test::odd_panel_spec();
using edgelstm::test::kPaperSpec;
// tests/CMakeLists.txt compiles this file once for the AVX-VNNI variant (edgelstm_avx_vnni_compile_check).
#if defined(EDGELSTM_EXPECT_AVX_VNNI)
static_assert(EDGELSTM_HAVE_AVX_VNNI && !EDGELSTM_HAVE_AVX512_VNNI, "this build was meant to compile the AVX-VNNI kernel");
#endif

const edgelstm::LstmSpec kForecasterSpec = edgelstm::make_spec(7, 32, 1, 1, 12);

// A seeded float network and its int8 copy (HybridLayers into g_weights / g_scales).
struct Quantized {
  edgelstm::Network net;
  edgelstm::HybridLayer layers[edgelstm::kMaxLayers];
  QuantizedMatrix head;
  const float* head_bias = nullptr;
};

edgelstm::Status make_quantized(const edgelstm::LstmSpec& spec, ScaleGranularity granularity, std::uint64_t seed,
                                Quantized* q) {
  EDGELSTM_TRY(q->net.bind_inference(spec, g_float_arena));
  EDGELSTM_TRY(q->net.initialize(seed, 1.0f));
  std::uint8_t* data = g_weights;
  float* scales = g_scales;
  auto quantize = [&](const float* w, std::size_t rows, std::size_t cols, WeightFormat format, ScaleGranularity g) {
    const QuantizedMatrix m{format, g, data, scales, rows, cols};
    edgelstm::quantize_matrix(w, rows, cols, format, g, data, scales);
    data += rows * edgelstm::quantized_row_bytes(format, cols);
    scales += edgelstm::scale_count(g, rows);
    return m;
  };
  for (std::size_t l = 0; l < spec.num_layers; ++l) {
    const edgelstm::LstmLayerParameters<float> p = q->net.layer_parameters(l);
    const std::size_t rows = 4 * spec.hidden(l);
    q->layers[l].weight_ih = quantize(p.weight_ih.data(), rows, spec.layer_input(l), WeightFormat::kInt8, granularity);
    q->layers[l].weight_hh = quantize(p.weight_hh.data(), rows, spec.hidden(l), WeightFormat::kInt8, granularity);
    edgelstm::quantize_fused_bias(p.bias_ih.data(), p.bias_hh.data(), rows, data, scales);
    q->layers[l].bias = QuantizedMatrix{WeightFormat::kInt16, ScaleGranularity::kTensor, data, scales, rows, 1};
    data += 2 * rows;
    scales += 1;
  }
  q->head = quantize(q->net.head_weight().data(), spec.output_size, spec.top_hidden(), WeightFormat::kInt8, granularity);
  q->head_bias = q->net.head_bias().data();
  return edgelstm::Status::kOk;
}

edgelstm::Status bind_int8(const edgelstm::LstmSpec& spec, const Quantized& q, edgelstm::PackedInt8Network& net,
                           std::uint8_t* arena = g_packed_arena) {
  return net.bind(spec, edgelstm::Span<const edgelstm::HybridLayer>(q.layers, spec.num_layers), q.head, q.head_bias,
                  edgelstm::Span<std::uint8_t>(arena, kKiB * 1024));
}

// The run-to-run tests' shape (host: the paper's H = 100, five panels of five vectors;
// microcontrollers: the forecaster's H = 32, two panels of four), its int8 weights from `seed` in
// *q, and two networks bound to them, each in an arena of its own.
const edgelstm::LstmSpec kRunToRunSpec = EDGELSTM_SCALAR_CORE ? kForecasterSpec : kPaperSpec;
edgelstm::Status bind_two(std::uint64_t seed, Quantized* q, edgelstm::PackedInt8Network& a,
                          edgelstm::PackedInt8Network& b) {
  EDGELSTM_TRY(make_quantized(kRunToRunSpec, ScaleGranularity::kRow, seed, q));
  EDGELSTM_TRY(bind_int8(kRunToRunSpec, *q, a));
  return bind_int8(kRunToRunSpec, *q, b, g_second_arena);
}

// Over a long stream the int8 host path stays with HybridNetwork: the int16 activations change the
// outputs by about 1e-5 (relative to the outputs' scale), where the int8 weights themselves change
// them against float by 1e-2; the limit is 1e-4, and the int8 path must also stay within 2% of the
// weights' own effect.
EDGELSTM_TEST(PackedInt8, StepMatchesHybridNetworkOverALongStream) {
  for (const edgelstm::LstmSpec& spec : {kOddSpec, kForecasterSpec, kPaperSpec}) {
    if (EDGELSTM_SCALAR_CORE && spec.hidden(0) > 32) continue;
    for (ScaleGranularity granularity : {ScaleGranularity::kRow, ScaleGranularity::kTensor}) {
      Quantized q;
      ASSERT_OK(make_quantized(spec, granularity, 5, &q));
      edgelstm::HybridNetwork hybrid;
      edgelstm::PackedInt8Network packed;
      ASSERT_OK(hybrid.bind(spec, edgelstm::Span<const edgelstm::HybridLayer>(q.layers, spec.num_layers), q.head, q.head_bias,
                            edgelstm::Span<std::uint8_t>(g_hybrid_state, edgelstm::inference_in_place_bytes(spec))));
      ASSERT_OK(bind_int8(spec, q, packed));
      const std::size_t in = spec.input_size, out = spec.output_size;
      double worst = 0, weights_effect = 0;
      float x[7], y_float[2], y_hybrid[2], y_packed[2];
      for (std::size_t t = 0; t < 300; ++t) {
        edgelstm::test::fill_uniform(x, in, 40 + t, 1.5f);
        ASSERT_OK(q.net.step({x, in}, {y_float, out}));
        ASSERT_OK(hybrid.step({x, in}, {y_hybrid, out}));
        ASSERT_OK(packed.step({x, in}, {y_packed, out}));
        worst = std::fmax(worst, edgelstm::test::max_relative_error(y_packed, y_hybrid, out, 0.1));
        weights_effect = std::fmax(weights_effect, edgelstm::test::max_relative_error(y_hybrid, y_float, out, 0.1));
      }
      std::printf("H = %u, %s scales: int8 path vs HybridNetwork %.3g, HybridNetwork vs float %.3g\n",
                  static_cast<unsigned>(spec.hidden(0)), granularity == ScaleGranularity::kRow ? "row" : "tensor", worst,
                  weights_effect);
      EXPECT_LE(worst, 1e-4);
      EXPECT_LE(worst, 0.02 * weights_effect);
    }
  }
}

// The gate sums are exact: every panel width, one to many groups, activations at the extremes of
// their range (where a partial sum would leave int32 without activation_limit's bound), against
// 64-bit sums.
alignas(64) std::int8_t g_panel[6 * 64 * 40];
alignas(64) std::int32_t g_row_sums[96], g_sums[96];
std::uint8_t g_high[160], g_low[160];
std::int16_t g_values[160];

EDGELSTM_TEST(PackedInt8, GateSumsAreExactIntegers) {
  for (std::size_t v = 1; v <= 6; ++v) {
    for (std::size_t groups : {std::size_t{1}, std::size_t{7}, std::size_t{40}}) {
      const std::size_t cols = 4 * groups, rows = 16 * v;
      const std::int32_t limit = edgelstm::detail::activation_limit(cols);
      edgelstm::Random random(v * 100 + groups);
      for (std::size_t k = 0; k < groups * v * 64; ++k) {
        // Mostly the extremes -127 and 127, so the sums reach their bound.
        const std::uint32_t draw = random.next_u32() % 4;
        g_panel[k] = static_cast<std::int8_t>(draw == 0 ? -127 : draw == 1 ? 127 : static_cast<int>(random.next_u32() % 255) - 127);
      }
      for (std::size_t k = 0; k < cols; ++k) {
        const std::uint32_t draw = random.next_u32() % 3;
        const std::int32_t a = draw == 0 ? limit : draw == 1 ? -limit : static_cast<std::int32_t>(random.next_u32() % 65535) % (limit + 1);
        g_values[k] = static_cast<std::int16_t>(a);
        g_high[k] = static_cast<std::uint8_t>((a >> 8) + 128);
        g_low[k] = static_cast<std::uint8_t>(a & 255);
      }
      for (std::size_t r = 0; r < rows; ++r) {
        std::int32_t sum = 0;
        for (std::size_t k = 0; k < cols; ++k) sum += g_panel[(k / 4) * 64 * v + (r / 16) * 64 + (r % 16) * 4 + k % 4];
        g_row_sums[r] = sum;
      }
      edgelstm::detail::panel_int8_sums_any(v, g_panel, groups, {g_high, g_low, g_values}, g_row_sums, g_sums);
      for (std::size_t r = 0; r < rows; ++r) {
        std::int64_t exact = 0;
        for (std::size_t k = 0; k < cols; ++k) {
          exact += static_cast<std::int64_t>(g_panel[(k / 4) * 64 * v + (r / 16) * 64 + (r % 16) * 4 + k % 4]) * g_values[k];
        }
        if (exact != g_sums[r]) {
          std::printf("%s: V %zu groups %zu row %zu: %ld, expected %ld\n", edgelstm::int8_kernel_variant(), v, groups, r,
                      static_cast<long>(g_sums[r]), static_cast<long>(exact));
        }
        EXPECT_TRUE(exact == g_sums[r]);
      }
    }
  }
}

// Two networks bound to the same weights, fed the same stream, agree bit for bit; so does one
// network run again from a reset state.
EDGELSTM_TEST(PackedInt8, BitIdenticalRunToRun) {
  const edgelstm::LstmSpec spec = kRunToRunSpec;
  Quantized q;
  edgelstm::PackedInt8Network first, second;
  ASSERT_OK(bind_two(9, &q, first, second));
  const std::size_t in = spec.input_size;
  float x[7], y1[1], y2[1], y3[200];
  for (std::size_t t = 0; t < 200; ++t) {
    edgelstm::test::fill_uniform(x, in, 700 + t, 2.0f);
    ASSERT_OK(first.step({x, in}, y1));
    ASSERT_OK(second.step({x, in}, y2));
    EXPECT_TRUE(std::memcmp(y1, y2, sizeof y1) == 0);
    y3[t] = y1[0];
  }
  EXPECT_TRUE(std::memcmp(first.hidden_state(0).data(), second.hidden_state(0).data(), spec.hidden(0) * sizeof(float)) == 0);
  EXPECT_TRUE(std::memcmp(first.cell_state(0).data(), second.cell_state(0).data(), spec.hidden(0) * sizeof(float)) == 0);
  first.reset_state();
  for (std::size_t t = 0; t < 200; ++t) {
    edgelstm::test::fill_uniform(x, in, 700 + t, 2.0f);
    ASSERT_OK(first.step({x, in}, y1));
    EXPECT_TRUE(std::memcmp(y1, &y3[t], sizeof y1) == 0);
  }
}

// The panels run last to first every other step: a network one step ahead in that alternation
// gives the same bits from a reset state; and a network given another's state by set_state
// continues its stream bit for bit (what set_state refuses, it refuses without a change).
EDGELSTM_TEST(PackedInt8, PanelOrderAndSetStateChangeNoBit) {
  const edgelstm::LstmSpec spec = kRunToRunSpec;
  Quantized q;
  edgelstm::PackedInt8Network a, b;
  ASSERT_OK(bind_two(13, &q, a, b));
  const std::size_t in = spec.input_size, hidden = spec.hidden(0);
  float x[7], y_a[1], y_b[1];
  edgelstm::test::fill_uniform(x, in, 31, 1.0f);
  ASSERT_OK(b.step({x, in}, y_b));
  b.reset_state();
  bool same = true;
  for (std::size_t t = 0; t < 25; ++t) {
    edgelstm::test::fill_uniform(x, in, 900 + t, 1.5f);
    ASSERT_OK(a.step({x, in}, y_a));
    ASSERT_OK(b.step({x, in}, y_b));
    same = same && std::memcmp(y_a, y_b, sizeof y_a) == 0;
  }
  EXPECT_TRUE(same);
  // b takes a's state (reset first, so that the copy is what makes them equal) ...
  b.reset_state();
  EXPECT_TRUE(b.hidden_state(0)[3] == 0.0f && a.hidden_state(0)[3] != 0.0f);
  ASSERT_OK(b.set_state(0, a.hidden_state(0), a.cell_state(0)));
  for (std::size_t t = 0; t < 25; ++t) {
    edgelstm::test::fill_uniform(x, in, 950 + t, 1.5f);
    ASSERT_OK(a.step({x, in}, y_a));
    ASSERT_OK(b.step({x, in}, y_b));
    EXPECT_TRUE(std::memcmp(y_a, y_b, sizeof y_a) == 0);
  }
  EXPECT_TRUE(std::memcmp(a.cell_state(0).data(), b.cell_state(0).data(), hidden * sizeof(float)) == 0);
  // ... and refuses a layer the spec does not have, or spans of another size.
  EXPECT_STATUS(b.set_state(1, a.hidden_state(0), a.cell_state(0)), edgelstm::Status::kInvalidArgument);
  EXPECT_STATUS(b.set_state(0, a.hidden_state(0).subspan(0, hidden - 1), a.cell_state(0)), edgelstm::Status::kInvalidArgument);
  edgelstm::PackedInt8Network unbound;
  EXPECT_STATUS(unbound.set_state(0, a.hidden_state(0), a.cell_state(0)), edgelstm::Status::kNotBound);
  EXPECT_TRUE(unbound.hidden_state(0).size() == 0 && b.cell_state(1).size() == 0);
}

// A quantized model file binds as the same layers do; every byte past packed_int8_inference_bytes
// stays untouched and the last planned bytes are used.
alignas(16) std::uint8_t g_model_file[32 * 1024];

EDGELSTM_TEST(PackedInt8, BindsAModelFileAndUsesExactlyItsBytes) {
  const edgelstm::LstmSpec spec = edgelstm::make_spec(2, 8, 1, 1, 4);
  Quantized q;
  ASSERT_OK(make_quantized(spec, ScaleGranularity::kRow, 21, &q));
  const QuantizedMatrix* matrices[3] = {&q.layers[0].weight_ih, &q.layers[0].weight_hh, &q.head};
  const char* names[3] = {"lstm.weight_ih_l0", "lstm.weight_hh_l0", "head.weight"};
  const char* scale_names[3] = {"lstm.weight_ih_l0.scale", "lstm.weight_hh_l0.scale", "head.weight.scale"};
  edgelstm::ModelTensor tensors[9];
  for (int m = 0; m < 3; ++m) {
    const QuantizedMatrix& matrix = *matrices[m];
    tensors[m == 2 ? 3 : m] = edgelstm::ModelTensor{names[m], edgelstm::TensorType::kInt8, matrix.data,
                                                    static_cast<std::uint32_t>(matrix.rows * matrix.cols),
                                                    static_cast<std::uint32_t>(matrix.cols)};
    tensors[5 + m] = edgelstm::ModelTensor{scale_names[m], edgelstm::TensorType::kFloat32, matrix.scales,
                                           static_cast<std::uint32_t>(matrix.rows), 0};
  }
  tensors[2] = edgelstm::ModelTensor{"lstm.bias_l0", edgelstm::TensorType::kInt16, q.layers[0].bias.data, 32, 1};
  tensors[4] = edgelstm::ModelTensor{"head.bias", edgelstm::TensorType::kFloat32, q.head_bias, 1, 0};
  tensors[8] = edgelstm::ModelTensor{"lstm.bias_l0.scale", edgelstm::TensorType::kFloat32, q.layers[0].bias.scales, 1, 0};
  std::size_t size = 0;
  ASSERT_OK(edgelstm::write_model_tensors(spec, WeightFormat::kInt8, edgelstm::Span<const edgelstm::ModelTensor>(tensors, 9),
                                          g_model_file, &size));
  edgelstm::ModelView view;
  ASSERT_OK(edgelstm::read_model(edgelstm::Span<const std::uint8_t>(g_model_file, size), &view));
  const std::size_t bytes = edgelstm::packed_int8_inference_bytes(spec);
  ASSERT_TRUE(bytes > 0 && bytes + 64 <= sizeof g_second_arena);
  std::memset(g_second_arena, 0xA5, sizeof g_second_arena);
  edgelstm::PackedInt8Network from_file, direct;
  ASSERT_OK(from_file.bind(view, edgelstm::Span<std::uint8_t>(g_second_arena, bytes)));
  EXPECT_EQ_INT(from_file.bytes_used(), bytes);
  ASSERT_OK(bind_int8(spec, q, direct));
  float x[8], y_file[1], y_direct[1];
  edgelstm::test::fill_uniform(x, 8, 22, 1.0f);
  ASSERT_OK(from_file.forward(x, y_file));
  ASSERT_OK(direct.forward(x, y_direct));
  EXPECT_TRUE(y_file[0] == y_direct[0]);
  for (std::size_t k = bytes; k < bytes + 64; ++k) EXPECT_TRUE(g_second_arena[k] == 0xA5);
  // The last region (the head's bias) was written.
  const float* head = reinterpret_cast<const float*>(g_second_arena + edgelstm::detail::plan_packed_int8(spec).head);
  EXPECT_TRUE(head[spec.output_size * spec.top_hidden()] == q.head_bias[0]);
}

// What it cannot run is refused, and a refused step leaves the state: other weight formats, shapes
// that do not match the spec, a small or misaligned arena, wrong sizes, a NaN input, no binding.
EDGELSTM_TEST(PackedInt8, RefusesWhatItCannotRun) {
  const edgelstm::LstmSpec spec = edgelstm::make_spec(2, 8, 1, 1, 4);
  Quantized q;
  ASSERT_OK(make_quantized(spec, ScaleGranularity::kTensor, 3, &q));
  edgelstm::PackedInt8Network net;
  float x[2] = {0.5f, -0.5f}, y[1];
  EXPECT_STATUS(net.step(x, y), edgelstm::Status::kNotBound);
  const edgelstm::Span<const edgelstm::HybridLayer> layers(q.layers, 1);
  const std::size_t bytes = edgelstm::packed_int8_inference_bytes(spec);
  EXPECT_STATUS(net.bind(spec, layers, q.head, q.head_bias, edgelstm::Span<std::uint8_t>(g_packed_arena, bytes - 1)),
                edgelstm::Status::kBufferTooSmall);
  EXPECT_STATUS(net.bind(spec, layers, q.head, q.head_bias, edgelstm::Span<std::uint8_t>(g_packed_arena + 16, bytes)),
                edgelstm::Status::kMisalignedBuffer);
  edgelstm::HybridLayer int4 = q.layers[0];
  int4.weight_hh.format = WeightFormat::kInt4;
  EXPECT_STATUS(net.bind(spec, edgelstm::Span<const edgelstm::HybridLayer>(&int4, 1), q.head, q.head_bias,
                         edgelstm::Span<std::uint8_t>(g_packed_arena, bytes)),
                edgelstm::Status::kInvalidArgument);
  edgelstm::HybridLayer narrow = q.layers[0];
  narrow.weight_ih.cols = 1;
  EXPECT_STATUS(net.bind(spec, edgelstm::Span<const edgelstm::HybridLayer>(&narrow, 1), q.head, q.head_bias,
                         edgelstm::Span<std::uint8_t>(g_packed_arena, bytes)),
                edgelstm::Status::kInvalidArgument);
  EXPECT_TRUE(!net.bound());
  ASSERT_OK(net.bind(spec, layers, q.head, q.head_bias, edgelstm::Span<std::uint8_t>(g_packed_arena, bytes)));
  ASSERT_OK(net.step(x, y));
  float h[8];
  std::memcpy(h, net.hidden_state(0).data(), sizeof h);
  float bad[2] = {0.5f, NAN};
  EXPECT_STATUS(net.step(bad, y), edgelstm::Status::kNonFinite);
  EXPECT_STATUS(net.step(edgelstm::Span<const float>(x, 1), y), edgelstm::Status::kInvalidArgument);
  EXPECT_TRUE(std::memcmp(h, net.hidden_state(0).data(), sizeof h) == 0);
  EXPECT_TRUE(net.hidden_state(1).empty());
}

}  // namespace
