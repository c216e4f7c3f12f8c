// Weight quantization and the hybrid (weight-only) network.
#include <cstdint>
#include <cstring>

#include "edgelstm/edgelstm.h"
#include "support/micro_test.h"
#include "support/test_util.h"

namespace {

using edgelstm::QuantizedMatrix;
using edgelstm::ScaleGranularity;
using edgelstm::WeightFormat;

const WeightFormat kFormats[] = {WeightFormat::kInt16, WeightFormat::kInt8, WeightFormat::kInt4};
const ScaleGranularity kGranularities[] = {ScaleGranularity::kTensor, ScaleGranularity::kRow};

float g_w[40 * 33], g_x[33], g_y[40], g_y_odd[40], g_scales[40];
alignas(4) std::uint8_t g_q[40 * 33 * 2];
alignas(4) std::uint8_t g_q_shifted[40 * 33 * 2 + 1];

EDGELSTM_TEST(Quantize, RoundTripErrorIsAtMostHalfAStep) {
  const std::size_t rows = 40, cols = 33;  // odd column count: int4 rows end in a half byte
  edgelstm::test::fill_uniform(g_w, rows * cols, 1, 0.5f);
  for (std::size_t k = 0; k < cols; ++k) g_w[7 * cols + k] *= 0.01f;  // a row much smaller than the rest
  for (WeightFormat format : kFormats) {
    for (ScaleGranularity granularity : kGranularities) {
      edgelstm::quantize_matrix(g_w, rows, cols, format, granularity, g_q, g_scales);
      const QuantizedMatrix m{format, granularity, g_q, g_scales, rows, cols};
      double worst = 0;
      bool in_range = true;
      for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t k = 0; k < cols; ++k) {
          const int q = m.value(r, k);
          in_range = in_range && q <= edgelstm::quantization_max(format) && q >= -edgelstm::quantization_max(format);
          worst = std::fmax(worst, std::fabs(q * m.scale(r) - g_w[r * cols + k]) / m.scale(r));
        }
      }
      EXPECT_TRUE(in_range);
      EXPECT_LE(worst, 0.5 + 1e-4);
    }
  }
  // Per-row scales keep the small row's resolution; a per-tensor int4 scale rounds it to zero.
  edgelstm::quantize_matrix(g_w, rows, cols, WeightFormat::kInt4, ScaleGranularity::kTensor, g_q, g_scales);
  const QuantizedMatrix tensor{WeightFormat::kInt4, ScaleGranularity::kTensor, g_q, g_scales, rows, cols};
  int nonzero = 0;
  for (std::size_t k = 0; k < cols; ++k) nonzero += tensor.value(7, k) != 0 ? 1 : 0;
  EXPECT_EQ_INT(nonzero, 0);
  edgelstm::quantize_matrix(g_w, rows, cols, WeightFormat::kInt4, ScaleGranularity::kRow, g_q, g_scales);
  const QuantizedMatrix row{WeightFormat::kInt4, ScaleGranularity::kRow, g_q, g_scales, rows, cols};
  nonzero = 0;
  for (std::size_t k = 0; k < cols; ++k) nonzero += row.value(7, k) != 0 ? 1 : 0;
  EXPECT_TRUE(nonzero > static_cast<int>(cols / 2));
}

// Weights at the ends of the float range (a model file's values dequantized, a sum of two biases
// that overflows) quantize to scales whose q_max * scale is still finite: the dequantized matrix
// never holds an Inf, and the file saved with these scales loads again.
EDGELSTM_TEST(Quantize, ExtremeWeightsDequantizeToFiniteValues) {
  const float largest = 3.40282347e38f;  // FLT_MAX
  const std::size_t rows = 3, cols = 5;
  for (WeightFormat format : kFormats) {
    for (ScaleGranularity granularity : kGranularities) {
      for (std::size_t k = 0; k < rows * cols; ++k) g_w[k] = (k % 2 == 0 ? 1.0f : -1.0f) * (k % 3 == 0 ? largest : 2.5e38f);
      edgelstm::quantize_matrix(g_w, rows, cols, format, granularity, g_q, g_scales);
      const QuantizedMatrix m{format, granularity, g_q, g_scales, rows, cols};
      bool finite = true;
      double worst = 0;
      for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t k = 0; k < cols; ++k) {
          const float dequantized = static_cast<float>(m.value(r, k)) * m.scale(r);
          finite = finite && dequantized - dequantized == 0.0f;
          worst = std::fmax(worst, std::fabs(static_cast<double>(dequantized) - g_w[r * cols + k]) / m.scale(r));
        }
      }
      EXPECT_TRUE(finite);
      EXPECT_LE(worst, 0.5 + 1e-4);  // still within half a step of every weight
      for (std::size_t k = 0; k < rows * cols; ++k) g_w[k] = (k % 2 == 0 ? 1.0f : -1.0f) * largest;
      edgelstm::fake_quantize_matrix(g_w, rows, cols, format, granularity);
      for (std::size_t k = 0; k < rows * cols; ++k) finite = finite && g_w[k] - g_w[k] == 0.0f;
      EXPECT_TRUE(finite);
    }
  }
  // bias_ih + bias_hh overflows to Inf: the int16 sum saturates at the largest finite value.
  float bias_ih[2] = {largest, -largest}, bias_hh[2] = {largest, -largest}, scale = 0.0f;
  edgelstm::quantize_fused_bias(bias_ih, bias_hh, 2, g_q, &scale);
  const QuantizedMatrix bias{WeightFormat::kInt16, ScaleGranularity::kTensor, g_q, &scale, 2, 1};
  const float high = static_cast<float>(bias.value(0, 0)) * scale, low = static_cast<float>(bias.value(1, 0)) * scale;
  EXPECT_TRUE(high - high == 0.0f && low - low == 0.0f);
  EXPECT_TRUE(high > 3.4e38f && low < -3.4e38f);
  edgelstm::fake_quantize_fused_bias(bias_ih, bias_hh, 2);
  EXPECT_TRUE(bias_ih[0] > 3.4e38f && bias_ih[0] - bias_ih[0] == 0.0f && bias_hh[0] == 0.0f);
}

