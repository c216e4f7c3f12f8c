// Parity with PyTorch (torch.nn.LSTM + torch.nn.Linear, float64 reference): forward outputs, loss,
// every gradient, the initial-state gradients, the parameters after 5 steps of SGD, momentum and
// Adam, and truncated BPTT over a stream. edgelstm runs in float32, as on a device.
//
// Error metric: element-wise relative error, denominator floored at 1% of the reference tensor's
// largest magnitude (test_util.h). Limits: 1e-5 forward and loss, 1e-4 gradients and weights.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "edgelstm/edgelstm.h"
#include "parity/reference_data.h"
#include "support/test_util.h"

namespace {

using edgelstm::test::field;
using edgelstm::test::Record;
using edgelstm::test::ReferenceCase;

constexpr double kForwardLimit = 1e-5;
constexpr double kGradientLimit = 1e-4;

const std::map<std::string, ReferenceCase>& reference_cases() {
  static const std::map<std::string, ReferenceCase> cases = [] {
    const char* path = std::getenv("EDGELSTM_PARITY_DATA");
    if (path == nullptr) {
      throw std::runtime_error("EDGELSTM_PARITY_DATA is not set; run the tests through ctest");
    }
    return edgelstm::test::read_reference_file(path);
  }();
  return cases;
}

struct CaseSetup {
  edgelstm::LstmSpec spec;
  edgelstm::LossKind loss;
  float huber_delta;
};

CaseSetup setup_of(const ReferenceCase& reference) {
  const Record& s = field(reference, "spec");
  CaseSetup setup;
  setup.spec = edgelstm::make_spec(
      static_cast<std::uint16_t>(s[0]), static_cast<std::uint16_t>(s[1]),
      static_cast<std::uint8_t>(s[2]), static_cast<std::uint16_t>(s[3]),
      static_cast<std::uint16_t>(s[4]),
      s[5] != 0 ? edgelstm::Task::kClassification : edgelstm::Task::kRegression,
      s[6] != 0 ? edgelstm::OutputMode::kEveryStep : edgelstm::OutputMode::kLastStep);
  setup.loss = s[7] == 2 ? edgelstm::LossKind::kCrossEntropy
               : s[7] == 1 ? edgelstm::LossKind::kHuber : edgelstm::LossKind::kMse;
  setup.huber_delta = static_cast<float>(s[8]);
  return setup;
}

std::vector<float> as_float(const Record& values, std::size_t offset = 0, std::size_t count = SIZE_MAX) {
  if (count == SIZE_MAX) count = values.size() - offset;
  return std::vector<float>(values.begin() + offset, values.begin() + offset + count);
}

std::vector<std::uint16_t> as_labels(const Record& values, std::size_t offset, std::size_t count) {
  std::vector<std::uint16_t> labels;
  for (std::size_t k = 0; k < count; ++k) labels.push_back(static_cast<std::uint16_t>(values[offset + k]));
  return labels;
}

double relative_error(edgelstm::Span<const float> actual, const Record& expected) {
  EXPECT_EQ(actual.size(), expected.size());
  return edgelstm::test::max_relative_error(actual.data(), expected.data(), expected.size());
}

// A network bound to its own arena, with the case's initial parameters.
struct BoundNetwork {
  std::vector<std::uint8_t> storage;
  edgelstm::Network net;

  BoundNetwork(const CaseSetup& setup, const ReferenceCase& reference, edgelstm::TrainConfig config) {
    config.loss = setup.loss;
    config.huber_delta = setup.huber_delta;
    storage.resize(edgelstm::train_bytes(setup.spec, config.optimizer) + edgelstm::kArenaAlignment);
    auto* aligned = reinterpret_cast<std::uint8_t*>(
        (reinterpret_cast<std::uintptr_t>(storage.data()) + edgelstm::kArenaAlignment - 1) /
        edgelstm::kArenaAlignment * edgelstm::kArenaAlignment);
    const edgelstm::Status status = net.bind_training(
        setup.spec, config, edgelstm::Span<std::uint8_t>(aligned, storage.size() - edgelstm::kArenaAlignment));
    if (status != edgelstm::Status::kOk) throw std::runtime_error(edgelstm::status_name(status));
    const Record& params = field(reference, "params");
    edgelstm::Span<float> p = net.parameters();
    if (p.size() != params.size()) throw std::runtime_error("parameter count differs from torch");
    for (std::size_t k = 0; k < p.size(); ++k) p[k] = static_cast<float>(params[k]);
  }

