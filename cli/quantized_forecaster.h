// A forecaster running a trained float model with weight-only quantized weights (HybridNetwork):
// the host side of the quantization study.
#pragma once

#include <cstdint>
#include <vector>

#include "edgelstm/edgelstm.h"
#include "forecast.h"
#include "model_io.h"

namespace edgelstm::cli {

class QuantizedForecaster {
 public:
  // Quantizes every weight matrix of `model` (LSTM input and recurrent weights, head weight);
  // biases stay float.
  QuantizedForecaster(const ModelFile& model, WeightFormat format, ScaleGranularity granularity);
  double forecast(const Series& series, std::size_t t);  // as Forecaster::forecast
  double stream(const Series& series, std::size_t t) { return stream_with(net_, series, features_, norm_, window_, t); }
  void reset_stream() { net_.reset_state(); }
  // Bytes of the network on a device: quantized weights, their scales and the float biases.
  std::size_t model_bytes() const { return model_bytes_; }

 private:
  std::vector<std::uint8_t> weights_;
  std::vector<float> scales_, biases_;
  std::vector<std::uint8_t> arena_;
  HybridNetwork net_;
  FeatureConfig features_;
  Normalization norm_;
  std::vector<float> window_;
  std::size_t model_bytes_ = 0;
};

const char* format_name(WeightFormat format);

}  // namespace edgelstm::cli