EDGELSTM_TEST(Quantize, HybridKernelEqualsTheDequantizedMatrix) {
  const std::size_t rows = 40, cols = 33;
  edgelstm::test::fill_uniform(g_w, rows * cols, 2, 1.0f);
  edgelstm::test::fill_uniform(g_x, cols, 3, 1.0f);
  for (WeightFormat format : kFormats) {
    for (ScaleGranularity granularity : kGranularities) {
      edgelstm::quantize_matrix(g_w, rows, cols, format, granularity, g_q, g_scales);
      const QuantizedMatrix m{format, granularity, g_q, g_scales, rows, cols};
      for (float& v : g_y) v = 0.25f;
      edgelstm::matvec_accumulate_quantized(m, g_x, g_y);
      double worst = 0;
      for (std::size_t r = 0; r < rows; ++r) {
        double sum = 0.25, magnitude = 0.25;
        for (std::size_t k = 0; k < cols; ++k) {
          sum += static_cast<double>(m.value(r, k)) * m.scale(r) * g_x[k];
          magnitude += std::fabs(static_cast<double>(m.value(r, k)) * m.scale(r) * g_x[k]);
        }
        worst = std::fmax(worst, std::fabs(g_y[r] - sum) / magnitude);
      }
      EXPECT_LE(worst, 1e-6);
      // The same weights at an odd address (int16 rows then take the byte-wise loads instead of
      // 16-bit ones): the same sums, bit for bit.
      std::memcpy(g_q_shifted + 1, g_q, edgelstm::quantized_row_bytes(format, cols) * rows);
      const QuantizedMatrix shifted{format, granularity, g_q_shifted + 1, g_scales, rows, cols};
      for (float& v : g_y_odd) v = 0.25f;
      edgelstm::matvec_accumulate_quantized(shifted, g_x, g_y_odd);
      EXPECT_TRUE(std::memcmp(g_y, g_y_odd, sizeof g_y) == 0);
    }
  }
}

// A hybrid network computes what a float network with the dequantized weights computes.
alignas(16) std::uint8_t g_float_arena[64 * 1024];
alignas(16) std::uint8_t g_state[4096];
std::uint8_t g_storage[64 * 1024];
float g_scale_storage[2048];

