// The memory planner: exact byte counts, what the network really touches, and bind-time checks.
#include <cstdint>
#include <cstring>

#include "edgelstm/edgelstm.h"
#include "support/micro_test.h"
#include "support/test_util.h"

namespace {

using edgelstm::OptimizerKind;

constexpr auto kPaperSpec = edgelstm::make_spec(1, 100, 1, 1, 6);

// The sizes firmware can use at compile time.
static_assert(edgelstm::parameter_count(kPaperSpec) == 4 * 100 * (1 + 100) + 8 * 100 + 100 + 1,
              "paper network parameter count");
static_assert(edgelstm::inference_bytes(kPaperSpec) > 0, "constexpr");
alignas(edgelstm::kArenaAlignment) static std::uint8_t g_static_arena[edgelstm::train_bytes(
    edgelstm::make_spec(1, 8, 1, 1, 4), OptimizerKind::kAdam)];

constexpr std::size_t round16(std::size_t floats) { return (floats * 4 + 15) / 16 * 16; }

EDGELSTM_TEST(Memory, PaperNetworkBytesFollowFromTheLayout) {
  // Independent count of the regions listed in memory_plan.h, for 6 steps x 100 units.
  const std::size_t params = 41301, hidden = 100, window = 6;
  const std::size_t inference = round16(params) + round16(2 * hidden) + round16(4 * hidden);
  const std::size_t caches = round16(window) + 2 * round16((window + 1) * hidden) +
                             round16(window * 4 * hidden) + round16(window * hidden) +
                             2 * round16(1) + 2 * round16(window * hidden) + 2 * round16(hidden) +
                             round16(2 * hidden);
  const std::size_t sgd = inference + round16(params) + caches;
  EXPECT_EQ_INT(edgelstm::inference_bytes(kPaperSpec), inference);
  EXPECT_EQ_INT(edgelstm::train_bytes(kPaperSpec, OptimizerKind::kSgd), sgd);
  EXPECT_EQ_INT(edgelstm::train_bytes(kPaperSpec, OptimizerKind::kMomentum), sgd + round16(params));
  EXPECT_EQ_INT(edgelstm::train_bytes(kPaperSpec, OptimizerKind::kAdam), sgd + round16(2 * params));
  // The figures the README quotes.
  EXPECT_EQ_INT(edgelstm::inference_bytes(kPaperSpec), 167616);
  EXPECT_EQ_INT(edgelstm::train_bytes(kPaperSpec, OptimizerKind::kSgd), 356896);
  EXPECT_EQ_INT(edgelstm::train_bytes(kPaperSpec, OptimizerKind::kMomentum), 522112);
  EXPECT_EQ_INT(edgelstm::train_bytes(kPaperSpec, OptimizerKind::kAdam), 687312);
}

alignas(16) std::uint8_t g_arena[800 * 1024];

// Binds with exactly the planned size inside a larger buffer filled with a canary, trains and
// runs inference, and checks that (a) nothing past the planned end was written, (b) the last
// planned bytes were written (the plan is not padded), (c) one byte less is refused.
void check_exact_use(const edgelstm::LstmSpec& spec, edgelstm::TrainConfig config, bool training) {
  const std::size_t planned = training ? edgelstm::train_bytes(spec, config.optimizer)
                                       : edgelstm::inference_bytes(spec);
  ASSERT_TRUE(planned + 256 <= sizeof g_arena);
  std::memset(g_arena, 0xA5, sizeof g_arena);
  edgelstm::Network net;
  const edgelstm::Span<std::uint8_t> too_small(g_arena, planned - 1);
  const edgelstm::Span<std::uint8_t> exact(g_arena, planned);
  if (training) {
    EXPECT_STATUS(net.bind_training(spec, config, too_small), edgelstm::Status::kBufferTooSmall);
    ASSERT_OK(net.bind_training(spec, config, exact));
  } else {
    EXPECT_STATUS(net.bind_inference(spec, too_small), edgelstm::Status::kBufferTooSmall);
    ASSERT_OK(net.bind_inference(spec, exact));
  }
  EXPECT_EQ_INT(net.bytes_used(), planned);
  ASSERT_OK(net.initialize(3));
  float x[64 * 8], y[64 * 8], targets[64 * 8];
  std::uint16_t labels[64];
  edgelstm::test::fill_uniform(x, spec.window * spec.input_size, 4, 1.0f);
  edgelstm::test::fill_uniform(targets, spec.output_steps() * spec.output_size, 5, 1.0f);
  for (std::size_t s = 0; s < spec.output_steps(); ++s) labels[s] = static_cast<std::uint16_t>(s % spec.output_size);
  const edgelstm::Span<const float> window_x(x, spec.window * spec.input_size);
  if (training) {
    for (int step = 0; step < 2; ++step) {
      const edgelstm::TrainResult result =
          spec.task == edgelstm::Task::kClassification
              ? net.train_step(window_x, edgelstm::Span<const std::uint16_t>(labels, spec.output_steps()),
                               edgelstm::WindowStart::kCarryState)
              : net.train_step(window_x, edgelstm::Span<const float>(targets, spec.output_steps() * spec.output_size),
                               edgelstm::WindowStart::kCarryState);
      EXPECT_OK(result.status);
    }
  }
  EXPECT_OK(net.forward(window_x, edgelstm::Span<float>(
                                      y, spec.output_mode == edgelstm::OutputMode::kEveryStep
                                             ? spec.window * spec.output_size
                                             : spec.output_size)));
  bool canary_intact = true;
  for (std::size_t k = planned; k < planned + 256; ++k) canary_intact = canary_intact && g_arena[k] == 0xA5;
  EXPECT_TRUE(canary_intact);
  // The last region (initial-state gradients when training, gate scratch otherwise) is used up
  // to its last element: its final float is no longer the canary pattern.
  std::uint32_t last_float;
  std::memcpy(&last_float, g_arena + planned - 4, 4);
  EXPECT_TRUE(last_float != 0xA5A5A5A5u);
}

EDGELSTM_TEST(Memory, NetworkUsesExactlyThePlannedBytes) {
  edgelstm::TrainConfig sgd, adam, momentum;
  adam.optimizer = OptimizerKind::kAdam;
  momentum.optimizer = OptimizerKind::kMomentum;
  check_exact_use(kPaperSpec, sgd, true);
  check_exact_use(kPaperSpec, adam, true);
  check_exact_use(kPaperSpec, momentum, false);
  auto stacked = edgelstm::make_spec(3, 16, 2, 2, 12, edgelstm::Task::kRegression, edgelstm::OutputMode::kEveryStep);
  stacked.hidden_size[1] = 12;
  check_exact_use(stacked, momentum, true);
  check_exact_use(stacked, sgd, false);
  edgelstm::TrainConfig classify;
  classify.loss = edgelstm::LossKind::kCrossEntropy;
  classify.optimizer = OptimizerKind::kAdam;
  check_exact_use(edgelstm::make_spec(4, 10, 3, 5, 7, edgelstm::Task::kClassification), classify, true);
}

EDGELSTM_TEST(Memory, StaticArenaSizedAtCompileTimeBinds) {
  edgelstm::Network net;
  edgelstm::TrainConfig adam;
  adam.optimizer = OptimizerKind::kAdam;
  EXPECT_OK(net.bind_training(edgelstm::make_spec(1, 8, 1, 1, 4), adam, g_static_arena));
  EXPECT_TRUE(net.bound_for_training());
}

// A spec whose arena would not fit in size_t is invalid, so its byte counts cannot wrap to a small
// number on a 32-bit target (input 1, H = 32768: 17 GB of weights); on a 64-bit host it is valid.
EDGELSTM_TEST(Memory, SpecsWhoseBytesOverflowSizeTAreInvalid) {
  const auto huge = edgelstm::make_spec(1, 32768, 1, 1, 6);
  const auto largest = [] {
    auto spec = edgelstm::make_spec(65535, 65535, 4, 65535, 65535, edgelstm::Task::kClassification,
                                    edgelstm::OutputMode::kEveryStep);
    return spec;
  }();
  // The bound covers every plan the code makes (double elements, Adam, packed inference), so no
  // new region can slip past it unnoticed.
  const edgelstm::LstmSpec specs[] = {
      kPaperSpec,
      edgelstm::make_spec(7, 48, 3, 5, 24, edgelstm::Task::kClassification, edgelstm::OutputMode::kEveryStep),
      edgelstm::make_spec(300, 1, 4, 9, 2), edgelstm::make_spec(1, 2048, 1, 1, 6)};
  for (const edgelstm::LstmSpec& spec : specs) {
    const std::uint64_t bound_bytes = 8 * edgelstm::detail::arena_element_bound(spec);
    EXPECT_TRUE(edgelstm::plan_memory(spec, edgelstm::Purpose::kTraining, OptimizerKind::kAdam, 8).total_bytes <= bound_bytes);
    EXPECT_TRUE(edgelstm::plan_memory(spec, edgelstm::Purpose::kInference, OptimizerKind::kSgd, 8).total_bytes <= bound_bytes);
    EXPECT_TRUE(edgelstm::detail::plan_packed(spec).total_bytes <= bound_bytes);
  }
  if (sizeof(std::size_t) == 4) {
    EXPECT_STATUS(edgelstm::validate_spec(huge), edgelstm::Status::kInvalidSpec);
    EXPECT_EQ_INT(edgelstm::inference_bytes(huge), 0);
    EXPECT_EQ_INT(edgelstm::train_bytes(huge, OptimizerKind::kAdam), 0);
    EXPECT_EQ_INT(edgelstm::packed_inference_bytes(huge), 0);
    edgelstm::Network net;
    EXPECT_STATUS(net.bind_inference(huge, edgelstm::Span<std::uint8_t>(g_arena, sizeof g_arena)),
                  edgelstm::Status::kInvalidSpec);
    // Large specs that fit in 32-bit sizes stay valid.
    EXPECT_OK(edgelstm::validate_spec(edgelstm::make_spec(1, 2048, 1, 1, 6)));
  } else {
    EXPECT_OK(edgelstm::validate_spec(huge));
    EXPECT_OK(edgelstm::validate_spec(largest));  // every field at its limit: 64-bit sizes hold it
    EXPECT_TRUE(edgelstm::train_bytes(largest, OptimizerKind::kAdam) > edgelstm::inference_bytes(largest));
  }
}

EDGELSTM_TEST(Memory, BindRejectsBadSpecsArenasAndConfigs) {
  edgelstm::Network net;
  const edgelstm::Span<std::uint8_t> arena(g_arena, sizeof g_arena);
  EXPECT_STATUS(net.bind_inference(edgelstm::make_spec(0, 8, 1, 1, 4), arena), edgelstm::Status::kInvalidSpec);
  EXPECT_STATUS(net.bind_inference(edgelstm::make_spec(1, 8, 5, 1, 4), arena), edgelstm::Status::kInvalidSpec);
  EXPECT_STATUS(net.bind_inference(edgelstm::make_spec(1, 8, 0, 1, 4), arena), edgelstm::Status::kInvalidSpec);
  EXPECT_STATUS(net.bind_inference(edgelstm::make_spec(1, 8, 1, 1, 0), arena), edgelstm::Status::kInvalidSpec);
  EXPECT_STATUS(net.bind_inference(edgelstm::make_spec(1, 8, 1, 1, 4, edgelstm::Task::kClassification), arena),
                edgelstm::Status::kInvalidSpec);
  auto gap = edgelstm::make_spec(1, 8, 2, 1, 4);
  gap.hidden_size[1] = 0;
  EXPECT_STATUS(net.bind_inference(gap, arena), edgelstm::Status::kInvalidSpec);
  EXPECT_EQ_INT(edgelstm::train_bytes(gap, OptimizerKind::kSgd), 0);
  EXPECT_STATUS(net.bind_inference(kPaperSpec, edgelstm::Span<std::uint8_t>(g_arena + 4, 300000)),
                edgelstm::Status::kMisalignedBuffer);
  EXPECT_STATUS(net.bind_inference(kPaperSpec, edgelstm::Span<std::uint8_t>()), edgelstm::Status::kBufferTooSmall);
  EXPECT_TRUE(!net.bound());

  edgelstm::TrainConfig config;
  config.learning_rate = 0.0f;
  EXPECT_STATUS(net.bind_training(kPaperSpec, config, arena), edgelstm::Status::kInvalidArgument);
  config = edgelstm::TrainConfig{};
  config.beta2 = 1.0;
  EXPECT_STATUS(net.bind_training(kPaperSpec, config, arena), edgelstm::Status::kInvalidArgument);
  config = edgelstm::TrainConfig{};
  config.clip_norm = NAN;
  EXPECT_STATUS(net.bind_training(kPaperSpec, config, arena), edgelstm::Status::kInvalidArgument);
  config = edgelstm::TrainConfig{};
  config.loss = edgelstm::LossKind::kCrossEntropy;  // regression spec
  EXPECT_STATUS(net.bind_training(kPaperSpec, config, arena), edgelstm::Status::kInvalidArgument);

  // An inference-only network refuses training calls.
  ASSERT_OK(net.bind_inference(kPaperSpec, arena));
  const float x[6] = {};
  const float t[1] = {};
  EXPECT_STATUS(net.train_step(x, t, edgelstm::WindowStart::kZeroState).status, edgelstm::Status::kNotBound);
  // Wrong span sizes are refused.
  float y[2];
  EXPECT_STATUS(net.step(edgelstm::Span<const float>(x, 2), edgelstm::Span<float>(y, 1)), edgelstm::Status::kInvalidArgument);
  EXPECT_STATUS(net.step(edgelstm::Span<const float>(x, 1), edgelstm::Span<float>(y, 2)), edgelstm::Status::kInvalidArgument);
}

}  // namespace

