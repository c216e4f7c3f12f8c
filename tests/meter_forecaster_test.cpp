// The self-learning meter's forecaster (meter_forecaster.h): it learns a daily habit from scratch,
// its inputs are what the file comment says, a reboot that restores its checkpoint (also through a
// power cut in the middle of a checkpoint) and replays the readings since then ends bit-identical
// to a meter that never rebooted, and bad readings or bad checkpoints change nothing.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "edgelstm/edgelstm.h"
#include "support/micro_test.h"

namespace {

// Small enough for the soft-float target: three-hourly readings (8 a day), two days of history.
constexpr edgelstm::MeterForecasterSpec kSpec = {/*hidden=*/4, /*window=*/3, /*readings_per_day=*/8,
                                                 /*history_days=*/2, /*replay=*/2, /*replay_span=*/8};
constexpr std::size_t kArenaBytes = edgelstm::meter_forecaster_bytes(kSpec);
constexpr std::size_t kCheckpointBytes = edgelstm::meter_checkpoint_bytes(kSpec);
alignas(edgelstm::kArenaAlignment) std::uint8_t g_arena_a[kArenaBytes];
alignas(edgelstm::kArenaAlignment) std::uint8_t g_arena_b[kArenaBytes];
alignas(4) std::uint8_t g_checkpoint[kCheckpointBytes];
constexpr std::uint32_t kMonday = 1365984000u;  // 2013-04-15 00:00, a Monday
constexpr std::uint32_t kInterval = 86400u / 8u;

// A household-like day: low at night, a morning and a larger evening peak, kWh per 3 hours; a
// deterministic wobble so no two days are the same.
float reading(std::uint32_t n) {
  static const float kProfile[8] = {0.3f, 0.25f, 0.9f, 0.6f, 0.5f, 0.7f, 1.6f, 0.8f};
  return kProfile[n % 8] * (1.0f + 0.1f * static_cast<float>((n * 7919u) % 11u) / 11.0f);
}

edgelstm::MeterForecasterConfig config() {
  edgelstm::MeterForecasterConfig c;
  c.learning_rate = 1e-2f;
  c.final_learning_rate = 2e-3f;
  c.decay_readings = 40.0f;
  c.seed = 7;
  return c;
}

// Feeds readings [from, to) and returns the sum of the next-forecasts (a fingerprint of the run).
double feed(edgelstm::MeterForecaster& meter, std::uint32_t from, std::uint32_t to) {
  double sum = 0;
  for (std::uint32_t n = from; n < to; ++n) {
    edgelstm::MeterObservation o;
    if (meter.observe(kMonday + n * kInterval, reading(n), &o) != edgelstm::Status::kOk) return NAN;
    sum += o.next_forecast;
  }
  return sum;
}

bool same_parameters(const edgelstm::MeterForecaster& a, const edgelstm::MeterForecaster& b) {
  const auto pa = a.network().parameters(), pb = b.network().parameters();
  return pa.size() == pb.size() && std::memcmp(pa.data(), pb.data(), pa.size() * sizeof(float)) == 0;
}

EDGELSTM_TEST(MeterForecaster, LearnsADailyHabitFromScratch) {
  edgelstm::MeterForecaster meter;
  ASSERT_OK(meter.bind(kSpec, config(), edgelstm::Span<std::uint8_t>(g_arena_a, kArenaBytes)));
  double first_error = 0, last_error = 0, persistence = 0;
  int first_count = 0, last_count = 0;
  const std::uint32_t days = 24;
  for (std::uint32_t n = 0; n < days * 8; ++n) {
    edgelstm::MeterObservation o;
    ASSERT_OK(meter.observe(kMonday + n * kInterval, reading(n), &o));
    EXPECT_EQ_INT(o.refused, 0);
    EXPECT_EQ_INT(o.trained, n >= kSpec.window ? 1 + (n > kSpec.window ? kSpec.replay : 0) : 0);
    EXPECT_TRUE(o.has_forecast == (n + 1 >= kSpec.window));
    if (!o.scored) continue;
    const double error = std::fabs(o.forecast_of_reading - reading(n));
    if (n < 3 * 8) {
      first_error += error;
      ++first_count;
    } else if (n >= (days - 3) * 8) {
      last_error += error;
      persistence += std::fabs(reading(n - 1) - reading(n));
      ++last_count;
    }
  }
  EXPECT_EQ_INT(meter.readings(), days * 8);
  first_error /= first_count;
  last_error /= last_count;
  persistence /= last_count;
  // From scratch it is poor; after three weeks it is well under its own start and under persistence.
  EXPECT_LT(last_error, 0.5 * first_error);
  EXPECT_LT(last_error, 0.5 * persistence);
  EXPECT_LT(meter.learning_rate(), 0.5f * config().learning_rate);
}

EDGELSTM_TEST(MeterForecaster, WindowInputsAreTheReadingTheLagsAndTheCalendar) {
  // Readings x[i] = i + 1 (kWh), scale 2, window for u = 20 (day 2, interval 4 of the day: 12:00).
  const auto x = [](std::uint32_t i) { return static_cast<float>(i + 1); };
  float window[3 * edgelstm::kMeterInputs];
  edgelstm::build_meter_window(kSpec, 20, kMonday + 20 * kInterval, 2.0f, x, window);
  const float* last = window + 2 * edgelstm::kMeterInputs;  // step s = 19, its target u = 20
  EXPECT_NEAR(last[0], 20.0f / 2, 1e-6f);                   // x[19]
  EXPECT_NEAR(last[1], 13.0f / 2, 1e-6f);                   // x[20 - 8] = 13
  EXPECT_NEAR(last[2], (13.0f + 5.0f) / 2 / 2, 1e-6f);      // mean of x[12], x[4]
  EXPECT_NEAR(last[3], 0.0f, 1e-6f);                        // 12:00: sin(pi)
  EXPECT_NEAR(last[4], -1.0f, 1e-6f);                       // cos(pi)
  // 20 intervals of 3 h from Monday 00:00 is Wednesday 12:00: day of week 2.
  EXPECT_NEAR(last[5], std::sin(2 * 3.14159265f * 2 / 7), 2e-6f);
  EXPECT_NEAR(last[6], std::cos(2 * 3.14159265f * 2 / 7), 2e-6f);
  // The first step (s = 17, target 18 = 06:00): the mean of x[10] and x[2].
  const float* first = window;
  EXPECT_NEAR(first[2], (11.0f + 3.0f) / 2 / 2, 1e-6f);
  EXPECT_NEAR(first[3], 1.0f, 1e-6f);  // 06:00: sin(pi / 2)
  // In the first day there is no yesterday: both lag inputs fall back to the reading itself.
  edgelstm::build_meter_window(kSpec, 4, kMonday + 4 * kInterval, 1.0f, x, window);
  EXPECT_NEAR(window[1], window[0], 0);
  EXPECT_NEAR(window[2], window[0], 0);
}

EDGELSTM_TEST(MeterForecaster, ARestoredCheckpointContinuesBitIdentically) {
  edgelstm::MeterForecaster straight, rebooted;
  ASSERT_OK(straight.bind(kSpec, config(), edgelstm::Span<std::uint8_t>(g_arena_a, kArenaBytes)));
  const double through = feed(straight, 0, 100);
  // The rebooted meter: 60 readings, a checkpoint, then a fresh object from it and 40 more.
  ASSERT_OK(rebooted.bind(kSpec, config(), edgelstm::Span<std::uint8_t>(g_arena_b, kArenaBytes)));
  const double before = feed(rebooted, 0, 60);
  ASSERT_OK(rebooted.save(g_checkpoint));
  std::memset(g_arena_b, 0xA5, sizeof g_arena_b);  // RAM is lost in a reboot
  edgelstm::MeterForecaster restored;
  ASSERT_OK(restored.bind(kSpec, config(), edgelstm::Span<std::uint8_t>(g_arena_b, kArenaBytes)));
  ASSERT_OK(restored.restore(g_checkpoint));
  EXPECT_EQ_INT(restored.readings(), 60);
  EXPECT_EQ_INT(restored.next_timestamp(), kMonday + 60 * kInterval);
  const double after = feed(restored, 60, 100);
  EXPECT_TRUE(before + after == through);
  EXPECT_TRUE(same_parameters(straight, restored));
  // The checkpoint is a model file of exactly the announced size.
  edgelstm::ModelView view;
  ASSERT_OK(edgelstm::read_model(g_checkpoint, &view));
  std::uint32_t file_bytes = 0;
  std::memcpy(&file_bytes, g_checkpoint + 12, 4);
  EXPECT_EQ_INT(file_bytes, kCheckpointBytes);
}

EDGELSTM_TEST(MeterForecaster, APowerCutDuringACheckpointLosesNothing) {
  // The checkpoint in flash, double-buffered; the meter's readings log (kept by the metering
  // firmware) replays the readings since the checkpoint after the reboot.
  constexpr std::size_t kSector = 256;
  constexpr std::size_t kSlot = edgelstm::checkpoint_slot_bytes(kCheckpointBytes, kSector);
  alignas(4) static std::uint8_t flash_memory[2 * kSlot];
  edgelstm::RamFlash flash(flash_memory, kSector);
  flash.erase_all();
  edgelstm::DoubleBufferedCheckpoint slots;
  ASSERT_OK(slots.bind(flash, 0, kSlot));
  edgelstm::MeterForecaster straight, meter;
  ASSERT_OK(straight.bind(kSpec, config(), edgelstm::Span<std::uint8_t>(g_arena_a, kArenaBytes)));
  (void)feed(straight, 0, 40);
  const double straight_40_64 = feed(straight, 40, 64), straight_64_90 = feed(straight, 64, 90);
  ASSERT_OK(meter.bind(kSpec, config(), edgelstm::Span<std::uint8_t>(g_arena_b, kArenaBytes)));
  (void)feed(meter, 0, 40);
  ASSERT_OK(meter.save(g_checkpoint));
  ASSERT_OK(slots.save(g_checkpoint));  // checkpoint at reading 40
  (void)feed(meter, 40, 64);
  ASSERT_OK(meter.save(g_checkpoint));
  flash.cut_power_after(kSlot + kCheckpointBytes / 2);  // dies halfway through the payload
  EXPECT_STATUS(slots.save(g_checkpoint), edgelstm::Status::kFlashError);
  // Reboot: RAM gone, the newest valid checkpoint is the one of reading 40.
  flash.cut_power_after(edgelstm::RamFlash::kNoPowerCut);
  std::memset(g_arena_b, 0, sizeof g_arena_b);
  std::memset(g_checkpoint, 0, sizeof g_checkpoint);
  edgelstm::MeterForecaster resumed;
  ASSERT_OK(resumed.bind(kSpec, config(), edgelstm::Span<std::uint8_t>(g_arena_b, kArenaBytes)));
  std::size_t size = 0;
  std::uint32_t sequence = 0;
  ASSERT_OK(slots.load(g_checkpoint, &size, &sequence));
  EXPECT_EQ_INT(sequence, 1);
  ASSERT_OK(resumed.restore(edgelstm::Span<const std::uint8_t>(g_checkpoint, size)));
  EXPECT_EQ_INT(resumed.readings(), 40);
  // Catching up on readings 40..63 gives back what the lost RAM held; then on as if nothing happened.
  EXPECT_TRUE(feed(resumed, 40, 64) == straight_40_64);
  EXPECT_TRUE(feed(resumed, 64, 90) == straight_64_90);
  EXPECT_TRUE(same_parameters(straight, resumed));
}

EDGELSTM_TEST(MeterForecaster, BadReadingsAndBadCheckpointsChangeNothing) {
  edgelstm::MeterForecaster meter, twin;
  ASSERT_OK(meter.bind(kSpec, config(), edgelstm::Span<std::uint8_t>(g_arena_a, kArenaBytes)));
  ASSERT_OK(twin.bind(kSpec, config(), edgelstm::Span<std::uint8_t>(g_arena_b, kArenaBytes)));
  (void)feed(meter, 0, 30);
  (void)feed(twin, 0, 30);
  edgelstm::MeterObservation o;
  EXPECT_STATUS(meter.observe(kMonday + 31 * kInterval, 1.0f, &o), edgelstm::Status::kInvalidArgument);  // a gap
  EXPECT_STATUS(meter.observe(kMonday + 30 * kInterval, -0.5f, &o), edgelstm::Status::kInvalidArgument);
  EXPECT_STATUS(meter.observe(kMonday + 30 * kInterval, NAN, &o), edgelstm::Status::kNonFinite);
  // A checkpoint with one flipped byte, a truncated one, one of another shape: refused.
  ASSERT_OK(twin.save(g_checkpoint));
  g_checkpoint[kCheckpointBytes - 7] ^= 0x04;
  EXPECT_STATUS(meter.restore(g_checkpoint), edgelstm::Status::kChecksumMismatch);
  g_checkpoint[kCheckpointBytes - 7] ^= 0x04;
  EXPECT_STATUS(meter.restore(edgelstm::Span<const std::uint8_t>(g_checkpoint, kCheckpointBytes - 4)),
                edgelstm::Status::kTruncated);
  constexpr edgelstm::MeterForecasterSpec wider = {4, 3, 8, 2, 2, /*replay_span=*/16};  // another history
  alignas(edgelstm::kArenaAlignment) static std::uint8_t other_arena[edgelstm::meter_forecaster_bytes(wider)];
  edgelstm::MeterForecaster other;
  ASSERT_OK(other.bind(wider, config(), other_arena));
  EXPECT_STATUS(other.restore(g_checkpoint), edgelstm::Status::kMalformedModel);
  // Still the same meter as its twin, reading for reading.
  EXPECT_TRUE(feed(meter, 30, 50) == feed(twin, 30, 50));
  EXPECT_TRUE(same_parameters(meter, twin));
}

}  // namespace