EDGELSTM_TEST(Quantize, HybridNetworkMatchesFloatNetworkWithDequantizedWeights) {
  auto spec = edgelstm::make_spec(3, 12, 2, 2, 5, edgelstm::Task::kRegression, edgelstm::OutputMode::kEveryStep);
  spec.hidden_size[1] = 9;
  for (WeightFormat format : kFormats) {
    for (ScaleGranularity granularity : kGranularities) {
      edgelstm::Network reference;
      ASSERT_OK(reference.bind_inference(spec, g_float_arena));
      ASSERT_OK(reference.initialize(11));
      edgelstm::HybridLayer layers[2];
      std::uint8_t* storage = g_storage;
      float* scales = g_scale_storage;
      // Quantizes a float matrix of the reference, then writes the dequantized values back into it.
      auto quantize = [&](edgelstm::Span<float> w, std::size_t rows, std::size_t cols) {
        QuantizedMatrix m{format, granularity, storage, scales, rows, cols};
        edgelstm::quantize_matrix(w.data(), rows, cols, format, granularity, storage, scales);
        storage += rows * edgelstm::quantized_row_bytes(format, cols);
        scales += edgelstm::scale_count(granularity, rows);
        for (std::size_t r = 0; r < rows; ++r) {
          for (std::size_t k = 0; k < cols; ++k) w[r * cols + k] = static_cast<float>(m.value(r, k)) * m.scale(r);
        }
        return m;
      };
      for (std::size_t l = 0; l < 2; ++l) {
        const edgelstm::LstmLayerParameters<float> p = reference.layer_parameters(l);
        const std::size_t rows = 4 * spec.hidden(l);
        layers[l].weight_ih = quantize(p.weight_ih, rows, spec.layer_input(l));
        layers[l].weight_hh = quantize(p.weight_hh, rows, spec.hidden(l));
        // The two biases as one int16 vector; the reference gets its dequantized sum (and zero).
        edgelstm::quantize_fused_bias(p.bias_ih.data(), p.bias_hh.data(), rows, storage, scales);
        layers[l].bias = QuantizedMatrix{WeightFormat::kInt16, ScaleGranularity::kTensor, storage, scales, rows, 1};
        for (std::size_t r = 0; r < rows; ++r) {
          p.bias_ih[r] = static_cast<float>(layers[l].bias.value(r, 0)) * scales[0];
          p.bias_hh[r] = 0.0f;
        }
        storage += 2 * rows;
        scales += 1;
      }
      const QuantizedMatrix head = quantize(reference.head_weight(), 2, 9);
      edgelstm::HybridNetwork hybrid;
      ASSERT_OK(hybrid.bind(spec, edgelstm::Span<const edgelstm::HybridLayer>(layers, 2), head,
                            reference.head_bias().data(),
                            edgelstm::Span<std::uint8_t>(g_state, edgelstm::inference_in_place_bytes(spec))));
      float x[15], y_float[10], y_hybrid[10];
      edgelstm::test::fill_uniform(x, 15, 12, 1.0f);
      ASSERT_OK(reference.forward(x, y_float));
      ASSERT_OK(hybrid.forward(x, y_hybrid));
      EXPECT_LE(edgelstm::test::max_relative_error(y_hybrid, y_float, 10), 1e-5);
    }
  }
}

EDGELSTM_TEST(Quantize, HybridNetworkRejectsMismatchedShapes) {
  const auto spec = edgelstm::make_spec(2, 4, 1, 1, 3);
  edgelstm::HybridLayer layer;
  const float bias[16] = {};
  layer.weight_ih = QuantizedMatrix{WeightFormat::kInt8, ScaleGranularity::kRow, g_q, g_scales, 16, 3};  // input is 2
  layer.weight_hh = QuantizedMatrix{WeightFormat::kInt8, ScaleGranularity::kRow, g_q, g_scales, 16, 4};
  layer.bias = QuantizedMatrix{WeightFormat::kInt16, ScaleGranularity::kTensor, g_q, g_scales, 16, 1};
  const QuantizedMatrix head{WeightFormat::kInt8, ScaleGranularity::kRow, g_q, g_scales, 1, 4};
  edgelstm::HybridNetwork hybrid;
  EXPECT_STATUS(hybrid.bind(spec, edgelstm::Span<const edgelstm::HybridLayer>(&layer, 1), head, bias, g_state),
                edgelstm::Status::kInvalidArgument);
  layer.weight_ih.cols = 2;
  layer.bias.rows = 15;  // the bias must have 4H rows
  EXPECT_STATUS(hybrid.bind(spec, edgelstm::Span<const edgelstm::HybridLayer>(&layer, 1), head, bias, g_state),
                edgelstm::Status::kInvalidArgument);
  layer.bias.rows = 16;
  EXPECT_OK(hybrid.bind(spec, edgelstm::Span<const edgelstm::HybridLayer>(&layer, 1), head, bias, g_state));
}

}  // namespace

