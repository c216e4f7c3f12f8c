// The full-integer path on the host: calibration on training data, conversion of a float
// forecaster into an integer model file (int8 weights + the int.* constants), and a forecaster
// that runs such a file through IntegerNetwork bound to its bytes, as a device without an FPU does.
#pragma once

#include <cstdint>
#include <vector>

#include "edgelstm/edgelstm.h"
#include "host/forecast.h"
#include "host/model_io.h"

namespace edgelstm::host {

// What calibration measured on the training windows: the largest |input feature| and each layer's
// largest |c| (float network).
struct IntegerRanges {
  double input = 0;
  double cell[kMaxLayers] = {};
};

// Input scale and cell formats from the training windows of `split`, with 25% headroom:
// input_scale = 1.25 max|x| / 32767, and the most fraction bits F with 2^(15 - F) > 1.25 max|c|.
IntegerCalibration calibrate_integer(const ModelFile& model, const Series& series, const Split& split,
                                     IntegerRanges* measured = nullptr);
// The same for any float model: `windows` holds whole input windows (spec.window x input_size
// floats each), each run through the float network from a zero state.
IntegerCalibration calibrate_integer_windows(const ModelFile& model, const std::vector<float>& windows,
                                             IntegerRanges* measured = nullptr);

// The float model as an integer model file: int8 weights with per-row scales (so the hybrid path
// and float tools still read it) plus the full-integer constants. Throws InputError when the
// weights do not fit the integer formats.
ModelFile to_integer_model(const ModelFile& model, const IntegerCalibration& calibration);

// Whether a model file carries the full-integer path.
bool has_integer_path(const ModelFile& model);

// Bytes a device needs for the integer path: int8 weights and the int32 constants.
std::size_t integer_device_bytes(const LstmSpec& spec);

// A forecaster model's one-step forecasts of x[t] for each t of `targets` (from the window before
// each, in the series' units): through the full-integer path when the file carries it, as a
// device without an FPU runs it, otherwise through the float network.
std::vector<double> forecast_targets(const ModelFile& model, const Series& series, const std::vector<std::size_t>& targets);

// Float in, float out around IntegerNetwork, for forecast_with / stream_with and the like: inputs
// quantized with the file's input scale, outputs read as Q16.
struct IntegerFloatAdapter {
  IntegerNetwork net;
  std::vector<std::int16_t> x;
  Status step(Span<const float> in, Span<float> out);
  Status forward(Span<const float> in, Span<float> out);
  void reset_state() { net.reset_state(); }
};

// A model file with the integer path, bound in place as a device binds it: its serialized bytes,
// 4-byte aligned, read by read_model, and IntegerNetwork bound to that view. Not copyable (the
// network points into the bytes).
class BoundIntegerModel {
 public:
  explicit BoundIntegerModel(const ModelFile& integer_model);
  BoundIntegerModel(const BoundIntegerModel&) = delete;
  BoundIntegerModel& operator=(const BoundIntegerModel&) = delete;
  IntegerFloatAdapter& adapter() { return net_; }

 private:
  std::vector<std::uint32_t> file_;  // the model file's bytes, 4-byte aligned, bound in place
  std::vector<std::uint8_t> arena_;
  IntegerFloatAdapter net_;
};

class IntegerForecaster {
 public:
  explicit IntegerForecaster(const ModelFile& integer_model);
  double forecast(const Series& series, std::size_t t);  // as Forecaster::forecast
  double stream(const Series& series, std::size_t t) { return stream_with(adapter(), series, features_, norm_, window_, t); }
  void reset_stream() { adapter().reset_state(); }

  using FloatAdapter = IntegerFloatAdapter;
  FloatAdapter& adapter() { return bound_.adapter(); }

 private:
  BoundIntegerModel bound_;
  FeatureConfig features_;
  Normalization norm_;
  std::vector<float> window_;
};

}  // namespace edgelstm::host
