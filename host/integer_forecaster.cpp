#include "host/integer_forecaster.h"

#include <cmath>
#include <cstring>
#include <string>

#include "host/csv_reader.h"

namespace edgelstm::host {

namespace {

constexpr double kHeadroom = 1.25;

}  // namespace

IntegerCalibration calibrate_integer(const ModelFile& model, const Series& series, const Split& split,
                                     IntegerRanges* measured) {
  const FeatureConfig features = features_of(model);
  const Normalization norm = normalization_of(model);
  const std::size_t floats = static_cast<std::size_t>(features.window * features.features());
  std::vector<float> windows(split.train.size() * floats);
  for (std::size_t k = 0; k < split.train.size(); ++k) {
    build_window(series, features, norm, split.train[k], windows.data() + k * floats);
  }
  return calibrate_integer_windows(model, windows, measured);
}

IntegerCalibration calibrate_integer_windows(const ModelFile& model, const std::vector<float>& windows,
                                             IntegerRanges* measured) {
  std::vector<std::uint8_t> arena;
  Network net;
  if (net.bind_inference(model.spec, aligned_arena(arena, inference_bytes(model.spec))) != Status::kOk) {
    throw InputError("cannot bind the model for calibration");
  }
  std::copy(model.parameters.begin(), model.parameters.end(), net.parameters().begin());
  const std::size_t width = model.spec.input_size, steps = model.spec.window;
  std::vector<float> y(model.spec.output_size);
  IntegerRanges ranges;
  for (std::size_t start = 0; start + steps * width <= windows.size(); start += steps * width) {
    net.reset_state();
    for (std::size_t s = 0; s < steps; ++s) {
      const float* x = windows.data() + start + s * width;
      if (net.step(Span<const float>(x, width), Span<float>(y.data(), y.size())) != Status::kOk) {
        throw InputError("calibration: the float model produced a non-finite value");
      }
      for (std::size_t k = 0; k < width; ++k) ranges.input = std::fmax(ranges.input, std::fabs(x[k]));
      for (std::size_t l = 0; l < model.spec.num_layers; ++l) {
        for (float c : net.cell_state(l)) ranges.cell[l] = std::fmax(ranges.cell[l], std::fabs(c));
      }
    }
  }
  IntegerCalibration calibration;
  calibration.input_scale = static_cast<float>(std::fmax(ranges.input, 1e-6) * kHeadroom / 32767.0);
  for (std::size_t l = 0; l < model.spec.num_layers; ++l) {
    int integer_bits = 0;
    while (integer_bits < 15 && std::ldexp(1.0, integer_bits) <= ranges.cell[l] * kHeadroom) ++integer_bits;
    calibration.cell_fraction_bits[l] = 15 - integer_bits;
  }
  if (measured != nullptr) *measured = ranges;
  return calibration;
}

ModelFile to_integer_model(const ModelFile& model, const IntegerCalibration& calibration) {
  if (model.format != WeightFormat::kFloat32) throw InputError("the integer path is made from a float model");
  const LstmSpec& spec = model.spec;
  std::vector<std::int8_t> weights(integer_weight_count(spec));
  std::vector<float> scales(integer_scale_count(spec));
  std::vector<std::int32_t> constants(integer_constant_count(spec));
  IntegerParameters parameters;
  const Status status = quantize_to_integer(
      spec, Span<const float>(model.parameters.data(), model.parameters.size()), calibration,
      Span<std::int8_t>(weights.data(), weights.size()), Span<float>(scales.data(), scales.size()),
      Span<std::int32_t>(constants.data(), constants.size()), &parameters);
  if (status != Status::kOk) {
    throw InputError(std::string("the model does not fit the integer formats (") + status_name(status) +
                     "): a weight times the input range reaches 256 or a gate bias exceeds 2^17");
  }
  ModelFile out = model;
  out.format = WeightFormat::kInt8;
  out.granularity = ScaleGranularity::kRow;
  // The file's int8 tensors are quantize_matrix of the same floats (serialize_model), so they are
  // exactly `weights`; the constants refer to those scales.
  std::vector<std::int32_t> config(kIntegerConfigCount, 0);
  config[0] = kIntegerFormatVersion;
  config[1 + kMaxLayers] = kOutputFractionBits;
  std::size_t at = 0;
  for (std::size_t l = 0; l < spec.num_layers; ++l) {
    config[1 + l] = parameters.layers[l].cell_fraction_bits;
    config[2 + kMaxLayers + l] = parameters.layers[l].shift_ih;
    config[2 + 2 * kMaxLayers + l] = parameters.layers[l].shift_hh;
    const std::size_t count = 4 * spec.hidden(l) * kIntegerGateFields;
    out.ints["int.l" + std::to_string(l) + ".gates"].assign(constants.begin() + static_cast<std::ptrdiff_t>(at),
                                                             constants.begin() + static_cast<std::ptrdiff_t>(at + count));
    at += count;
  }
  out.ints["int.head"].assign(constants.begin() + static_cast<std::ptrdiff_t>(at), constants.end());
  out.ints["int.config"] = config;
  out.floats["int.input_scale"] = {calibration.input_scale};
  return out;
}

bool has_integer_path(const ModelFile& model) { return model.ints.count("int.config") != 0; }

std::size_t integer_device_bytes(const LstmSpec& spec) {
  return integer_weight_count(spec) + 4 * integer_constant_count(spec) + 4 * kIntegerConfigCount;
}

Status IntegerFloatAdapter::step(Span<const float> in, Span<float> out) {
  x.resize(in.size());
  for (std::size_t k = 0; k < in.size(); ++k) x[k] = net.quantize_input(in[k]);
  std::int32_t y[16];
  if (out.size() > 16) return Status::kInvalidArgument;
  EDGELSTM_TRY(net.step(Span<const std::int16_t>(x.data(), x.size()), Span<std::int32_t>(y, out.size())));
  for (std::size_t o = 0; o < out.size(); ++o) out[o] = IntegerNetwork::output_value(y[o]);
  return Status::kOk;
}

Status IntegerFloatAdapter::forward(Span<const float> in, Span<float> out) {
  const std::size_t width = net.spec().input_size;
  for (std::size_t s = 0; s < in.size() / width; ++s) EDGELSTM_TRY(step(in.subspan(s * width, width), out));
  return Status::kOk;
}

BoundIntegerModel::BoundIntegerModel(const ModelFile& integer_model) {
  if (!has_integer_path(integer_model)) throw InputError("the model has no full-integer path (edgelstm quantize --integer)");
  const std::vector<std::uint8_t> bytes = serialize_model(integer_model);
  file_.assign((bytes.size() + 3) / 4, 0);
  std::memcpy(file_.data(), bytes.data(), bytes.size());
  ModelView view;
  Status status = read_model(Span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(file_.data()), bytes.size()), &view);
  if (status == Status::kOk) {
    status = net_.net.bind(view, aligned_arena(arena_, integer_inference_bytes(integer_model.spec)));
  }
  if (status != Status::kOk) throw InputError(std::string("cannot bind the integer model: ") + status_name(status));
}

