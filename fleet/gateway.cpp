#include "fleet/gateway.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "edgelstm/meter_messages.h"
#include "fleet/fleet_protocol.h"
#include "fleet/reading_store.h"
#include "host/csv_reader.h"
#include "host/mqtt_client.h"

namespace edgelstm::fleet {
namespace {

double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

std::int64_t max_rss_kb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

std::int64_t modification_time(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 ? static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec
                                          : -1;
}

// What one readings or summary message asks of the gateway once it is committed.
struct Answer {
  std::int64_t meter_id = 0;
  ForecastFrame frame;
  std::int64_t forecast_target = 0;  // 0: acknowledgement only
};

}  // namespace

void write_gateway_stats(const GatewayStats& s, const std::string& path) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out.precision(9);
    out << "messages " << s.messages << "\nreadings_received " << s.readings_received << "\nreadings_inserted "
        << s.readings_inserted << "\nduplicates " << s.duplicates << "\nconflicts " << s.conflicts << "\nsummaries "
        << s.summaries << "\nbad_messages " << s.bad_messages << "\nforecasts " << s.forecasts << "\nacknowledgements "
        << s.acknowledgements << "\nbatches " << s.batches << "\ningest_cpu_seconds " << s.ingest_cpu_seconds
        << "\ntrain_cpu_seconds " << s.train_cpu_seconds << "\nprocess_cpu_seconds " << s.process_cpu_seconds
        << "\nmax_rss_kb " << s.max_rss_kb << "\ndatabase_bytes " << s.database_bytes << "\nreadings_stored "
        << s.readings_stored << "\nmessages_in " << s.messages_in << "\npayload_bytes_in " << s.payload_bytes_in
        << "\nmessages_out " << s.messages_out << "\npayload_bytes_out " << s.payload_bytes_out << "\nwire_bytes_in "
        << s.wire_bytes_in << "\nwire_bytes_out " << s.wire_bytes_out << "\n";
    for (const TrainingRecord& t : s.trainings) {
      out << "training " << t.until << " " << t.examples << " " << t.meters << " " << t.cpu_seconds << " "
          << t.wall_seconds << " " << t.readings_stored << " " << t.database_bytes << "\n";
    }
    if (!out) throw host::InputError(temporary + ": cannot write the gateway's statistics");
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) throw host::InputError(path + ": cannot replace");
}

GatewayStats read_gateway_stats(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw host::InputError(path + ": cannot read the gateway's statistics");
  GatewayStats s;
  std::map<std::string, std::uint64_t*> counts = {
      {"messages", &s.messages},       {"readings_received", &s.readings_received},
      {"readings_inserted", &s.readings_inserted}, {"duplicates", &s.duplicates},
      {"conflicts", &s.conflicts},     {"summaries", &s.summaries},
      {"bad_messages", &s.bad_messages}, {"forecasts", &s.forecasts},
      {"acknowledgements", &s.acknowledgements}, {"batches", &s.batches},
      {"messages_in", &s.messages_in}, {"payload_bytes_in", &s.payload_bytes_in},
      {"messages_out", &s.messages_out}, {"payload_bytes_out", &s.payload_bytes_out},
      {"wire_bytes_in", &s.wire_bytes_in}, {"wire_bytes_out", &s.wire_bytes_out}};
  std::map<std::string, double*> seconds = {{"ingest_cpu_seconds", &s.ingest_cpu_seconds},
                                            {"train_cpu_seconds", &s.train_cpu_seconds},
                                            {"process_cpu_seconds", &s.process_cpu_seconds}};
  std::map<std::string, std::int64_t*> sizes = {
      {"max_rss_kb", &s.max_rss_kb}, {"database_bytes", &s.database_bytes}, {"readings_stored", &s.readings_stored}};
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::istringstream fields(line);
    std::string key;
    fields >> key;
    bool ok = true;
    if (key == "training") {
      TrainingRecord t;
      ok = static_cast<bool>(fields >> t.until >> t.examples >> t.meters >> t.cpu_seconds >> t.wall_seconds >>
                             t.readings_stored >> t.database_bytes);
      s.trainings.push_back(t);
    } else if (counts.count(key)) {
      ok = static_cast<bool>(fields >> *counts[key]);
    } else if (seconds.count(key)) {
      ok = static_cast<bool>(fields >> *seconds[key]);
    } else if (sizes.count(key)) {
      ok = static_cast<bool>(fields >> *sizes[key]);
    } else {
      ok = false;
    }
    if (!ok) throw host::InputError(path + ":" + std::to_string(number) + ": unexpected line '" + line + "'");
  }
  return s;
}