namespace {

// A quantized model file: written with write_model_tensors, read with read_model, bound by
// HybridNetwork::bind(view); the same outputs as a HybridNetwork bound to the same matrices.
alignas(16) std::uint8_t g_model_file[32 * 1024];
alignas(16) std::uint8_t g_state2[4096];
std::uint8_t g_weights[16 * 1024];
float g_weight_scales[512];
float g_params[4096];

EDGELSTM_TEST(Quantize, QuantizedModelFileBindsInPlaceAndIsChecked) {
  const auto spec = edgelstm::make_spec(2, 8, 1, 1, 4);
  edgelstm::Network net;
  ASSERT_OK(net.bind_inference(spec, g_float_arena));
  ASSERT_OK(net.initialize(21));
  const edgelstm::Span<const float> params = static_cast<const edgelstm::Network&>(net).parameters();
  std::memcpy(g_params, params.data(), params.size() * sizeof(float));
  // Parameter tensors of a quantized file: weight_ih [32 x 2], weight_hh [32 x 8], the fused int16
  // bias [32 x 1], head [1 x 8], head bias (float); then the four scales.
  const std::size_t rows[3] = {32, 32, 1}, cols[3] = {2, 8, 8}, offsets[3] = {0, 64, 64 + 256 + 64};
  const char* names[3] = {"lstm.weight_ih_l0", "lstm.weight_hh_l0", "head.weight"};
  const char* scale_names[3] = {"lstm.weight_ih_l0.scale", "lstm.weight_hh_l0.scale", "head.weight.scale"};
  edgelstm::ModelTensor tensors[9];
  QuantizedMatrix matrices[3];
  std::uint8_t* data = g_weights;
  float* scales = g_weight_scales;
  for (int m = 0; m < 3; ++m) {
    edgelstm::quantize_matrix(g_params + offsets[m], rows[m], cols[m], WeightFormat::kInt4, ScaleGranularity::kRow, data, scales);
    matrices[m] = QuantizedMatrix{WeightFormat::kInt4, ScaleGranularity::kRow, data, scales, rows[m], cols[m]};
    edgelstm::ModelTensor& t = tensors[m == 2 ? 3 : m];
    t.name = names[m];
    t.type = edgelstm::TensorType::kInt4;
    t.data = data;
    t.count = static_cast<std::uint32_t>(rows[m] * cols[m]);
    t.cols = static_cast<std::uint32_t>(cols[m]);
    edgelstm::ModelTensor& s = tensors[5 + m];
    s.name = scale_names[m];
    s.data = scales;
    s.count = static_cast<std::uint32_t>(rows[m]);
    data += rows[m] * edgelstm::quantized_row_bytes(WeightFormat::kInt4, cols[m]);
    scales += rows[m];
  }
  float bias_scale = 0;
  edgelstm::quantize_fused_bias(g_params + 320, g_params + 352, 32, data, &bias_scale);
  const QuantizedMatrix bias{WeightFormat::kInt16, ScaleGranularity::kTensor, data, &bias_scale, 32, 1};
  tensors[2] = edgelstm::ModelTensor{"lstm.bias_l0", edgelstm::TensorType::kInt16, data, 32, 1};
  tensors[4] = edgelstm::ModelTensor{"head.bias", edgelstm::TensorType::kFloat32, g_params + 392, 1, 0};
  tensors[8] = edgelstm::ModelTensor{"lstm.bias_l0.scale", edgelstm::TensorType::kFloat32, &bias_scale, 1, 0};
  const edgelstm::Span<const edgelstm::ModelTensor> all(tensors, 9);
  std::size_t size = 0;
  ASSERT_OK(edgelstm::write_model_tensors(spec, WeightFormat::kInt4, all, g_model_file, &size));
  EXPECT_EQ_INT(size, edgelstm::model_file_bytes(all));
  // The float weights and the int4 ones of the wrong format are refused by the writer.
  EXPECT_STATUS(edgelstm::write_model_tensors(spec, WeightFormat::kInt8, all, g_model_file, &size),
                edgelstm::Status::kInvalidArgument);
  ASSERT_OK(edgelstm::write_model_tensors(spec, WeightFormat::kInt4, all, g_model_file, &size));

  edgelstm::ModelView view;
  ASSERT_OK(edgelstm::read_model(edgelstm::Span<const std::uint8_t>(g_model_file, size), &view));
  EXPECT_TRUE(view.weight_format() == WeightFormat::kInt4 && view.parameters().empty());
  edgelstm::HybridNetwork from_file, direct;
  const std::size_t arena = edgelstm::inference_in_place_bytes(spec);
  ASSERT_OK(from_file.bind(view, edgelstm::Span<std::uint8_t>(g_state2, arena)));
  edgelstm::HybridLayer layer{matrices[0], matrices[1], bias};
  ASSERT_OK(direct.bind(spec, edgelstm::Span<const edgelstm::HybridLayer>(&layer, 1), matrices[2], g_params + 392,
                        edgelstm::Span<std::uint8_t>(g_state, arena)));
  float x[8], y_file[1], y_direct[1];
  edgelstm::test::fill_uniform(x, 8, 22, 1.0f);
  ASSERT_OK(from_file.forward(x, y_file));
  ASSERT_OK(direct.forward(x, y_direct));
  EXPECT_TRUE(y_file[0] == y_direct[0]);
  // A window with a NaN in its last step is refused before its first step, so the state stays:
  // the next window gives the same output on both networks.
  float poisoned[8];
  for (int k = 0; k < 8; ++k) poisoned[k] = x[k];
  poisoned[7] = NAN;
  EXPECT_STATUS(direct.forward(poisoned, y_direct), edgelstm::Status::kNonFinite);
  ASSERT_OK(from_file.forward(x, y_file));
  ASSERT_OK(direct.forward(x, y_direct));
  EXPECT_TRUE(y_file[0] == y_direct[0]);

  // Re-seals the checksum after an edit, so the structure is what gets tested.
  const auto reseal = [&] {
    const std::uint32_t crc = edgelstm::crc32_update(0, g_model_file + 20, size - 20);
    for (int k = 0; k < 4; ++k) g_model_file[16 + k] = static_cast<std::uint8_t>(crc >> (8 * k));
  };
  // Quantized files are version 2; version 1's quantized layout (two float biases) is gone: such a
  // file is refused as a version.
  EXPECT_EQ_INT(g_model_file[8], 2);
  g_model_file[8] = 1;
  reseal();
  EXPECT_STATUS(edgelstm::read_model(edgelstm::Span<const std::uint8_t>(g_model_file, size), &view),
                edgelstm::Status::kUnsupportedVersion);
  g_model_file[8] = 2;
  reseal();
  ASSERT_OK(edgelstm::read_model(edgelstm::Span<const std::uint8_t>(g_model_file, size), &view));
  // A NaN or Inf scale is refused even with a valid CRC (the weights it scales would be NaN).
  const char* const scaled_tensors[] = {"lstm.weight_hh_l0.scale", "lstm.bias_l0.scale", "head.bias"};
  for (const char* name : scaled_tensors) {
    edgelstm::ModelTensor scale;
    ASSERT_OK(view.tensor(name, &scale));
    auto* bytes = const_cast<std::uint8_t*>(static_cast<const std::uint8_t*>(scale.data));
    std::uint8_t kept[4];
    std::memcpy(kept, bytes, 4);
    std::memcpy(bytes, "\x00\x00\x80\x7F", 4);  // +Inf
    reseal();
    EXPECT_STATUS(edgelstm::read_model(edgelstm::Span<const std::uint8_t>(g_model_file, size), &view),
                  edgelstm::Status::kNonFiniteModel);
    std::memcpy(bytes, kept, 4);
    reseal();
    ASSERT_OK(edgelstm::read_model(edgelstm::Span<const std::uint8_t>(g_model_file, size), &view));
  }
  // A cols field that does not match the spec: refused.
  const std::size_t entry = edgelstm::kModelHeaderBytes + 1 * edgelstm::kModelTableEntryBytes;  // weight_hh
  g_model_file[entry + 44] = 4;
  const std::uint32_t crc = edgelstm::crc32_update(0, g_model_file + 20, size - 20);
  for (int k = 0; k < 4; ++k) g_model_file[16 + k] = static_cast<std::uint8_t>(crc >> (8 * k));
  EXPECT_STATUS(edgelstm::read_model(edgelstm::Span<const std::uint8_t>(g_model_file, size), &view),
                edgelstm::Status::kMalformedModel);
}

}  // namespace

