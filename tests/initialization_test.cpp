// Seeded initialization and the fast activation maths.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "edgelstm/edgelstm.h"
#if EDGELSTM_HAVE_AVX2_FMA
#include <immintrin.h>
#endif
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


#if EDGELSTM_HAVE_AVX512F
// Every step-th float from `from` up to `to`, 16 at a time, odd lanes negated: visit(x) for each
// vector of 16 in x (64-byte aligned).
template <typename Visit>
void sweep_floats(float from, float to, std::uint32_t step, Visit visit) {
  std::uint32_t low = 0, high = 0;
  std::memcpy(&low, &from, 4);
  std::memcpy(&high, &to, 4);
  alignas(64) float x[16];
  for (std::uint32_t u = low; u < high; u += 16 * step) {
    for (std::uint32_t q = 0; q < 16; ++q) {
      const std::uint32_t bits = (u + q * step) | (q % 2 == 1 ? 0x80000000u : 0u);
      std::memcpy(&x[q], &bits, 4);
    }
    visit(static_cast<const float*>(x));
  }
}

// AVX-512's sigmoid and tanh (a table of 2^(j/16), shorter polynomials): the tables hold the
// correctly rounded values, and a sweep of every 61st float from 1e-7 to 60, both signs, stays
// within a few ulp of double precision; the special values behave as Math<float>'s.
EDGELSTM_TEST(Activations, Avx512TableExpIsWithinAFewUlpOfDouble) {
  using edgelstm::detail::Avx512Lanes;
  for (int j = 0; j < 16; ++j) {
    EXPECT_TRUE(edgelstm::detail::kTwoToSixteenths[j] == static_cast<float>(std::exp2(j / 16.0)));
    EXPECT_TRUE(edgelstm::detail::kTwoToSixteenthsMinusOne[j] == static_cast<float>(std::expm1(j / 16.0 * std::log(2.0))));
  }
  double worst_sigmoid = 0, worst_tanh = 0;
  alignas(64) float x[16], s[16], t[16];
  sweep_floats(1e-7f, 60.0f, 61, [&](const float* v) {
    _mm512_store_ps(s, edgelstm::detail::sigmoid_lanes<Avx512Lanes>(_mm512_load_ps(v)));
    _mm512_store_ps(t, edgelstm::detail::tanh_lanes<Avx512Lanes>(_mm512_load_ps(v)));
    for (int q = 0; q < 16; ++q) {
      const double xd = v[q], sd = 1 / (1 + std::exp(-xd)), td = std::tanh(xd);
      worst_sigmoid = std::fmax(worst_sigmoid, std::fabs(s[q] - sd) / sd);
      worst_tanh = std::fmax(worst_tanh, std::fabs(t[q] - td) / std::fabs(td));
    }
  });
  std::printf("AVX-512 sweep: max relative error sigmoid %.3g, tanh %.3g\n", worst_sigmoid, worst_tanh);
  EXPECT_LE(worst_sigmoid, 2.5e-7);
  EXPECT_LE(worst_tanh, 3e-7);
  const float specials[16] = {0.0f, -0.0f, 200.0f, -200.0f, INFINITY, -INFINITY, NAN, 1e-30f, -1e-30f, 88.0f, -88.0f, 87.5f, 0.5f, -0.5f, 3.0f, -3.0f};
  std::memcpy(x, specials, sizeof specials);
  _mm512_store_ps(s, edgelstm::detail::sigmoid_lanes<Avx512Lanes>(_mm512_load_ps(x)));
  _mm512_store_ps(t, edgelstm::detail::tanh_lanes<Avx512Lanes>(_mm512_load_ps(x)));
  EXPECT_TRUE(s[0] == 0.5f && s[1] == 0.5f && s[2] == 1.0f && s[4] == 1.0f && s[9] == 1.0f && s[11] == 1.0f);
  EXPECT_TRUE(s[3] >= 0.0f && s[3] < 1e-37f && s[5] >= 0.0f && s[5] < 1e-37f);
  EXPECT_TRUE(std::fabs(s[10] - 6.0546e-39) < 1e-42);  // 1 / (1 + e^88), below the normal range
  EXPECT_TRUE(t[0] == 0.0f && !std::signbit(t[0]) && t[1] == 0.0f && std::signbit(t[1]));
  EXPECT_TRUE(t[2] == 1.0f && t[3] == -1.0f && t[4] == 1.0f && t[5] == -1.0f && t[9] == 1.0f && t[10] == -1.0f);
  EXPECT_TRUE(t[7] == 1e-30f && t[8] == -1e-30f);
  EXPECT_TRUE(std::isnan(s[6]) && std::isnan(t[6]));
  // Large arguments: |tanh| never above 1 (with the argument clamped at 88, floats just below 44
  // came out an ulp over 1), and exactly 1 from 20 on; every 7th float from 1 to 200, both signs.
  int above_one = 0, not_one = 0;
  sweep_floats(1.0f, 200.0f, 7, [&](const float* v) {
    _mm512_store_ps(t, edgelstm::detail::tanh_lanes<Avx512Lanes>(_mm512_load_ps(v)));
    for (int q = 0; q < 16; ++q) {
      above_one += std::fabs(t[q]) > 1.0f ? 1 : 0;
      not_one += std::fabs(v[q]) >= 20.0f && std::fabs(t[q]) != 1.0f ? 1 : 0;
    }
  });
  EXPECT_EQ_INT(above_one, 0);
  EXPECT_EQ_INT(not_one, 0);
}
#endif

