// PackedNetwork: the repacked inference path gives Network::step's outputs and states (up to the
// float rounding of a different summation order), uses exactly packed_inference_bytes(), and
// refuses what Network refuses.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "edgelstm/edgelstm.h"
#include "support/micro_test.h"
#include "support/packed_specs.h"
#include "support/test_util.h"

namespace {

// On the emulated microcontrollers (which also run these tests, on the portable panel loops) RAM
// holds the multi-layer case only; hosts also run the paper's network.
#if EDGELSTM_SCALAR_CORE
constexpr std::size_t kArenaKiB = 70;
#else
constexpr std::size_t kArenaKiB = 170;
#endif
alignas(64) std::uint8_t g_network_arena[kArenaKiB * 1024];
alignas(64) std::uint8_t g_packed_arena[kArenaKiB * 1024];
alignas(64) std::uint8_t g_double_arena[2 * kArenaKiB * 1024];

// Panels of 6, 5, 4, 3 and 1 vectors with padding rows (tests/support/packed_specs.h).
const edgelstm::LstmSpec kOddSpec = edgelstm::test::odd_panel_spec();
using edgelstm::test::kPaperSpec;
// Two layers with panels of 2 vectors (H = 7: 28 rows -> 32) and 1 (H = 3), a 2-feature input.
const edgelstm::LstmSpec kSmallSpec = [] {
  auto spec = edgelstm::make_spec(2, 7, 2, 1, 4);
  spec.hidden_size[1] = 3;
  return spec;
}();

// core.PackedWithoutAvx512 runs this file built with -mno-avx512f and EDGELSTM_EXPECT_AVX2_PANELS: it
// must really run the AVX2 panels.
#if defined(EDGELSTM_EXPECT_AVX2_PANELS)
static_assert(!EDGELSTM_HAVE_AVX512F && EDGELSTM_HAVE_AVX2_FMA, "this build was meant to test the AVX2 panels");
#endif

// Binds `net` for inference with seeded weights and `packed` to a repacked copy of them.
edgelstm::Status bind_pair(const edgelstm::LstmSpec& spec, std::uint64_t seed, float forget_bias,
                           edgelstm::Network& net, edgelstm::PackedNetwork& packed) {
  EDGELSTM_TRY(net.bind_inference(spec, g_network_arena));
  EDGELSTM_TRY(net.initialize(seed, forget_bias));
  return packed.bind(net, g_packed_arena);
}

// Runs `steps` inputs through both float networks and returns the largest relative error of the
// packed network's outputs and of every layer's h and c against `net`'s.
double stream_error(edgelstm::Network& net, edgelstm::PackedNetwork& packed, std::size_t steps,
                    std::uint64_t seed) {
  const edgelstm::LstmSpec& spec = net.spec();
  const std::size_t in = spec.input_size, out = spec.output_size;
  double worst = 0;
  float x[3], y_net[2], y_packed[2];
  for (std::size_t t = 0; t < steps; ++t) {
    edgelstm::test::fill_uniform(x, in, seed + t, 1.5f);
    if (net.step({x, in}, {y_net, out}) != edgelstm::Status::kOk) return 1e9;
    if (packed.step({x, in}, {y_packed, out}) != edgelstm::Status::kOk) return 1e9;
    worst = std::max(worst, edgelstm::test::max_relative_error(y_packed, y_net, out));
  }
  for (std::size_t layer = 0; layer < spec.num_layers; ++layer) {
    const std::size_t hidden = spec.hidden(layer);
    worst = std::max(worst, edgelstm::test::max_relative_error(packed.hidden_state(layer).data(),
                                                               net.hidden_state(layer).data(), hidden));
    worst = std::max(worst, edgelstm::test::max_relative_error(packed.cell_state(layer).data(),
                                                               net.cell_state(layer).data(), hidden));
  }
  return worst;
}

// Over a long stream both float paths drift from the exact values by rounding, in different
// summation orders: measured against a double-precision network with the same weights, the packed
// path stays within the forward parity limit (1e-5, as against PyTorch) after 300 steps. (It keeps
// one running sum per gate row over the in + H columns, so its error is up to ~4x Network::step's
// lane sums: 6.8e-6 vs 3.7e-6 at H = 100 with AVX-512, 4.9e-6 vs 1.2e-6 with the portable loops.)
EDGELSTM_TEST(Packed, StepIsAsAccurateAsNetworkStepOverALongStream) {
  for (const edgelstm::LstmSpec& spec : {kOddSpec, kSmallSpec, kPaperSpec}) {
    if (EDGELSTM_SCALAR_CORE && spec.hidden(0) == 100) continue;
    edgelstm::Network net;
    edgelstm::BasicNetwork<double> exact;
    edgelstm::PackedNetwork packed;
    ASSERT_OK(net.bind_inference(spec, g_network_arena));
    ASSERT_OK(net.initialize(31, 1.0f));
    ASSERT_OK(exact.bind_inference(spec, g_double_arena));
    for (std::size_t k = 0; k < net.parameters().size(); ++k) exact.parameters()[k] = net.parameters()[k];
    ASSERT_OK(packed.bind(net, g_packed_arena));
    const std::size_t in = spec.input_size, out = spec.output_size;
    double error_net = 0, error_packed = 0;
    float x[3], y_net[2], y_packed[2];
    double x_exact[3], y_exact[2];
    for (std::size_t t = 0; t < 300; ++t) {
      edgelstm::test::fill_uniform(x, in, 100 + t, 1.5f);
      for (std::size_t k = 0; k < in; ++k) x_exact[k] = x[k];
      ASSERT_OK(net.step({x, in}, {y_net, out}));
      ASSERT_OK(packed.step({x, in}, {y_packed, out}));
      ASSERT_OK(exact.step({x_exact, in}, {y_exact, out}));
      error_net = std::max(error_net, edgelstm::test::max_relative_error(y_net, y_exact, out));
      error_packed = std::max(error_packed, edgelstm::test::max_relative_error(y_packed, y_exact, out));
    }
    for (std::size_t layer = 0; layer < spec.num_layers; ++layer) {
      const std::size_t hidden = spec.hidden(layer);
      error_net = std::max(error_net, edgelstm::test::max_relative_error(net.cell_state(layer).data(),
                                                                         exact.cell_state(layer).data(), hidden));
      error_packed = std::max(error_packed, edgelstm::test::max_relative_error(
                                                packed.cell_state(layer).data(), exact.cell_state(layer).data(), hidden));
    }
    std::printf("H = %u: after 300 steps, relative error vs double: Network %.3g, PackedNetwork %.3g\n",
                static_cast<unsigned>(spec.hidden(0)), error_net, error_packed);
    EXPECT_LE(error_net, 1e-5);
    EXPECT_LE(error_packed, 1e-5);
    // The state carries: the top layer's h moved away from zero.
    EXPECT_TRUE(std::fabs(packed.hidden_state(spec.num_layers - 1)[0]) > 1e-3f);
  }
}

// Steps alternate the panels' order (packed_matvec); the order changes no bit. First the kernel
// itself, over panels of unequal sizes (208 rows: 5, 4 and 4 vectors) ...
EDGELSTM_TEST(Packed, PanelOrderChangesNoBitInTheKernel) {
  constexpr std::size_t kRows = 208, kCols = 37;
  static_assert(edgelstm::detail::panel_count(kRows / 16) == 3, "three panels");
  alignas(64) static float panels[kRows * kCols], bias[kRows], x[kCols], forwards[kRows], backwards[kRows];
  edgelstm::test::fill_uniform(panels, kRows * kCols, 81, 1.0f);
  edgelstm::test::fill_uniform(bias, kRows, 82, 1.0f);
  edgelstm::test::fill_uniform(x, kCols, 83, 1.0f);
  edgelstm::detail::packed_matvec(panels, kRows, kCols, x, bias, forwards, false);
  edgelstm::detail::packed_matvec(panels, kRows, kCols, x, bias, backwards, true);
  EXPECT_TRUE(std::memcmp(forwards, backwards, sizeof forwards) == 0);
  // And the rows are the right sums (row 200 sits in the last panel, column k at k * 64 + 8).
  double sum = bias[200];
  for (std::size_t k = 0; k < kCols; ++k) sum += static_cast<double>(panels[144 * kCols + k * 64 + 56]) * x[k];
  EXPECT_NEAR(backwards[200], sum, 1e-5);
}

// ... then whole networks: one a step ahead in the alternation gives the same outputs and states
// after a reset (reset_state leaves the alternation where it is).
EDGELSTM_TEST(Packed, PanelOrderChangesNoBit) {
  // H = 35: 140 gate rows -> 144, two panels of 5 and 4 vectors; a second layer of 3.
  auto spec = edgelstm::make_spec(2, 35, 2, 1, 4);
  spec.hidden_size[1] = 3;
  edgelstm::Network net;
  ASSERT_OK(net.bind_inference(spec, g_network_arena));
  ASSERT_OK(net.initialize(17));
  const std::size_t bytes = edgelstm::packed_inference_bytes(spec);
  const std::size_t second = (bytes + 63) / 64 * 64;
  ASSERT_TRUE(second + bytes <= sizeof g_packed_arena);
  edgelstm::PackedNetwork a, b;
  ASSERT_OK(a.bind(net, {g_packed_arena, bytes}));
  ASSERT_OK(b.bind(net, {g_packed_arena + second, bytes}));
  float x[2] = {0.5f, -0.25f}, y_a[1], y_b[1];
  ASSERT_OK(b.step({x, 2}, {y_b, 1}));
  b.reset_state();
  bool same = true;
  for (std::size_t t = 0; t < 9; ++t) {
    edgelstm::test::fill_uniform(x, 2, 70 + t, 1.0f);
    ASSERT_OK(a.step({x, 2}, {y_a, 1}));
    ASSERT_OK(b.step({x, 2}, {y_b, 1}));
    same = same && std::memcmp(y_a, y_b, sizeof y_a) == 0;
  }
  EXPECT_TRUE(same);
  for (std::size_t layer = 0; layer < 2; ++layer) {
    const std::size_t bytes_of_state = spec.hidden(layer) * sizeof(float);
    EXPECT_TRUE(std::memcmp(a.hidden_state(layer).data(), b.hidden_state(layer).data(), bytes_of_state) == 0);
    EXPECT_TRUE(std::memcmp(a.cell_state(layer).data(), b.cell_state(layer).data(), bytes_of_state) == 0);
  }
}

EDGELSTM_TEST(Packed, WindowsEqualStepsAndEveryStepOutputs) {
  edgelstm::Network net;
  edgelstm::PackedNetwork packed;
  ASSERT_OK(bind_pair(kOddSpec, 5, 0.0f, net, packed));
  float x[5 * 3], y_net[5 * 2], y_packed[5 * 2];
  edgelstm::test::fill_uniform(x, 15, 6, 1.0f);
  ASSERT_OK(net.forward({x, 15}, {y_net, 10}));
  ASSERT_OK(packed.forward({x, 15}, {y_packed, 10}));
  EXPECT_LE(edgelstm::test::max_relative_error(y_packed, y_net, 10), 1e-5);
  // A second window continues from the carried state.
  ASSERT_OK(net.forward({x, 15}, {y_net, 10}));
  ASSERT_OK(packed.forward({x, 15}, {y_packed, 10}));
  EXPECT_LE(edgelstm::test::max_relative_error(y_packed, y_net, 10), 1e-5);
  EXPECT_STATUS(packed.forward({x, 14}, {y_packed, 10}), edgelstm::Status::kInvalidArgument);
  EXPECT_STATUS(packed.forward({x, 15}, {y_packed, 2}), edgelstm::Status::kInvalidArgument);
}

EDGELSTM_TEST(Packed, UsesExactlyItsBytesAndRefusesASmallOrMisalignedArena) {
  // The paper's network: panels of 400 gate rows x 101 columns [W_ih | W_hh] (161,600 bytes), fused
  // bias 400 floats (1,600), [x | h] 101 floats and c 100 floats (448 each: regions start on a cache
  // line), gates 400 floats (1,600), head 100 + 1 floats (448).
  static_assert(edgelstm::packed_inference_bytes(kPaperSpec) ==
                    161600 + 1600 + 448 + 448 + 1600 + 448,
                "packed_inference_bytes of the paper's network");
  edgelstm::LstmSpec invalid = kPaperSpec;
  invalid.num_layers = 0;
  EXPECT_EQ_INT(edgelstm::packed_inference_bytes(invalid), 0);

  edgelstm::Network net;
  ASSERT_OK(net.bind_inference(kOddSpec, g_network_arena));
  ASSERT_OK(net.initialize(8));
  const std::size_t bytes = edgelstm::packed_inference_bytes(kOddSpec);
  ASSERT_TRUE(bytes + 64 <= sizeof g_packed_arena);
  edgelstm::PackedNetwork packed;
  float x[3] = {0.1f, 0.2f, 0.3f}, y[2];
  EXPECT_STATUS(packed.step({x, 3}, {y, 2}), edgelstm::Status::kNotBound);
  EXPECT_STATUS(packed.bind(net, {g_packed_arena, bytes - 1}), edgelstm::Status::kBufferTooSmall);
  EXPECT_STATUS(packed.bind(net, {g_packed_arena + 16, bytes}), edgelstm::Status::kMisalignedBuffer);
  EXPECT_STATUS(packed.bind(kOddSpec, net.parameters().subspan(0, net.parameters().size() - 1),
                            {g_packed_arena, bytes}),
                edgelstm::Status::kInvalidArgument);
  EXPECT_STATUS(packed.bind(invalid, net.parameters(), {g_packed_arena, bytes}), edgelstm::Status::kInvalidSpec);
  edgelstm::Network unbound;
  EXPECT_STATUS(packed.bind(unbound, {g_packed_arena, bytes}), edgelstm::Status::kNotBound);

  // Bound to exactly `bytes`, with a canary after them: steps stay inside the arena.
  std::memset(g_packed_arena, 0xA5, bytes + 64);
  ASSERT_OK(packed.bind(net, {g_packed_arena, bytes}));
  EXPECT_EQ_INT(packed.bytes_used(), bytes);
  for (int t = 0; t < 3; ++t) ASSERT_OK(packed.step({x, 3}, {y, 2}));
  bool canary_intact = true;
  for (std::size_t k = bytes; k < bytes + 64; ++k) canary_intact = canary_intact && g_packed_arena[k] == 0xA5;
  EXPECT_TRUE(canary_intact);
  EXPECT_STATUS(packed.step({x, 2}, {y, 2}), edgelstm::Status::kInvalidArgument);
  EXPECT_STATUS(packed.step({x, 3}, {y, 1}), edgelstm::Status::kInvalidArgument);
}

EDGELSTM_TEST(Packed, NonFiniteInputIsRefusedAndTheStateKept) {
  edgelstm::Network net;
  edgelstm::PackedNetwork packed;
  ASSERT_OK(bind_pair(kOddSpec, 9, 0.0f, net, packed));
  float x[3] = {0.4f, -0.2f, 0.9f}, y[2];
  ASSERT_OK(packed.step({x, 3}, {y, 2}));
  float h_before[12], c_before[12];
  std::memcpy(h_before, packed.hidden_state(3).data(), sizeof h_before);
  std::memcpy(c_before, packed.cell_state(3).data(), sizeof c_before);
  x[1] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_STATUS(packed.step({x, 3}, {y, 2}), edgelstm::Status::kNonFinite);
  x[1] = std::numeric_limits<float>::infinity();
  EXPECT_STATUS(packed.forward({x, 3}, {y, 2}), edgelstm::Status::kNonFinite);
  EXPECT_TRUE(std::memcmp(h_before, packed.hidden_state(3).data(), sizeof h_before) == 0);
  EXPECT_TRUE(std::memcmp(c_before, packed.cell_state(3).data(), sizeof c_before) == 0);
}

EDGELSTM_TEST(Packed, LoadParametersRepacksAndKeepsTheState) {
  edgelstm::Network net;
  edgelstm::PackedNetwork packed;
  ASSERT_OK(bind_pair(kOddSpec, 12, 1.0f, net, packed));
  EXPECT_LE(stream_error(net, packed, 20, 40), 1e-5);
  // New weights (as after more training): the packed copy is stale until load_parameters.
  for (float& w : net.parameters()) w *= 0.8f;
  float x[3] = {0.3f, 0.1f, -0.5f}, y_net[2], y_packed[2];
  ASSERT_OK(packed.step({x, 3}, {y_packed, 2}));
  ASSERT_OK(net.step({x, 3}, {y_net, 2}));
  EXPECT_TRUE(edgelstm::test::max_relative_error(y_packed, y_net, 2) > 1e-3);
  // Rewind the packed network's state to the net's (all layers), repack, and they agree again.
  for (std::size_t layer = 0; layer < kOddSpec.num_layers; ++layer) {
    ASSERT_OK(packed.set_state(layer, net.hidden_state(layer), net.cell_state(layer)));
  }
  ASSERT_OK(packed.load_parameters(net.parameters()));
  EXPECT_LE(stream_error(net, packed, 20, 60), 1e-5);
  EXPECT_STATUS(packed.load_parameters(net.parameters().subspan(0, 10)), edgelstm::Status::kInvalidArgument);
  EXPECT_STATUS(packed.set_state(4, net.hidden_state(0), net.cell_state(0)), edgelstm::Status::kInvalidArgument);
  EXPECT_STATUS(packed.set_state(1, net.hidden_state(0), net.cell_state(0)), edgelstm::Status::kInvalidArgument);
  // A layer the spec does not have has no state (empty spans), bound or not.
  EXPECT_TRUE(packed.hidden_state(4).size() == 0 && packed.cell_state(7).size() == 0);
  EXPECT_TRUE(net.hidden_state(4).size() == 0 && net.cell_state(7).size() == 0);
  edgelstm::PackedNetwork unbound;
  EXPECT_TRUE(unbound.hidden_state(0).size() == 0);
  // reset_state zeroes every layer.
  packed.reset_state();
  EXPECT_TRUE(packed.hidden_state(0)[7] == 0.0f && packed.cell_state(2)[3] == 0.0f);
}

}  // namespace