Gateway::Gateway(const GatewayOptions& options) : options_(options) {
  if (options_.database.empty()) throw host::InputError("gateway: no database file given");
  if (options_.model_file.empty()) throw host::InputError("gateway: no model file given");
}

void Gateway::run(const std::atomic<bool>& stop) {
  ReadingStore store(options_.database);
  CentralModel model(options_.model);
  std::int64_t model_time = -1;
  if (modification_time(options_.model_file) >= 0) {
    // A restart (or a gateway that does not train) goes on with the last model written; a training
    // gateway's Adam state starts again from zero.
    model.load(options_.model_file);
    model_time = modification_time(options_.model_file);
  }
  host::MqttOptions mqtt;
  mqtt.host = options_.host;
  mqtt.port = options_.port;
  mqtt.ca_file = options_.ca_file;
  mqtt.client_id = options_.client_id;
  mqtt.username = options_.user;
  mqtt.password = options_.password;
  // Alone, a persistent session: what arrives while the gateway is down waits at the broker. In a
  // shared group, a session that ends with the connection: the broker then gives a dead gateway's
  // share to the live ones at once, instead of queueing it for a gateway that may not come back
  // (what was in flight to it the meters send again: they keep it until it is acknowledged).
  const bool shared = !options_.shared_group.empty();
  mqtt.clean_start = shared;
  mqtt.session_expiry_seconds = shared ? 0 : options_.session_expiry_seconds;
  mqtt.max_inflight = 1000;
  // Every meter's readings come to this one client: with the default Receive Maximum (20) the
  // broker would hand it at most 20 messages per round trip, whatever the fleet's size.
  mqtt.receive_maximum = 1000;
  host::MqttClient client(mqtt);
  const int connack = client.connect(10);
  if (connack != 0) {
    throw host::InputError("gateway: the broker at " + options_.host + ":" + std::to_string(options_.port) +
                           " refused the connection (reason " + std::to_string(connack) + ")");
  }
  for (const std::string& topic : gateway_subscriptions(options_.shared_group)) {
    const int granted = client.subscribe(topic, 1, 10);
    if (granted != 1) throw host::InputError("gateway: subscription to " + topic + " refused (" + std::to_string(granted) + ")");
  }
  if (!options_.ready_file.empty()) {
    std::ofstream ready(options_.ready_file, std::ios::trunc);
    ready << options_.client_id << " subscribed\n";
    if (!ready) throw host::InputError(options_.ready_file + ": cannot write");
  }
  const std::int64_t interval = 86400 / options_.model.features.readings_per_day;
  std::int64_t next_training = -1;  // set from the first reading
  double next_stats = 0;
  while (!stop.load()) {
    std::vector<host::MqttMessage> batch;
    host::MqttMessage message;
    if (!client.next_message(&message, 0.1)) {
      // A gateway that does not train picks up the model the training one wrote.
      if (!options_.train && modification_time(options_.model_file) != model_time &&
          modification_time(options_.model_file) >= 0) {
        model.load(options_.model_file);
        model_time = modification_time(options_.model_file);
      }
      continue;
    }
    batch.push_back(std::move(message));
    const double batch_end = wall_seconds() + options_.batch_seconds;
    while (batch.size() < options_.max_batch && client.next_message(&message, std::max(0.0, batch_end - wall_seconds()))) {
      batch.push_back(std::move(message));
    }
    const double ingest_start = thread_cpu_seconds();
    std::vector<Answer> answers;
    std::int64_t newest = 0;
    store.begin();
    for (const host::MqttMessage& m : batch) {
      ++stats_.messages;
      std::int64_t meter_id = 0;
      std::string kind;
      const Span<const std::uint8_t> payload(m.payload.data(), m.payload.size());
      if (!parse_meter_topic(m.topic, &meter_id, &kind)) {
        ++stats_.bad_messages;
        continue;
      }
      Answer answer;
      answer.meter_id = meter_id;
      ReadingsFrame readings;
      DailySummaryFrame summary;
      if (kind == "readings" && decode_readings(payload, &readings) == Status::kOk) {
        for (std::size_t k = 0; k < readings.count; ++k) {
          ++stats_.readings_received;
          const ReadingStore::Outcome outcome =
              store.insert_reading({meter_id, readings.timestamp(k), readings.energy_wh(k)});
          if (outcome == ReadingStore::Outcome::kInserted) ++stats_.readings_inserted;
          if (outcome == ReadingStore::Outcome::kDuplicate) ++stats_.duplicates;
          if (outcome == ReadingStore::Outcome::kConflict) ++stats_.conflicts;
        }
        answer.frame.acknowledged_count = readings.count;
        answer.frame.acknowledged_first_timestamp = readings.first_timestamp;
        answer.forecast_target = readings.timestamp(readings.count - 1) + interval;
        newest = std::max<std::int64_t>(newest, readings.timestamp(readings.count - 1));
      } else if (kind == "summary" && decode_daily_summary(payload, &summary) == Status::kOk) {
        store.insert_summary({meter_id, summary.day_start, summary.energy_wh, summary.offpeak_energy_wh,
                              summary.peak_reading_wh, summary.forecasts_scored, summary.refused_steps, summary.mae_mwh,
                              summary.rmse_mwh, summary.checkpoint_sequence});
        ++stats_.summaries;
        answer.frame.acknowledged_count = 1;
        answer.frame.acknowledged_first_timestamp = summary.day_start;
      } else {
        ++stats_.bad_messages;  // refused, not acknowledged: the sender's problem, logged here
        continue;
      }
      answers.push_back(answer);
    }
    store.commit();
    ++stats_.batches;
    double ingest_cpu = thread_cpu_seconds() - ingest_start;

    // The nightly training: when the readings pass the next midnight, on what is stored before it.
    if (newest > 0 && next_training < 0) {
      next_training = (newest / 86400 + options_.first_training_days) * 86400;
    }
    if (options_.train && next_training > 0 && newest >= next_training) {
      const double wall = wall_seconds();
      const TrainingReport report = model.train(store, next_training);
      model.save(options_.model_file);
      store.checkpoint();
      TrainingRecord record;
      record.until = next_training;
      record.examples = report.examples;
      record.meters = report.meters;
      record.cpu_seconds = report.cpu_seconds;
      record.wall_seconds = wall_seconds() - wall;
      record.readings_stored = store.reading_count();
      record.database_bytes = store.file_bytes();
      stats_.trainings.push_back(record);
      stats_.train_cpu_seconds += report.cpu_seconds;
      next_training = (newest / 86400 + 1) * 86400;
      if (!options_.stats_file.empty()) {
        stats_.process_cpu_seconds = process_cpu_seconds();
        stats_.max_rss_kb = max_rss_kb();
        stats_.readings_stored = record.readings_stored;
        stats_.database_bytes = record.database_bytes;
        write_gateway_stats(stats_, options_.stats_file);
      }
    } else if (!options_.train && modification_time(options_.model_file) != model_time &&
               modification_time(options_.model_file) >= 0) {
      model.load(options_.model_file);
      model_time = modification_time(options_.model_file);
    }

    const double answer_start = thread_cpu_seconds();
    for (Answer& answer : answers) {
      double kwh = 0;
      if (answer.forecast_target > 0 && model.forecast(store, answer.meter_id, answer.forecast_target, &kwh)) {
        answer.frame.forecast_timestamp = static_cast<std::uint32_t>(answer.forecast_target);
        answer.frame.forecast_mwh = static_cast<std::uint32_t>(std::lround(kwh * 1e6));
        ++stats_.forecasts;
      }
      std::uint8_t frame[kForecastFrameBytes];
      if (encode_forecast(answer.frame, frame) != Status::kOk) throw host::InputError("gateway: cannot encode a forecast");
      client.publish(forecast_topic(answer.meter_id), frame, sizeof frame, 1);
      ++stats_.acknowledgements;
    }
    ingest_cpu += thread_cpu_seconds() - answer_start;
    stats_.ingest_cpu_seconds += ingest_cpu;
    if (!options_.stats_file.empty() && wall_seconds() > next_stats) {
      // A few times a second, so a gateway that is killed leaves what it did.
      stats_.process_cpu_seconds = process_cpu_seconds();
      stats_.max_rss_kb = max_rss_kb();
      write_gateway_stats(stats_, options_.stats_file);
      next_stats = wall_seconds() + 0.2;
    }
  }
  (void)client.wait_published(10);
  const host::MqttClient::WireCounters wire = client.wire_counters();
  client.disconnect();
  const host::MqttClient::Counters counters = client.counters();
  stats_.messages_in = counters.received;
  stats_.payload_bytes_in = counters.received_payload_bytes;
  stats_.messages_out = counters.published;
  stats_.payload_bytes_out = counters.published_payload_bytes;
  stats_.wire_bytes_in = wire.bytes_received;
  stats_.wire_bytes_out = wire.bytes_sent + 2;  // and the DISCONNECT
  store.checkpoint();
  stats_.readings_stored = store.reading_count();
  stats_.database_bytes = store.file_bytes();
  stats_.process_cpu_seconds = process_cpu_seconds();
  stats_.max_rss_kb = max_rss_kb();
  if (!options_.stats_file.empty()) write_gateway_stats(stats_, options_.stats_file);
}

}  // namespace edgelstm::fleet
