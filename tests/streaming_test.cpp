// Stateful streaming: windows, chunks and single steps agree; truncated BPTT carries the state
// forward and cuts the gradient at the window start.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "edgelstm/edgelstm.h"
#include "support/micro_test.h"
#include "support/test_util.h"

namespace {

alignas(16) std::uint8_t g_arena_a[256 * 1024];
alignas(16) std::uint8_t g_arena_b[256 * 1024];

const edgelstm::LstmSpec kStreamSpec = [] {
  auto spec = edgelstm::make_spec(3, 16, 2, 2, 4, edgelstm::Task::kRegression, edgelstm::OutputMode::kEveryStep);
  spec.hidden_size[1] = 10;
  return spec;
}();

EDGELSTM_TEST(Streaming, OneLongWindowEqualsChunksWithCarriedState) {
  edgelstm::Network whole, chunked;
  ASSERT_OK(whole.bind_inference(kStreamSpec, g_arena_a));
  ASSERT_OK(chunked.bind_inference(kStreamSpec, g_arena_b));
  ASSERT_OK(whole.initialize(11, 1.0f));
  ASSERT_OK(chunked.initialize(11, 1.0f));
  float x[12 * 3], y_whole[12 * 2], y_chunks[12 * 2];
  edgelstm::test::fill_uniform(x, 36, 12, 1.0f);
  ASSERT_OK(whole.forward(edgelstm::Span<const float>(x, 36), edgelstm::Span<float>(y_whole, 24)));
  // Chunks of 5, 4 and 3 steps, then the last one step at a time.
  ASSERT_OK(chunked.forward(edgelstm::Span<const float>(x, 15), edgelstm::Span<float>(y_chunks, 10)));
  ASSERT_OK(chunked.forward(edgelstm::Span<const float>(x + 15, 12), edgelstm::Span<float>(y_chunks + 10, 8)));
  for (std::size_t t = 9; t < 12; ++t) {
    ASSERT_OK(chunked.step(edgelstm::Span<const float>(x + 3 * t, 3), edgelstm::Span<float>(y_chunks + 2 * t, 2)));
  }
  // The same operations in the same order: bit-identical, not merely close.
  EXPECT_TRUE(std::memcmp(y_whole, y_chunks, sizeof y_whole) == 0);
  EXPECT_TRUE(std::memcmp(whole.cell_state(1).data(), chunked.cell_state(1).data(), 10 * sizeof(float)) == 0);
  // And the state matters: after a reset the same input gives a different output.
  chunked.reset_state();
  float y_again[2];
  ASSERT_OK(chunked.step(edgelstm::Span<const float>(x + 33, 3), edgelstm::Span<float>(y_again, 2)));
  EXPECT_TRUE(std::fabs(y_again[0] - y_whole[22]) > 1e-4f);
}

EDGELSTM_TEST(Streaming, TrainingForwardEqualsInferenceForward) {
  edgelstm::Network trainer, runner;
  ASSERT_OK(trainer.bind_training(kStreamSpec, edgelstm::TrainConfig{}, g_arena_a));
  ASSERT_OK(runner.bind_inference(kStreamSpec, g_arena_b));
  ASSERT_OK(trainer.initialize(21));
  ASSERT_OK(runner.initialize(21));
  float x[4 * 3], y[4 * 2];
  edgelstm::test::fill_uniform(x, 12, 22, 1.0f);
  ASSERT_OK(runner.forward(edgelstm::Span<const float>(x, 12), edgelstm::Span<float>(y, 8)));
  ASSERT_OK(trainer.forward_train(edgelstm::Span<const float>(x, 12), edgelstm::WindowStart::kZeroState));
  EXPECT_TRUE(std::memcmp(trainer.window_outputs().data(), y, sizeof y) == 0);
  // forward_train alone does not move the recurrent state; commit_state does.
  EXPECT_TRUE(trainer.hidden_state(0)[0] == 0.0f);
  trainer.commit_state();
  EXPECT_TRUE(std::memcmp(trainer.hidden_state(1).data(), runner.hidden_state(1).data(), 10 * sizeof(float)) == 0);
}

// Truncated BPTT in double: the gradient of window 2 with the state carried from window 1 equals
// the finite-difference gradient of window 2's loss with that initial state held fixed, i.e. a
// reference that cuts the graph at the window start. (The PyTorch parity test checks the same
// against torch with a detached state.)
alignas(16) std::uint8_t g_arena_double[256 * 1024];

EDGELSTM_TEST(Streaming, TruncatedBpttGradientCutsAtTheWindowStart) {
  const auto spec = edgelstm::make_spec(2, 5, 2, 1, 3, edgelstm::Task::kRegression, edgelstm::OutputMode::kEveryStep);
  edgelstm::BasicNetwork<double> net;
  edgelstm::TrainConfig config;
  config.learning_rate = 0.05f;
  ASSERT_OK(net.bind_training(spec, config, g_arena_double));
  ASSERT_OK(net.initialize(31));
  double x1[6], x2[6], t1[3], t2[3];
  edgelstm::test::fill_uniform(x1, 6, 32, 1.0f);
  edgelstm::test::fill_uniform(x2, 6, 33, 1.0f);
  edgelstm::test::fill_uniform(t1, 3, 34, 1.0f);
  edgelstm::test::fill_uniform(t2, 3, 35, 1.0f);
  ASSERT_OK(net.train_step(edgelstm::Span<const double>(x1, 6), edgelstm::Span<const double>(t1, 3),
                           edgelstm::WindowStart::kCarryState).status);
  double carried_h = net.hidden_state(1)[0];
  EXPECT_TRUE(carried_h != 0.0);
  ASSERT_OK(net.forward_train(edgelstm::Span<const double>(x2, 6), edgelstm::WindowStart::kCarryState));
  double loss = 0;
  ASSERT_OK(net.compute_loss(edgelstm::Span<const double>(t2, 3), &loss));
  net.backward();
  edgelstm::Span<double> params = net.parameters();
  double worst = 0;
  for (std::size_t k = 0; k < params.size(); ++k) {
    const double saved = params[k];
    double f[2];
    for (int side = 0; side < 2; ++side) {
      params[k] = saved + (side == 0 ? 1e-5 : -1e-5);
      (void)net.forward_train(edgelstm::Span<const double>(x2, 6), edgelstm::WindowStart::kCarryState);
      (void)net.compute_loss(edgelstm::Span<const double>(t2, 3), &f[side]);
    }
    params[k] = saved;
    const double numeric = (f[0] - f[1]) / 2e-5;
    const double error = std::fabs(numeric - net.gradients()[k]) / std::fmax(std::fabs(numeric), 1e-4);
    worst = std::fmax(worst, error);
  }
  EXPECT_LE(worst, 1e-6);
  // The state carried into window 2 is the state at the end of window 1 (unchanged by forward_train).
  EXPECT_TRUE(net.hidden_state(1)[0] == carried_h);
}

// train_step against its pieces (forward_train, compute_loss, backward, apply_gradients,
// commit_state). On AVX-512 hosts train_step's last pass over each W_hh also forms dW_hh and its
// sum of squares: the gradients, the updated weights and the state must still be bit for bit the
// pieces' (SGD without clipping), the norm equal up to the order of its sum. Three layers: 16 and
// 20 units (whole vectors and a tail, both fused on AVX-512) and 10 (too narrow for the AVX-512
// kernels: its W_hh takes the separate passes and the norm pass); windows from a zero state (step
// 0's dW_hh term left out) and carried on.
EDGELSTM_TEST(Streaming, TrainStepEqualsItsPieces) {
  auto spec = edgelstm::make_spec(3, 16, 3, 2, 7, edgelstm::Task::kRegression, edgelstm::OutputMode::kEveryStep);
  spec.hidden_size[1] = 20;
  spec.hidden_size[2] = 10;
  for (int clipped_adam = 0; clipped_adam < 2; ++clipped_adam) {
    edgelstm::TrainConfig config;
    config.learning_rate = 0.05f;
    if (clipped_adam != 0) {
      config.optimizer = edgelstm::OptimizerKind::kAdam;
      config.learning_rate = 0.01f;
      config.clip_norm = 0.05f;  // below the norms here: every step is clipped
    }
    edgelstm::Network whole, pieces;
    const std::size_t bytes = edgelstm::train_bytes(spec, config.optimizer);
    ASSERT_TRUE(bytes <= sizeof g_arena_a);
    ASSERT_OK(whole.bind_training(spec, config, edgelstm::Span<std::uint8_t>(g_arena_a, bytes)));
    ASSERT_OK(pieces.bind_training(spec, config, edgelstm::Span<std::uint8_t>(g_arena_b, bytes)));
    ASSERT_OK(whole.initialize(5, 1.0f));
    ASSERT_OK(pieces.initialize(5, 1.0f));
    const std::size_t count = whole.parameters().size();
    float x[7 * 3], targets[7 * 2];
    for (int w = 0; w < 4; ++w) {
      edgelstm::test::fill_uniform(x, 21, 100 + static_cast<std::uint64_t>(w), 1.0f);
      edgelstm::test::fill_uniform(targets, 14, 200 + static_cast<std::uint64_t>(w), 1.0f);
      const auto start = w % 2 == 0 ? edgelstm::WindowStart::kZeroState : edgelstm::WindowStart::kCarryState;
      const edgelstm::TrainResult result = whole.train_step(x, targets, start);
      ASSERT_OK(result.status);
      ASSERT_OK(pieces.forward_train(edgelstm::Span<const float>(x, 21), start));
      float loss = 0, norm = 0;
      ASSERT_OK(pieces.compute_loss(edgelstm::Span<const float>(targets, 14), &loss));
      pieces.backward();
      bool same_gradients = std::memcmp(whole.gradients().data(), pieces.gradients().data(), count * sizeof(float)) == 0;
      for (std::size_t layer = 0; layer < 3; ++layer) {
        const std::size_t bytes_of_state = spec.hidden_size[layer] * sizeof(float);
        same_gradients = same_gradients &&
                         std::memcmp(whole.initial_hidden_gradient(layer).data(),
                                     pieces.initial_hidden_gradient(layer).data(), bytes_of_state) == 0 &&
                         std::memcmp(whole.initial_cell_gradient(layer).data(),
                                     pieces.initial_cell_gradient(layer).data(), bytes_of_state) == 0;
      }
      ASSERT_OK(pieces.apply_gradients(&norm));
      pieces.commit_state();
      EXPECT_TRUE(result.loss == loss);
      EXPECT_LE(std::fabs(result.gradient_norm - norm), 1e-6f * norm);
      if (clipped_adam == 0 || w == 0) {
        // From the same weights: the same gradients (and those of the initial state, which the
        // last pass over W_hh forms). Without clipping the same update too.
        EXPECT_TRUE(same_gradients);
      }
      if (clipped_adam == 0) {
        EXPECT_TRUE(std::memcmp(whole.parameters().data(), pieces.parameters().data(), count * sizeof(float)) == 0);
        for (std::size_t layer = 0; layer < 3; ++layer) {
          EXPECT_TRUE(std::memcmp(whole.cell_state(layer).data(), pieces.cell_state(layer).data(),
                                  spec.hidden_size[layer] * sizeof(float)) == 0);
        }
      } else {
        // A clipped update scales by limit / norm, whose last bits may differ.
        EXPECT_LE(edgelstm::test::max_relative_error(whole.parameters().data(), pieces.parameters().data(), count), 1e-5);
      }
    }
  }
}

}  // namespace