  edgelstm::TrainResult train(const CaseSetup& setup, const Record& xs, const Record& targets,
                              std::size_t index, edgelstm::WindowStart start) {
    const std::size_t x_count = setup.spec.window * setup.spec.input_size;
    const std::vector<float> x = as_float(xs, index * x_count, x_count);
    const edgelstm::Span<const float> x_span(x.data(), x.size());
    if (setup.spec.task == edgelstm::Task::kClassification) {
      const std::size_t rows = setup.spec.output_steps();
      const std::vector<std::uint16_t> labels = as_labels(targets, index * rows, rows);
      return net.train_step(x_span, edgelstm::Span<const std::uint16_t>(labels.data(), rows), start);
    }
    const std::size_t count = setup.spec.output_steps() * setup.spec.output_size;
    const std::vector<float> t = as_float(targets, index * count, count);
    return net.train_step(x_span, edgelstm::Span<const float>(t.data(), t.size()), start);
  }
};

// Sets every layer's h and c to the case's initial state (h0, c0) on a Network or PackedNetwork.
template <typename Net>
edgelstm::Status set_initial_state(const ReferenceCase& ref, const CaseSetup& setup, Net& net) {
  const Record& h0 = field(ref, "h0");
  const Record& c0 = field(ref, "c0");
  std::size_t offset = 0;
  for (std::size_t layer = 0; layer < setup.spec.num_layers; ++layer) {
    const std::size_t hidden = setup.spec.hidden(layer);
    const std::vector<float> h = as_float(h0, offset, hidden), c = as_float(c0, offset, hidden);
    const edgelstm::Status status = net.set_state(layer, {h.data(), hidden}, {c.data(), hidden});
    if (status != edgelstm::Status::kOk) return status;
    offset += hidden;
  }
  return edgelstm::Status::kOk;
}

class TorchParity : public ::testing::TestWithParam<std::string> {
 protected:
  const ReferenceCase& reference() const { return reference_cases().at(GetParam()); }
};

TEST_P(TorchParity, ForwardLossAndEveryGradientMatchTorch) {
  const ReferenceCase& ref = reference();
  const CaseSetup setup = setup_of(ref);
  BoundNetwork bound(setup, ref, edgelstm::TrainConfig{});
  edgelstm::Network& net = bound.net;
  ASSERT_EQ(set_initial_state(ref, setup, net), edgelstm::Status::kOk);
  const std::vector<float> x = as_float(field(ref, "x"));
  ASSERT_EQ(net.forward_train({x.data(), x.size()}, edgelstm::WindowStart::kCarryState), edgelstm::Status::kOk);
  EXPECT_LE(relative_error(net.window_outputs(), field(ref, "outputs")), kForwardLimit);

  float loss = 0;
  const Record& targets = field(ref, "targets");
  if (setup.spec.task == edgelstm::Task::kClassification) {
    const std::vector<std::uint16_t> labels = as_labels(targets, 0, targets.size());
    ASSERT_EQ(net.compute_loss(edgelstm::Span<const std::uint16_t>(labels.data(), labels.size()), &loss),
              edgelstm::Status::kOk);
  } else {
    const std::vector<float> t = as_float(targets);
    ASSERT_EQ(net.compute_loss(edgelstm::Span<const float>(t.data(), t.size()), &loss), edgelstm::Status::kOk);
  }
  const double expected_loss = field(ref, "loss")[0];
  EXPECT_LE(std::fabs(loss - expected_loss) / std::fabs(expected_loss), kForwardLimit);

  net.backward();
  EXPECT_LE(relative_error(net.gradients(), field(ref, "grads")), kGradientLimit);
  std::vector<float> grad_h0, grad_c0, final_h, final_c;
  net.commit_state();
  for (std::size_t layer = 0; layer < setup.spec.num_layers; ++layer) {
    for (float v : net.initial_hidden_gradient(layer)) grad_h0.push_back(v);
    for (float v : net.initial_cell_gradient(layer)) grad_c0.push_back(v);
    for (float v : net.hidden_state(layer)) final_h.push_back(v);
    for (float v : net.cell_state(layer)) final_c.push_back(v);
  }
  EXPECT_LE(relative_error({grad_h0.data(), grad_h0.size()}, field(ref, "grad_h0")), kGradientLimit);
  EXPECT_LE(relative_error({grad_c0.data(), grad_c0.size()}, field(ref, "grad_c0")), kGradientLimit);
  EXPECT_LE(relative_error({final_h.data(), final_h.size()}, field(ref, "final_h")), kForwardLimit);
  EXPECT_LE(relative_error({final_c.data(), final_c.size()}, field(ref, "final_c")), kForwardLimit);
}

// The repacked inference path (PackedNetwork) on the same window from the same state: outputs and
// final state within the forward limit.
TEST_P(TorchParity, PackedForwardMatchesTorch) {
  const ReferenceCase& ref = reference();
  const CaseSetup setup = setup_of(ref);
  BoundNetwork bound(setup, ref, edgelstm::TrainConfig{});
  std::vector<std::uint8_t> storage(edgelstm::packed_inference_bytes(setup.spec) + edgelstm::kPackedAlignment);
  const std::size_t skip = (edgelstm::kPackedAlignment -
                            reinterpret_cast<std::uintptr_t>(storage.data()) % edgelstm::kPackedAlignment) %
                           edgelstm::kPackedAlignment;
  edgelstm::PackedNetwork packed;
  ASSERT_EQ(packed.bind(bound.net, {storage.data() + skip, storage.size() - skip}), edgelstm::Status::kOk);
  ASSERT_EQ(set_initial_state(ref, setup, packed), edgelstm::Status::kOk);
  const std::vector<float> x = as_float(field(ref, "x"));
  std::vector<float> y(setup.spec.output_steps() * setup.spec.output_size);
  ASSERT_EQ(packed.forward({x.data(), x.size()}, {y.data(), y.size()}), edgelstm::Status::kOk);
  EXPECT_LE(relative_error({y.data(), y.size()}, field(ref, "outputs")), kForwardLimit);
  std::vector<float> final_h, final_c;
  for (std::size_t layer = 0; layer < setup.spec.num_layers; ++layer) {
    for (float v : packed.hidden_state(layer)) final_h.push_back(v);
    for (float v : packed.cell_state(layer)) final_c.push_back(v);
  }
  EXPECT_LE(relative_error({final_h.data(), final_h.size()}, field(ref, "final_h")), kForwardLimit);
  EXPECT_LE(relative_error({final_c.data(), final_c.size()}, field(ref, "final_c")), kForwardLimit);
}

void check_five_steps(const ReferenceCase& ref, const std::string& name, edgelstm::TrainConfig config) {
  SCOPED_TRACE(name);
  const CaseSetup setup = setup_of(ref);
  BoundNetwork bound(setup, ref, config);
  for (std::size_t step = 0; step < 5; ++step) {
    const edgelstm::TrainResult result = bound.train(setup, field(ref, "train_x"), field(ref, "train_targets"),
                                                     step, edgelstm::WindowStart::kZeroState);
    ASSERT_EQ(result.status, edgelstm::Status::kOk);
  }
  // A fixed limit, whatever BLAS PyTorch links: each case is well conditioned (torch_reference.py
  // says why the paper's network runs Adam with epsilon 1e-5). PyTorch's own float32 error is
  // printed beside edgelstm's for comparison, never used as the limit.
  const double error = relative_error(bound.net.parameters(), field(ref, "after_" + name));
  EXPECT_LE(error, kGradientLimit);
  std::printf("%s: weights after 5 steps, relative error %.3g (torch float32: %.3g)\n", name.c_str(), error,
              field(ref, "float32_error_" + name)[0]);
}

// The optimizer settings torch_reference.py uses.
TEST_P(TorchParity, WeightsAfterFiveStepsMatchTorchForEveryOptimizer) {
  edgelstm::TrainConfig sgd;
  sgd.optimizer = edgelstm::OptimizerKind::kSgd;
  sgd.learning_rate = 0.1f;
  check_five_steps(reference(), "sgd", sgd);

  edgelstm::TrainConfig momentum;
  momentum.optimizer = edgelstm::OptimizerKind::kMomentum;
  momentum.learning_rate = 0.05f;
  momentum.momentum = 0.9f;
  momentum.weight_decay = 1e-3f;
  check_five_steps(reference(), "momentum", momentum);

  edgelstm::TrainConfig adam;
  adam.optimizer = edgelstm::OptimizerKind::kAdam;
  adam.learning_rate = 0.01f;
  adam.clip_norm = static_cast<float>(field(reference(), "adam_clip")[0]);
  if (reference().count("adam_eps") != 0) adam.epsilon = static_cast<float>(field(reference(), "adam_eps")[0]);
  check_five_steps(reference(), "adam", adam);
}

INSTANTIATE_TEST_SUITE_P(Cases, TorchParity,
                         ::testing::Values("in1_h8_t6", "in3_h16_l2_t12_every_step_huber",
                                           "in3_h16_l2_t12_every_step_mse", "paper_in1_h100_t6",
                                           "classify_5_classes"));

TEST(TorchParityOptimizer, UpdatesOnGivenGradientsMatchTorchWithWeightDecay) {
  const ReferenceCase& ref = reference_cases().at("optimizer_only");
  const Record& initial = field(ref, "params");
  const Record& grads = field(ref, "given_grads");
  const std::size_t count = initial.size();
  struct Setting {
    const char* name;
    edgelstm::OptimizerKind kind;
    float lr, momentum;
    double beta1, beta2;
    float eps;
  };
  const Setting settings[] = {{"sgd_decay", edgelstm::OptimizerKind::kSgd, 0.1f, 0.0f, 0.9, 0.999, 1e-8f},
                              {"momentum_decay", edgelstm::OptimizerKind::kMomentum, 0.05f, 0.9f, 0.9, 0.999, 1e-8f},
                              {"adam_decay", edgelstm::OptimizerKind::kAdam, 0.01f, 0.0f, 0.8, 0.99, 1e-6f}};
  for (const Setting& setting : settings) {
    SCOPED_TRACE(setting.name);
    edgelstm::TrainConfig config;
    config.optimizer = setting.kind;
    config.learning_rate = setting.lr;
    config.momentum = setting.momentum;
    config.beta1 = setting.beta1;
    config.beta2 = setting.beta2;
    config.epsilon = setting.eps;
    config.weight_decay = 0.01f;
    std::vector<float> params = as_float(initial), state(2 * count, 0.0f);
    double beta1_power = 1, beta2_power = 1;
    for (std::size_t step = 0; step < 5; ++step) {
      const std::vector<float> g = as_float(grads, step * count, count);
      beta1_power *= config.beta1;
      beta2_power *= config.beta2;
      ASSERT_TRUE(edgelstm::optimizer_update<true>(config, 1.0f, beta1_power, beta2_power, count, g.data(),
                                                   state.data(), params.data()));
    }
    EXPECT_LE(relative_error({params.data(), count}, field(ref, std::string("after_") + setting.name)),
              kGradientLimit);
  }
}

TEST(TorchParityStream, TruncatedBpttMatchesTorchWithDetachedState) {
  const ReferenceCase& ref = reference_cases().at("tbptt_stream");
  const CaseSetup setup = setup_of(ref);
  edgelstm::TrainConfig config;
  config.learning_rate = 0.2f;
  BoundNetwork bound(setup, ref, config);
  for (std::size_t w = 0; w < 3; ++w) {
    SCOPED_TRACE("window " + std::to_string(w));
    const edgelstm::TrainResult result = bound.train(setup, field(ref, "stream_x"), field(ref, "stream_targets"), w,
                                                     edgelstm::WindowStart::kCarryState);
    ASSERT_EQ(result.status, edgelstm::Status::kOk);
    const double expected_loss = field(ref, "stream_loss_" + std::to_string(w))[0];
    EXPECT_LE(std::fabs(result.loss - expected_loss) / std::fabs(expected_loss), kForwardLimit);
    EXPECT_LE(relative_error(bound.net.gradients(), field(ref, "stream_grads_" + std::to_string(w))), kGradientLimit);
    EXPECT_LE(relative_error(bound.net.parameters(), field(ref, "stream_params_" + std::to_string(w))), kGradientLimit);
  }
}

}  // namespace
