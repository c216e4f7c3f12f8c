#include "fleet/fleet_run.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "fleet/fleet_protocol.h"
#include "fleet/reading_store.h"
#include "host/child_process.h"
#include "host/csv_reader.h"
#include "host/data_loading.h"
#include "host/mosquitto_broker.h"
#include "host/mqtt_network_loop.h"

namespace edgelstm::fleet {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

bool file_exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

// One gateway process of the run, restarted after an outage under the same client id (its
// persistent session at the broker is what keeps the readings sent meanwhile).
class GatewayProcess {
 public:
  GatewayProcess(int index, const FleetOptions& options, const std::string& directory, int port,
                 const std::string& credentials)
      : index_(index), options_(options), directory_(directory), port_(port), credentials_(credentials) {}

  void start() {
    ++incarnation_;
    const std::string name = "gateway-" + std::to_string(index_ + 1);
    ready_file_ = directory_ + "/" + name + ".ready";
    ::unlink(ready_file_.c_str());
    stats_files_.push_back(directory_ + "/" + name + "." + std::to_string(incarnation_) + ".stats");
    log_file_ = directory_ + "/" + name + ".log";
    std::vector<std::string> argv = {options_.gateway_program, "gateway", "--port", std::to_string(port_),
                                     "--credentials", credentials_, "--client-id", name,
                                     "--db", directory_ + "/readings.sqlite", "--model", directory_ + "/central_model.elstm",
                                     "--stats", stats_files_.back(), "--ready-file", ready_file_,
                                     "--hidden", std::to_string(options_.central.hidden),
                                     "--epochs", std::to_string(options_.central.epochs),
                                     "--history-days", std::to_string(options_.central.history_days),
                                     "--first-training-days", std::to_string(options_.first_training_days),
                                     "--seed", std::to_string(options_.central.seed)};
    if (options_.gateways > 1) {
      argv.push_back("--shared-group");
      argv.push_back("gateways");
    }
    if (index_ > 0) argv.push_back("--no-train");  // one trainer; the others reload its model file
    process_ = host::ChildProcess(argv, log_file_);
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (!file_exists(ready_file_)) {
      if (!process_.running() || Clock::now() > deadline) {
        throw host::InputError("fleet: " + name + " did not start (see " + log_file_ + ")");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    up_ = true;
  }

  void stop(bool crash) {
    if (crash) {
      process_.kill_now();
    } else if (process_.stop(30) != 0) {
      throw host::InputError("fleet: gateway-" + std::to_string(index_ + 1) + " ended badly (see " + log_file_ + ")");
    }
    up_ = false;
  }

  bool up() const { return up_; }
  pid_t pid() const { return process_.pid(); }
  // Throws when a gateway that should be running has ended (its log says why).
  void check_alive() {
    if (up_ && !process_.running()) {
      std::ifstream log(log_file_);
      std::stringstream text;
      text << log.rdbuf();
      throw host::InputError("fleet: gateway-" + std::to_string(index_ + 1) + " ended unexpectedly: " + text.str());
    }
  }
  const std::vector<std::string>& stats_files() const { return stats_files_; }

 private:
  int index_;
  const FleetOptions& options_;
  std::string directory_;
  int port_;
  std::string credentials_, ready_file_, log_file_;
  int incarnation_ = 0;
  std::vector<std::string> stats_files_;
  host::ChildProcess process_;
  bool up_ = false;
};

void add_stats(GatewayStats& total, const GatewayStats& s) {
  total.messages += s.messages;
  total.readings_received += s.readings_received;
  total.readings_inserted += s.readings_inserted;
  total.duplicates += s.duplicates;
  total.conflicts += s.conflicts;
  total.summaries += s.summaries;
  total.bad_messages += s.bad_messages;
  total.forecasts += s.forecasts;
  total.acknowledgements += s.acknowledgements;
  total.batches += s.batches;
  total.ingest_cpu_seconds += s.ingest_cpu_seconds;
  total.train_cpu_seconds += s.train_cpu_seconds;
  total.process_cpu_seconds += s.process_cpu_seconds;
  total.max_rss_kb = std::max(total.max_rss_kb, s.max_rss_kb);
  total.messages_in += s.messages_in;
  total.payload_bytes_in += s.payload_bytes_in;
  total.messages_out += s.messages_out;
  total.payload_bytes_out += s.payload_bytes_out;
  total.wire_bytes_in += s.wire_bytes_in;
  total.wire_bytes_out += s.wire_bytes_out;
  total.trainings.insert(total.trainings.end(), s.trainings.begin(), s.trainings.end());
}

// CPU seconds a process has used so far (/proc/<pid>/stat: utime + stime), 0 when unreadable.
double process_cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  std::getline(in, text);
  const std::size_t end = text.rfind(')');
  if (end == std::string::npos) return 0;
  std::istringstream fields(text.substr(end + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int k = 3; k <= 15 && fields >> field; ++k) {
    if (k == 14) utime = std::stod(field);
    if (k == 15) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double own_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

// The machine's one-minute load average (/proc/loadavg): how many threads wanted a core, ours and
// everyone else's. The scale figures only mean something beside it. -1 when unreadable.
double load_average() {
  std::ifstream in("/proc/loadavg");
  double one_minute = -1;
  in >> one_minute;
  return in ? one_minute : -1;
}

// Creates `path` and the directories above it that are missing.
void make_directories(const std::string& path) {
  for (std::size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    host::ensure_directory(path.substr(0, slash));
  }
  host::ensure_directory(path);
}

double percentile(std::vector<float> values, double p) {
  if (values.empty()) return NAN;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<std::size_t>(p * static_cast<double>(values.size())))];
}

}  // namespace

FleetData load_fleet_data(const std::string& path, std::size_t meters) {
  std::ifstream in(path);
  std::string header;
  if (!in || !std::getline(in, header)) throw host::InputError(path + ": cannot read the header line");
  if (!header.empty() && header.back() == '\r') header.pop_back();
  std::vector<std::string> names;
  std::stringstream fields(header);
  for (std::string name; std::getline(fields, name, ',');) names.push_back(name);
  if (names.size() < 2 || names[0] != "timestamp") {
    throw host::InputError(path + ":1: expected a header 'timestamp,<meter id>,...'");
  }
  std::vector<host::ColumnRequest> columns;
  FleetData data;
  for (std::size_t k = 1; k < names.size(); ++k) {
    if (!host::is_decimal(names[k], 9)) {
      throw host::InputError(path + ":1: column " + std::to_string(k + 1) + " '" + names[k] +
                             "' is not a meter id (digits, at most 9)");
    }
    columns.push_back({names[k], true});
  }
  const host::Table table = host::read_table(path, "timestamp", columns, /*require_regular=*/true);
  if (table.rows() < 2) throw host::InputError(path + ": fewer than two readings");
  data.interval_seconds = static_cast<std::uint32_t>(table.times[1] - table.times[0]);
  if (86400 % data.interval_seconds != 0 || table.times[0] < 0 || table.times.back() > 0xFFFFFFFFll) {
    throw host::InputError(path + ": the readings must come at a whole fraction of a day, after 1970");
  }
  for (std::int64_t t : table.times) data.timestamps.push_back(static_cast<std::uint32_t>(t));
  const std::size_t available = columns.size();
  const std::size_t wanted = meters == 0 ? available : meters;
  const std::size_t day = 86400 / data.interval_seconds;
  for (std::size_t k = 0; k < wanted; ++k) {
    const std::size_t column = k % available, shift = (k / available) * day;
    const std::vector<double>& source = table.numbers[column];
    for (std::size_t i = 0; i < source.size(); ++i) {
      if (source[i] < 0) {
        throw host::InputError(path + ":" + std::to_string(table.lines[i]) + ": column '" + names[column + 1] +
                               "': a meter reading cannot be negative");
      }
    }
    std::vector<float> values(source.size());
    for (std::size_t i = 0; i < source.size(); ++i) values[i] = static_cast<float>(source[(i + shift) % source.size()]);
    data.readings.push_back(std::move(values));
    data.meter_ids.push_back(k < available ? std::stoll(names[column + 1]) : 90000000 + static_cast<std::int64_t>(k));
  }
  return data;
}

FleetResult run_fleet(const FleetData& data, const FleetOptions& options) {
  const auto start = Clock::now();
  const std::size_t meters = options.meters == 0 ? data.meter_ids.size() : std::min(options.meters, data.meter_ids.size());
  const std::size_t steps = options.steps == 0 ? data.steps() : std::min(options.steps, data.steps());
  const std::uint32_t interval = data.interval_seconds;
  const std::string& dir = options.work_directory;
  make_directories(dir + "/flash");
  auto report = [&](const std::string& line) {
    if (options.progress) options.progress(line);
  };

  // Identities, the broker with its ACL, the gateway's credentials in a file.
  std::vector<MeterIdentity> identities;
  for (std::size_t m = 0; m < meters; ++m) identities.push_back({data.meter_ids[m], random_password()});
  const std::string gateway_password = random_password(), monitor_password = random_password();
  host::BrokerOptions broker_options;
  broker_options.directory = dir + "/broker";
  broker_options.users = fleet_broker_users(identities, gateway_password, monitor_password);
  broker_options.tls = options.tls;
  host::MosquittoBroker broker(broker_options);
  const std::string credentials = dir + "/gateway.credentials";
  write_credentials(credentials, kGatewayUser, gateway_password);

  FleetResult result;
  result.platform = options.platform;
  result.steps = steps;
  result.broker_counters_comparable = options.broker_restarts.empty();

  std::vector<std::unique_ptr<GatewayProcess>> gateways;
  for (int g = 0; g < std::max(1, options.gateways); ++g) {
    gateways.push_back(std::make_unique<GatewayProcess>(g, options, dir, broker.port(), credentials));
    gateways.back()->start();
  }

  std::atomic<std::uint32_t> target{0};
  std::atomic<std::size_t> reached{0};
  // One network thread for all the meters (libmosquitto's own, one per client, stops at a few
  // hundred: its select() cannot watch descriptors past 1024).
  host::MqttNetworkLoop network_loop;
  MeterSettings settings = options.meter;
  settings.platform = options.platform;
  settings.mqtt.host = broker.host();
  settings.mqtt.port = options.tls ? broker.tls_port() : broker.port();
  settings.mqtt.ca_file = options.tls ? broker.ca_file() : "";
  settings.mqtt.network_loop = &network_loop;
  settings.target = &target;
  settings.reached = &reached;
  std::vector<std::unique_ptr<MeterRecord>> records;
  std::vector<std::unique_ptr<SimulatedMeter>> fleet;
  auto flash_path = [&](std::size_t m) { return dir + "/flash/" + meter_user(identities[m].id) + ".flash"; };
  for (std::size_t m = 0; m < meters; ++m) {
    records.push_back(std::make_unique<MeterRecord>());
    records.back()->id = identities[m].id;
    records.back()->keep_forecasts = options.keep_forecasts;
    records.back()->keep_latencies = !options.open_loop_rates.empty();
    ::unlink(flash_path(m).c_str());  // a new meter: erased flash
    fleet.push_back(std::make_unique<SimulatedMeter>(identities[m].id, identities[m].password, flash_path(m), settings,
                                                     records.back().get()));
  }
  auto reboot = [&](std::size_t m) {
    fleet[m].reset();  // the power goes: RAM lost, flash kept
    fleet[m] = std::make_unique<SimulatedMeter>(identities[m].id, identities[m].password, flash_path(m), settings,
                                                records[m].get());
  };
  std::vector<std::vector<MeterTraffic>> traffic_by_day(meters);
  const std::size_t per_day = 86400 / interval;

  const auto stepping_start = Clock::now();
  for (std::size_t s = 0; s < steps; ++s) {
    const std::uint32_t ts = data.timestamps[s];
    // Events before this step's readings.
    for (const GatewayOutage& o : options.outages) {
      if (o.start == s && gateways.at(o.gateway)->up()) {
        gateways[o.gateway]->stop(o.crash);
        report("step " + std::to_string(s) + ": gateway-" + std::to_string(o.gateway + 1) + (o.crash ? " killed" : " stopped"));
      }
      if (o.steps > 0 && o.start + o.steps == s && !gateways.at(o.gateway)->up()) {
        gateways[o.gateway]->start();
        report("step " + std::to_string(s) + ": gateway-" + std::to_string(o.gateway + 1) + " back");
      }
    }
    for (const BrokerRestart& r : options.broker_restarts) {
      if (r.step != s) continue;
      if (r.crash) {
        broker.kill();
      } else {
        broker.stop();
      }
      broker.start();
      report("step " + std::to_string(s) + ": broker " + (r.crash ? "killed" : "stopped") + " and started again");
    }
    for (const MeterReboot& r : options.reboots) {
      if (r.step != s) continue;
      if (r.power_cut_after_bytes > 0) {
        fleet.at(r.meter)->cut_power_during_next_checkpoint(r.power_cut_after_bytes);
      } else {
        reboot(r.meter);
        report("step " + std::to_string(s) + ": meter " + std::to_string(identities[r.meter].id) + " rebooted");
      }
    }

    bool any_gateway = false;
    for (const auto& g : gateways) any_gateway = any_gateway || g->up();
    if (!any_gateway) ++result.steps_without_gateway;
    const bool day_end = (s + 1) % per_day == 0;
    const bool wait = any_gateway && (options.platform == Platform::kGateway || day_end);
    reached.store(0);
    target.store(ts);
    for (std::size_t m = 0; m < meters; ++m) {
      fleet[m]->read(ts, data.readings[m][s]);
      if (fleet[m]->power_cut()) {
        reboot(m);  // the power failed inside its checkpoint: it boots on what the flash holds
        report("step " + std::to_string(s) + ": meter " + std::to_string(identities[m].id) +
               " lost power during its checkpoint and rebooted");
      }
    }
    if (wait) {
      const auto deadline = Clock::now() + std::chrono::duration<double>(options.step_timeout_seconds);
      auto next_check = Clock::now();
      auto next_nudge = Clock::now() + std::chrono::duration<double>(options.acknowledgement_timeout_seconds);
      while (reached.load() < meters && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        if (Clock::now() > next_check) {
          for (const auto& g : gateways) g->check_alive();
          next_check = Clock::now() + std::chrono::milliseconds(500);
        }
        if (Clock::now() > next_nudge) {
          // A meter whose message was lost (in flight to a gateway that died) sends it again
          // after its acknowledgement timeout, as it would in real time.
          for (const auto& meter : fleet) {
            if (meter->acknowledged_through() < ts) meter->flush();
          }
          next_nudge = Clock::now() + std::chrono::duration<double>(options.acknowledgement_timeout_seconds);
        }
      }
      if (reached.load() < meters) ++result.late_steps;
    }
    if (day_end || s + 1 == steps) {
      for (std::size_t m = 0; m < meters; ++m) traffic_by_day[m].push_back(fleet[m]->traffic());
      report(std::string(platform_name(options.platform)) + ": day " + std::to_string((s + per_day) / per_day) + " of " +
             std::to_string((steps + per_day - 1) / per_day) + ", " + std::to_string(static_cast<int>(seconds_since(start))) +
             " s");
    }
  }

  result.stepping_seconds = seconds_since(stepping_start);
  result.stepping_load_average = load_average();

  // Drain: everything logged must be acknowledged (after an outage the backlog takes a while).
  auto drain = [&]() {
    const auto deadline = Clock::now() + std::chrono::duration<double>(options.drain_timeout_seconds);
    auto next_flush = Clock::now() + std::chrono::seconds(5);
    for (;;) {
      std::size_t pending = 0;
      for (const auto& meter : fleet) pending += meter->all_acknowledged() ? 0 : 1;
      if (pending == 0) return true;
      if (Clock::now() > deadline) return false;
      if (Clock::now() > next_flush) {
        for (const auto& meter : fleet) {
          if (!meter->all_acknowledged()) meter->flush();
        }
        next_flush = Clock::now() + std::chrono::seconds(5);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  };

  // Open loop: the meters send at a given rate, whatever the answers do (the scale benchmark).
  std::size_t next_step = steps;
  for (double rate : options.open_loop_rates) {
    if (!drain()) throw host::InputError("fleet: the backlog before an open-loop phase did not drain");
    for (auto& r : records) {
      std::lock_guard<std::mutex> lock(r->mutex);
      r->acknowledgement_ms.clear();
    }
    OpenLoopPhase phase;
    phase.target_rate = rate;
    const double interval_seconds = static_cast<double>(meters) / rate;
    const std::size_t phase_steps = std::max<std::size_t>(1, static_cast<std::size_t>(options.open_loop_seconds / interval_seconds));
    if (next_step + phase_steps > data.steps()) throw host::InputError("fleet: not enough readings for the open-loop phases");
    const double broker_cpu = process_cpu_seconds(broker.pid()), gateway_cpu = process_cpu_seconds(gateways[0]->pid());
    const double meters_cpu = own_cpu_seconds();
    const auto phase_start = Clock::now();
    for (std::size_t k = 0; k < phase_steps; ++k, ++next_step) {
      std::this_thread::sleep_until(phase_start + std::chrono::duration_cast<Clock::duration>(
                                                      std::chrono::duration<double>(k * interval_seconds)));
      for (std::size_t m = 0; m < meters; ++m) fleet[m]->read(data.timestamps[next_step], data.readings[m][next_step]);
    }
    const double sending = seconds_since(phase_start);
    phase.drained = drain();
    const double until_drained = seconds_since(phase_start);
    phase.readings = static_cast<std::uint64_t>(phase_steps * meters);
    phase.offered_rate = static_cast<double>(phase.readings) / std::max(sending, interval_seconds);
    phase.acknowledged_rate = static_cast<double>(phase.readings) / until_drained;
    std::vector<float> latencies;
    for (auto& r : records) {
      std::lock_guard<std::mutex> lock(r->mutex);
      latencies.insert(latencies.end(), r->acknowledgement_ms.begin(), r->acknowledgement_ms.end());
    }
    phase.p50_ms = percentile(latencies, 0.5);
    phase.p99_ms = percentile(latencies, 0.99);
    phase.max_ms = percentile(latencies, 1.0);
    phase.broker_cpu = (process_cpu_seconds(broker.pid()) - broker_cpu) / until_drained;
    phase.gateway_cpu = (process_cpu_seconds(gateways[0]->pid()) - gateway_cpu) / until_drained;
    phase.meters_cpu = (own_cpu_seconds() - meters_cpu) / until_drained;
    phase.load_average = load_average();
    result.phases.push_back(phase);
    report("open loop at " + std::to_string(static_cast<int>(rate)) + " readings/s: acknowledged " +
           std::to_string(static_cast<int>(phase.acknowledged_rate)) + "/s, p99 " +
           std::to_string(static_cast<int>(phase.p99_ms)) + " ms");
  }
  result.steps = next_step;

  bool any_gateway = false;
  for (const auto& g : gateways) any_gateway = any_gateway || g->up();
  if (any_gateway) (void)drain();
  for (std::size_t m = 0; m < meters; ++m) {
    fleet[m]->shutdown();
    traffic_by_day[m].back() = records[m]->traffic_before_boot;
  }
  fleet.clear();
  for (auto& g : gateways) {
    if (g->up()) g->stop(/*crash=*/false);
  }
  for (const auto& g : gateways) {
    for (const std::string& file : g->stats_files()) {
      if (!file_exists(file)) continue;  // a killed gateway that never trained leaves none
      const GatewayStats s = read_gateway_stats(file);
      result.gateway_runs.push_back(s);
      add_stats(result.gateway, s);
    }
  }
  // The broker's counters, once they are final (two $SYS intervals after the last packet).
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  host::MqttOptions monitor;
  monitor.host = broker.host();
  monitor.port = broker.port();
  monitor.client_id = kMonitorUser;
  monitor.username = kMonitorUser;
  monitor.password = monitor_password;
  result.broker = read_broker_counters(monitor, 10);

  // The store against what the meters logged: every reading once, with its value.
  ReadingStore store(dir + "/readings.sqlite");
  result.integrity = store.integrity_check();
  result.stored_readings = store.reading_count();
  result.stored_summaries = store.summary_count();
  store.checkpoint();
  result.database_bytes = store.file_bytes();
  for (std::size_t m = 0; m < meters; ++m) {
    MeterRecord& r = *records[m];
    MeterResult out;
    out.id = r.id;
    out.forecasts.assign(result.steps, NAN);
    const auto& forecasts = options.platform == Platform::kGateway ? r.gateway_forecasts : r.own_forecasts;
    for (std::size_t s = 0; s < result.steps; ++s) {
      const auto it = forecasts.find(data.timestamps[s]);
      if (it != forecasts.end()) out.forecasts[s] = it->second;
    }
    out.traffic_by_day = traffic_by_day[m];
    out.readings_logged = r.readings_logged;
    out.readings_sent = r.readings_sent;
    out.readings_resent = r.readings_resent;
    out.summaries_sent = r.summaries_sent;
    out.radio_sessions = r.radio_sessions;
    out.observe_calls = r.observe_calls;
    out.catch_up_readings = r.catch_up_readings;
    out.catch_up_mismatches = r.catch_up_mismatches;
    out.checkpoints = r.checkpoints;
    out.checkpoint_failures = r.checkpoint_failures;
    out.restores = r.restores;
    out.boots = r.boots;
    out.refused_steps = r.refused_steps;
    if (options.platform == Platform::kGateway) {
      const std::vector<StoredReading> rows =
          store.readings(r.id, 0, static_cast<std::int64_t>(data.timestamps[result.steps - 1]) + 1);
      std::size_t k = 0;
      for (std::size_t s = 0; s < result.steps; ++s) {
        const std::int64_t wh = std::lround(static_cast<double>(data.readings[m][s]) * 1000.0);
        while (k < rows.size() && rows[k].interval_start < data.timestamps[s]) ++k;
        if (k < rows.size() && rows[k].interval_start == data.timestamps[s] && rows[k].energy_wh == wh) {
          ++out.stored;
        } else {
          ++out.missing;
        }
      }
    }
    result.meters.push_back(std::move(out));
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  result.meter_process_max_rss_kb = usage.ru_maxrss;
  result.meter_process_cpu_seconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                                     1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
  result.wall_seconds = seconds_since(start);
  return result;
}

}  // namespace edgelstm::fleet
