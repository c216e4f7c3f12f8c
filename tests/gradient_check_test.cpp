// Finite-difference checks of every backward op and of whole stacked networks, in double
// precision (Math<double> uses libm), so analytic and numeric gradients agree to ~1e-9 and a wrong
// term in any formula shows up as a large error. Fourth-order central differences, step 1e-4.
#include <cstdint>
#include <cstring>

#include "edgelstm/edgelstm.h"
#include "support/micro_test.h"
#include "support/test_util.h"

namespace {

using edgelstm::test::fill_uniform;

constexpr double kStep = 1e-4;
constexpr double kTolerance = 1e-6;
// The fourth-order stencil with step 1e-4 has truncation error ~1e-16 and rounding noise of about
// 1e-12..1e-11 for an O(1) loss, so derivatives smaller than 1e-4 are compared against 1e-4: an
// absolute error of 1e-10 there reads as 1e-6. A wrong term in a formula still shows up as O(1).
constexpr double kNumericFloor = 1e-4;

double max_relative_error(const double* analytic, const double* numeric, std::size_t count) {
  return edgelstm::test::max_relative_error(analytic, numeric, count, kNumericFloor);
}

// Numeric gradient of loss() with respect to values[0..count):
// f' = (-f(x+2h) + 8 f(x+h) - 8 f(x-h) + f(x-2h)) / 12h.
template <typename LossFunction>
void numeric_gradient(double* values, std::size_t count, LossFunction loss, double* gradient) {
  for (std::size_t k = 0; k < count; ++k) {
    const double saved = values[k];
    double f[4];
    const double offsets[4] = {2 * kStep, kStep, -kStep, -2 * kStep};
    for (int i = 0; i < 4; ++i) {
      values[k] = saved + offsets[i];
      f[i] = loss();
    }
    values[k] = saved;
    gradient[k] = (-f[0] + 8 * f[1] - 8 * f[2] + f[3]) / (12 * kStep);
  }
}

EDGELSTM_TEST(GradientCheck, MseGradientMatchesFiniteDifferences) {
  double y[7], target[7], dy[7], numeric[7];
  fill_uniform(y, 7, 1, 2.0f);
  fill_uniform(target, 7, 2, 2.0f);
  const double loss = edgelstm::mse_loss(y, target, 7, dy);
  double expected = 0;
  for (int k = 0; k < 7; ++k) expected += (y[k] - target[k]) * (y[k] - target[k]) / 7;
  EXPECT_NEAR(loss, expected, 1e-15);
  numeric_gradient(y, 7, [&] { return edgelstm::mse_loss(y, target, 7, static_cast<double*>(nullptr)); }, numeric);
  EXPECT_LE(max_relative_error(dy, numeric, 7), kTolerance);
}

EDGELSTM_TEST(GradientCheck, HuberGradientMatchesFiniteDifferencesOnBothBranches) {
  // Differences spread over [-3, 3] with delta 0.7: both the quadratic and the linear branch.
  double y[12], target[12], dy[12], numeric[12];
  fill_uniform(y, 12, 3, 3.0f);
  for (double& t : target) t = 0;
  int quadratic = 0;
  for (double v : y) quadratic += std::fabs(v) < 0.7 ? 1 : 0;
  EXPECT_TRUE(quadratic > 0 && quadratic < 12);
  const double loss = edgelstm::huber_loss(y, target, 12, 0.7, dy);
  double expected = 0;
  for (double v : y) {
    expected += (std::fabs(v) < 0.7 ? 0.5 * v * v : 0.7 * (std::fabs(v) - 0.35)) / 12;
  }
  EXPECT_NEAR(loss, expected, 1e-15);
  numeric_gradient(y, 12, [&] { return edgelstm::huber_loss(y, target, 12, 0.7, static_cast<double*>(nullptr)); }, numeric);
  EXPECT_LE(max_relative_error(dy, numeric, 12), kTolerance);
}

EDGELSTM_TEST(GradientCheck, SoftmaxCrossEntropyGradientMatchesFiniteDifferences) {
  double logits[5], dlogits[5], numeric[5];
  fill_uniform(logits, 5, 4, 3.0f);
  const double loss = edgelstm::softmax_cross_entropy(logits, 5, 2, 0.5, dlogits);
  double sum = 0;
  for (double z : logits) sum += std::exp(z);
  EXPECT_NEAR(loss, std::log(sum) - logits[2], 1e-14);
  numeric_gradient(logits, 5, [&] {
    return 0.5 * edgelstm::softmax_cross_entropy(logits, 5, 2, 1.0, static_cast<double*>(nullptr));
  }, numeric);
  EXPECT_LE(max_relative_error(dlogits, numeric, 5), kTolerance);
}

EDGELSTM_TEST(GradientCheck, SoftmaxCrossEntropyIsStableForHugeLogits) {
  // exp(1000) overflows; the max-shifted form must not.
  const float logits[3] = {1000.0f, 990.0f, -1000.0f};
  float dlogits[3];
  const float loss = edgelstm::softmax_cross_entropy(logits, 3, 1, 1.0f, dlogits);
  EXPECT_NEAR(loss, 10.0000454f, 1e-4);
  EXPECT_NEAR(dlogits[0], 0.9999546f, 1e-6);
  EXPECT_NEAR(dlogits[1], -0.9999546f, 1e-6);
  EXPECT_NEAR(dlogits[2], 0.0f, 1e-30);
}

EDGELSTM_TEST(GradientCheck, DenseLayerGradientMatchesFiniteDifferences) {
  // y = W x + b with loss = sum(a * y): dW = a x^T (outer_product_sum), dx = W^T a, db = a.
  constexpr std::size_t kRows = 5, kCols = 7;
  double w[kRows * kCols], x[kCols], a[kRows];
  fill_uniform(w, kRows * kCols, 5, 1.0f);
  fill_uniform(x, kCols, 6, 1.0f);
  fill_uniform(a, kRows, 7, 1.0f);
  auto loss = [&] {
    double y[kRows] = {};
    edgelstm::matvec_accumulate(w, kRows, kCols, x, y);
    double sum = 0;
    for (std::size_t r = 0; r < kRows; ++r) sum += a[r] * y[r];
    return sum;
  };
  double dw[kRows * kCols] = {}, dx[kCols] = {}, numeric_w[kRows * kCols], numeric_x[kCols];
  edgelstm::outer_product_sum(a, kRows, x, kCols, 1, kRows, kCols, dw);
  edgelstm::matvec_transposed_accumulate(w, kRows, kCols, a, dx);
  numeric_gradient(w, kRows * kCols, loss, numeric_w);
  numeric_gradient(x, kCols, loss, numeric_x);
  EXPECT_LE(max_relative_error(dw, numeric_w, kRows * kCols), kTolerance);
  EXPECT_LE(max_relative_error(dx, numeric_x, kCols), kTolerance);
}

EDGELSTM_TEST(GradientCheck, LstmCellBackwardMatchesFiniteDifferences) {
  // One step with loss = sum(a * h_t) + sum(b * c_t), checked with respect to x, h_prev, c_prev
  // and every weight and bias.
  constexpr std::size_t kIn = 3, kHidden = 4, kRows = 4 * kHidden;
  constexpr std::size_t kParams = kRows * kIn + kRows * kHidden + 2 * kRows;
  double params[kParams], x[kIn], h_prev[kHidden], c_prev[kHidden], a[kHidden], b[kHidden];
  fill_uniform(params, kParams, 8, 0.8f);
  fill_uniform(x, kIn, 9, 1.0f);
  fill_uniform(h_prev, kHidden, 10, 0.9f);
  fill_uniform(c_prev, kHidden, 11, 1.5f);
  fill_uniform(a, kHidden, 12, 1.0f);
  fill_uniform(b, kHidden, 13, 1.0f);
  edgelstm::LstmLayerWeights<double> weights;
  weights.input = kIn;
  weights.hidden = kHidden;
  weights.weight_ih = params;
  weights.weight_hh = params + kRows * kIn;
  weights.bias_ih = weights.weight_hh + kRows * kHidden;
  weights.bias_hh = weights.bias_ih + kRows;
  auto loss = [&] {
    double gates[kRows], c[kHidden], tanh_c[kHidden], h[kHidden];
    edgelstm::lstm_cell_forward(weights, x, h_prev, c_prev, gates, c, tanh_c, h);
    double sum = 0;
    for (std::size_t j = 0; j < kHidden; ++j) sum += a[j] * h[j] + b[j] * c[j];
    return sum;
  };
  double gates[kRows], c[kHidden], tanh_c[kHidden], h[kHidden];
  edgelstm::lstm_cell_forward(weights, x, h_prev, c_prev, gates, c, tanh_c, h);
  double dc[kHidden];
  for (std::size_t j = 0; j < kHidden; ++j) dc[j] = b[j];
  edgelstm::lstm_cell_backward(kHidden, a, dc, gates, c_prev, tanh_c);  // gates now hold dz
  double dparams[kParams] = {}, dx[kIn] = {}, dh_prev[kHidden] = {};
  edgelstm::outer_product_sum(gates, kRows, x, kIn, 1, kRows, kIn, dparams);
  edgelstm::outer_product_sum(gates, kRows, h_prev, kHidden, 1, kRows, kHidden, dparams + kRows * kIn);
  for (std::size_t r = 0; r < kRows; ++r) {
    dparams[kRows * (kIn + kHidden) + r] = gates[r];
    dparams[kRows * (kIn + kHidden) + kRows + r] = gates[r];
  }
  edgelstm::matvec_transposed_accumulate(weights.weight_ih, kRows, kIn, gates, dx);
  edgelstm::matvec_transposed_accumulate(weights.weight_hh, kRows, kHidden, gates, dh_prev);

  double numeric_params[kParams], numeric_x[kIn], numeric_h[kHidden], numeric_c[kHidden];
  numeric_gradient(params, kParams, loss, numeric_params);
  numeric_gradient(x, kIn, loss, numeric_x);
  numeric_gradient(h_prev, kHidden, loss, numeric_h);
  numeric_gradient(c_prev, kHidden, loss, numeric_c);
  EXPECT_LE(max_relative_error(dparams, numeric_params, kParams), kTolerance);
  EXPECT_LE(max_relative_error(dx, numeric_x, kIn), kTolerance);
  EXPECT_LE(max_relative_error(dh_prev, numeric_h, kHidden), kTolerance);
  EXPECT_LE(max_relative_error(dc, numeric_c, kHidden), kTolerance);
}

// Whole-network check: every parameter gradient and the initial-state gradients of every layer,
// with a non-zero carried initial state. Arena and scratch are static (no heap on targets).
alignas(16) std::uint8_t g_arena[64 * 1024];
double g_numeric[4096];
double g_analytic[4096];

void check_network(const edgelstm::LstmSpec& spec, edgelstm::LossKind loss_kind, std::uint64_t seed) {
  edgelstm::BasicNetwork<double> net;
  edgelstm::TrainConfig config;
  config.loss = loss_kind;
  config.huber_delta = 0.3f;
  ASSERT_OK(net.bind_training(spec, config, edgelstm::Span<std::uint8_t>(g_arena)));
  ASSERT_OK(net.initialize(seed));
  edgelstm::Span<double> params = net.parameters();
  ASSERT_TRUE(params.size() <= sizeof g_numeric / sizeof g_numeric[0]);
  // Larger weights than the default init make the gates saturate less uniformly.
  fill_uniform(params.data(), params.size(), seed + 1, 0.6f);
  double state[2 * 64];
  for (std::size_t layer = 0; layer < spec.num_layers; ++layer) {
    const std::size_t hidden = spec.hidden(layer);
    fill_uniform(state, 2 * hidden, seed + 10 + layer, 0.8f);
    ASSERT_OK(net.set_state(layer, edgelstm::Span<const double>(state, hidden),
                            edgelstm::Span<const double>(state + hidden, hidden)));
  }
  double x[256];
  const std::size_t x_count = spec.window * spec.input_size;
  fill_uniform(x, x_count, seed + 2, 1.0f);
  double targets[64];
  std::uint16_t labels[64];
  const std::size_t output_count = spec.output_steps() * spec.output_size;
  fill_uniform(targets, output_count, seed + 3, 1.0f);
  for (std::size_t s = 0; s < spec.output_steps(); ++s) labels[s] = static_cast<std::uint16_t>((s * 3 + 1) % spec.output_size);

  const edgelstm::Span<const double> x_span(x, x_count);
  auto loss = [&]() -> double {
    double value = 0;
    if (net.forward_train(x_span, edgelstm::WindowStart::kCarryState) != edgelstm::Status::kOk) return NAN;
    const edgelstm::Status status =
        spec.task == edgelstm::Task::kClassification
            ? net.compute_loss(edgelstm::Span<const std::uint16_t>(labels, spec.output_steps()), &value)
            : net.compute_loss(edgelstm::Span<const double>(targets, output_count), &value);
    return status == edgelstm::Status::kOk ? value : NAN;
  };
  const double base_loss = loss();
  ASSERT_TRUE(std::isfinite(base_loss));
  net.backward();
  std::memcpy(g_analytic, net.gradients().data(), params.size() * sizeof(double));
  numeric_gradient(params.data(), params.size(), loss, g_numeric);
  const double parameter_error = max_relative_error(g_analytic, g_numeric, params.size());
  EXPECT_LE(parameter_error, kTolerance);

  // Initial state: perturb the carried state itself.
  for (std::size_t layer = 0; layer < spec.num_layers; ++layer) {
    const std::size_t hidden = spec.hidden(layer);
    double h[64], c[64], numeric_h[64], numeric_c[64];
    std::memcpy(h, net.hidden_state(layer).data(), hidden * sizeof(double));
    std::memcpy(c, net.cell_state(layer).data(), hidden * sizeof(double));
    auto loss_of_state = [&] {
      (void)net.set_state(layer, edgelstm::Span<const double>(h, hidden), edgelstm::Span<const double>(c, hidden));
      return loss();
    };
    numeric_gradient(h, hidden, loss_of_state, numeric_h);
    numeric_gradient(c, hidden, loss_of_state, numeric_c);
    (void)loss_of_state();
    EXPECT_LE(max_relative_error(net.initial_hidden_gradient(layer).data(), numeric_h, hidden), kTolerance);
    EXPECT_LE(max_relative_error(net.initial_cell_gradient(layer).data(), numeric_c, hidden), kTolerance);
  }
}

EDGELSTM_TEST(GradientCheck, SingleLayerRegressionMatchesFiniteDifferences) {
  check_network(edgelstm::make_spec(1, 6, 1, 1, 5), edgelstm::LossKind::kMse, 100);
}

EDGELSTM_TEST(GradientCheck, StackedLayersOfDifferentWidthsEveryStepMatchFiniteDifferences) {
  edgelstm::LstmSpec spec = edgelstm::make_spec(3, 5, 3, 2, 4, edgelstm::Task::kRegression,
                                                edgelstm::OutputMode::kEveryStep);
  spec.hidden_size[1] = 7;
  spec.hidden_size[2] = 4;
  check_network(spec, edgelstm::LossKind::kMse, 200);
}

EDGELSTM_TEST(GradientCheck, HuberLossNetworkMatchesFiniteDifferences) {
  check_network(edgelstm::make_spec(2, 5, 2, 3, 4, edgelstm::Task::kRegression,
                                    edgelstm::OutputMode::kEveryStep),
                edgelstm::LossKind::kHuber, 300);
}

EDGELSTM_TEST(GradientCheck, ClassificationNetworkMatchesFiniteDifferences) {
  check_network(edgelstm::make_spec(4, 6, 2, 5, 6, edgelstm::Task::kClassification), edgelstm::LossKind::kCrossEntropy, 400);
  check_network(edgelstm::make_spec(2, 5, 1, 3, 4, edgelstm::Task::kClassification,
                                    edgelstm::OutputMode::kEveryStep),
                edgelstm::LossKind::kCrossEntropy, 500);
}

EDGELSTM_TEST(GradientCheck, FourLayerNetworkMatchesFiniteDifferences) {
  check_network(edgelstm::make_spec(2, 4, 4, 1, 3), edgelstm::LossKind::kMse, 600);
}

}  // namespace
