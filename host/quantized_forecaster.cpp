#include "host/quantized_forecaster.h"

#include <cstring>

namespace edgelstm::host {

const char* format_name(WeightFormat format) {
  switch (format) {
    case WeightFormat::kFloat32: return "f32";
    case WeightFormat::kInt16: return "int16";
    case WeightFormat::kInt8: return "int8";
    case WeightFormat::kInt4: return "int4";
  }
  return "?";
}

QuantizedNetwork::QuantizedNetwork(const ModelFile& model, WeightFormat format, ScaleGranularity granularity) {
  const LstmSpec& spec = model.spec;
  if (format == WeightFormat::kFloat32 || model.parameters.size() != parameter_count(spec)) {
    throw InputError("weight quantization needs a float model and an integer weight format");
  }
  // The quantized model file a device would hold, bound in place: the host runs exactly its bytes.
  ModelFile quantized;
  quantized.spec = spec;
  quantized.parameters = model.parameters;
  quantized.format = format;
  quantized.granularity = granularity;
  const std::vector<std::uint8_t> bytes = serialize_model(quantized);
  file_.assign((bytes.size() + 3) / 4, 0);
  std::memcpy(file_.data(), bytes.data(), bytes.size());
  ModelView view;
  Status status = read_model(Span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(file_.data()), bytes.size()), &view);
  if (status == Status::kOk) status = net_.bind(view, aligned_arena(arena_, inference_in_place_bytes(spec)));
  if (status != Status::kOk) throw InputError(std::string("cannot bind the quantized network: ") + status_name(status));
  // Device bytes: the parameter tensors and their scales (not the file's table and names).
  detail::ParameterTensor names[4 * kMaxLayers + 2];
  const std::size_t count = detail::parameter_tensors(spec, format, names);
  for (std::size_t k = 0; k < count; ++k) {
    model_bytes_ += detail::tensor_bytes(names[k].type, names[k].count, names[k].cols);
    QuantizedMatrix m;
    if (names[k].type != TensorType::kFloat32 && view.quantized_matrix(names[k].name, &m) == Status::kOk) {
      model_bytes_ += 4 * scale_count(m.granularity, m.rows);
    }
  }
}

QuantizedForecaster::QuantizedForecaster(const ModelFile& model, WeightFormat format, ScaleGranularity granularity)
    : quantized_(model, format, granularity), features_(features_of(model)), norm_(normalization_of(model)) {
  if (model.spec.task != Task::kRegression || model.spec.output_size != 1) {
    throw InputError("quantized forecasting needs a one-output forecaster");
  }
  window_.resize(static_cast<std::size_t>(features_.window * features_.features()));
}

double QuantizedForecaster::forecast(const Series& series, std::size_t t) {
  return forecast_with(quantized_.net(), series, features_, norm_, window_, t);
}

}  // namespace edgelstm::host
