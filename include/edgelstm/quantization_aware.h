// Quantization-aware training: float training in which the forward pass and BPTT see the weights
// as they will be after quantization, so the network learns to live with the rounding.
//
// Each step keeps the float ("master") weights in a caller-owned buffer, replaces the network's
// parameters by their fake-quantized values exactly as a quantized model file stores them (per
// layer weight_ih and weight_hh: q * scale, quantize.h; the two biases: their int16 sum; the head's
// weight: q * scale; the head's bias stays float), runs forward, loss and BPTT there, puts the master
// weights back and applies the gradient to them (the straight-through estimator: the rounding is
// treated as the identity in the backward pass). A float network holding fake_quantize_weights() of
// the trained weights computes what the hybrid network of their quantized file computes.
//
//   alignas(4) static float master[edgelstm::parameter_count(kSpec)];
//   edgelstm::FakeQuantization fq{edgelstm::WeightFormat::kInt4, edgelstm::ScaleGranularity::kRow};
//   auto r = edgelstm::train_step_quantization_aware(net, window, target, WindowStart::kZeroState, fq, master);
//
// No heap; costs one copy of the parameters (the master buffer) and two copies per step.
#pragma once

#include <cstddef>
#include <cstdint>

#include "network.h"
#include "quantize.h"
#include "span.h"
#include "status.h"

namespace edgelstm {

struct FakeQuantization {
  WeightFormat format = WeightFormat::kInt8;
  ScaleGranularity granularity = ScaleGranularity::kRow;
};

// kInvalidArgument unless `fq` names an integer format and a granularity.
inline Status validate_fake_quantization(const FakeQuantization& fq) {
  const bool format = fq.format == WeightFormat::kInt16 || fq.format == WeightFormat::kInt8 || fq.format == WeightFormat::kInt4;
  const bool granularity = fq.granularity == ScaleGranularity::kTensor || fq.granularity == ScaleGranularity::kRow;
  return format && granularity ? Status::kOk : Status::kInvalidArgument;
}

// Replaces `net`'s parameters by their fake-quantized values (see above). kNotBound for a network
// without writable parameters (unbound, or bound in place to read-only weights).
inline Status fake_quantize_weights(Network& net, const FakeQuantization& fq) {
  const LstmSpec& spec = net.spec();
  if (net.parameters().empty() || net.parameters().size() != parameter_count(spec)) return Status::kNotBound;
  EDGELSTM_TRY(validate_fake_quantization(fq));
  for (std::size_t layer = 0; layer < spec.num_layers; ++layer) {
    const LstmLayerParameters<float> p = net.layer_parameters(layer);
    const std::size_t rows = 4 * spec.hidden(layer);
    fake_quantize_matrix(p.weight_ih.data(), rows, spec.layer_input(layer), fq.format, fq.granularity);
    fake_quantize_matrix(p.weight_hh.data(), rows, spec.hidden(layer), fq.format, fq.granularity);
    fake_quantize_fused_bias(p.bias_ih.data(), p.bias_hh.data(), rows);
  }
  fake_quantize_matrix(net.head_weight().data(), spec.output_size, spec.top_hidden(), fq.format, fq.granularity);
  return Status::kOk;
}

// One quantization-aware training step (regression targets or class labels, as
// Network::train_step). `master` must hold parameter_count(net.spec()) floats, must not overlap
// the network's arena, and its contents on entry do not matter. Refused steps (any status but
// kOk) leave parameters, optimizer state and recurrent state as they were, as train_step does.
// kInvalidArgument for a float or unknown format or granularity, or a master buffer of the wrong
// size.
template <typename Targets>
TrainResult train_step_quantization_aware(Network& net, Span<const float> x, Span<const Targets> targets,
                                          WindowStart start, const FakeQuantization& fq, Span<float> master) {
  TrainResult result;
  Span<float> parameters = net.parameters();
  if (!net.bound_for_training()) {
    result.status = Status::kNotBound;
    return result;
  }
  if (validate_fake_quantization(fq) != Status::kOk || master.size() != parameters.size()) {
    result.status = Status::kInvalidArgument;
    return result;
  }
  copy(parameters.data(), parameters.size(), master.data());
  (void)fake_quantize_weights(net, fq);  // cannot fail: bound for training, fq checked
  result.status = net.forward_train(x, start);
  float loss = 0.0f;
  if (result.status == Status::kOk) result.status = net.compute_loss(targets, &loss);
  result.loss = loss;
  if (result.status == Status::kOk) net.backward();
  copy(master.data(), master.size(), parameters.data());  // the update applies to the float weights
  if (result.status != Status::kOk) return result;
  result.status = net.apply_gradients(&result.gradient_norm);
  if (result.status == Status::kOk) net.commit_state();
  return result;
}

}  // namespace edgelstm