#if EDGELSTM_HAVE_AVX2_FMA
// The minibatch trainer's backward cell pass (several windows, dh = dh_above + dh_next, gates
// gate_stride apart, a masked tail: H = 37) against lstm_cell_backward window by window: the same
// formulas, equal up to the compiler's fusing of a multiply and an add (a few ulp).
EDGELSTM_TEST(Activations, BatchCellBackwardIsTheScalarPassPerWindow) {
  constexpr std::size_t kHidden = 37, kCount = 3, kStride = 4 * kHidden + 5;
  static float gates[kCount * kStride], expected_gates[kCount * kStride], dh_above[kCount * kHidden],
      dh_next[kCount * kHidden], dc[kCount * kHidden], expected_dc[kCount * kHidden], c_prev[kCount * kHidden],
      tanh_c[kCount * kHidden];
  edgelstm::Random random(5);
  for (float& g : gates) g = 0.5f + random.uniform_symmetric(0.49f);  // activations in (0, 1)
  for (std::size_t k = 0; k < kCount * kHidden; ++k) {
    gates[(k / kHidden) * kStride + 2 * kHidden + k % kHidden] = random.uniform_symmetric(0.99f);  // g = tanh
    dh_above[k] = random.uniform_symmetric(2.0f);
    dh_next[k] = random.uniform_symmetric(2.0f);
    dc[k] = random.uniform_symmetric(2.0f);
    c_prev[k] = random.uniform_symmetric(3.0f);
    tanh_c[k] = random.uniform_symmetric(0.99f);
  }
  std::memcpy(expected_gates, gates, sizeof gates);
  std::memcpy(expected_dc, dc, sizeof dc);
  for (std::size_t b = 0; b < kCount; ++b) {
    float dh[kHidden];
    for (std::size_t j = 0; j < kHidden; ++j) dh[j] = dh_above[b * kHidden + j] + dh_next[b * kHidden + j];
    edgelstm::lstm_cell_backward(kHidden, dh, expected_dc + b * kHidden, expected_gates + b * kStride, c_prev + b * kHidden,
                                 tanh_c + b * kHidden);
  }
  edgelstm::detail::lstm_cell_backward_batch_lanes<edgelstm::detail::BestLanes>(kHidden, kCount, dh_above, dh_next, dc, gates,
                                                                                kStride, c_prev, tanh_c);
  double worst = 0;
  int padding_changed = 0;
  for (std::size_t b = 0; b < kCount; ++b) {
    for (std::size_t k = 0; k < kStride; ++k) {
      const float got = gates[b * kStride + k], want = expected_gates[b * kStride + k];
      if (k >= 4 * kHidden) padding_changed += got != want ? 1 : 0;
      else worst = std::fmax(worst, std::fabs(got - want) / (std::fabs(want) + 1e-30));
    }
  }
  for (std::size_t k = 0; k < kCount * kHidden; ++k) worst = std::fmax(worst, std::fabs(dc[k] - expected_dc[k]) / (std::fabs(expected_dc[k]) + 1e-30));
  std::printf("batch cell backward: max relative difference %.3g\n", worst);
  EXPECT_LE(worst, 1e-6);
  EXPECT_EQ_INT(padding_changed, 0);
}
#endif

