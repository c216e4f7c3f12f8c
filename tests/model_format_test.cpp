// The model file format: round trip, in-place binding, and every way a file can be wrong.
#include <cstdint>
#include <cstring>

#include "edgelstm/edgelstm.h"
#include "support/micro_test.h"
#include "support/test_util.h"

namespace {

alignas(16) std::uint8_t g_arena[64 * 1024];
alignas(16) std::uint8_t g_state[4096];
alignas(16) std::uint8_t g_file[64 * 1024];
alignas(16) std::uint8_t g_copy[64 * 1024 + 16];

const auto kSpec = [] {
  auto spec = edgelstm::make_spec(3, 10, 2, 2, 5, edgelstm::Task::kRegression, edgelstm::OutputMode::kEveryStep);
  spec.hidden_size[1] = 7;
  return spec;
}();
const float kMean[3] = {1.5f, -2.0f, 30000.0f};
const char kFeatures[] = "lags=48,336;calendar=1";

edgelstm::Span<const edgelstm::ModelTensor> example_extras() {
  static edgelstm::ModelTensor extras[2];
  extras[0].name = "norm.mean";
  extras[0].data = kMean;
  extras[0].count = 3;
  extras[1].name = "meta.features";
  extras[1].type = edgelstm::TensorType::kText;
  extras[1].data = kFeatures;
  extras[1].count = sizeof kFeatures - 1;
  return edgelstm::Span<const edgelstm::ModelTensor>(extras, 2);
}

std::size_t write_example(edgelstm::Network& net) {
  if (net.bind_training(kSpec, edgelstm::TrainConfig{}, g_arena) != edgelstm::Status::kOk) return 0;
  if (net.initialize(77) != edgelstm::Status::kOk) return 0;
  std::size_t written = 0;
  const edgelstm::Span<const float> params = static_cast<const edgelstm::Network&>(net).parameters();
  if (edgelstm::write_model(kSpec, params, example_extras(), g_file, &written) != edgelstm::Status::kOk) return 0;
  return written;
}

// The example file in g_file, and a copy of it in g_saved to restore after each edit.
alignas(16) std::uint8_t g_saved[64 * 1024];
std::size_t write_example_and_keep_a_copy(edgelstm::Network& net) {
  const std::size_t size = write_example(net);
  std::memcpy(g_saved, g_file, size);
  return size;
}

// Recomputes the CRC after a deliberate edit, so the structural checks (not the CRC) are tested.
void reseal(std::size_t size) {
  const std::uint32_t crc = edgelstm::crc32_update(0, g_file + 20, size - 20);
  for (int k = 0; k < 4; ++k) g_file[16 + k] = static_cast<std::uint8_t>(crc >> (8 * k));
}

edgelstm::Status read(std::size_t size) {
  edgelstm::ModelView view;
  return edgelstm::read_model(edgelstm::Span<const std::uint8_t>(g_file, size), &view);
}

EDGELSTM_TEST(ModelFormat, Crc32MatchesTheStandardCheckValue) {
  const char* text = "123456789";
  EXPECT_EQ_INT(edgelstm::crc32_update(0, reinterpret_cast<const std::uint8_t*>(text), 9), 0xCBF43926u);
}

EDGELSTM_TEST(ModelFormat, RoundTripAndInPlaceInferenceGiveTheSameOutputs) {
  edgelstm::Network net;
  const std::size_t size = write_example(net);
  ASSERT_TRUE(size > 0);
  // 64 header + 12 table entries of 48 (640, on a 16 boundary); 600 + 532 + 16 parameters;
  // 3 floats; 22 text bytes padded to 24.
  EXPECT_EQ_INT(size, 640 + (600 + 532 + 16) * 4 + 3 * 4 + 24);
  EXPECT_EQ_INT(edgelstm::model_file_bytes(kSpec, example_extras()), size);
  std::size_t written = 0;
  EXPECT_STATUS(edgelstm::write_model(kSpec, static_cast<const edgelstm::Network&>(net).parameters(), example_extras(),
                                      edgelstm::Span<std::uint8_t>(g_copy, size - 1), &written),
                edgelstm::Status::kBufferTooSmall);
  edgelstm::ModelView view;
  ASSERT_OK(edgelstm::read_model(edgelstm::Span<const std::uint8_t>(g_file, size), &view));
  EXPECT_TRUE(view.spec().hidden_size[1] == 7 && view.spec().output_mode == edgelstm::OutputMode::kEveryStep);
  EXPECT_EQ_INT(view.tensor_count(), 4 * 2 + 2 + 2);
  const edgelstm::Span<const float> params = static_cast<const edgelstm::Network&>(net).parameters();
  ASSERT_EQ_INT(view.parameters().size(), params.size());
  EXPECT_TRUE(std::memcmp(view.parameters().data(), params.data(), params.size() * 4) == 0);
  edgelstm::ModelTensor tensor;
  ASSERT_OK(view.tensor("norm.mean", &tensor));
  EXPECT_TRUE(tensor.count == 3 && static_cast<const float*>(tensor.data)[2] == 30000.0f);
  ASSERT_OK(view.tensor("meta.features", &tensor));
  EXPECT_TRUE(tensor.type == edgelstm::TensorType::kText && tensor.count == sizeof kFeatures - 1 &&
              std::memcmp(tensor.data, kFeatures, tensor.count) == 0);
  ASSERT_OK(view.tensor("lstm.weight_hh_l1", &tensor));
  EXPECT_EQ_INT(tensor.count, 4 * 7 * 7);
  EXPECT_STATUS(view.tensor("norm.std", &tensor), edgelstm::Status::kMalformedModel);

  // The file's parameters, read in place, drive a network exactly like the original.
  edgelstm::Network in_place;
  ASSERT_OK(in_place.bind_inference_in_place(view.spec(), view.parameters(), g_state));
  float x[15], y_original[10], y_file[10];
  edgelstm::test::fill_uniform(x, 15, 3, 1.0f);
  net.reset_state();
  ASSERT_OK(net.forward(x, y_original));
  ASSERT_OK(in_place.forward(x, y_file));
  EXPECT_TRUE(std::memcmp(y_original, y_file, sizeof y_file) == 0);
}

EDGELSTM_TEST(ModelFormat, CorruptTruncatedOrForeignFilesAreRefused) {
  edgelstm::Network net;
  const std::size_t size = write_example(net);
  ASSERT_TRUE(size > 0);
  // Any single flipped bit in the body: checksum mismatch.
  for (std::size_t at = 20; at < size; at += 97) {
    g_file[at] ^= 0x10;
    EXPECT_STATUS(read(size), edgelstm::Status::kChecksumMismatch);
    g_file[at] ^= 0x10;
  }
  EXPECT_OK(read(size));
  EXPECT_STATUS(read(size - 1), edgelstm::Status::kTruncated);
  EXPECT_STATUS(read(40), edgelstm::Status::kTruncated);
  EXPECT_STATUS(read(3), edgelstm::Status::kBadMagic);
  g_file[0] = 'X';
  EXPECT_STATUS(read(size), edgelstm::Status::kBadMagic);
  g_file[0] = 'E';
  EXPECT_EQ_INT(g_file[8], 1);  // float files are written as version 1: their layout is version 1's
  g_file[8] = 3;  // a version from the future
  EXPECT_STATUS(read(size), edgelstm::Status::kUnsupportedVersion);
  g_file[8] = 1;  // version 1 float files have this very layout and stay readable (no checksum over the version)
  EXPECT_OK(read(size));
  g_file[8] = 2;
  EXPECT_OK(read(size));
  g_file[8] = 1;
  // Misaligned copy: refused rather than read through a misaligned float pointer.
  std::memcpy(g_copy + 2, g_file, size);
  edgelstm::ModelView view;
  EXPECT_STATUS(edgelstm::read_model(edgelstm::Span<const std::uint8_t>(g_copy + 2, size), &view),
                edgelstm::Status::kMisalignedBuffer);
}

EDGELSTM_TEST(ModelFormat, StructurallyWrongFilesAreRefusedEvenWithAValidChecksum) {
  edgelstm::Network net;
  const std::size_t size = write_example_and_keep_a_copy(net);
  ASSERT_TRUE(size > 0);
  const auto restore = [&] { std::memcpy(g_file, g_saved, size); };
  // Spec says 3 layers but the tensors are for 2.
  g_file[22] = 3;
  g_file[28] = 7;
  reseal(size);
  EXPECT_STATUS(read(size), edgelstm::Status::kMalformedModel);
  restore();
  // Hidden size of layer 1 changed: parameter tensor sizes no longer match.
  g_file[26] = 8;
  reseal(size);
  EXPECT_STATUS(read(size), edgelstm::Status::kMalformedModel);
  restore();
  // A tensor's data offset points past the end.
  const std::size_t entry = edgelstm::kModelHeaderBytes + 11 * edgelstm::kModelTableEntryBytes;
  g_file[entry + 41] = 0xFF;
  g_file[entry + 42] = 0xFF;
  reseal(size);
  EXPECT_STATUS(read(size), edgelstm::Status::kMalformedModel);
  restore();
  // A parameter tensor renamed.
  g_file[edgelstm::kModelHeaderBytes + 5] = 'X';
  reseal(size);
  EXPECT_STATUS(read(size), edgelstm::Status::kMalformedModel);
  restore();
  // Unknown task.
  g_file[23] = 7;
  reseal(size);
  EXPECT_STATUS(read(size), edgelstm::Status::kMalformedModel);
  restore();
  EXPECT_OK(read(size));
}

EDGELSTM_TEST(ModelFormat, NonFiniteParametersAreRefusedEvenWithAValidChecksum) {
  edgelstm::Network net;
  const std::size_t size = write_example_and_keep_a_copy(net);
  ASSERT_TRUE(size > 0);
  const std::size_t parameters = edgelstm::detail::get_u32(g_file + edgelstm::kModelHeaderBytes + 40);
  const std::size_t last = parameters + 4 * (edgelstm::parameter_count(kSpec) - 1);  // head.bias's last value
  const std::uint32_t non_finite[] = {0x7FC00000u, 0x7F800000u, 0xFF800000u};  // NaN, +Inf, -Inf
  const std::size_t places[] = {parameters, last};
  for (const std::uint32_t bits : non_finite) {
    for (const std::size_t at : places) {
      std::memcpy(g_file, g_saved, size);
      for (int k = 0; k < 4; ++k) g_file[at + k] = static_cast<std::uint8_t>(bits >> (8 * k));
      reseal(size);
      EXPECT_STATUS(read(size), edgelstm::Status::kNonFiniteModel);
    }
  }
  // The largest finite float is a number, and extra tensors (here norm.mean) are the host's to check.
  std::memcpy(g_file, g_saved, size);
  for (int k = 0; k < 4; ++k) g_file[parameters + k] = static_cast<std::uint8_t>(0x7F7FFFFFu >> (8 * k));
  reseal(size);
  EXPECT_OK(read(size));
  std::memcpy(g_file, g_saved, size);
}

}  // namespace