// ---- Quantization-aware training -------------------------------------------------------------

alignas(16) std::uint8_t g_qat_arena[96 * 1024];
alignas(16) std::uint8_t g_reference_arena[96 * 1024];
float g_master[4096], g_before[4096], g_expected[4096];

EDGELSTM_TEST(Quantize, FakeQuantizedWeightsEqualTheDequantizedMatrix) {
  const std::size_t rows = 40, cols = 33;
  for (WeightFormat format : kFormats) {
    for (ScaleGranularity granularity : kGranularities) {
      edgelstm::test::fill_uniform(g_w, rows * cols, 31, 0.7f);
      for (std::size_t k = 0; k < cols; ++k) g_w[5 * cols + k] = 0.0f;  // an all-zero row
      edgelstm::quantize_matrix(g_w, rows, cols, format, granularity, g_q, g_scales);
      const QuantizedMatrix m{format, granularity, g_q, g_scales, rows, cols};
      edgelstm::fake_quantize_matrix(g_w, rows, cols, format, granularity);
      int differ = 0;
      for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t k = 0; k < cols; ++k) differ += g_w[r * cols + k] != m.value(r, k) * m.scale(r) ? 1 : 0;
      }
      EXPECT_EQ_INT(differ, 0);
      // Idempotent: quantized weights are their own quantization.
      std::memcpy(g_master, g_w, sizeof(float) * rows * cols);
      edgelstm::fake_quantize_matrix(g_w, rows, cols, format, granularity);
      EXPECT_TRUE(std::memcmp(g_master, g_w, sizeof(float) * rows * cols) == 0);
    }
  }
}