// The cell's activations and update as the network runs them (lstm_cell_finish: on AVX2/AVX-512
// hosts the vector formulas of activations_simd.h, elsewhere Math<float>), against double
// precision, over gate values from tiny to saturated, every lane of a 16-wide block and a tail.
EDGELSTM_TEST(Activations, CellUpdateIsWithinAFewUlpOfDouble) {
  constexpr std::size_t kHidden = 37;
  static float gates[4 * kHidden], c_prev[kHidden], c[kHidden], tanh_c[kHidden], h[kHidden];
  double worst_gate = 0, worst_c = 0, worst_h = 0;
  edgelstm::Random random(77);
  for (int round = 0; round < 400; ++round) {
    for (std::size_t k = 0; k < 4 * kHidden; ++k) {
      // Magnitudes from 1e-6 to 50, both signs: tiny, the small-tanh range, the curve, saturation
      // (below the exponential's clamps, where relative errors mean something).
      const float magnitude = 50.0f * std::pow(10.0f, random.uniform_symmetric(3.85f) - 3.85f);
      gates[k] = random.uniform_symmetric(1.0f) < 0 ? -magnitude : magnitude;
    }
    for (std::size_t j = 0; j < kHidden; ++j) c_prev[j] = random.uniform_symmetric(3.0f);
    float z[4 * kHidden];
    for (std::size_t k = 0; k < 4 * kHidden; ++k) z[k] = gates[k];
    edgelstm::lstm_cell_finish(kHidden, gates, c_prev, c, tanh_c, h);
    for (std::size_t j = 0; j < kHidden; ++j) {
      const double i = 1 / (1 + std::exp(-static_cast<double>(z[j]))), f = 1 / (1 + std::exp(-static_cast<double>(z[kHidden + j])));
      const double g = std::tanh(static_cast<double>(z[2 * kHidden + j]));
      const double o = 1 / (1 + std::exp(-static_cast<double>(z[3 * kHidden + j])));
      const double expected[4] = {i, f, g, o};
      for (std::size_t q = 0; q < 4; ++q) {
        worst_gate = std::fmax(worst_gate, std::fabs(gates[q * kHidden + j] - expected[q]) / std::fabs(expected[q]));
      }
      // c from the float gates (their error is counted above), relative to its terms' magnitudes.
      const double fi = gates[j], ff = gates[kHidden + j], fg = gates[2 * kHidden + j], fo = gates[3 * kHidden + j];
      const double c_exact = ff * c_prev[j] + fi * fg;
      worst_c = std::fmax(worst_c, std::fabs(c[j] - c_exact) / (std::fabs(ff * c_prev[j]) + std::fabs(fi * fg) + 1e-30));
      const double h_exact = fo * std::tanh(static_cast<double>(c[j]));
      worst_h = std::fmax(worst_h, std::fabs(h[j] - h_exact) / (std::fabs(h_exact) + 1e-30));
    }
  }
  std::printf("cell update (%s): max relative error gates %.3g, c %.3g, h %.3g\n", edgelstm::kernel_variant(), worst_gate,
              worst_c, worst_h);
  EXPECT_LE(worst_gate, 3e-7);
  EXPECT_LE(worst_c, 2e-7);
  EXPECT_LE(worst_h, 4e-7);
}

}  // namespace
