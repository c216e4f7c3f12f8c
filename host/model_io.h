// Model files on the host: atomic save and checked load (format: include/edgelstm/model_format.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>
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

// Writes `model` to `path` atomically: into a temporary file in the same directory, flushed to
// disk, then renamed over `path`, so a crash leaves either the old file or the new one, never a
// torn one. Throws InputError naming the path on failure (and removes the temporary file).
void save_model(const ModelFile& model, const std::string& path);

// Reads and validates `path`; throws InputError "path: <what is wrong>" for a missing, corrupt,
// truncated, wrong-version or malformed file.
ModelFile load_model(const std::string& path);

// The bytes of the model file (what save_model writes).
std::vector<std::uint8_t> serialize_model(const ModelFile& model);

}  // namespace edgelstm::host
