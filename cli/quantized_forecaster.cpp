#include "quantized_forecaster.h"

namespace edgelstm::cli {

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
  // Sizes first, so the storage never moves while matrices point into it.
  struct Matrix {
    std::size_t offset, rows, cols;  // offset into model.parameters
  };
  std::vector<Matrix> matrices;
  std::vector<std::size_t> bias_offsets;
  std::size_t offset = 0;
  for (std::size_t l = 0; l < spec.num_layers; ++l) {
    const std::size_t h = spec.hidden(l), in = spec.layer_input(l);
    matrices.push_back({offset, 4 * h, in});
    offset += 4 * h * in;
    matrices.push_back({offset, 4 * h, h});
    offset += 4 * h * h;
    bias_offsets.push_back(offset);
    offset += 8 * h;
  }
  matrices.push_back({offset, spec.output_size, spec.top_hidden()});
  const std::size_t head_bias = offset + spec.output_size * spec.top_hidden();
  std::size_t weight_bytes = 0, scale_values = 0;
  for (const Matrix& m : matrices) {
    weight_bytes += m.rows * quantized_row_bytes(format, m.cols);
    scale_values += scale_count(granularity, m.rows);
  }
  weights_.assign(weight_bytes, 0);
  scales_.assign(scale_values, 0.0f);
  biases_.assign(model.parameters.begin(), model.parameters.end());  // biases are read from this copy
  std::vector<QuantizedMatrix> quantized;
  std::size_t at_byte = 0, at_scale = 0;
  for (const Matrix& m : matrices) {
    QuantizedMatrix q{format, granularity, weights_.data() + at_byte, scales_.data() + at_scale, m.rows, m.cols};
    quantize_matrix(model.parameters.data() + m.offset, m.rows, m.cols, format, granularity, weights_.data() + at_byte,
                    scales_.data() + at_scale);
    at_byte += m.rows * quantized_row_bytes(format, m.cols);
    at_scale += scale_count(granularity, m.rows);
    quantized.push_back(q);
  }
  std::vector<HybridLayer> layers(spec.num_layers);
  for (std::size_t l = 0; l < spec.num_layers; ++l) {
    layers[l].weight_ih = quantized[2 * l];
    layers[l].weight_hh = quantized[2 * l + 1];
    layers[l].bias_ih = biases_.data() + bias_offsets[l];
    layers[l].bias_hh = biases_.data() + bias_offsets[l] + 4 * spec.hidden(l);
  }
  const Status status = net_.bind(spec, Span<const HybridLayer>(layers.data(), layers.size()), quantized.back(),
                                  biases_.data() + head_bias, aligned_arena(arena_, inference_in_place_bytes(spec)));
  if (status != Status::kOk) throw InputError(std::string("cannot bind the quantized network: ") + status_name(status));
  std::size_t bias_count = spec.output_size;
  for (std::size_t l = 0; l < spec.num_layers; ++l) bias_count += 8 * spec.hidden(l);
  model_bytes_ = weight_bytes + 4 * scale_values + 4 * bias_count;
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

}  // namespace edgelstm::cli