// A quantization-aware step takes the gradient of the network whose weight matrices are
// fake-quantized (an independent float network holding those weights gives the same gradient) and
// applies it to the float weights: w_after = w_before - lr * gradient (SGD).
EDGELSTM_TEST(Quantize, QuantizationAwareStepAppliesTheQuantizedNetworksGradientToFloatWeights) {
  auto spec = edgelstm::make_spec(3, 12, 2, 2, 5, edgelstm::Task::kRegression, edgelstm::OutputMode::kEveryStep);
  spec.hidden_size[1] = 9;
  edgelstm::TrainConfig config;
  config.learning_rate = 0.05f;
  config.clip_norm = 0.0f;  // no clipping: the update is exactly lr * gradient
  float x[15], targets[10];
  edgelstm::test::fill_uniform(x, 15, 41, 1.0f);
  edgelstm::test::fill_uniform(targets, 10, 42, 1.0f);
  for (WeightFormat format : kFormats) {
    for (ScaleGranularity granularity : kGranularities) {
      const edgelstm::FakeQuantization fq{format, granularity};
      edgelstm::Network qat, reference;
      const std::size_t bytes = edgelstm::train_bytes(spec, config.optimizer);
      ASSERT_OK(qat.bind_training(spec, config, edgelstm::Span<std::uint8_t>(g_qat_arena, bytes)));
      ASSERT_OK(reference.bind_training(spec, config, edgelstm::Span<std::uint8_t>(g_reference_arena, bytes)));
      ASSERT_OK(qat.initialize(43));
      const std::size_t count = qat.parameters().size();
      ASSERT_TRUE(count <= 4096);
      std::memcpy(g_before, qat.parameters().data(), sizeof(float) * count);
      std::memcpy(reference.parameters().data(), g_before, sizeof(float) * count);
      ASSERT_OK(edgelstm::fake_quantize_weights(reference, fq));
      // The quantized copy: matrices rounded; the biases as a quantized model file stores them, their
      // int16 sum in bias_ih (within half a step of the float sum) and 0 in bias_hh.
      const edgelstm::LstmLayerParameters<float> p = reference.layer_parameters(0);
      const std::size_t bias_at = static_cast<std::size_t>(p.bias_ih.data() - reference.parameters().data());
      double largest_sum = 0, worst_sum = 0;
      int nonzero_hh = 0;
      for (std::size_t r = 0; r < 48; ++r) {
        const double sum = static_cast<double>(g_before[bias_at + r]) + g_before[bias_at + 48 + r];
        largest_sum = std::fmax(largest_sum, std::fabs(sum));
        worst_sum = std::fmax(worst_sum, std::fabs(p.bias_ih[r] - sum));
        nonzero_hh += p.bias_hh[r] != 0.0f ? 1 : 0;
      }
      EXPECT_LE(worst_sum, 0.5 * largest_sum / 32767 + 1e-7);
      EXPECT_EQ_INT(nonzero_hh, 0);
      EXPECT_TRUE(std::memcmp(reference.parameters().data(), g_before, sizeof(float) * 36) != 0);

      const edgelstm::TrainResult r = edgelstm::train_step_quantization_aware(
          qat, edgelstm::Span<const float>(x, 15), edgelstm::Span<const float>(targets, 10),
          edgelstm::WindowStart::kZeroState, fq, edgelstm::Span<float>(g_master, count));
      ASSERT_OK(r.status);
      const edgelstm::TrainResult expected = reference.train_step(edgelstm::Span<const float>(x, 15), edgelstm::Span<const float>(targets, 10),
                                                                  edgelstm::WindowStart::kZeroState);
      ASSERT_OK(expected.status);
      // The two networks' window outputs are bit for bit equal; their losses come from the same
      // mse_loss, but inlined into two callers.
      const edgelstm::Span<const float> qat_outputs = qat.window_outputs(), reference_outputs = reference.window_outputs();
      ASSERT_TRUE(qat_outputs.size() == reference_outputs.size());
      EXPECT_TRUE(std::memcmp(qat_outputs.data(), reference_outputs.data(), sizeof(float) * qat_outputs.size()) == 0);
#if defined(__FP_FAST_FMAF)
      // Where the CPU fuses multiply-adds (-march=native, Cortex-M4F), GCC may contract d * d + sum
      // into an FMA in one caller and not in the other, so the two losses may differ in their last
      // bits (1 ulp measured; with -ffp-contract=off they are equal).
      EXPECT_LE(std::fabs(static_cast<double>(r.loss) - expected.loss), 4.0 * 1.2e-7 * std::fabs(expected.loss));
#else
      EXPECT_TRUE(r.loss == expected.loss);
#endif
      EXPECT_LE(edgelstm::test::max_relative_error(qat.gradients().data(), reference.gradients().data(), count), 1e-6);
      for (std::size_t k = 0; k < count; ++k) g_expected[k] = g_before[k] - config.learning_rate * reference.gradients()[k];
      EXPECT_LE(edgelstm::test::max_relative_error(qat.parameters().data(), g_expected, count), 1e-6);
      // The float weights stay float: quantizing them again changes them.
      std::memcpy(g_master, qat.parameters().data(), sizeof(float) * count);
      ASSERT_OK(edgelstm::fake_quantize_weights(qat, fq));
      EXPECT_TRUE(std::memcmp(g_master, qat.parameters().data(), sizeof(float) * count) != 0);
    }
  }
}

