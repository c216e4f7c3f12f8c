// Models as C++ headers for a firmware: the float parameters as arrays with a constexpr spec, or
// the model file itself as a byte array (bound in place), optionally with a replay stream.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "host/data_loading.h"

namespace edgelstm::host {

// `edgelstm export --format model-bytes`: the model file as an aligned byte array; with replay
// data (integer models only), the int16 input stream of the first `replay_steps` test readings
// and the int32 outputs IntegerNetwork computes on the host, for a firmware to compare bit for bit.
void export_model_bytes(const std::string& model_path, const std::string& out_path, const std::string& prefix,
                        const DataOptions& replay_data, int replay_steps);

// `edgelstm export --format c-header`.
void export_c_header(const std::string& model_path, const std::string& out_path, const std::string& prefix);

// Appends `alignas(4) inline constexpr <type> <name>[N] = {...};` (16 values a line) to a header.
template <typename T>
void append_c_array(std::ostringstream& out, const char* type, const std::string& name, const std::vector<T>& values) {
  out << "alignas(4) inline constexpr " << type << " " << name << "[" << values.size() << "] = {";
  for (std::size_t k = 0; k < values.size(); ++k) out << (k % 16 == 0 ? "\n    " : " ") << +values[k] << ",";
  out << "\n};\n";
}

}  // namespace edgelstm::host
