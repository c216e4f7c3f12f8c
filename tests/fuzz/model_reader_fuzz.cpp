// libFuzzer target: read_model on arbitrary bytes must return a status, never read outside the
// buffer; when it accepts a file, its float parameters are finite (a CRC-valid NaN is refused),
// the parameters (float files) or the quantized head matrix and
// its scales (quantized files) and the head bias lie inside the buffer; a quantized file that the
// weight-only network accepts (weight matrices, the fused int16 biases and their scales), and an
// int8 file that the full-integer network accepts, run a step on their tensors in place without
// reading outside the buffer. Mutations are structure-aware (model_mutator.h): most files the
// reader meets have a valid CRC and bad content.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "edgelstm/hybrid_network.h"
#include "edgelstm/integer_network.h"
#include "edgelstm/model_format.h"
#include "fuzz/model_mutator.h"

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t max_size,
                                               unsigned int seed) {
  return edgelstm::fuzz::mutate_model(data, size, max_size, seed);
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // An exact-size, 4-byte aligned copy, so reads past the end are caught by AddressSanitizer.
  std::vector<std::uint32_t> storage((size + 3) / 4);
  auto* bytes = reinterpret_cast<std::uint8_t*>(storage.data());
  if (size != 0) std::memcpy(bytes, data, size);
  std::vector<std::uint8_t> exact(bytes, bytes + size);  // for the bounds of what is reported
  edgelstm::ModelView view;
  if (edgelstm::read_model(edgelstm::Span<const std::uint8_t>(bytes, size), &view) == edgelstm::Status::kOk) {
    const auto* end = bytes + size;
    const auto inside = [&](const void* data, std::size_t length) {
      const auto* first = static_cast<const std::uint8_t*>(data);
      return first >= bytes && first <= end && length <= static_cast<std::size_t>(end - first);
    };
    if (view.weight_format() == edgelstm::WeightFormat::kFloat32) {
      if (!inside(view.parameters().data(), view.parameters().size() * 4)) __builtin_trap();
      for (float p : view.parameters()) {
        if (!std::isfinite(p)) __builtin_trap();
      }
    } else {
      if (!view.parameters().empty()) __builtin_trap();
      // A quantized file's matrices, where their scales are present, lie inside the buffer.
      edgelstm::QuantizedMatrix head;
      if (view.quantized_matrix("head.weight", &head) == edgelstm::Status::kOk &&
          (!inside(head.data, head.rows * edgelstm::quantized_row_bytes(head.format, head.cols)) ||
           !inside(head.scales, 4 * edgelstm::scale_count(head.granularity, head.rows)))) {
        __builtin_trap();
      }
    }
    edgelstm::ModelTensor tensor;
    if (view.tensor("head.bias", &tensor) != edgelstm::Status::kOk || !inside(tensor.data, 4 * tensor.count)) __builtin_trap();
    // An arena of `bytes` bytes on a kArenaAlignment boundary inside `storage`.
    const auto aligned_arena = [](std::vector<std::uint32_t>& storage, std::size_t bytes) {
      storage.assign(bytes / 4 + 4, 0);
      auto* first = reinterpret_cast<std::uint8_t*>(
          (reinterpret_cast<std::uintptr_t>(storage.data()) + edgelstm::kArenaAlignment - 1) / edgelstm::kArenaAlignment *
          edgelstm::kArenaAlignment);
      return edgelstm::Span<std::uint8_t>(first, bytes);
    };
    const std::size_t hybrid_bytes = edgelstm::inference_in_place_bytes(view.spec());
    if (view.weight_format() != edgelstm::WeightFormat::kFloat32 && hybrid_bytes <= (1u << 20)) {
      std::vector<std::uint32_t> arena;
      edgelstm::HybridNetwork net;
      if (net.bind(view, aligned_arena(arena, hybrid_bytes)) == edgelstm::Status::kOk) {
        std::vector<float> x(view.spec().input_size, 0.25f), y(view.spec().output_size);
        if (net.step(edgelstm::Span<const float>(x.data(), x.size()), edgelstm::Span<float>(y.data(), y.size())) !=
            edgelstm::Status::kOk) {
          __builtin_trap();
        }
      }
    }
    const std::size_t arena_bytes = edgelstm::integer_inference_bytes(view.spec());
    if (view.weight_format() == edgelstm::WeightFormat::kInt8 && arena_bytes <= (1u << 20)) {
      std::vector<std::uint32_t> arena;
      edgelstm::IntegerNetwork net;
      if (net.bind(view, aligned_arena(arena, arena_bytes)) == edgelstm::Status::kOk) {
        std::vector<std::int16_t> x(view.spec().input_size, 1000);
        std::vector<std::int32_t> y(view.spec().output_size);
        if (net.step(edgelstm::Span<const std::int16_t>(x.data(), x.size()), edgelstm::Span<std::int32_t>(y.data(), y.size())) !=
            edgelstm::Status::kOk) {
          __builtin_trap();
        }
      }
    }
  }
  return 0;
}
