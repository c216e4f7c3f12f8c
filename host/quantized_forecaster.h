// A forecaster running a trained float model with weight-only quantized weights (HybridNetwork):
// the host side of the quantization study.
#pragma once

#include <cstdint>
#include <vector>

#include "edgelstm/edgelstm.h"
#include "host/forecast.h"
#include "host/model_io.h"

namespace edgelstm::host {

// A float model's network (any shape) quantized as a model file of that format stores it (weight
// matrices in the format, each layer's biases fused to int16, the head's bias float), bound in place
// by HybridNetwork.
class QuantizedNetwork {
 public:
  QuantizedNetwork(const ModelFile& model, WeightFormat format, ScaleGranularity granularity);
  QuantizedNetwork(const QuantizedNetwork&) = delete;  // the network points into the buffers
  QuantizedNetwork& operator=(const QuantizedNetwork&) = delete;
  HybridNetwork& net() { return net_; }
  // Bytes of the network on a device: quantized weights and biases, their scales, the head's
  // float bias.
  std::size_t model_bytes() const { return model_bytes_; }

 private:
  std::vector<std::uint32_t> file_;  // the quantized model file, 4-byte aligned
  std::vector<std::uint8_t> arena_;
  HybridNetwork net_;
  std::size_t model_bytes_ = 0;
};

class QuantizedForecaster {
 public:
  QuantizedForecaster(const ModelFile& model, WeightFormat format, ScaleGranularity granularity);
  double forecast(const Series& series, std::size_t t);  // as Forecaster::forecast
  double stream(const Series& series, std::size_t t) { return stream_with(quantized_.net(), series, features_, norm_, window_, t); }
  void reset_stream() { quantized_.net().reset_state(); }
  std::size_t model_bytes() const { return quantized_.model_bytes(); }

 private:
  QuantizedNetwork quantized_;
  FeatureConfig features_;
  Normalization norm_;
  std::vector<float> window_;
};

const char* format_name(WeightFormat format);

}  // namespace edgelstm::host
