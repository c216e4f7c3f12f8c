// libFuzzer target: what the gateway and a meter parse of a message from the network (the fleet,
// docs/fleet.md). The input is
//   u8 topic length, that many topic bytes, then the payload
// and both go through what the gateway does with a message before it stores anything: the topic
// parser (fleet/fleet_protocol.h, compiled into this target so it is instrumented) and the frame
// decoders of the core (include/edgelstm/meter_messages.h); the payload also goes to the meter's
// forecast decoder. A decoder must return an error or a frame inside the payload, and a frame it
// accepts must encode back to exactly the payload's bytes; an accepted topic must be the one
// rebuilt from its meter number and kind.
// Seeds (corpus/meter_frames): a readings frame, a forecast frame and a daily summary on their topics.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "edgelstm/meter_messages.h"
#include "fleet/fleet_protocol.h"

namespace {

void check_topic(const std::string& topic) {
  std::int64_t meter_id = -1;
  std::string kind;
  if (!edgelstm::fleet::parse_meter_topic(topic, &meter_id, &kind)) return;
  if (meter_id < 0 || kind.empty() || kind.find('/') != std::string::npos) __builtin_trap();
  // Leading zeros are the one thing the number does not keep.
  const std::size_t digits = topic.size() - std::strlen("meters/") - 1 - kind.size();
  if (std::to_string(meter_id).size() > digits) __builtin_trap();
  if (kind == "readings" && digits == std::to_string(meter_id).size() &&
      edgelstm::fleet::readings_topic(meter_id) != topic) {
    __builtin_trap();
  }
}

void check_payload(const std::vector<std::uint8_t>& payload) {
  const edgelstm::Span<const std::uint8_t> bytes(payload.data(), payload.size());
  std::vector<std::uint8_t> again(payload.size() + edgelstm::kDailySummaryFrameBytes);
  const edgelstm::Span<std::uint8_t> out(again.data(), again.size());

  edgelstm::ReadingsFrame readings;
  if (edgelstm::decode_readings(bytes, &readings) == edgelstm::Status::kOk) {
    if (readings.count == 0 || readings.count > edgelstm::kMaxReadingsPerFrame || readings.interval_seconds == 0 ||
        payload.size() != edgelstm::readings_frame_bytes(readings.count) ||
        readings.values != payload.data() + edgelstm::kReadingsHeaderBytes) {
      __builtin_trap();
    }
    std::vector<std::uint32_t> values(readings.count);
    for (std::size_t k = 0; k < values.size(); ++k) values[k] = readings.energy_wh(k);
    std::size_t written = 0;
    if (edgelstm::encode_readings(readings.first_timestamp, readings.interval_seconds,
                                  edgelstm::Span<const std::uint32_t>(values.data(), values.size()), out,
                                  &written) != edgelstm::Status::kOk ||
        written != payload.size() || std::memcmp(again.data(), payload.data(), written) != 0) {
      __builtin_trap();
    }
  }

  edgelstm::ForecastFrame forecast;
  if (edgelstm::decode_forecast(bytes, &forecast) == edgelstm::Status::kOk) {
    if (payload.size() != edgelstm::kForecastFrameBytes ||
        edgelstm::encode_forecast(forecast, out) != edgelstm::Status::kOk ||
        std::memcmp(again.data(), payload.data(), payload.size()) != 0) {
      __builtin_trap();
    }
  }

  edgelstm::DailySummaryFrame summary;
  if (edgelstm::decode_daily_summary(bytes, &summary) == edgelstm::Status::kOk) {
    if (payload.size() != edgelstm::kDailySummaryFrameBytes || summary.readings == 0 ||
        summary.offpeak_energy_wh > summary.energy_wh || summary.peak_reading_wh > summary.energy_wh ||
        edgelstm::encode_daily_summary(summary, out) != edgelstm::Status::kOk ||
        std::memcmp(again.data(), payload.data(), payload.size()) != 0) {
      __builtin_trap();
    }
  }

  edgelstm::MeterFrameType type;
  if (edgelstm::meter_frame_type(bytes, &type) == edgelstm::Status::kOk &&
      (payload.empty() || static_cast<std::uint8_t>(type) != payload[0])) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t topic_bytes = data[0] < size - 1 ? data[0] : size - 1;
  check_topic(std::string(reinterpret_cast<const char*>(data + 1), topic_bytes));
  // An exact-size copy, so a read past the payload is caught by AddressSanitizer.
  check_payload(std::vector<std::uint8_t>(data + 1 + topic_bytes, data + size));
  return 0;
}
