#include "host/torch_import.h"

#include <cmath>
#include <cstring>
#include <map>
#include <sstream>
#include <vector>

#include "host/csv_reader.h"
#include "host/input_file.h"

namespace edgelstm::host {

ModelFile import_torch_dump(const std::string& path, std::uint16_t window, Task task, OutputMode mode) {
  std::istringstream in(read_input_file(path, kMaxModelBytes, "dump"));
  std::string line;
  if (!std::getline(in, line) || line != "edgelstm-torch-export 1") {
    throw InputError(path + ": not a dump of tools/export_torch_state_dict.py (expected the line 'edgelstm-torch-export 1')");
  }
  struct Tensor {
    std::size_t rows, cols;
    std::vector<float> values;
  };
  std::map<std::string, Tensor> tensors;
  while (std::getline(in, line)) {
    std::istringstream header(line);
    std::string name;
    Tensor t{};
    if (!(header >> name >> t.rows >> t.cols) || t.rows == 0 || t.cols == 0 || t.rows * t.cols > (1u << 26)) {
      throw InputError(path + ": expected a tensor header '<name> <rows> <cols>', found " + excerpt(line));
    }
    t.values.resize(t.rows * t.cols);
    if (!in.read(reinterpret_cast<char*>(t.values.data()), static_cast<std::streamsize>(t.values.size() * 4))) {
      throw InputError(path + ": tensor " + name + " is truncated");
    }
    for (float v : t.values) {
      if (!std::isfinite(v)) throw InputError(path + ": tensor " + name + " holds NaN or Inf");
    }
    tensors[name] = std::move(t);
  }
  auto get = [&](const std::string& name) -> const Tensor& {
    const auto found = tensors.find(name);
    if (found == tensors.end()) throw InputError(path + ": missing tensor " + name);
    return found->second;
  };
  LstmSpec spec;
  std::size_t layers = 0;
  while (tensors.count("lstm.weight_ih_l" + std::to_string(layers)) != 0) ++layers;
  if (layers == 0 || layers > kMaxLayers) {
    throw InputError(path + ": expected 1 to " + std::to_string(kMaxLayers) + " LSTM layers (lstm.weight_ih_l0 ...), found " +
                     std::to_string(layers) + "; tools/export_torch_state_dict.py finds a module's LSTMs and head " +
                     "under any names (or --lstm-prefix, --head-prefix) and writes them so");
  }
  spec.num_layers = static_cast<std::uint8_t>(layers);
  spec.input_size = static_cast<std::uint16_t>(get("lstm.weight_ih_l0").cols);
  for (std::size_t l = 0; l < layers; ++l) spec.hidden_size[l] = static_cast<std::uint16_t>(get("lstm.weight_hh_l" + std::to_string(l)).cols);
  spec.output_size = static_cast<std::uint16_t>(get("head.weight").rows);
  spec.window = window;
  spec.task = task;
  spec.output_mode = mode;
  if (validate_spec(spec) != Status::kOk) throw InputError(path + ": the tensors describe no valid network");
  ModelFile model;
  model.spec = spec;
  std::size_t used = 0;
  auto append = [&](const std::string& name, std::size_t rows, std::size_t cols) {
    const Tensor& t = get(name);
    if (t.rows != rows || t.cols != cols) {
      throw InputError(path + ": tensor " + name + " is " + std::to_string(t.rows) + " x " + std::to_string(t.cols) +
                       ", expected " + std::to_string(rows) + " x " + std::to_string(cols));
    }
    model.parameters.insert(model.parameters.end(), t.values.begin(), t.values.end());
    ++used;
  };
  for (std::size_t l = 0; l < layers; ++l) {
    const std::size_t h = spec.hidden(l), in_size = spec.layer_input(l);
    const std::string suffix = "_l" + std::to_string(l);
    append("lstm.weight_ih" + suffix, 4 * h, in_size);
    append("lstm.weight_hh" + suffix, 4 * h, h);
    append("lstm.bias_ih" + suffix, 4 * h, 1);
    append("lstm.bias_hh" + suffix, 4 * h, 1);
  }
  append("head.weight", spec.output_size, spec.top_hidden());
  append("head.bias", spec.output_size, 1);
  if (used != tensors.size()) throw InputError(path + ": holds tensors edgelstm does not know (bidirectional? proj_size?)");
  return model;
}

}  // namespace edgelstm::host
