// The messages a smart meter and the utility's gateway exchange (the MQTT payloads of the fleet,
// fleet/ and docs/fleet.md): small little-endian binary frames a meter encodes and parses with no
// heap. Energy travels as integers: readings in Wh (what a meter's register counts), forecasts and
// errors in mWh.
//
//   readings (meter -> gateway, one run of consecutive readings):
//     u8 type 1 | u8 version | u16 count | u32 first timestamp | u16 interval s | u16 0 | count x u32 Wh
//   forecast (gateway -> meter): the acknowledgement of a stored run and the next forecast
//     u8 type 2 | u8 version | u16 acknowledged count | u32 acknowledged first timestamp |
//     u32 forecast timestamp (0: none) | u32 forecast mWh
//   daily summary (self-learning meter -> utility): what the utility needs of a meter that forecasts
//   by itself: its registers for billing and the health of its forecaster
//     u8 type 3 | u8 version | u16 readings | u32 day start | u32 energy Wh | u32 off-peak energy Wh |
//     u32 peak reading Wh | u16 forecasts scored | u16 refused steps | u32 MAE mWh | u32 RMSE mWh |
//     u32 checkpoint sequence
//   summary acknowledgement (gateway -> meter): a forecast frame with count 1, the day start, and
//     no forecast.
// Timestamps: seconds, the meter's local clock, the start of an interval.
#pragma once

#include <cstddef>
#include <cstdint>

#include "span.h"
#include "status.h"

namespace edgelstm {

enum class MeterFrameType : std::uint8_t { kReadings = 1, kForecast = 2, kDailySummary = 3 };
inline constexpr std::uint8_t kMeterFrameVersion = 1;
inline constexpr std::size_t kReadingsHeaderBytes = 12;
inline constexpr std::size_t kMaxReadingsPerFrame = 1024;  // three weeks of half-hours
inline constexpr std::size_t kForecastFrameBytes = 16;
inline constexpr std::size_t kDailySummaryFrameBytes = 36;

constexpr std::size_t readings_frame_bytes(std::size_t count) { return kReadingsHeaderBytes + 4 * count; }

// A run of consecutive readings: x at first_timestamp + k * interval_seconds is energy_wh(k).
struct ReadingsFrame {
  std::uint32_t first_timestamp = 0;
  std::uint16_t interval_seconds = 0;
  std::uint16_t count = 0;
  const std::uint8_t* values = nullptr;  // count little-endian u32, inside the parsed bytes
  std::uint32_t energy_wh(std::size_t k) const {
    const std::uint8_t* p = values + 4 * k;
    return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
           (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
  }
  std::uint32_t timestamp(std::size_t k) const { return first_timestamp + static_cast<std::uint32_t>(k) * interval_seconds; }
};

struct ForecastFrame {
  std::uint16_t acknowledged_count = 0;          // readings stored (0: none acknowledged)
  std::uint32_t acknowledged_first_timestamp = 0;
  std::uint32_t forecast_timestamp = 0;          // 0: no forecast in this frame
  std::uint32_t forecast_mwh = 0;
};

struct DailySummaryFrame {
  std::uint16_t readings = 0;
  std::uint32_t day_start = 0;
  std::uint32_t energy_wh = 0;
  std::uint32_t offpeak_energy_wh = 0;
  std::uint32_t peak_reading_wh = 0;
  std::uint16_t forecasts_scored = 0;
  std::uint16_t refused_steps = 0;
  std::uint32_t mae_mwh = 0;
  std::uint32_t rmse_mwh = 0;
  std::uint32_t checkpoint_sequence = 0;
};

namespace detail {

struct FrameWriter {
  std::uint8_t* p;
  void u8(std::uint8_t v) { *p++ = v; }
  void u16(std::uint16_t v) {
    u8(static_cast<std::uint8_t>(v));
    u8(static_cast<std::uint8_t>(v >> 8));
  }
  void u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v));
    u16(static_cast<std::uint16_t>(v >> 16));
  }
};

struct FrameReader {
  const std::uint8_t* p;
  std::uint8_t u8() { return *p++; }
  std::uint16_t u16() {
    const std::uint16_t low = u8();
    return static_cast<std::uint16_t>(low | (u8() << 8));
  }
  std::uint32_t u32() {
    const std::uint32_t low = u16();
    return low | (static_cast<std::uint32_t>(u16()) << 16);
  }
};

// Type and version of a frame of at least `bytes` bytes.
inline Status check_frame(Span<const std::uint8_t> frame, MeterFrameType type, std::size_t bytes) {
  if (frame.size() < 2) return Status::kTruncated;
  if (frame[0] != static_cast<std::uint8_t>(type)) return Status::kInvalidArgument;
  if (frame[1] != kMeterFrameVersion) return Status::kUnsupportedVersion;
  return frame.size() < bytes ? Status::kTruncated : Status::kOk;
}

}  // namespace detail

// The type of a frame, or kInvalidArgument for an empty or unknown one.
inline Status meter_frame_type(Span<const std::uint8_t> frame, MeterFrameType* type) {
  if (frame.empty() || frame[0] < 1 || frame[0] > 3) return Status::kInvalidArgument;
  *type = static_cast<MeterFrameType>(frame[0]);
  return Status::kOk;
}