// Refused quantization-aware steps change nothing: not the float weights (not left quantized),
// not the optimizer's state, not the recurrent state. Two networks run in lockstep; one also gets
// every refused call; afterwards both take the same steps and must agree bit for bit.
alignas(16) std::uint8_t g_twin_arena[96 * 1024];
float g_twin_master[4096];

EDGELSTM_TEST(Quantize, QuantizationAwareStepRefusesBadInputAndKeepsEverything) {
  const auto spec = edgelstm::make_spec(2, 8, 1, 3, 4, edgelstm::Task::kClassification);
  edgelstm::TrainConfig config;
  config.optimizer = edgelstm::OptimizerKind::kAdam;
  config.loss = edgelstm::LossKind::kCrossEntropy;
  const std::size_t bytes = edgelstm::train_bytes(spec, config.optimizer);
  edgelstm::Network net, twin;
  ASSERT_OK(net.bind_training(spec, config, edgelstm::Span<std::uint8_t>(g_qat_arena, bytes)));
  ASSERT_OK(twin.bind_training(spec, config, edgelstm::Span<std::uint8_t>(g_twin_arena, bytes)));
  ASSERT_OK(net.initialize(44));
  ASSERT_OK(twin.initialize(44));
  const std::size_t count = net.parameters().size();
  float x[8];
  edgelstm::test::fill_uniform(x, 8, 45, 1.0f);
  const std::uint16_t label = 2, bad_label = 3;
  const edgelstm::FakeQuantization int4{WeightFormat::kInt4, ScaleGranularity::kRow};
  const edgelstm::Span<float> master(g_master, count);
  auto step = [&](edgelstm::Network& n, std::uint16_t l, const edgelstm::FakeQuantization& fq, edgelstm::Span<float> buffer) {
    return edgelstm::train_step_quantization_aware(n, edgelstm::Span<const float>(x, 8), edgelstm::Span<const std::uint16_t>(&l, 1),
                                                   edgelstm::WindowStart::kCarryState, fq, buffer);
  };
  // One accepted step each: Adam's moments and the carried state are no longer zero.
  ASSERT_OK(step(net, label, int4, master).status);
  ASSERT_OK(step(twin, label, int4, edgelstm::Span<float>(g_twin_master, count)).status);
  std::memcpy(g_before, net.parameters().data(), sizeof(float) * count);

  // Not a quantized format, an unknown granularity, a master buffer of the wrong size, a label out
  // of range, a NaN input, an update that would overflow (found after forward, BPTT and the
  // restore of the float weights): all refused.
  const edgelstm::FakeQuantization float32{WeightFormat::kFloat32, ScaleGranularity::kRow};
  const edgelstm::FakeQuantization unknown{WeightFormat::kInt8, static_cast<ScaleGranularity>(7)};
  EXPECT_STATUS(step(net, label, float32, master).status, edgelstm::Status::kInvalidArgument);
  EXPECT_STATUS(step(net, label, unknown, master).status, edgelstm::Status::kInvalidArgument);
  EXPECT_STATUS(step(net, label, int4, edgelstm::Span<float>(g_master, count - 1)).status, edgelstm::Status::kInvalidArgument);
  EXPECT_STATUS(step(net, bad_label, int4, master).status, edgelstm::Status::kLabelOutOfRange);
  x[3] = NAN;
  EXPECT_STATUS(step(net, label, int4, master).status, edgelstm::Status::kNonFinite);
  x[3] = 0.5f;
  edgelstm::TrainConfig overflow = config;
  overflow.learning_rate = 3.4e38f;  // about FLT_MAX
  overflow.beta1 = 0.0;  // the first moment is the gradient itself: an update of about lr, or more where g grew
  ASSERT_OK(net.set_train_config(overflow));
  const edgelstm::TrainResult refused = step(net, label, int4, master);
  EXPECT_STATUS(refused.status, edgelstm::Status::kNonFinite);
  ASSERT_OK(net.set_train_config(config));
  EXPECT_TRUE(std::memcmp(g_before, net.parameters().data(), sizeof(float) * count) == 0);

  // The same next steps give the same results: optimizer and recurrent state were kept.
  for (int k = 0; k < 2; ++k) {
    const edgelstm::TrainResult a = step(net, label, int4, master);
    const edgelstm::TrainResult b = step(twin, label, int4, edgelstm::Span<float>(g_twin_master, count));
    ASSERT_OK(a.status);
    ASSERT_OK(b.status);
    EXPECT_TRUE(a.loss == b.loss);
  }
  EXPECT_TRUE(std::memcmp(net.parameters().data(), twin.parameters().data(), sizeof(float) * count) == 0);
  EXPECT_TRUE(std::memcmp(g_before, net.parameters().data(), sizeof(float) * count) != 0);
  float y_net[3], y_twin[3];
  ASSERT_OK(net.step(edgelstm::Span<const float>(x, 2), y_net));
  ASSERT_OK(twin.step(edgelstm::Span<const float>(x, 2), y_twin));
  EXPECT_TRUE(std::memcmp(y_net, y_twin, sizeof y_net) == 0);
  // A network without writable weights cannot be fake-quantized.
  edgelstm::Network unbound;
  EXPECT_STATUS(edgelstm::fake_quantize_weights(unbound, int4), edgelstm::Status::kNotBound);
}

