// The NaN/Inf guard: a step whose input, target, loss, gradient or update is not finite is refused
// and leaves parameters, optimizer state and recurrent state bit-identical.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "edgelstm/edgelstm.h"
#include "support/micro_test.h"
#include "support/test_util.h"

namespace {

alignas(16) std::uint8_t g_arena[128 * 1024];
alignas(16) std::uint8_t g_snapshot[128 * 1024];

const auto kSpec = edgelstm::make_spec(2, 12, 2, 1, 5);

struct Fixture {
  edgelstm::Network net;
  float x[10], target[1];
  std::size_t bytes = 0;

  explicit Fixture(edgelstm::TrainConfig config) {
    bytes = edgelstm::train_bytes(kSpec, config.optimizer);
    (void)net.bind_training(kSpec, config, edgelstm::Span<std::uint8_t>(g_arena, bytes));
    (void)net.initialize(41);
    edgelstm::test::fill_uniform(x, 10, 42, 1.0f);
    target[0] = 0.5f;
    // A few good steps first, so optimizer state and recurrent state are non-trivial.
    for (int k = 0; k < 3; ++k) (void)net.train_step(x, target, edgelstm::WindowStart::kCarryState);
  }
  // Parameters, optimizer state and recurrent state all live in the arena. Caches and gradients
  // are scratch and may change; the snapshot compares the regions that must not.
  void snapshot() { std::memcpy(g_snapshot, g_arena, bytes); }
  bool persistent_state_unchanged() {
    const edgelstm::MemoryPlan plan = edgelstm::plan_memory(kSpec, edgelstm::Purpose::kTraining, net.train_config().optimizer);
    const auto same = [&](const edgelstm::MemoryPlan::Region& region) {
      return std::memcmp(g_snapshot + region.offset, g_arena + region.offset, region.count * sizeof(float)) == 0;
    };
    return same(plan.parameters) && same(plan.state) && same(plan.optimizer_state);
  }
};

edgelstm::TrainConfig adam() {
  edgelstm::TrainConfig config;
  config.optimizer = edgelstm::OptimizerKind::kAdam;
  return config;
}

EDGELSTM_TEST(Guard, NanInputIsRefusedAndWeightsStayBitIdentical) {
  Fixture f(adam());
  f.snapshot();
  f.x[7] = std::numeric_limits<float>::quiet_NaN();
  const edgelstm::TrainResult result = f.net.train_step(f.x, f.target, edgelstm::WindowStart::kCarryState);
  EXPECT_STATUS(result.status, edgelstm::Status::kNonFinite);
  EXPECT_TRUE(f.persistent_state_unchanged());
  // Inference refuses it too, before it reaches the state.
  float y[1];
  EXPECT_STATUS(f.net.step(edgelstm::Span<const float>(f.x + 6, 2), y), edgelstm::Status::kNonFinite);
  EXPECT_TRUE(f.persistent_state_unchanged());
  // And training goes on normally afterwards.
  f.x[7] = 0.25f;
  EXPECT_OK(f.net.train_step(f.x, f.target, edgelstm::WindowStart::kCarryState).status);
  EXPECT_TRUE(!f.persistent_state_unchanged());
}

EDGELSTM_TEST(Guard, InfiniteTargetIsRefused) {
  Fixture f(edgelstm::TrainConfig{});
  f.snapshot();
  f.target[0] = std::numeric_limits<float>::infinity();
  EXPECT_STATUS(f.net.train_step(f.x, f.target, edgelstm::WindowStart::kCarryState).status, edgelstm::Status::kNonFinite);
  EXPECT_TRUE(f.persistent_state_unchanged());
}

EDGELSTM_TEST(Guard, OverflowingLossIsRefused) {
  // A finite but huge target makes the squared error overflow to +Inf.
  Fixture f(edgelstm::TrainConfig{});
  f.snapshot();
  f.target[0] = 3e30f;
  const edgelstm::TrainResult result = f.net.train_step(f.x, f.target, edgelstm::WindowStart::kCarryState);
  EXPECT_STATUS(result.status, edgelstm::Status::kNonFinite);
  EXPECT_TRUE(!std::isfinite(result.loss));
  EXPECT_TRUE(f.persistent_state_unchanged());
}

EDGELSTM_TEST(Guard, UpdateThatWouldOverflowIsRefused) {
  // Finite loss and gradient, but learning rate 3e38 pushes weights past FLT_MAX.
  edgelstm::TrainConfig config;
  Fixture f(config);
  config.learning_rate = 3e38f;
  ASSERT_OK(f.net.set_train_config(config));
  f.snapshot();
  f.target[0] = 5.0f;
  const edgelstm::TrainResult result = f.net.train_step(f.x, f.target, edgelstm::WindowStart::kCarryState);
  EXPECT_STATUS(result.status, edgelstm::Status::kNonFinite);
  EXPECT_TRUE(std::isfinite(result.loss) && std::isfinite(result.gradient_norm));
  EXPECT_TRUE(f.persistent_state_unchanged());
}

EDGELSTM_TEST(Guard, CorruptWeightIsDetectedNotSpread) {
  Fixture f(edgelstm::TrainConfig{});
  f.net.parameters()[17] = std::numeric_limits<float>::quiet_NaN();
  f.snapshot();
  EXPECT_STATUS(f.net.train_step(f.x, f.target, edgelstm::WindowStart::kCarryState).status, edgelstm::Status::kNonFinite);
  EXPECT_TRUE(f.persistent_state_unchanged());
}

// The guard's bounds (magnitude_bound and the norm pass's parameter bound) are at least the largest
// magnitude, and Inf or NaN only when a value is. They once cleared the mantissa of the bits' OR,
// giving 1 for 1.5 (below the largest); and the OR alone is a NaN for 1.5 and 2.5 (above 2^127 for
// 0.75 and 2.5), which sent every update of such weights through the checking pass: there the
// largest itself is taken.
EDGELSTM_TEST(Guard, BoundsHoldTheLargestMagnitudeAndAreFiniteForFiniteValues) {
  const float one_and_a_half[1] = {1.5f};
  EXPECT_TRUE(edgelstm::magnitude_bound(one_and_a_half, 1) == 1.5f);
  const float mixed[5] = {0.25f, -2.5f, 1.5f, 0.9f, -0.0f};
  EXPECT_TRUE(edgelstm::magnitude_bound(mixed, 5) == 2.5f);
  EXPECT_TRUE(edgelstm::magnitude_bound(mixed, 0) == 0.0f);
  // Where the OR of the bits is finite it may exceed the largest, never by a whole power of 2 more
  // than the exponents' OR.
  const float below_one[3] = {0.75f, -0.3f, 0.01f};
  const float or_bound = edgelstm::magnitude_bound(below_one, 3);
  EXPECT_TRUE(or_bound >= 0.75f && or_bound < 2.0f);
  // 0.75 and 2.5 OR to an exponent one below all ones (a bound above 2^127): the largest instead.
  const float across_one[2] = {0.75f, -2.5f};
  EXPECT_TRUE(edgelstm::magnitude_bound(across_one, 2) == 2.5f);
  float with_nan[3] = {1.0f, std::numeric_limits<float>::quiet_NaN(), 3.0f};
  EXPECT_TRUE(std::isnan(edgelstm::magnitude_bound(with_nan, 3)));
  with_nan[1] = -std::numeric_limits<float>::infinity();
  EXPECT_TRUE(edgelstm::magnitude_bound(with_nan, 3) == std::numeric_limits<float>::infinity());
  // Over blocks of the norm pass: the largest in the second block of 256.
  static float values[300], gradients[300];
  for (int k = 0; k < 300; ++k) {
    values[k] = (k % 2 == 0 ? 1.0f : -1.0f) * (1.0f + static_cast<float>(k) / 1000.0f);
    gradients[k] = 0.5f;
  }
  values[271] = -7.75f;
  float bound = 0;
  const float squares = edgelstm::detail::gradient_square_sum_and_bound(gradients, values, 300, &bound);
  EXPECT_TRUE(bound == 7.75f);
  EXPECT_TRUE(squares == 75.0f);
  // Weights across 2 leave the guard's proof intact: no checking pass is needed.
  edgelstm::TrainConfig config;
  const float state_bounds[2] = {0.0f, 0.0f};
  EXPECT_TRUE(edgelstm::update_is_surely_finite(config, 1.0f, 1.0, 10.0f, bound, state_bounds));
}

EDGELSTM_TEST(Guard, LabelOutOfRangeIsRefused) {
  const auto spec = edgelstm::make_spec(2, 6, 1, 3, 4, edgelstm::Task::kClassification);
  edgelstm::TrainConfig config;
  config.loss = edgelstm::LossKind::kCrossEntropy;
  edgelstm::Network net;
  ASSERT_OK(net.bind_training(spec, config, g_arena));
  ASSERT_OK(net.initialize(1));
  const float x[8] = {};
  const std::uint16_t bad[1] = {3};
  const std::uint16_t good[1] = {2};
  EXPECT_STATUS(net.train_step(x, bad, edgelstm::WindowStart::kZeroState).status, edgelstm::Status::kLabelOutOfRange);
  EXPECT_OK(net.train_step(x, good, edgelstm::WindowStart::kZeroState).status);
  // Regression targets on a classifier are a misuse, not silently accepted.
  const float targets[3] = {};
  EXPECT_STATUS(net.train_step(x, targets, edgelstm::WindowStart::kZeroState).status, edgelstm::Status::kInvalidArgument);
}

}  // namespace