// Encodes `energy_wh.size()` consecutive readings (1 .. kMaxReadingsPerFrame) into `out`
// (readings_frame_bytes(count) bytes); *written gets the size.
inline Status encode_readings(std::uint32_t first_timestamp, std::uint16_t interval_seconds,
                              Span<const std::uint32_t> energy_wh, Span<std::uint8_t> out, std::size_t* written) {
  if (energy_wh.empty() || energy_wh.size() > kMaxReadingsPerFrame || interval_seconds == 0) {
    return Status::kInvalidArgument;
  }
  const std::size_t bytes = readings_frame_bytes(energy_wh.size());
  if (out.size() < bytes) return Status::kBufferTooSmall;
  detail::FrameWriter w{out.data()};
  w.u8(static_cast<std::uint8_t>(MeterFrameType::kReadings));
  w.u8(kMeterFrameVersion);
  w.u16(static_cast<std::uint16_t>(energy_wh.size()));
  w.u32(first_timestamp);
  w.u16(interval_seconds);
  w.u16(0);
  for (std::uint32_t value : energy_wh) w.u32(value);
  *written = bytes;
  return Status::kOk;
}

// Parses a readings frame; *out refers into `frame`. The size must be exactly the header and count
// readings, the count 1 .. kMaxReadingsPerFrame and the interval non-zero.
inline Status decode_readings(Span<const std::uint8_t> frame, ReadingsFrame* out) {
  EDGELSTM_TRY(detail::check_frame(frame, MeterFrameType::kReadings, kReadingsHeaderBytes));
  detail::FrameReader r{frame.data() + 2};
  ReadingsFrame f;
  f.count = r.u16();
  f.first_timestamp = r.u32();
  f.interval_seconds = r.u16();
  const std::uint16_t reserved = r.u16();
  if (f.count == 0 || f.count > kMaxReadingsPerFrame || f.interval_seconds == 0 || reserved != 0) {
    return Status::kInvalidArgument;
  }
  if (frame.size() < readings_frame_bytes(f.count)) return Status::kTruncated;
  if (frame.size() != readings_frame_bytes(f.count)) return Status::kInvalidArgument;
  f.values = frame.data() + kReadingsHeaderBytes;
  *out = f;
  return Status::kOk;
}

inline Status encode_forecast(const ForecastFrame& f, Span<std::uint8_t> out) {
  if (out.size() < kForecastFrameBytes) return Status::kBufferTooSmall;
  detail::FrameWriter w{out.data()};
  w.u8(static_cast<std::uint8_t>(MeterFrameType::kForecast));
  w.u8(kMeterFrameVersion);
  w.u16(f.acknowledged_count);
  w.u32(f.acknowledged_first_timestamp);
  w.u32(f.forecast_timestamp);
  w.u32(f.forecast_mwh);
  return Status::kOk;
}

inline Status decode_forecast(Span<const std::uint8_t> frame, ForecastFrame* out) {
  EDGELSTM_TRY(detail::check_frame(frame, MeterFrameType::kForecast, kForecastFrameBytes));
  if (frame.size() != kForecastFrameBytes) return Status::kInvalidArgument;
  detail::FrameReader r{frame.data() + 2};
  ForecastFrame f;
  f.acknowledged_count = r.u16();
  f.acknowledged_first_timestamp = r.u32();
  f.forecast_timestamp = r.u32();
  f.forecast_mwh = r.u32();
  *out = f;
  return Status::kOk;
}

inline Status encode_daily_summary(const DailySummaryFrame& f, Span<std::uint8_t> out) {
  if (out.size() < kDailySummaryFrameBytes) return Status::kBufferTooSmall;
  detail::FrameWriter w{out.data()};
  w.u8(static_cast<std::uint8_t>(MeterFrameType::kDailySummary));
  w.u8(kMeterFrameVersion);
  w.u16(f.readings);
  w.u32(f.day_start);
  w.u32(f.energy_wh);
  w.u32(f.offpeak_energy_wh);
  w.u32(f.peak_reading_wh);
  w.u16(f.forecasts_scored);
  w.u16(f.refused_steps);
  w.u32(f.mae_mwh);
  w.u32(f.rmse_mwh);
  w.u32(f.checkpoint_sequence);
  return Status::kOk;
}

inline Status decode_daily_summary(Span<const std::uint8_t> frame, DailySummaryFrame* out) {
  EDGELSTM_TRY(detail::check_frame(frame, MeterFrameType::kDailySummary, kDailySummaryFrameBytes));
  if (frame.size() != kDailySummaryFrameBytes) return Status::kInvalidArgument;
  detail::FrameReader r{frame.data() + 2};
  DailySummaryFrame f;
  f.readings = r.u16();
  f.day_start = r.u32();
  f.energy_wh = r.u32();
  f.offpeak_energy_wh = r.u32();
  f.peak_reading_wh = r.u32();
  f.forecasts_scored = r.u16();
  f.refused_steps = r.u16();
  f.mae_mwh = r.u32();
  f.rmse_mwh = r.u32();
  f.checkpoint_sequence = r.u32();
  if (f.readings == 0 || f.offpeak_energy_wh > f.energy_wh || f.peak_reading_wh > f.energy_wh) {
    return Status::kInvalidArgument;
  }
  *out = f;
  return Status::kOk;
}

}  // namespace edgelstm
