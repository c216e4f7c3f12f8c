#include "fleet/meter.h"

#include <algorithm>
#include <cmath>

#include "edgelstm/meter_messages.h"
#include "fleet/fleet_protocol.h"
#include "host/csv_reader.h"
#include "host/forecast.h"

namespace edgelstm::fleet {
namespace {

constexpr std::size_t kSector = 4096;

std::uint32_t to_wh(float kwh) { return static_cast<std::uint32_t>(std::lround(static_cast<double>(kwh) * 1000.0)); }
std::uint32_t to_mwh(float kwh) { return static_cast<std::uint32_t>(std::lround(static_cast<double>(kwh) * 1e6)); }

}  // namespace

const char* platform_name(Platform platform) {
  return platform == Platform::kGateway ? "gateway" : "self-learning";
}

std::size_t SimulatedMeter::checkpoint_slot_bytes(const MeterSettings& settings) {
  return edgelstm::checkpoint_slot_bytes(meter_checkpoint_bytes(settings.spec), kSector);
}

std::size_t SimulatedMeter::flash_bytes(const MeterSettings& settings) {
  return 2 * checkpoint_slot_bytes(settings) + settings.log_sectors * kSector;
}

SimulatedMeter::SimulatedMeter(std::int64_t id, const std::string& password, const std::string& flash_path,
                               const MeterSettings& settings, MeterRecord* record)
    : id_(id), settings_(settings), record_(record) {
  flash_ = std::make_unique<FileFlash>(flash_path, flash_bytes(settings), kSector);
  log_ = std::make_unique<ReadingLog>(*flash_, 2 * checkpoint_slot_bytes(settings), settings.log_sectors,
                                      86400u / settings.spec.readings_per_day);
  resend_interval_ = settings.resend_after;
  boot();
  host::MqttOptions options = settings.mqtt;
  options.client_id = meter_user(id);
  options.username = meter_user(id);
  options.password = password;
  // A persistent session: acknowledgements the gateway sends while the meter reboots wait for it.
  options.clean_start = false;
  options.session_expiry_seconds = 7 * 86400;
  client_ = std::make_unique<host::MqttClient>(options);
  client_->set_handler([this](const host::MqttMessage& m) { on_message(m); });
  const int connack = client_->connect(settings.connect_timeout_seconds);
  if (connack != 0) {
    throw host::InputError(meter_user(id) + ": the broker refused the connection (reason " + std::to_string(connack) + ")");
  }
  if (client_->subscribe(forecast_topic(id), 1, settings.connect_timeout_seconds) != 1) {
    throw host::InputError(meter_user(id) + ": cannot subscribe to " + forecast_topic(id));
  }
  {
    std::lock_guard<std::mutex> lock(record_->mutex);
    ++record_->boots;
  }
  // Whatever was not acknowledged before the power went goes again now.
  const std::uint32_t now = log_->empty() ? 0 : log_->newest() + 1;
  if (!pending(now).empty()) {
    resend(now);
    std::lock_guard<std::mutex> lock(record_->mutex);
    ++record_->radio_sessions;
  }
}

SimulatedMeter::~SimulatedMeter() {
  if (!client_) return;  // shut down cleanly before
  // Keep what this boot's connection carried; no clean disconnect (the power went).
  const MeterTraffic t = traffic();
  std::lock_guard<std::mutex> lock(record_->mutex);
  record_->traffic_before_boot = t;
  client_.reset();
}

void SimulatedMeter::boot() {
  if (settings_.platform != Platform::kSelfLearning) return;
  const std::size_t arena_bytes = meter_forecaster_bytes(settings_.spec);
  if (arena_bytes == 0) throw host::InputError("meter: invalid forecaster shape");
  if (forecaster_.bind(settings_.spec, settings_.config, host::aligned_arena(arena_storage_, arena_bytes)) !=
      Status::kOk) {
    throw host::InputError("meter: cannot bind the forecaster");
  }
  checkpoint_buffer_.assign(meter_checkpoint_bytes(settings_.spec), 0);
  if (checkpoint_.bind(*flash_, 0, checkpoint_slot_bytes(settings_)) != Status::kOk) {
    throw host::InputError("meter: the checkpoint slots do not fit the flash");
  }
  std::size_t size = 0;
  std::uint32_t sequence = 0;
  const Status loaded = checkpoint_.load(Span<std::uint8_t>(checkpoint_buffer_.data(), checkpoint_buffer_.size()),
                                         &size, &sequence);
  std::uint32_t resume_after = 0;
  bool restored = false;
  if (loaded == Status::kOk) {
    const Status status = forecaster_.restore(Span<const std::uint8_t>(checkpoint_buffer_.data(), size));
    if (status != Status::kOk) {
      throw host::InputError(meter_user(id_) + ": its checkpoint does not restore: " + status_name(status));
    }
    restored = true;
    resume_after = forecaster_.next_timestamp() - forecaster_.interval_seconds();
    std::lock_guard<std::mutex> lock(record_->mutex);
    ++record_->restores;
  } else if (loaded != Status::kNotFound) {
    throw host::InputError(meter_user(id_) + ": cannot read its flash: " + status_name(loaded));
  }
  // Catch up: the readings logged after the checkpoint (all of them when there is none yet).
  const std::vector<LoggedReading> missed = restored ? log_->since(resume_after) : log_->since(0);
  for (const LoggedReading& r : missed) {
    std::uint32_t forecast_mwh = kNoForecast;
    observe(r.timestamp, static_cast<float>(r.energy_wh) / 1000.0f, /*catching_up=*/true, &forecast_mwh);
    std::lock_guard<std::mutex> lock(record_->mutex);
    ++record_->catch_up_readings;
    // The replayed forecaster must forecast what the log says it forecast before the power went.
    if (forecast_mwh != r.forecast_mwh) ++record_->catch_up_mismatches;
  }
  readings_since_checkpoint_ = static_cast<std::uint32_t>(missed.size());
}

void SimulatedMeter::observe(std::uint32_t timestamp, float kwh, bool catching_up, std::uint32_t* forecast_mwh) {
  MeterObservation o;
  const Status status = forecaster_.observe(timestamp, kwh, &o);
  if (status != Status::kOk) {
    throw host::InputError(meter_user(id_) + ": reading at " + std::to_string(timestamp) + " refused: " +
                           status_name(status));
  }
  *forecast_mwh = o.scored ? to_mwh(o.forecast_of_reading) : kNoForecast;
  std::lock_guard<std::mutex> lock(record_->mutex);
  ++record_->observe_calls;
  record_->refused_steps += o.refused;
  if (o.scored && record_->keep_forecasts && !catching_up) record_->own_forecasts[timestamp] = o.forecast_of_reading;
}

void SimulatedMeter::read(std::uint32_t timestamp, float kwh) {
  ++readings_seen_;
  const std::uint32_t wh = to_wh(kwh);
  std::uint32_t forecast_mwh = kNoForecast;
  if (settings_.platform == Platform::kSelfLearning) observe(timestamp, kwh, false, &forecast_mwh);
  {
    std::lock_guard<std::mutex> lock(log_mutex_);
    if (log_->append(timestamp, wh, forecast_mwh) != Status::kOk) {
      throw host::InputError(meter_user(id_) + ": cannot write its reading log");
    }
  }
  {
    std::lock_guard<std::mutex> lock(record_->mutex);
    ++record_->readings_logged;
  }
  const std::uint32_t interval = 86400u / settings_.spec.readings_per_day;
  if (settings_.platform == Platform::kGateway) {
    if (record_->keep_latencies) {
      std::lock_guard<std::mutex> lock(log_mutex_);
      sent_at_[timestamp] = std::chrono::steady_clock::now();
    }
    publish_readings({LoggedReading{timestamp, wh, kNoForecast, false, false}});
    (void)resend_if_due(timestamp);  // in the same radio session
    std::lock_guard<std::mutex> lock(record_->mutex);
    ++record_->readings_sent;
    ++record_->radio_sessions;
    return;
  }
  // Self-learning: at the day's last reading, the summary, then (every checkpoint_every) the checkpoint.
  const bool day_end = (timestamp + interval) % 86400u == 0;
  if (day_end) send_summary(timestamp);
  const bool resent = resend_if_due(timestamp);
  if (day_end || resent) {
    std::lock_guard<std::mutex> lock(record_->mutex);
    ++record_->radio_sessions;
  }
  if (++readings_since_checkpoint_ >= settings_.checkpoint_every) save_checkpoint();
}

void SimulatedMeter::save_checkpoint() {
  if (forecaster_.save(Span<std::uint8_t>(checkpoint_buffer_.data(), checkpoint_buffer_.size())) != Status::kOk) {
    throw host::InputError(meter_user(id_) + ": cannot serialize its forecaster");
  }
  flash_->cut_power_after(power_cut_budget_);
  const Status status =
      checkpoint_.save(Span<const std::uint8_t>(checkpoint_buffer_.data(), checkpoint_buffer_.size()));
  std::lock_guard<std::mutex> lock(record_->mutex);
  if (status == Status::kOk) {
    ++record_->checkpoints;
    readings_since_checkpoint_ = 0;
  } else {
    ++record_->checkpoint_failures;  // the previous checkpoint stays the newest valid one
  }
}

void SimulatedMeter::publish_readings(const std::vector<LoggedReading>& readings) {
  // One frame per run of consecutive readings.
  const std::uint32_t interval = 86400u / settings_.spec.readings_per_day;
  std::size_t begin = 0;
  while (begin < readings.size()) {
    std::size_t end = begin + 1;
    while (end < readings.size() && end - begin < kMaxReadingsPerFrame &&
           readings[end].timestamp == readings[end - 1].timestamp + interval) {
      ++end;
    }
    std::vector<std::uint32_t> wh;
    for (std::size_t k = begin; k < end; ++k) wh.push_back(readings[k].energy_wh);
    std::vector<std::uint8_t> frame(readings_frame_bytes(wh.size()));
    std::size_t written = 0;
    if (encode_readings(readings[begin].timestamp, static_cast<std::uint16_t>(interval),
                        Span<const std::uint32_t>(wh.data(), wh.size()), Span<std::uint8_t>(frame.data(), frame.size()),
                        &written) != Status::kOk) {
      throw host::InputError(meter_user(id_) + ": cannot encode its readings");
    }
    client_->publish(readings_topic(id_), frame.data(), written, 1);
    begin = end;
  }
}

void SimulatedMeter::send_summary(std::uint32_t day_end) {
  const std::uint32_t interval = 86400u / settings_.spec.readings_per_day;
  const std::uint32_t day_start = day_end - (86400u - interval);
  DailySummaryFrame summary;
  summary.day_start = day_start;
  double abs_error = 0, squared_error = 0;
  {
    std::lock_guard<std::mutex> lock(log_mutex_);
    for (std::uint32_t t = day_start; t <= day_end; t += interval) {
      LoggedReading r;
      if (!log_->find(t, &r)) continue;
      ++summary.readings;
      summary.energy_wh += r.energy_wh;
      const std::uint32_t hour = (t % 86400u) / 3600u;
      if (hour >= 22 || hour < 7) summary.offpeak_energy_wh += r.energy_wh;  // a two-rate tariff's night register
      summary.peak_reading_wh = std::max(summary.peak_reading_wh, r.energy_wh);
      if (r.forecast_mwh != kNoForecast) {
        const double error = static_cast<double>(r.forecast_mwh) - 1000.0 * r.energy_wh;
        abs_error += std::fabs(error);
        squared_error += error * error;
        ++summary.forecasts_scored;
      }
    }
  }
  if (summary.readings == 0) return;
  if (summary.forecasts_scored > 0) {
    summary.mae_mwh = static_cast<std::uint32_t>(std::lround(abs_error / summary.forecasts_scored));
    summary.rmse_mwh = static_cast<std::uint32_t>(std::lround(std::sqrt(squared_error / summary.forecasts_scored)));
  }
  {
    std::lock_guard<std::mutex> lock(record_->mutex);
    summary.refused_steps = static_cast<std::uint16_t>(std::min<std::uint64_t>(record_->refused_steps, 65535));
    summary.checkpoint_sequence = static_cast<std::uint32_t>(record_->checkpoints);
    ++record_->summaries_sent;
  }
  std::uint8_t frame[kDailySummaryFrameBytes];
  if (encode_daily_summary(summary, frame) != Status::kOk) throw host::InputError("meter: cannot encode a summary");
  client_->publish(summary_topic(id_), frame, sizeof frame, 1);
}

std::vector<LoggedReading> SimulatedMeter::pending(std::uint32_t now) const {
  const std::uint32_t interval = 86400u / settings_.spec.readings_per_day;
  std::vector<LoggedReading> out;
  std::lock_guard<std::mutex> lock(log_mutex_);
  for (const LoggedReading& r : log_->since(0)) {
    if (r.timestamp >= now) continue;
    const bool day_end = (r.timestamp + interval) % 86400u == 0;
    if (settings_.platform == Platform::kGateway ? !r.acknowledged : day_end && !r.summary_acknowledged) {
      out.push_back(r);
    }
  }
  return out;
}

void SimulatedMeter::resend(std::uint32_t now) {
  const std::vector<LoggedReading> items = pending(now);
  if (settings_.platform == Platform::kGateway) {
    publish_readings(items);
  } else {
    for (const LoggedReading& r : items) send_summary(r.timestamp);
  }
  std::lock_guard<std::mutex> lock(record_->mutex);
  record_->readings_resent += settings_.platform == Platform::kGateway ? items.size() : 0;
}

bool SimulatedMeter::resend_if_due(std::uint32_t now) {
  if (pending(now).empty()) {
    resend_interval_ = settings_.resend_after;
    next_resend_ = readings_seen_ + resend_interval_;
    return false;
  }
  if (readings_seen_ < next_resend_) return false;
  resend(now);
  resend_interval_ = std::min(2 * resend_interval_, settings_.max_resend_after);
  next_resend_ = readings_seen_ + resend_interval_;
  return true;
}

void SimulatedMeter::on_message(const host::MqttMessage& message) {
  ForecastFrame frame;
  if (decode_forecast(Span<const std::uint8_t>(message.payload.data(), message.payload.size()), &frame) != Status::kOk) {
    return;  // not for us: ignored (the ACL lets only the gateway write here)
  }
  const std::uint32_t interval = 86400u / settings_.spec.readings_per_day;
  std::vector<float> latencies;
  {
    std::lock_guard<std::mutex> lock(log_mutex_);
    const auto now = std::chrono::steady_clock::now();
    for (std::uint32_t k = 0; k < frame.acknowledged_count; ++k) {
      const std::uint32_t t = frame.acknowledged_first_timestamp + k * interval;
      if (settings_.platform == Platform::kGateway) {
        (void)log_->acknowledge(t);
        const auto sent = sent_at_.find(t);
        if (sent != sent_at_.end()) {
          latencies.push_back(std::chrono::duration<float, std::milli>(now - sent->second).count());
          sent_at_.erase(sent);
        }
      } else {
        (void)log_->acknowledge_summary(t + (86400u - interval));  // the summary of the day starting at t
      }
    }
  }
  if (!latencies.empty()) {
    std::lock_guard<std::mutex> lock(record_->mutex);
    record_->acknowledgement_ms.insert(record_->acknowledgement_ms.end(), latencies.begin(), latencies.end());
  }
  std::uint32_t newest_logged = 0;
  {
    std::lock_guard<std::mutex> lock(log_mutex_);
    newest_logged = log_->newest();
  }
  // A forecast counts only while it is still ahead of the meter's readings (one for an interval
  // already read, answered late after an outage, is of no use to anyone).
  if (frame.forecast_timestamp > newest_logged) {
    std::lock_guard<std::mutex> lock(record_->mutex);
    if (record_->keep_forecasts) {
      record_->gateway_forecasts[frame.forecast_timestamp] = static_cast<float>(frame.forecast_mwh) / 1e6f;
    }
  }
  if (frame.acknowledged_count > 0) {
    const std::uint32_t last =
        settings_.platform == Platform::kGateway
            ? frame.acknowledged_first_timestamp + (frame.acknowledged_count - 1u) * interval
            : frame.acknowledged_first_timestamp + (86400u - interval);
    std::uint32_t previous = acknowledged_through_.load();
    while (last > previous && !acknowledged_through_.compare_exchange_weak(previous, last)) {
    }
    if (settings_.target != nullptr && previous < settings_.target->load() && last >= settings_.target->load()) {
      ++*settings_.reached;
    }
  }
  if (frame.forecast_timestamp != 0) {
    std::uint32_t previous = last_forecast_.load();
    while (frame.forecast_timestamp > previous && !last_forecast_.compare_exchange_weak(previous, frame.forecast_timestamp)) {
    }
  }
  ++acknowledgements_;
}

bool SimulatedMeter::all_acknowledged() const {
  std::lock_guard<std::mutex> lock(log_mutex_);
  if (settings_.platform == Platform::kGateway) return log_->unacknowledged().empty();
  const std::uint32_t interval = 86400u / settings_.spec.readings_per_day;
  for (const LoggedReading& r : log_->since(0)) {
    if ((r.timestamp + interval) % 86400u == 0 && !r.summary_acknowledged) return false;
  }
  return true;
}

void SimulatedMeter::flush() {
  const std::uint32_t now = log_->empty() ? 0 : log_->newest() + 1;
  if (!pending(now).empty()) resend(now);
}

void SimulatedMeter::shutdown() {
  if (!client_) return;
  (void)client_->wait_published(5);
  client_->disconnect();  // sends the DISCONNECT and counts it
  const MeterTraffic t = traffic();
  {
    std::lock_guard<std::mutex> lock(record_->mutex);
    record_->traffic_before_boot = t;
  }
  client_.reset();
}

MeterTraffic SimulatedMeter::traffic() {
  MeterTraffic t;
  {
    std::lock_guard<std::mutex> lock(record_->mutex);
    t = record_->traffic_before_boot;
  }
  if (!client_) return t;
  const host::MqttClient::Counters c = client_->counters();
  const host::MqttClient::WireCounters w = client_->wire_counters();
  t.messages_up += c.published;
  t.payload_bytes_up += c.published_payload_bytes;
  t.packet_bytes_up += c.published_packet_bytes;
  t.messages_down += c.received;
  t.payload_bytes_down += c.received_payload_bytes;
  t.packet_bytes_down += c.received_packet_bytes;
  t.wire_bytes_up += w.bytes_sent;
  t.wire_bytes_down += w.bytes_received;
  t.segments_up += w.segments_sent;
  t.segments_down += w.segments_received;
  t.connects += c.connects;
  return t;
}

}  // namespace edgelstm::fleet