IntegerForecaster::IntegerForecaster(const ModelFile& integer_model)
    : bound_(integer_model), features_(features_of(integer_model)), norm_(normalization_of(integer_model)) {
  window_.resize(static_cast<std::size_t>(features_.window * features_.features()));
}

double IntegerForecaster::forecast(const Series& series, std::size_t t) {
  return forecast_with(adapter(), series, features_, norm_, window_, t);
}

std::vector<double> forecast_targets(const ModelFile& model, const Series& series, const std::vector<std::size_t>& targets) {
  std::vector<double> forecasts;
  forecasts.reserve(targets.size());
  if (has_integer_path(model)) {
    IntegerForecaster forecaster(model);
    for (std::size_t t : targets) forecasts.push_back(forecaster.forecast(series, t));
  } else {
    Forecaster forecaster(model);
    for (std::size_t t : targets) forecasts.push_back(forecaster.forecast(series, t));
  }
  // Finite weights can still overflow (a CRC-valid file with weights near 3e38): a table of inf or
  // NaN errors would be nonsense, so such a model is refused.
  for (std::size_t k = 0; k < forecasts.size(); ++k) {
    if (!std::isfinite(forecasts[k])) {
      throw InputError("the model's forecast of reading " + std::to_string(targets[k] + 1) +
                       " is NaN or Inf: its weights or normalization are unusable");
    }
  }
  return forecasts;
}

}  // namespace edgelstm::host
