// PyTorch reference values embedded in the program (tests/golden/torch_golden.h), so the parity
// checks of tests/parity also run on targets, which have neither PyTorch nor files: forward
// outputs, loss, every gradient, initial-state gradients, and the weights after 5 steps of SGD,
// momentum and Adam. Same limits as the host parity test: 1e-5 forward, 1e-4 gradients/weights.
#include <cstdint>

#include "edgelstm/edgelstm.h"
#include "golden/torch_golden.h"
#include "support/micro_test.h"
#include "support/test_util.h"

namespace {

using edgelstm::Span;

struct Golden {
  Span<const double> spec, params, x, h0, c0, targets, outputs, final_h, final_c, loss, grads,
      grad_h0, grad_c0, train_x, train_targets, adam_clip, after_sgd, after_momentum, after_adam,
      float32_error_adam;
};

#define EDGELSTM_GOLDEN_FIELD(ns, field) Span<const double>(edgelstm::golden::ns::field, edgelstm::golden::ns::field##_count)
#define EDGELSTM_GOLDEN_CASE(ns)                                                                         \
  Golden {                                                                                              \
    EDGELSTM_GOLDEN_FIELD(ns, spec), EDGELSTM_GOLDEN_FIELD(ns, params), EDGELSTM_GOLDEN_FIELD(ns, x),  \
        EDGELSTM_GOLDEN_FIELD(ns, h0), EDGELSTM_GOLDEN_FIELD(ns, c0),                                   \
        EDGELSTM_GOLDEN_FIELD(ns, targets), EDGELSTM_GOLDEN_FIELD(ns, outputs),                         \
        EDGELSTM_GOLDEN_FIELD(ns, final_h), EDGELSTM_GOLDEN_FIELD(ns, final_c),                         \
        EDGELSTM_GOLDEN_FIELD(ns, loss), EDGELSTM_GOLDEN_FIELD(ns, grads),                              \
        EDGELSTM_GOLDEN_FIELD(ns, grad_h0), EDGELSTM_GOLDEN_FIELD(ns, grad_c0),                         \
        EDGELSTM_GOLDEN_FIELD(ns, train_x), EDGELSTM_GOLDEN_FIELD(ns, train_targets),                   \
        EDGELSTM_GOLDEN_FIELD(ns, adam_clip), EDGELSTM_GOLDEN_FIELD(ns, after_sgd),                     \
        EDGELSTM_GOLDEN_FIELD(ns, after_momentum), EDGELSTM_GOLDEN_FIELD(ns, after_adam),               \
        EDGELSTM_GOLDEN_FIELD(ns, float32_error_adam)                                                   \
  }

constexpr double kForwardLimit = 1e-5;
constexpr double kGradientLimit = 1e-4;

alignas(16) std::uint8_t g_arena[128 * 1024];
float g_values[4096];
std::uint16_t g_labels[64];

edgelstm::LstmSpec spec_of(const Golden& golden) {
  const Span<const double> s = golden.spec;
  return edgelstm::make_spec(static_cast<std::uint16_t>(s[0]), static_cast<std::uint16_t>(s[1]),
                             static_cast<std::uint8_t>(s[2]), static_cast<std::uint16_t>(s[3]),
                             static_cast<std::uint16_t>(s[4]),
                             s[5] != 0 ? edgelstm::Task::kClassification : edgelstm::Task::kRegression,
                             s[6] != 0 ? edgelstm::OutputMode::kEveryStep : edgelstm::OutputMode::kLastStep);
}

edgelstm::LossKind loss_of(const Golden& golden) {
  return golden.spec[7] == 2 ? edgelstm::LossKind::kCrossEntropy
         : golden.spec[7] == 1 ? edgelstm::LossKind::kHuber : edgelstm::LossKind::kMse;
}

// Copies count reference values from offset into the float scratch buffer.
Span<const float> as_float(Span<const double> values, std::size_t offset, std::size_t count) {
  for (std::size_t k = 0; k < count; ++k) g_values[k] = static_cast<float>(values[offset + k]);
  return Span<const float>(g_values, count);
}

Span<const std::uint16_t> as_labels(Span<const double> values, std::size_t offset, std::size_t count) {
  for (std::size_t k = 0; k < count; ++k) g_labels[k] = static_cast<std::uint16_t>(values[offset + k]);
  return Span<const std::uint16_t>(g_labels, count);
}

double error_against(Span<const float> actual, Span<const double> expected) {
  if (actual.size() != expected.size()) return 1e30;
  return edgelstm::test::max_relative_error(actual.data(), expected.data(), expected.size());
}

edgelstm::Status bind(edgelstm::Network& net, const Golden& golden, edgelstm::TrainConfig config) {
  config.loss = loss_of(golden);
  EDGELSTM_TRY(net.bind_training(spec_of(golden), config, g_arena));
  const Span<float> p = net.parameters();
  if (p.size() != golden.params.size()) return edgelstm::Status::kInvalidSpec;
  for (std::size_t k = 0; k < p.size(); ++k) p[k] = static_cast<float>(golden.params[k]);
  return edgelstm::Status::kOk;
}

void check_forward_and_gradients(const Golden& golden) {
  const edgelstm::LstmSpec spec = spec_of(golden);
  edgelstm::Network net;
  ASSERT_OK(bind(net, golden, edgelstm::TrainConfig{}));
  std::size_t offset = 0;
  float h[64], c[64];
  for (std::size_t layer = 0; layer < spec.num_layers; ++layer) {
    const std::size_t hidden = spec.hidden(layer);
    for (std::size_t j = 0; j < hidden; ++j) {
      h[j] = static_cast<float>(golden.h0[offset + j]);
      c[j] = static_cast<float>(golden.c0[offset + j]);
    }
    ASSERT_OK(net.set_state(layer, Span<const float>(h, hidden), Span<const float>(c, hidden)));
    offset += hidden;
  }
  ASSERT_OK(net.forward_train(as_float(golden.x, 0, golden.x.size()), edgelstm::WindowStart::kCarryState));
  EXPECT_LE(error_against(net.window_outputs(), golden.outputs), kForwardLimit);
  float loss = 0;
  if (spec.task == edgelstm::Task::kClassification) {
    ASSERT_OK(net.compute_loss(as_labels(golden.targets, 0, golden.targets.size()), &loss));
  } else {
    ASSERT_OK(net.compute_loss(as_float(golden.targets, 0, golden.targets.size()), &loss));
  }
  EXPECT_LE(std::fabs(loss - golden.loss[0]) / std::fabs(golden.loss[0]), kForwardLimit);
  net.backward();
  EXPECT_LE(error_against(net.gradients(), golden.grads), kGradientLimit);
  net.commit_state();
  offset = 0;
  for (std::size_t layer = 0; layer < spec.num_layers; ++layer) {
    const std::size_t hidden = spec.hidden(layer);
    EXPECT_LE(error_against(net.initial_hidden_gradient(layer), golden.grad_h0.subspan(offset, hidden)), kGradientLimit);
    EXPECT_LE(error_against(net.initial_cell_gradient(layer), golden.grad_c0.subspan(offset, hidden)), kGradientLimit);
    EXPECT_LE(error_against(net.hidden_state(layer), golden.final_h.subspan(offset, hidden)), kForwardLimit);
    EXPECT_LE(error_against(net.cell_state(layer), golden.final_c.subspan(offset, hidden)), kForwardLimit);
    offset += hidden;
  }
  // A layer the spec does not have has no initial-state gradient.
  EXPECT_TRUE(net.initial_hidden_gradient(spec.num_layers).size() == 0);
  EXPECT_TRUE(net.initial_cell_gradient(4).size() == 0);
}

void check_five_steps(const Golden& golden, edgelstm::TrainConfig config, Span<const double> expected, double limit) {
  const edgelstm::LstmSpec spec = spec_of(golden);
  edgelstm::Network net;
  ASSERT_OK(bind(net, golden, config));
  const std::size_t x_count = spec.window * spec.input_size;
  for (std::size_t step = 0; step < 5; ++step) {
    edgelstm::TrainResult result;
    if (spec.task == edgelstm::Task::kClassification) {
      const std::size_t rows = spec.output_steps();
      const Span<const std::uint16_t> labels = as_labels(golden.train_targets, step * rows, rows);
      result = net.train_step(as_float(golden.train_x, step * x_count, x_count), labels, edgelstm::WindowStart::kZeroState);
    } else {
      const std::size_t count = spec.output_steps() * spec.output_size;
      float targets[64];
      for (std::size_t k = 0; k < count; ++k) targets[k] = static_cast<float>(golden.train_targets[step * count + k]);
      result = net.train_step(as_float(golden.train_x, step * x_count, x_count), Span<const float>(targets, count),
                              edgelstm::WindowStart::kZeroState);
    }
    ASSERT_OK(result.status);
  }
  EXPECT_LE(error_against(net.parameters(), expected), limit);
}

// The optimizer settings of tests/parity/torch_reference.py.
void check_optimizers(const Golden& golden) {
  edgelstm::TrainConfig sgd;
  sgd.learning_rate = 0.1f;
  check_five_steps(golden, sgd, golden.after_sgd, kGradientLimit);
  edgelstm::TrainConfig momentum;
  momentum.optimizer = edgelstm::OptimizerKind::kMomentum;
  momentum.learning_rate = 0.05f;
  momentum.momentum = 0.9f;
  momentum.weight_decay = 1e-3f;
  check_five_steps(golden, momentum, golden.after_momentum, kGradientLimit);
  edgelstm::TrainConfig adam;
  adam.optimizer = edgelstm::OptimizerKind::kAdam;
  adam.learning_rate = 0.01f;
  adam.clip_norm = static_cast<float>(golden.adam_clip[0]);
  const double adam_limit = golden.float32_error_adam[0] > kGradientLimit ? golden.float32_error_adam[0] : kGradientLimit;
  check_five_steps(golden, adam, golden.after_adam, adam_limit);
}

EDGELSTM_TEST(Golden, RegressionForwardAndGradientsMatchTorch) {
  check_forward_and_gradients(EDGELSTM_GOLDEN_CASE(in1_h8_t6));
}

EDGELSTM_TEST(Golden, RegressionWeightsAfterFiveStepsMatchTorch) {
  check_optimizers(EDGELSTM_GOLDEN_CASE(in1_h8_t6));
}

EDGELSTM_TEST(Golden, ClassificationForwardAndGradientsMatchTorch) {
  check_forward_and_gradients(EDGELSTM_GOLDEN_CASE(classify_5_classes));
}

EDGELSTM_TEST(Golden, ClassificationWeightsAfterFiveStepsMatchTorch) {
  check_optimizers(EDGELSTM_GOLDEN_CASE(classify_5_classes));
}

}  // namespace
