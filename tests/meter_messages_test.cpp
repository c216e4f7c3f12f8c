// The fleet's wire frames (meter_messages.h): exact byte layout, round trips, and refusal of
// truncated, foreign, wrong-version and inconsistent frames.
#include <cstdint>
#include <cstring>

#include "edgelstm/edgelstm.h"
#include "support/micro_test.h"

namespace {

EDGELSTM_TEST(MeterMessages, ReadingsFrameBytesAreTheDocumentedLayout) {
  const std::uint32_t wh[2] = {76, 0x01020304u};
  std::uint8_t frame[edgelstm::readings_frame_bytes(2)];
  std::size_t written = 0;
  ASSERT_OK(edgelstm::encode_readings(0x51593A00u, 1800, wh, frame, &written));
  EXPECT_EQ_INT(written, 20);
  const std::uint8_t expected[20] = {1, 1, 2, 0, 0x00, 0x3A, 0x59, 0x51, 0x08, 0x07, 0, 0,
                                     76, 0, 0, 0, 0x04, 0x03, 0x02, 0x01};
  EXPECT_TRUE(std::memcmp(frame, expected, sizeof expected) == 0);
  edgelstm::ReadingsFrame parsed;
  ASSERT_OK(edgelstm::decode_readings(frame, &parsed));
  EXPECT_EQ_INT(parsed.count, 2);
  EXPECT_EQ_INT(parsed.first_timestamp, 0x51593A00u);
  EXPECT_EQ_INT(parsed.timestamp(1), 0x51593A00u + 1800);
  EXPECT_EQ_INT(parsed.energy_wh(0), 76);
  EXPECT_EQ_INT(parsed.energy_wh(1), 0x01020304u);
  edgelstm::MeterFrameType type;
  ASSERT_OK(edgelstm::meter_frame_type(frame, &type));
  EXPECT_TRUE(type == edgelstm::MeterFrameType::kReadings);
}

EDGELSTM_TEST(MeterMessages, BadReadingsFramesAreRefused) {
  const std::uint32_t wh[3] = {1, 2, 3};
  std::uint8_t frame[edgelstm::readings_frame_bytes(3) + 4];
  std::size_t written = 0;
  ASSERT_OK(edgelstm::encode_readings(1000, 1800, wh, frame, &written));
  edgelstm::ReadingsFrame parsed;
  EXPECT_STATUS(edgelstm::decode_readings(edgelstm::Span<const std::uint8_t>(frame, written - 1), &parsed),
                edgelstm::Status::kTruncated);
  EXPECT_STATUS(edgelstm::decode_readings(edgelstm::Span<const std::uint8_t>(frame, 5), &parsed),
                edgelstm::Status::kTruncated);
  EXPECT_STATUS(edgelstm::decode_readings(edgelstm::Span<const std::uint8_t>(frame, written + 4), &parsed),
                edgelstm::Status::kInvalidArgument);  // trailing bytes
  frame[1] = 2;
  EXPECT_STATUS(edgelstm::decode_readings(edgelstm::Span<const std::uint8_t>(frame, written), &parsed),
                edgelstm::Status::kUnsupportedVersion);
  frame[1] = 1;
  frame[0] = 2;
  EXPECT_STATUS(edgelstm::decode_readings(edgelstm::Span<const std::uint8_t>(frame, written), &parsed),
                edgelstm::Status::kInvalidArgument);  // a forecast frame is not readings
  frame[0] = 1;
  frame[2] = 0;  // count 0
  EXPECT_STATUS(edgelstm::decode_readings(edgelstm::Span<const std::uint8_t>(frame, written), &parsed),
                edgelstm::Status::kInvalidArgument);
  std::uint8_t small[8];
  EXPECT_STATUS(edgelstm::encode_readings(1000, 1800, wh, small, &written), edgelstm::Status::kBufferTooSmall);
  EXPECT_STATUS(edgelstm::encode_readings(1000, 0, wh, frame, &written), edgelstm::Status::kInvalidArgument);
  edgelstm::MeterFrameType type;
  std::uint8_t unknown[1] = {9};
  EXPECT_STATUS(edgelstm::meter_frame_type(unknown, &type), edgelstm::Status::kInvalidArgument);
}

EDGELSTM_TEST(MeterMessages, ForecastAndSummaryFramesRoundTrip) {
  edgelstm::ForecastFrame forecast;
  forecast.acknowledged_count = 3;
  forecast.acknowledged_first_timestamp = 1364860800u;
  forecast.forecast_timestamp = 1364860800u + 3 * 1800;
  forecast.forecast_mwh = 123456;
  std::uint8_t frame[edgelstm::kDailySummaryFrameBytes];
  ASSERT_OK(edgelstm::encode_forecast(forecast, frame));
  edgelstm::ForecastFrame back;
  ASSERT_OK(edgelstm::decode_forecast(edgelstm::Span<const std::uint8_t>(frame, edgelstm::kForecastFrameBytes), &back));
  EXPECT_EQ_INT(back.acknowledged_count, 3);
  EXPECT_EQ_INT(back.acknowledged_first_timestamp, 1364860800u);
  EXPECT_EQ_INT(back.forecast_timestamp, 1364860800u + 3 * 1800);
  EXPECT_EQ_INT(back.forecast_mwh, 123456);
  EXPECT_STATUS(edgelstm::decode_forecast(edgelstm::Span<const std::uint8_t>(frame, 15), &back),
                edgelstm::Status::kTruncated);

  edgelstm::DailySummaryFrame summary;
  summary.readings = 48;
  summary.day_start = 1364860800u;
  summary.energy_wh = 12345;
  summary.offpeak_energy_wh = 4000;
  summary.peak_reading_wh = 1500;
  summary.forecasts_scored = 48;
  summary.refused_steps = 1;
  summary.mae_mwh = 150000;
  summary.rmse_mwh = 290000;
  summary.checkpoint_sequence = 17;
  ASSERT_OK(edgelstm::encode_daily_summary(summary, frame));
  edgelstm::DailySummaryFrame parsed;
  ASSERT_OK(edgelstm::decode_daily_summary(frame, &parsed));
  EXPECT_EQ_INT(parsed.readings, 48);
  EXPECT_EQ_INT(parsed.energy_wh, 12345);
  EXPECT_EQ_INT(parsed.offpeak_energy_wh, 4000);
  EXPECT_EQ_INT(parsed.peak_reading_wh, 1500);
  EXPECT_EQ_INT(parsed.refused_steps, 1);
  EXPECT_EQ_INT(parsed.mae_mwh, 150000);
  EXPECT_EQ_INT(parsed.rmse_mwh, 290000);
  EXPECT_EQ_INT(parsed.checkpoint_sequence, 17);
  // An off-peak register above the day's total is not a meter's summary.
  summary.offpeak_energy_wh = 20000;
  ASSERT_OK(edgelstm::encode_daily_summary(summary, frame));
  EXPECT_STATUS(edgelstm::decode_daily_summary(frame, &parsed), edgelstm::Status::kInvalidArgument);
}

}  // namespace
