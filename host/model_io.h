// Model files on the host: atomic save and checked load (format: include/edgelstm/model_format.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "edgelstm/model_format.h"

namespace edgelstm::host {

// A model as the tools hold it: the spec, the parameters, and named extra tensors.
struct ModelFile {
  LstmSpec spec{};
  // How the weight matrices are stored in the file: float32, or quantized (quantize.h) with these
  // scales. In memory `parameters` are always float: the dequantized values for a quantized file.
  WeightFormat format = WeightFormat::kFloat32;
  ScaleGranularity granularity = ScaleGranularity::kRow;
  std::vector<float> parameters;
  std::map<std::string, std::vector<float>> floats;  // e.g. normalization
  std::map<std::string, std::string> texts;          // e.g. feature settings
  std::map<std::string, std::vector<std::int32_t>> ints;  // the full-integer path's constants (int.*)
};

// Writes `model` to `path` atomically (write_file_atomically: a crash leaves the old file or the
// new one, a failure no temporary). Refuses (InputError naming the path) a model whose settings
// check_model_settings refuses, so no tool can write a file the loader would refuse.
void save_model(const ModelFile& model, const std::string& path);

// The largest model file the tools read (a 4 x 1024 LSTM, train's largest, is about 135 MB).
inline constexpr std::size_t kMaxModelBytes = std::size_t{512} << 20;

// Reads and validates `path` (a regular file of at most kMaxModelBytes); throws InputError
// "path: <what is wrong>" for a missing, empty, corrupt, truncated, wrong-version or malformed
// file, a NaN or Inf parameter or scale (even with a valid CRC), and settings that
// check_model_settings (settings.h) refuses.
ModelFile load_model(const std::string& path);

// The same on the bytes of a file that came from `path` (for the fuzzer and tests).
ModelFile parse_model(std::string_view bytes, const std::string& path);

// The bytes of the model file (what save_model writes).
std::vector<std::uint8_t> serialize_model(const ModelFile& model);

}  // namespace edgelstm::host