namespace {

alignas(16) std::uint8_t g_state_arena[4096];
float g_flash_copy[4096];

EDGELSTM_TEST(Memory, InferenceInPlaceReadsFlashWeightsAndNeedsOnlyStateBytes) {
  const auto spec = edgelstm::make_spec(2, 12, 2, 1, 4);
  // A network in RAM, whose weights are then "flashed" (copied to a separate read-only array).
  edgelstm::Network in_ram;
  ASSERT_OK(in_ram.bind_inference(spec, g_arena));
  ASSERT_OK(in_ram.initialize(5));
  const edgelstm::Span<const float> weights = static_cast<const edgelstm::Network&>(in_ram).parameters();
  ASSERT_TRUE(weights.size() <= sizeof g_flash_copy / sizeof(float));
  std::memcpy(g_flash_copy, weights.data(), weights.size() * sizeof(float));
  const edgelstm::Span<const float> flash(g_flash_copy, weights.size());

  const std::size_t bytes = edgelstm::inference_in_place_bytes(spec);
  EXPECT_EQ_INT(bytes, edgelstm::inference_bytes(spec) - (weights.size() * 4 + 15) / 16 * 16);
  edgelstm::Network in_place;
  EXPECT_STATUS(in_place.bind_inference_in_place(spec, flash, edgelstm::Span<std::uint8_t>(g_state_arena, bytes - 1)),
                edgelstm::Status::kBufferTooSmall);
  EXPECT_STATUS(in_place.bind_inference_in_place(spec, flash.subspan(0, flash.size() - 1), g_state_arena),
                edgelstm::Status::kInvalidArgument);
  ASSERT_OK(in_place.bind_inference_in_place(spec, flash, edgelstm::Span<std::uint8_t>(g_state_arena, bytes)));
  EXPECT_TRUE(in_place.parameters().empty());
  EXPECT_STATUS(in_place.initialize(1), edgelstm::Status::kNotBound);
  float x[8], y_ram[1], y_flash[1];
  edgelstm::test::fill_uniform(x, 8, 6, 1.0f);
  ASSERT_OK(in_ram.forward(x, y_ram));
  ASSERT_OK(in_place.forward(x, y_flash));
  EXPECT_TRUE(y_ram[0] == y_flash[0]);
}

}  // namespace