// Training with fake int4 weights learns weights that survive int4 quantization: on a small
// regression task, the int4 copy of a QAT-trained network fits better than the int4 copy of the
// same network trained in float (post-training quantization).
alignas(16) std::uint8_t g_ptq_arena[96 * 1024];

EDGELSTM_TEST(Quantize, QuantizationAwareTrainingBeatsPostTrainingInt4) {
  const auto spec = edgelstm::make_spec(1, 8, 1, 1, 6);
  edgelstm::TrainConfig config;
  config.optimizer = edgelstm::OptimizerKind::kAdam;
  config.learning_rate = 0.01f;
  const edgelstm::FakeQuantization int4{WeightFormat::kInt4, ScaleGranularity::kTensor};
  edgelstm::Network ptq, qat;
  ASSERT_OK(ptq.bind_training(spec, config, edgelstm::Span<std::uint8_t>(g_ptq_arena, edgelstm::train_bytes(spec, config.optimizer))));
  ASSERT_OK(qat.bind_training(spec, config, edgelstm::Span<std::uint8_t>(g_qat_arena, edgelstm::train_bytes(spec, config.optimizer))));
  ASSERT_OK(ptq.initialize(46));
  ASSERT_OK(qat.initialize(46));
  const std::size_t count = ptq.parameters().size();
  // Windows of a two-tone signal, target: the next value.
  auto sample = [](int t) { return 0.6f * std::sin(0.35f * t) + 0.3f * std::sin(1.3f * t + 0.4f); };
  float x[6];
  for (int step = 0; step < 1000; ++step) {
    const int start = (step * 7) % 200;
    for (int k = 0; k < 6; ++k) x[k] = sample(start + k);
    const float target = sample(start + 6);
    const edgelstm::TrainResult p = ptq.train_step(edgelstm::Span<const float>(x, 6), edgelstm::Span<const float>(&target, 1),
                                                   edgelstm::WindowStart::kZeroState);
    ASSERT_OK(p.status);
    const edgelstm::TrainResult r = edgelstm::train_step_quantization_aware(
        qat, edgelstm::Span<const float>(x, 6), edgelstm::Span<const float>(&target, 1), edgelstm::WindowStart::kZeroState,
        int4, edgelstm::Span<float>(g_master, count));
    ASSERT_OK(r.status);
  }
  // Mean squared error of each network over held-out windows, in float and with int4 weights.
  auto mse = [&](edgelstm::Network& net) {
    double sum = 0;
    float y = 0;
    for (int start = 300; start < 400; ++start) {
      for (int k = 0; k < 6; ++k) x[k] = sample(start + k);
      net.reset_state();
      (void)net.forward(edgelstm::Span<const float>(x, 6), edgelstm::Span<float>(&y, 1));
      sum += (y - sample(start + 6)) * (y - sample(start + 6));
    }
    return sum / 100;
  };
  const double ptq_float = mse(ptq);
  ASSERT_OK(edgelstm::fake_quantize_weights(ptq, int4));
  ASSERT_OK(edgelstm::fake_quantize_weights(qat, int4));
  const double ptq_int4 = mse(ptq), qat_int4 = mse(qat);
  std::printf("  held-out MSE: float %.5f, PTQ int4 %.5f, QAT int4 %.5f\n", ptq_float, ptq_int4, qat_int4);
  EXPECT_LT(qat_int4, ptq_int4);
  EXPECT_LT(qat_int4, 0.5 * ptq_int4);
}
