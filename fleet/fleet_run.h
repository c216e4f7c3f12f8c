// One platform's run of a fleet: a real Mosquitto (generated users, ACL, TLS certificates), the
// gateway as a separate `edgelstm gateway` process (or several sharing the meters), and one
// SimulatedMeter per household, all driven through the same readings in compressed time.
//
// Time: step s is interval s of the data (half-hours). At each step every meter takes its reading;
// on the gateway platform the run then waits until every meter has the acknowledgement (and the
// forecast of its next reading) before the next step, so a compressed run forecasts exactly what a
// real-time one would. The gateway trains when the first reading past midnight arrives, and the
// meters wait for that too. Events (gateway outages, broker restarts, meter reboots, a gateway
// killed for good) happen at given steps. At the end the run drains what is unacknowledged, stops
// everything cleanly, reads the broker's $SYS counters and checks the store against what the
// meters logged: every reading stored exactly once.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "fleet/broker_counters.h"
#include "fleet/central_model.h"
#include "fleet/gateway.h"
#include "fleet/meter.h"

namespace edgelstm::fleet {

// Per-meter half-hourly readings (kWh), one column per meter, as in data/sgsc_*.csv.
struct FleetData {
  std::vector<std::int64_t> meter_ids;
  std::vector<std::vector<float>> readings;  // [meter][step]
  std::vector<std::uint32_t> timestamps;     // [step], seconds
  std::uint32_t interval_seconds = 1800;
  std::size_t steps() const { return timestamps.size(); }
};

// Reads every meter column of `path` (a header "timestamp,<id>,<id>,..."; regular timestamps).
// With `meters` larger than the file has, the columns are reused for the extra meters (ids
// 90000000 + k), each shifted by k / columns whole days (wrapping around), for scale runs.
FleetData load_fleet_data(const std::string& path, std::size_t meters);

struct GatewayOutage {
  int gateway = 0;     // which gateway process
  std::size_t start = 0;  // before the readings of this step
  std::size_t steps = 0;  // back before the readings of start + steps; 0: never back
  bool crash = false;     // SIGKILL (a crash) rather than SIGTERM
};
struct BrokerRestart {
  std::size_t step = 0;
  bool crash = false;
};
struct MeterReboot {
  std::size_t meter = 0;  // index into the data's meters
  std::size_t step = 0;   // before this step's reading; with a power cut: the first checkpoint from here
  std::size_t power_cut_after_bytes = 0;  // > 0: the power fails that many flash bytes into a checkpoint
};

struct FleetOptions {
  Platform platform = Platform::kSelfLearning;
  std::string work_directory;   // broker files, flash files, database, model, logs (created)
  std::string gateway_program;  // the edgelstm executable (its `gateway` command)
  std::size_t meters = 0;       // 0: all in the data
  std::size_t steps = 0;        // 0: all
  bool tls = false;             // the meters connect over TLS (the gateway over plain MQTT on loopback)
  int gateways = 1;             // > 1: an MQTT 5 shared subscription between them
  MeterSettings meter;
  CentralModelOptions central;
  int first_training_days = 1;
  std::vector<GatewayOutage> outages;
  std::vector<BrokerRestart> broker_restarts;
  std::vector<MeterReboot> reboots;
  double step_timeout_seconds = 120;  // waiting for acknowledgements (a nightly training included)
  // A meter sends what is unacknowledged again after this long (wall time) within a step.
  double acknowledgement_timeout_seconds = 3;
  double drain_timeout_seconds = 120;
  bool keep_forecasts = true;
  std::function<void(const std::string&)> progress;  // one line a simulated day
  // After the lockstep steps: phases in which the meters send at these rates (readings per second,
  // all meters together) without waiting for the answers; each lasts open_loop_seconds and then
  // drains (the scale benchmark).
  std::vector<double> open_loop_rates;
  double open_loop_seconds = 5;
};

struct OpenLoopPhase {
  double target_rate = 0;      // readings per second asked for
  double offered_rate = 0;     // readings per second the meters managed to send
  double acknowledged_rate = 0;  // acknowledgements per second, until the last one came
  double p50_ms = 0, p99_ms = 0, max_ms = 0;  // from sending a reading to its acknowledgement
  double broker_cpu = 0, gateway_cpu = 0, meters_cpu = 0;  // cores busy (CPU seconds per second)
  double load_average = -1;    // the machine's, one minute, at the phase's end (other work included)
  std::uint64_t readings = 0;
  bool drained = false;
};

struct MeterResult {
  std::int64_t id = 0;
  std::vector<float> forecasts;            // [step]: the platform's forecast of that reading, NaN if none
  std::vector<MeterTraffic> traffic_by_day;  // cumulative at the end of each day
  // readings_sent, summaries_sent: handed to the MQTT client (MeterRecord: summaries sent again
  // included); `stored` says what arrived.
  std::uint64_t readings_logged = 0, readings_sent = 0, readings_resent = 0, summaries_sent = 0;
  std::uint64_t radio_sessions = 0, observe_calls = 0, catch_up_readings = 0, catch_up_mismatches = 0;
  std::uint64_t checkpoints = 0, checkpoint_failures = 0, restores = 0, boots = 0, refused_steps = 0;
  std::uint64_t stored = 0;        // its readings found in the store
  std::uint64_t missing = 0;       // logged but not in the store (gateway platform)
};

struct FleetResult {
  Platform platform = Platform::kSelfLearning;
  std::size_t steps = 0;
  double wall_seconds = 0;
  std::vector<MeterResult> meters;
  GatewayStats gateway;                 // summed over the gateway processes and their restarts
  std::vector<GatewayStats> gateway_runs;
  BrokerCounters broker;
  bool broker_counters_comparable = true;  // false after a broker restart (its counters restart at 0)
  std::int64_t stored_readings = 0, stored_summaries = 0, database_bytes = 0;
  std::string integrity;                // PRAGMA integrity_check
  std::size_t late_steps = 0;           // steps whose acknowledgements did not all come in time
  std::size_t steps_without_gateway = 0;
  std::int64_t meter_process_max_rss_kb = 0;
  double meter_process_cpu_seconds = 0;
  double stepping_seconds = 0;          // wall time of the lockstep steps
  double stepping_load_average = -1;    // the machine's one-minute load average at their end
  std::vector<OpenLoopPhase> phases;
};

FleetResult run_fleet(const FleetData& data, const FleetOptions& options);

}  // namespace edgelstm::fleet
