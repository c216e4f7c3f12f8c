// libFuzzer target: read_model on arbitrary bytes must return a status, never read outside the
// buffer; when it accepts a file, the parameters (float files) or the quantized head matrix and
// its scales (quantized files) and the head bias lie inside the buffer; an int8 file that the
// full-integer network accepts runs a step on its tensors in place without reading outside it.
#include <cstdint>
#include <cstring>
#include <vector>

#include "edgelstm/integer_network.h"
#include "edgelstm/model_format.h"

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
    const std::size_t arena_bytes = edgelstm::integer_inference_bytes(view.spec());
    if (view.weight_format() == edgelstm::WeightFormat::kInt8 && arena_bytes <= (1u << 20)) {
      std::vector<std::uint32_t> arena(arena_bytes / 4 + 4);
      auto* aligned = reinterpret_cast<std::uint8_t*>(
          (reinterpret_cast<std::uintptr_t>(arena.data()) + edgelstm::kArenaAlignment - 1) / edgelstm::kArenaAlignment *
          edgelstm::kArenaAlignment);
      edgelstm::IntegerNetwork net;
      if (net.bind(view, edgelstm::Span<std::uint8_t>(aligned, arena_bytes)) == edgelstm::Status::kOk) {
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
