// Compiles against two headers of the same quantized model: `edgelstm export --format c-header`
// (EDGELSTM_EXPORTED_HEADER, prefix kModel: the integer arrays, their scales and the layer tables)
// and `--format model-bytes` (EDGELSTM_EXPORTED_BYTES, prefix kModelBytes: the model file). Binds
// HybridNetwork to each — and, with EDGELSTM_EXPORTED_INTEGER, IntegerNetwork too — and requires
// the same outputs bit for bit over a stream of inputs: the arrays are what the file holds.
#include <cstdint>
#include <cstdio>
#include <cstring>

#include EDGELSTM_EXPORTED_HEADER
#include EDGELSTM_EXPORTED_BYTES

namespace {

constexpr std::size_t kSteps = 200;
alignas(edgelstm::kArenaAlignment) std::uint8_t g_arena_arrays[edgelstm::inference_in_place_bytes(kModelSpec)];
alignas(edgelstm::kArenaAlignment) std::uint8_t g_arena_file[edgelstm::inference_in_place_bytes(kModelSpec)];
#if EDGELSTM_EXPORTED_INTEGER
alignas(edgelstm::kArenaAlignment) std::uint8_t g_integer_arrays[edgelstm::integer_inference_bytes(kModelSpec)];
alignas(edgelstm::kArenaAlignment) std::uint8_t g_integer_file[edgelstm::integer_inference_bytes(kModelSpec)];
#endif

// Inputs in [-2, 2): a fixed linear congruential sequence.
float next_input(std::uint32_t& state) {
  state = state * 1664525u + 1013904223u;
  return static_cast<float>(state >> 8) / static_cast<float>(1u << 24) * 4.0f - 2.0f;
}

}  // namespace

int main() {
  edgelstm::ModelView view;
  if (edgelstm::read_model(edgelstm::Span<const std::uint8_t>(kModelBytes, sizeof kModelBytes), &view) !=
      edgelstm::Status::kOk) {
    return 1;
  }
  edgelstm::HybridNetwork from_arrays, from_file;
  if (from_arrays.bind(kModelSpec, edgelstm::Span<const edgelstm::HybridLayer>(kModelLayers, kModelSpec.num_layers),
                       kModelHead, kModelHeadBias, g_arena_arrays) != edgelstm::Status::kOk ||
      from_file.bind(view, g_arena_file) != edgelstm::Status::kOk) {
    std::printf("cannot bind the hybrid network\n");
    return 1;
  }
#if EDGELSTM_EXPORTED_INTEGER
  edgelstm::IntegerNetwork integer_arrays, integer_file;
  if (integer_arrays.bind(kModelSpec, edgelstm::Span<const edgelstm::IntegerLayer>(kModelIntegerLayers, kModelSpec.num_layers),
                          kModelIntegerHead, g_integer_arrays) != edgelstm::Status::kOk ||
      integer_file.bind(view, g_integer_file) != edgelstm::Status::kOk) {
    std::printf("cannot bind the integer network\n");
    return 1;
  }
  if (integer_file.input_scale() != kModelInputScale) return 1;
#endif
  std::uint32_t state = 12345;
  unsigned differ = 0;
  float first = 0;
  for (std::size_t step = 0; step < kSteps; ++step) {
    float x[kModelSpec.input_size];
    for (float& v : x) v = next_input(state);
    float a[kModelSpec.output_size], b[kModelSpec.output_size];
    if (from_arrays.step(x, a) != edgelstm::Status::kOk || from_file.step(x, b) != edgelstm::Status::kOk) return 1;
    differ += std::memcmp(a, b, sizeof a) != 0 ? 1 : 0;
    if (step == 0) first = a[0];
#if EDGELSTM_EXPORTED_INTEGER
    std::int16_t q[kModelSpec.input_size];
    for (std::size_t k = 0; k < kModelSpec.input_size; ++k) q[k] = integer_file.quantize_input(x[k]);
    std::int32_t ya[kModelSpec.output_size], yb[kModelSpec.output_size];
    if (integer_arrays.step(q, ya) != edgelstm::Status::kOk || integer_file.step(q, yb) != edgelstm::Status::kOk) return 1;
    differ += std::memcmp(ya, yb, sizeof ya) != 0 ? 1 : 0;
#endif
  }
  std::printf("exported quantized model: %u steps, first output %.5f, %u outputs differ between the arrays and the file%s\n",
              static_cast<unsigned>(kSteps), static_cast<double>(first), differ,
              EDGELSTM_EXPORTED_INTEGER ? " (hybrid and full-integer paths)" : " (hybrid path)");
  return differ == 0 ? 0 : 1;
}
