// BatchTrainer: the gradient of a minibatch is the sum of the windows' own gradients (what
// Network::backward gives for each window alone), the step applies it with the network's
// optimizer, and bad input is refused with nothing changed.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "edgelstm/edgelstm.h"
#include "support/micro_test.h"
#include "support/test_util.h"

namespace {

alignas(64) std::uint8_t g_net_arena[16 * 1024];
alignas(64) std::uint8_t g_twin_arena[16 * 1024];
alignas(64) std::uint8_t g_batch_arena[160 * 1024];
float g_windows[26 * 8 * 4], g_targets[26 * 8 * 2];
std::uint16_t g_labels[26 * 8];
double g_sum[4096];

// One regression layer fed one feature (a meter), a stacked network with every-step outputs, and a
// classifier.
const edgelstm::LstmSpec kMeterSpec = edgelstm::make_spec(1, 8, 1, 1, 6);
const edgelstm::LstmSpec kStackedSpec = [] {
  auto spec = edgelstm::make_spec(3, 7, 2, 2, 5, edgelstm::Task::kRegression, edgelstm::OutputMode::kEveryStep);
  spec.hidden_size[1] = 5;
  return spec;
}();
const edgelstm::LstmSpec kClassifierSpec = edgelstm::make_spec(4, 6, 1, 3, 8, edgelstm::Task::kClassification);
// 17 units: with AVX-512 the one unit over 16 takes dz W_hh's dot-product path, and the weight
// copies' 8 x 8 transposition leaves edges in both directions.
const edgelstm::LstmSpec kWideSpec = edgelstm::make_spec(1, 17, 1, 1, 3);

edgelstm::TrainConfig config_for(const edgelstm::LstmSpec& spec) {
  edgelstm::TrainConfig config;
  config.learning_rate = 0.05f;
  if (spec.task == edgelstm::Task::kClassification) config.loss = edgelstm::LossKind::kCrossEntropy;
  return config;
}

// Fills `count` windows and their targets (or labels) from a seed.
void fill_batch(const edgelstm::LstmSpec& spec, std::size_t count, std::uint64_t seed) {
  edgelstm::test::fill_uniform(g_windows, count * spec.window * spec.input_size, seed, 1.5f);
  edgelstm::test::fill_uniform(g_targets, count * spec.output_steps() * spec.output_size, seed + 1, 1.0f);
  edgelstm::Random random(seed + 2);
  for (std::size_t k = 0; k < count * spec.output_steps(); ++k) g_labels[k] = static_cast<std::uint16_t>(random.next_u32() % spec.output_size);
}

edgelstm::Status batch_gradients(edgelstm::BatchTrainer& trainer, const edgelstm::LstmSpec& spec, std::size_t count, float* loss) {
  const edgelstm::Span<const float> x(g_windows, count * spec.window * spec.input_size);
  if (spec.task == edgelstm::Task::kClassification) {
    return trainer.compute_gradients(x, edgelstm::Span<const std::uint16_t>(g_labels, count * spec.output_steps()), loss);
  }
  return trainer.compute_gradients(x, edgelstm::Span<const float>(g_targets, count * spec.output_steps() * spec.output_size), loss);
}

EDGELSTM_TEST(BatchTrainer, GradientIsTheSumOfTheWindowsOwnGradients) {
  for (const edgelstm::LstmSpec& spec : {kMeterSpec, kStackedSpec, kClassifierSpec, kWideSpec}) {
    // Batches of 5 (1, 3 or 5 windows) and of 26 (26 and 25 windows: the products' blocks of 12 and
    // 6 rows twice over and a remainder; with AVX-512 the leftover units of several windows share
    // a vector in the cell pass).
    const std::size_t cases[][2] = {{5, 1}, {5, 3}, {5, 5}, {26, 26}, {26, 25}};
    for (const auto& batch_and_count : cases) {
      const std::size_t batch = batch_and_count[0], count = batch_and_count[1];
      edgelstm::Network net;
      ASSERT_OK(net.bind_training(spec, config_for(spec), g_net_arena));
      ASSERT_OK(net.initialize(17, 1.0f));
      edgelstm::BatchTrainer trainer;
      ASSERT_TRUE(edgelstm::batch_train_bytes(spec, batch) <= sizeof g_batch_arena);
      ASSERT_OK(trainer.bind(net, batch, edgelstm::Span<std::uint8_t>(g_batch_arena, edgelstm::batch_train_bytes(spec, batch))));
      fill_batch(spec, count, 100 + count);
      float batch_loss = 0;
      ASSERT_OK(batch_gradients(trainer, spec, count, &batch_loss));
      // The same windows one at a time through Network's own training pieces.
      const std::size_t parameters = net.parameters().size();
      for (std::size_t k = 0; k < parameters; ++k) g_sum[k] = 0;
      double loss_sum = 0;
      const std::size_t values = spec.window * spec.input_size, outputs = spec.output_steps() * spec.output_size;
      for (std::size_t b = 0; b < count; ++b) {
        ASSERT_OK(net.forward_train({g_windows + b * values, values}, edgelstm::WindowStart::kZeroState));
        float loss = 0;
        if (spec.task == edgelstm::Task::kClassification) {
          ASSERT_OK(net.compute_loss(edgelstm::Span<const std::uint16_t>(g_labels + b * spec.output_steps(), spec.output_steps()), &loss));
        } else {
          ASSERT_OK(net.compute_loss(edgelstm::Span<const float>(g_targets + b * outputs, outputs), &loss));
        }
        loss_sum += loss;
        net.backward();
        for (std::size_t k = 0; k < parameters; ++k) g_sum[k] += net.gradients()[k];
      }
      const double error = edgelstm::test::max_relative_error(trainer.gradients().data(), g_sum, parameters);
      EXPECT_LE(error, 1e-5);
      EXPECT_NEAR(batch_loss, loss_sum / static_cast<double>(count), 1e-6 * (1 + std::fabs(loss_sum)));
    }
  }
}

#if EDGELSTM_HAVE_AVX512F
// The products' kernel (gemm.h): each element of C sums over the depth in order, one fused
// multiply-add per term, whatever the blocking of rows (blocks of up to 12, then 4, then the 1 to 3
// left) and columns, and however a long depth is sliced (a weight gradient's depth is every step of
// every window: 512 rows a slice): bit for bit what a loop of fmaf gives. Depths across slice edges,
// with C starting from zero, from its own values (accumulate) and from a row (the biases).
float g_gemm_x[1100 * 40], g_gemm_y[1100 * 128], g_gemm_c[40 * 128], g_gemm_start[40 * 128], g_gemm_init[128];
EDGELSTM_TEST(BatchTrainer, ProductsSumOverTheDepthInOrder) {
  edgelstm::test::fill_uniform(g_gemm_x, 1100 * 40, 5, 1.0f);
  edgelstm::test::fill_uniform(g_gemm_y, 1100 * 128, 6, 1.0f);
  edgelstm::test::fill_uniform(g_gemm_start, 40 * 128, 7, 1.0f);
  edgelstm::test::fill_uniform(g_gemm_init, 128, 8, 1.0f);
  std::size_t mismatches = 0, checked = 0;
  for (const bool transposed : {true, false}) {
    for (const std::size_t rows : {std::size_t{7}, std::size_t{32}, std::size_t{39}}) {
      for (const std::size_t cols : {std::size_t{20}, std::size_t{100}, std::size_t{128}}) {
        for (const std::size_t depth : {std::size_t{1}, std::size_t{511}, std::size_t{513}, std::size_t{1100}}) {
          for (int start = 0; start < 3; ++start) {  // zero, accumulate, init_row
            // X: transposed, x(i, k) = X[k * 40 + i]; as rows, x(i, k) = X[i * 1100 + k].
            const edgelstm::GemmOperand x{g_gemm_x, transposed ? std::size_t{40} : std::size_t{1100}, transposed};
            std::memcpy(g_gemm_c, g_gemm_start, sizeof g_gemm_c);
            edgelstm::gemm(x, rows, g_gemm_y, 128, depth, cols, g_gemm_c, 128, start == 1, start == 2 ? g_gemm_init : nullptr);
            for (std::size_t i = 0; i < rows; ++i) {
              for (std::size_t j = 0; j < cols; ++j) {
                float sum = start == 0 ? 0.0f : start == 1 ? g_gemm_start[i * 128 + j] : g_gemm_init[j];
                for (std::size_t k = 0; k < depth; ++k) sum = std::fmaf(x.at(i, k), g_gemm_y[k * 128 + j], sum);
                mismatches += std::memcmp(&sum, &g_gemm_c[i * 128 + j], sizeof sum) != 0 ? 1 : 0;
                ++checked;
              }
            }
          }
        }
      }
    }
  }
  EXPECT_TRUE(checked > 0);
  EXPECT_EQ_INT(mismatches, 0);
}
#endif

// train_step = compute_gradients + Network::apply_gradients of that sum: a twin network given the
// same summed gradient ends bit for bit where the trainer's network ends, over several steps.
EDGELSTM_TEST(BatchTrainer, TrainStepAppliesTheSummedGradientWithTheNetworksOptimizer) {
  const edgelstm::LstmSpec& spec = kStackedSpec;
  edgelstm::TrainConfig config = config_for(spec);
  config.optimizer = edgelstm::OptimizerKind::kAdam;
  config.learning_rate = 0.02f;
  edgelstm::Network net, twin;
  ASSERT_OK(net.bind_training(spec, config, g_net_arena));
  ASSERT_OK(twin.bind_training(spec, config, g_twin_arena));
  ASSERT_OK(net.initialize(5));
  ASSERT_OK(twin.initialize(5));
  edgelstm::BatchTrainer trainer, twin_trainer;
  const std::size_t bytes = edgelstm::batch_train_bytes(spec, 4);
  ASSERT_TRUE(2 * bytes <= sizeof g_batch_arena);
  ASSERT_OK(trainer.bind(net, 4, edgelstm::Span<std::uint8_t>(g_batch_arena, bytes)));
  ASSERT_OK(twin_trainer.bind(twin, 4, edgelstm::Span<std::uint8_t>(g_batch_arena + bytes, bytes)));
  float first_loss = 0, last_loss = 0;
  for (int step = 0; step < 60; ++step) {
    fill_batch(spec, 4, 7);  // the same batch every step: the loss must fall
    const edgelstm::Span<const float> x(g_windows, 4 * spec.window * spec.input_size);
    const edgelstm::Span<const float> targets(g_targets, 4 * spec.output_steps() * spec.output_size);
    const edgelstm::TrainResult r = trainer.train_step(x, targets);
    ASSERT_OK(r.status);
    float loss = 0;
    ASSERT_OK(twin_trainer.compute_gradients(x, targets, &loss));
    float norm = 0;
    ASSERT_OK(twin.apply_gradients(twin_trainer.gradients(), &norm));
    twin_trainer.parameters_changed();
    EXPECT_TRUE(loss == r.loss && norm == r.gradient_norm);
    if (step == 0) first_loss = r.loss;
    last_loss = r.loss;
  }
  EXPECT_TRUE(std::memcmp(net.parameters().data(), twin.parameters().data(), net.parameters().size() * sizeof(float)) == 0);
  EXPECT_LT(last_loss, 0.5f * first_loss);
}

// Bad input is refused before anything changes; the arena must be big enough and aligned.
EDGELSTM_TEST(BatchTrainer, RefusesBadInputAndChangesNothing) {
  const edgelstm::LstmSpec& spec = kMeterSpec;
  edgelstm::Network net, unbound;
  ASSERT_OK(net.bind_training(spec, config_for(spec), g_net_arena));
  ASSERT_OK(net.initialize(3));
  edgelstm::BatchTrainer trainer;
  const std::size_t bytes = edgelstm::batch_train_bytes(spec, 2);
  EXPECT_STATUS(trainer.bind(unbound, 2, edgelstm::Span<std::uint8_t>(g_batch_arena, bytes)), edgelstm::Status::kNotBound);
  EXPECT_STATUS(trainer.bind(net, 2, edgelstm::Span<std::uint8_t>(g_batch_arena, bytes - 1)), edgelstm::Status::kBufferTooSmall);
  EXPECT_STATUS(trainer.bind(net, 2, edgelstm::Span<std::uint8_t>(g_batch_arena + 16, bytes)), edgelstm::Status::kMisalignedBuffer);
  EXPECT_STATUS(trainer.bind(net, 0, edgelstm::Span<std::uint8_t>(g_batch_arena, bytes)), edgelstm::Status::kInvalidArgument);
  EXPECT_TRUE(edgelstm::batch_train_bytes(spec, 0) == 0);
  ASSERT_OK(trainer.bind(net, 2, edgelstm::Span<std::uint8_t>(g_batch_arena, bytes)));
  static float before[512];
  const std::size_t count = net.parameters().size();
  ASSERT_TRUE(count <= sizeof before / sizeof before[0]);
  std::memcpy(before, net.parameters().data(), count * sizeof(float));
  fill_batch(spec, 3, 9);
  const float target[3] = {0.1f, 0.2f, 0.3f};
  // Three windows for a trainer of two; a window cut short; targets of the wrong length.
  EXPECT_STATUS(trainer.train_step({g_windows, 18}, {target, 3}).status, edgelstm::Status::kInvalidArgument);
  EXPECT_STATUS(trainer.train_step({g_windows, 11}, {target, 2}).status, edgelstm::Status::kInvalidArgument);
  EXPECT_STATUS(trainer.train_step({g_windows, 12}, {target, 1}).status, edgelstm::Status::kInvalidArgument);
  // Labels for a regression network.
  const std::uint16_t labels[2] = {0, 0};
  EXPECT_STATUS(trainer.train_step({g_windows, 12}, {labels, 2}).status, edgelstm::Status::kInvalidArgument);
  g_windows[7] = NAN;
  EXPECT_STATUS(trainer.train_step({g_windows, 12}, {target, 2}).status, edgelstm::Status::kNonFinite);
  g_windows[7] = 0.5f;
  const float bad_target[2] = {0.1f, INFINITY};
  EXPECT_STATUS(trainer.train_step({g_windows, 12}, {bad_target, 2}).status, edgelstm::Status::kNonFinite);
  EXPECT_TRUE(std::memcmp(before, net.parameters().data(), count * sizeof(float)) == 0);
  ASSERT_OK(trainer.train_step({g_windows, 12}, {target, 2}).status);
  EXPECT_TRUE(std::memcmp(before, net.parameters().data(), count * sizeof(float)) != 0);
}

}  // namespace
