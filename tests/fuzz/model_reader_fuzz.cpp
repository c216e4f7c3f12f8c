// libFuzzer target: read_model on arbitrary bytes must return a status, never read outside the
// buffer; when it accepts a file, every tensor it reports lies inside the buffer.
#include <cstdint>
#include <cstring>
#include <vector>

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
    const auto* first = reinterpret_cast<const std::uint8_t*>(view.parameters().data());
    if (first < bytes || first + view.parameters().size() * 4 > end) __builtin_trap();
    edgelstm::ModelTensor tensor;
    if (view.tensor("head.bias", &tensor) != edgelstm::Status::kOk) __builtin_trap();
  }
  return 0;
}
