#include "host/model_io.h"

#include <cmath>
#include <cstdio>
#include <cstring>

#include "host/input_error.h"
#include "host/input_file.h"
#include "host/output_file.h"
#include "host/settings.h"

namespace edgelstm::host {

namespace {

// A quantized file's fused bias tensor (lstm.bias_l<l>: bias_ih + bias_hh).
bool is_fused_bias(const detail::ParameterTensor& t) { return std::strncmp(t.name, "lstm.bias_l", 11) == 0; }

// The in-memory model of a file read_model accepted (`storage`: its aligned bytes).
ModelFile tensors_of(const ModelView& view, const std::vector<std::uint32_t>& storage, const std::string& path) {
  ModelFile model;
  model.spec = view.spec();
  model.format = view.weight_format();
  detail::ParameterTensor names[4 * kMaxLayers + 2];
  const std::size_t parameter_tensors = detail::parameter_tensors(model.spec, model.format, names);
  if (model.format == WeightFormat::kFloat32) {
    model.parameters.assign(view.parameters().begin(), view.parameters().end());
  } else {
    // Dequantize: the in-memory model is float (a fused bias becomes bias_ih, with bias_hh = 0);
    // saving it again re-quantizes to the same values.
    for (std::size_t k = 0; k < parameter_tensors; ++k) {
      if (names[k].type != TensorType::kFloat32) {
        QuantizedMatrix m;
        if (view.quantized_matrix(names[k].name, &m) != Status::kOk) {
          throw InputError(path + ": quantized tensor " + names[k].name + " has no usable scales");
        }
        if (m.rows > 1 && !is_fused_bias(names[k])) model.granularity = m.granularity;  // a 1-row head cannot tell
        for (std::size_t r = 0; r < m.rows; ++r) {
          for (std::size_t c = 0; c < m.cols; ++c) model.parameters.push_back(static_cast<float>(m.value(r, c)) * m.scale(r));
        }
        if (is_fused_bias(names[k])) model.parameters.insert(model.parameters.end(), m.rows, 0.0f);
      } else {
        ModelTensor bias;
        (void)view.tensor(names[k].name, &bias);  // present: read_model checked every parameter tensor
        const auto* values = static_cast<const float*>(bias.data);
        model.parameters.insert(model.parameters.end(), values, values + bias.count);
      }
    }
  }
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(storage.data());
  for (std::size_t k = parameter_tensors; k < view.tensor_count(); ++k) {
    const char* name = reinterpret_cast<const char*>(bytes + kModelHeaderBytes + k * kModelTableEntryBytes);
    const std::string text_name(name);
    if (model.format != WeightFormat::kFloat32 && text_name.size() > 6 &&
        text_name.compare(text_name.size() - 6, 6, ".scale") == 0) {
      continue;  // a weight matrix's scales, used above
    }
    ModelTensor tensor;
    if (view.tensor(name, &tensor) != Status::kOk) throw InputError(path + ": unreadable tensor table");
    if (tensor.type == TensorType::kText) {
      model.texts[name].assign(static_cast<const char*>(tensor.data), tensor.count);
    } else if (tensor.type == TensorType::kFloat32) {
      const auto* values = static_cast<const float*>(tensor.data);
      model.floats[name].assign(values, values + tensor.count);
    } else if (tensor.type == TensorType::kInt32) {
      const auto* values = static_cast<const std::int32_t*>(tensor.data);
      model.ints[name].assign(values, values + tensor.count);
    } else {
      throw InputError(path + ": tensor " + text_name + " is quantized but is not a weight matrix");
    }
  }
  return model;
}

}  // namespace

std::vector<std::uint8_t> serialize_model(const ModelFile& model) {
  // Parameter tensors in file order; for a quantized model the weight matrices quantized and each
  // layer's two biases fused into one int16 tensor.
  detail::ParameterTensor names[4 * kMaxLayers + 2];
  const std::size_t parameter_tensors = detail::parameter_tensors(model.spec, model.format, names);
  if (model.parameters.size() != parameter_count(model.spec)) throw InputError("cannot encode the model: wrong parameter count");
  if (model.format != WeightFormat::kFloat32) {
    for (std::size_t k = 0; k < model.parameters.size(); ++k) {
      if (!std::isfinite(model.parameters[k])) {
        throw InputError("cannot quantize the model: parameter " + std::to_string(k) + " is not finite");
      }
    }
  }
  std::vector<std::vector<std::uint8_t>> quantized_data(parameter_tensors);
  std::vector<std::vector<float>> scales(parameter_tensors);
  std::vector<std::string> scale_names(parameter_tensors);
  std::vector<ModelTensor> tensors, scale_tensors;
  std::size_t offset = 0;  // into model.parameters (state_dict order)
  for (std::size_t k = 0; k < parameter_tensors; ++k) {
    ModelTensor t;
    t.name = names[k].name;
    t.type = names[k].type;
    t.count = names[k].count;
    t.cols = names[k].cols;
    const float* values = model.parameters.data() + offset;
    offset += names[k].count;
    if (names[k].type == TensorType::kFloat32) {
      t.data = values;
      tensors.push_back(t);
      continue;
    }
    const std::size_t cols = names[k].cols, rows = names[k].count / cols;
    if (is_fused_bias(names[k])) {
      quantized_data[k].resize(2 * rows);
      scales[k].resize(1);
      quantize_fused_bias(values, values + rows, rows, quantized_data[k].data(), scales[k].data());
      offset += rows;  // bias_hh, folded into the sum
    } else {
      quantized_data[k].resize(rows * quantized_row_bytes(model.format, cols));
      scales[k].resize(scale_count(model.granularity, rows));
      quantize_matrix(values, rows, cols, model.format, model.granularity, quantized_data[k].data(), scales[k].data());
    }
    t.data = quantized_data[k].data();
    scale_names[k] = std::string(names[k].name) + ".scale";
    ModelTensor s;
    s.name = scale_names[k].c_str();
    s.data = scales[k].data();
    s.count = static_cast<std::uint32_t>(scales[k].size());
    scale_tensors.push_back(s);
    tensors.push_back(t);
  }
  tensors.insert(tensors.end(), scale_tensors.begin(), scale_tensors.end());
  for (const auto& [name, values] : model.floats) {
    ModelTensor t;
    t.name = name.c_str();
    t.data = values.data();
    t.count = static_cast<std::uint32_t>(values.size());
    tensors.push_back(t);
  }
  for (const auto& [name, values] : model.ints) {
    ModelTensor t;
    t.name = name.c_str();
    t.type = TensorType::kInt32;
    t.data = values.data();
    t.count = static_cast<std::uint32_t>(values.size());
    tensors.push_back(t);
  }
  for (const auto& [name, text] : model.texts) {
    ModelTensor t;
    t.name = name.c_str();
    t.type = TensorType::kText;
    t.data = text.data();
    t.count = static_cast<std::uint32_t>(text.size());
    tensors.push_back(t);
  }
  const Span<const ModelTensor> all(tensors.data(), tensors.size());
  std::vector<std::uint8_t> bytes(model_file_bytes(all));
  std::size_t written = 0;
  const Status status =
      write_model_tensors(model.spec, model.format, all, Span<std::uint8_t>(bytes.data(), bytes.size()), &written);
  if (status != Status::kOk) throw InputError(std::string("cannot encode the model: ") + status_name(status));
  bytes.resize(written);
  return bytes;
}

void save_model(const ModelFile& model, const std::string& path) {
  try {
    check_model_settings(model);
  } catch (const InputError& error) {
    throw InputError(path + ": will not write a model whose settings are invalid: " + error.what());
  }
  const std::vector<std::uint8_t> bytes = serialize_model(model);
  write_file_atomically(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

ModelFile load_model(const std::string& path) { return parse_model(read_input_file(path, kMaxModelBytes, "model file"), path); }

ModelFile parse_model(std::string_view data, const std::string& path) {
  if (data.empty()) throw InputError(path + ": the model file is empty");
  // A 4-byte aligned copy: read_model reads floats in place.
  std::vector<std::uint32_t> storage((data.size() + 3) / 4);
  std::memcpy(storage.data(), data.data(), data.size());
  ModelView view;
  const Status status =
      read_model(Span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(storage.data()), data.size()), &view);
  if (status == Status::kUnsupportedVersion && data.size() >= 38 && data[8] == 1 && data[37] != 0) {
    throw InputError(path + ": a quantized model file of format version 1 (two float biases per layer); this version "
                     "reads quantized files of version 2: quantize the float model again (edgelstm quantize)");
  }
  if (status != Status::kOk) throw InputError(path + ": " + status_name(status));
  ModelFile model = tensors_of(view, storage, path);
  try {
    check_model_settings(model);
  } catch (const InputError& error) {
    throw InputError(path + ": " + error.what());
  }
  return model;
}


}  // namespace edgelstm::host
