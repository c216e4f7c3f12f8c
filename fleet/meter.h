// One smart meter of the fleet, as a host object: its own MQTT identity and connection (its
// credentials, optionally TLS), its flash (a file: checkpoint slots and the reading log, which
// outlive a reboot), and, on the self-learning platform, the core's MeterForecaster.
//
// Gateway platform: every reading goes up at once (a readings frame, QoS 1) and stays in the log
// until the gateway's forecast frame acknowledges it; unacknowledged readings are sent again after
// `resend_after` readings, then after twice as many, and so on (a gateway that is down is not
// flooded). The gateway's forecast of the next reading comes back in the same frame.
// Self-learning platform: the meter forecasts and learns at every reading (MeterForecaster), keeps a
// checkpoint in flash (DoubleBufferedCheckpoint) every `checkpoint_every` readings, and sends one
// daily summary (its energy registers for billing and its forecaster's error of the day), kept
// until acknowledged as well.
//
// Destroying the object is a power cut: RAM is lost (no clean MQTT disconnect), the flash file
// stays. Constructing it again on the same flash is the reboot: the newest valid checkpoint is
// restored, the readings logged since are replayed through the forecaster (catch-up), and whatever
// was not acknowledged is sent again.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "edgelstm/checkpoint.h"
#include "edgelstm/meter_forecaster.h"
#include "fleet/file_flash.h"
#include "fleet/reading_log.h"
#include "host/mqtt_client.h"

namespace edgelstm::fleet {

enum class Platform { kGateway, kSelfLearning };
const char* platform_name(Platform platform);

struct MeterSettings {
  Platform platform = Platform::kGateway;
  MeterForecasterSpec spec;      // self-learning only
  MeterForecasterConfig config;  // self-learning only
  std::uint32_t checkpoint_every = 48;  // readings between checkpoints (one a day)
  std::uint32_t resend_after = 4;       // readings without acknowledgement before resending
  std::uint32_t max_resend_after = 96;  // the backoff's ceiling
  std::size_t log_sectors = 8;          // 4 KB sectors of 128 records: 21 days of half-hours
  host::MqttOptions mqtt;               // host, port, CA file, keepalive (identity filled per meter)
  double connect_timeout_seconds = 10;
  // A run's rendezvous: when an acknowledgement first covers *target, *reached is incremented
  // (the run then knows every meter has its answer without polling each one).
  std::atomic<std::uint32_t>* target = nullptr;
  std::atomic<std::size_t>* reached = nullptr;
};

// Traffic a meter's MQTT connections carried (summed over its boots).
struct MeterTraffic {
  std::uint64_t messages_up = 0, payload_bytes_up = 0, packet_bytes_up = 0;
  std::uint64_t messages_down = 0, payload_bytes_down = 0, packet_bytes_down = 0;
  std::uint64_t wire_bytes_up = 0, wire_bytes_down = 0;  // TCP payload (TLS records when TLS)
  std::uint64_t segments_up = 0, segments_down = 0;      // TCP segments
  std::uint64_t connects = 0;
};

// What a run records of a meter, outside it (it survives the meter's reboots): the measurements.
struct MeterRecord {
  std::int64_t id = 0;
  bool keep_forecasts = true;
  bool keep_latencies = false;
  std::vector<float> acknowledgement_ms;  // per reading: from its first sending to its acknowledgement
  std::mutex mutex;
  std::map<std::uint32_t, float> own_forecasts;      // self-learning: its forecast of x[t], kWh
  std::map<std::uint32_t, float> gateway_forecasts;  // gateway platform: the forecast received for x[t]
  // "sent": handed to the MQTT client for publishing at QoS 1 (queued for the radio), not yet
  // accepted by the broker. What arrived is measured at the platform (the readings the gateway
  // stored; acknowledgement_ms, gateway platform with keep_latencies only). Readings sent again go
  // to readings_resent; summaries sent again count in summaries_sent too.
  std::uint64_t readings_logged = 0, readings_sent = 0, readings_resent = 0, summaries_sent = 0;
  std::uint64_t radio_sessions = 0;      // readings at which the meter transmitted
  std::uint64_t observe_calls = 0;       // forecaster steps (catch-up included)
  std::uint64_t catch_up_readings = 0, catch_up_mismatches = 0;
  std::uint64_t checkpoints = 0, checkpoint_failures = 0, restores = 0, boots = 0;
  std::uint64_t refused_steps = 0;
  MeterTraffic traffic_before_boot;  // traffic of the connections of earlier boots
};

class SimulatedMeter {
 public:
  // Boots: opens (or creates) the flash file, restores and catches up (self-learning), connects
  // and resends what is unacknowledged. Throws host::InputError when the broker refuses it.
  SimulatedMeter(std::int64_t id, const std::string& password, const std::string& flash_path,
                 const MeterSettings& settings, MeterRecord* record);
  ~SimulatedMeter();  // the power goes
  SimulatedMeter(const SimulatedMeter&) = delete;
  SimulatedMeter& operator=(const SimulatedMeter&) = delete;

