// Seeded initialization and the fast activation maths.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "edgelstm/edgelstm.h"
#include "support/micro_test.h"

namespace {

alignas(16) std::uint8_t g_arena_a[200 * 1024];
alignas(16) std::uint8_t g_arena_b[200 * 1024];

constexpr auto kSpec = edgelstm::make_spec(1, 100, 1, 1, 6);

EDGELSTM_TEST(Initialization, SameSeedGivesIdenticalWeightsOtherSeedDifferent) {
  edgelstm::Network a, b;
  ASSERT_OK(a.bind_inference(kSpec, g_arena_a));
  ASSERT_OK(b.bind_inference(kSpec, g_arena_b));
  ASSERT_OK(a.initialize(2024));
  ASSERT_OK(b.initialize(2024));
  EXPECT_TRUE(std::memcmp(a.parameters().data(), b.parameters().data(), a.parameters().size() * 4) == 0);
  ASSERT_OK(b.initialize(2025));
  std::size_t equal = 0;
  for (std::size_t k = 0; k < a.parameters().size(); ++k) equal += a.parameters()[k] == b.parameters()[k] ? 1 : 0;
  EXPECT_LT(equal, 10);
}

EDGELSTM_TEST(Initialization, WeightsAreUniformInTorchBounds) {
  edgelstm::Network net;
  ASSERT_OK(net.bind_inference(kSpec, g_arena_a));
  ASSERT_OK(net.initialize(7));
  const float bound = 0.1f;  // 1 / sqrt(100), for the LSTM and for the head (H_top = 100)
  double sum = 0, sum_squares = 0, largest = 0;
  for (float w : net.parameters()) {
    sum += w;
    sum_squares += static_cast<double>(w) * w;
    largest = std::fmax(largest, std::fabs(w));
  }
  const double n = static_cast<double>(net.parameters().size());
  EXPECT_LE(largest, bound);
  EXPECT_TRUE(largest > 0.0999);                               // the whole range is used
  EXPECT_NEAR(sum / n, 0.0, 4 * bound / std::sqrt(3 * n));      // 4 standard errors
  EXPECT_NEAR(sum_squares / n, bound * bound / 3, 0.02 * bound * bound / 3);  // uniform variance
}

EDGELSTM_TEST(Initialization, ForgetBiasSetsTheForgetRowsOnly) {
  const auto spec = edgelstm::make_spec(2, 8, 2, 1, 4);
  edgelstm::Network net;
  ASSERT_OK(net.bind_inference(spec, g_arena_a));
  ASSERT_OK(net.initialize(9, 1.0f));
  for (std::size_t layer = 0; layer < 2; ++layer) {
    const edgelstm::LstmLayerParameters<float> p = net.layer_parameters(layer);
    for (std::size_t j = 0; j < 8; ++j) {
      EXPECT_TRUE(p.bias_ih[8 + j] == 1.0f);   // forget rows: 8..15
      EXPECT_TRUE(p.bias_hh[8 + j] == 0.0f);
      EXPECT_TRUE(std::fabs(p.bias_ih[j]) < 0.36f && p.bias_ih[j] != 1.0f);  // input gate untouched
    }
  }
  EXPECT_STATUS(net.initialize(9, NAN), edgelstm::Status::kInvalidArgument);
}

EDGELSTM_TEST(Activations, FastFloatMathIsWithinAFewUlpOfDouble) {
  // Sweep [-20, 20] densely; relative error against libm in double.
  double worst_exp = 0, worst_sigmoid = 0, worst_tanh = 0;
  for (int k = -200000; k <= 200000; ++k) {
    const float x = static_cast<float>(k) * 1e-4f;
    const double xd = x;
    worst_exp = std::fmax(worst_exp, std::fabs(edgelstm::Math<float>::exp(x) - std::exp(xd)) / std::exp(xd));
    const double s = 1.0 / (1.0 + std::exp(-xd));
    worst_sigmoid = std::fmax(worst_sigmoid, std::fabs(edgelstm::Math<float>::sigmoid(x) - s) / s);
    if (x != 0.0f) {
      const double t = std::tanh(xd);
      worst_tanh = std::fmax(worst_tanh, std::fabs(edgelstm::Math<float>::tanh(x) - t) / std::fabs(t));
    }
  }
  std::printf("max relative error: exp %.3g, sigmoid %.3g, tanh %.3g\n", worst_exp, worst_sigmoid, worst_tanh);
  EXPECT_LE(worst_exp, 3e-7);      // float epsilon is 1.19e-7
  EXPECT_LE(worst_sigmoid, 3e-7);
  EXPECT_LE(worst_tanh, 3e-7);
  // Saturation and special values.
  EXPECT_TRUE(edgelstm::Math<float>::sigmoid(-200.0f) >= 0.0f && edgelstm::Math<float>::sigmoid(-200.0f) < 1e-37f);
  EXPECT_TRUE(edgelstm::Math<float>::sigmoid(200.0f) == 1.0f);
  EXPECT_TRUE(edgelstm::Math<float>::tanh(200.0f) == 1.0f && edgelstm::Math<float>::tanh(-200.0f) == -1.0f);
  EXPECT_TRUE(edgelstm::Math<float>::tanh(1e-30f) == 1e-30f);
  EXPECT_TRUE(std::isnan(edgelstm::Math<float>::exp(NAN)) && std::isnan(edgelstm::Math<float>::tanh(NAN)));
}

}  // namespace