  // The reading of interval `timestamp` (consecutive), in kWh as measured.
  void read(std::uint32_t timestamp, float kwh);

  // The next checkpoint write dies after `bytes` flash bytes (a power cut: the caller then destroys
  // the meter and boots it again).
  void cut_power_during_next_checkpoint(std::size_t bytes) { power_cut_budget_ = bytes; }
  bool power_cut() const { return flash_->power_cut(); }

  // Whether everything the meter logged is acknowledged (readings, or summaries).
  bool all_acknowledged() const;
  // Sends everything unacknowledged again now (the end of a run drains this way).
  void flush();
  // A clean end (not a power cut): samples the traffic, disconnects.
  void shutdown();
  // The newest reading (or day, on the self-learning platform: its last interval) acknowledged.
  std::uint32_t acknowledged_through() const { return acknowledged_through_.load(); }
  // The newest reading acknowledged with a forecast of the next one (gateway platform).
  std::uint32_t last_forecast_timestamp() const { return last_forecast_.load(); }
  std::uint64_t acknowledgements() const { return acknowledgements_.load(); }
  MeterTraffic traffic();
  host::MqttClient& client() { return *client_; }
  // Checkpoint slot size in flash, and the flash layout's total.
  static std::size_t checkpoint_slot_bytes(const MeterSettings& settings);
  static std::size_t flash_bytes(const MeterSettings& settings);

 private:
  void boot();
  void observe(std::uint32_t timestamp, float kwh, bool catching_up, std::uint32_t* forecast_mwh);
  void save_checkpoint();
  void publish_readings(const std::vector<LoggedReading>& readings);
  void send_summary(std::uint32_t day_end);
  // Unacknowledged items older than `now`: readings (gateway platform) or day-end records whose
  // summary is unacknowledged (self-learning); resend() sends them again; resend_if_due() does so
  // on the backoff schedule and says whether it did.
  std::vector<LoggedReading> pending(std::uint32_t now) const;
  void resend(std::uint32_t now);
  bool resend_if_due(std::uint32_t now);
  void on_message(const host::MqttMessage& message);

  std::int64_t id_;
  MeterSettings settings_;
  MeterRecord* record_;
  std::unique_ptr<FileFlash> flash_;
  std::unique_ptr<ReadingLog> log_;
  mutable std::mutex log_mutex_;  // the network thread acknowledges while the meter appends
  std::vector<std::uint8_t> arena_storage_, checkpoint_buffer_;
  MeterForecaster forecaster_;
  DoubleBufferedCheckpoint checkpoint_;
  std::uint32_t readings_since_checkpoint_ = 0;
  std::size_t power_cut_budget_ = FileFlash::kNoPowerCut;
  std::unique_ptr<host::MqttClient> client_;
  std::uint32_t next_resend_ = 0, resend_interval_ = 0, readings_seen_ = 0;
  std::map<std::uint32_t, std::chrono::steady_clock::time_point> sent_at_;  // keep_latencies only
  std::atomic<std::uint32_t> last_forecast_{0};
  std::atomic<std::uint32_t> acknowledged_through_{0};
  std::atomic<std::uint64_t> acknowledgements_{0};
};

}  // namespace edgelstm::fleet
