#include "fleet/scale_run.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>
#include <algorithm>

#include "host/csv_reader.h"
#include "host/report.h"

namespace edgelstm::fleet {
namespace {

using host::format;

}  // namespace

ScaleResult run_scale(const FleetData& data, const ScaleOptions& options) {
  ScaleResult result;
  const std::size_t per_day = 86400 / data.interval_seconds;
  FleetOptions lockstep = options.fleet;
  lockstep.platform = Platform::kGateway;
  lockstep.steps = options.lockstep_days * per_day + 1;  // the last reading triggers the second training
  lockstep.keep_forecasts = false;
  lockstep.work_directory = options.fleet.work_directory + "/lockstep";
  lockstep.open_loop_rates.clear();
  result.lockstep = run_fleet(data, lockstep);
  if (!options.rates.empty()) {
    FleetOptions open = options.fleet;
    open.platform = Platform::kGateway;
    open.steps = 1;
    open.keep_forecasts = false;
    open.first_training_days = 365;  // no training in these phases: they measure ingest alone
    open.work_directory = options.fleet.work_directory + "/open_loop";
    open.open_loop_rates = options.rates;
    result.open_loop = run_fleet(data, open);
  }
  return result;
}

void write_scale_report(const std::string& dir, const FleetData& data, const ScaleOptions& options,
                        const ScaleResult& result) {
  const FleetResult& l = result.lockstep;
  const std::size_t meters = l.meters.size();
  const double steps = static_cast<double>(l.steps);
  const double days = steps * data.interval_seconds / 86400.0;
  const GatewayStats& g = l.gateway;
  double last_training = 0, last_examples = 0;
  for (const TrainingRecord& t : g.trainings) {
    last_training = t.cpu_seconds;
    last_examples = static_cast<double>(t.examples);
  }
  // The steps wait for the nightly trainings too: the rate of the readings themselves is outside them.
  double training_wall = 0;
  for (const TrainingRecord& t : g.trainings) training_wall += t.wall_seconds;
  const double reading_seconds = std::max(1e-9, l.stepping_seconds - training_wall);
  const double readings_per_second = meters * steps / reading_seconds;
  const double ingest_per_message_us = 1e6 * g.ingest_cpu_seconds / std::max<double>(1, g.messages);
  const double ingest_per_meter_day = g.ingest_cpu_seconds / (meters * days);
  const double train_per_meter = last_training / meters;
  const double db_per_meter_day = static_cast<double>(l.database_bytes) / (meters * days);
  std::ostringstream md;
  md << "# Scale: " << meters << " meters, one Mosquitto, one gateway\n\nWritten by `edgelstm fleet --scale`: the "
     << "gateway platform (the one that loads the centre), plain MQTT on loopback, on this machine ("
     << std::thread::hardware_concurrency() << " cores, shared by the broker, the gateway and the " << meters
     << " meter clients).\n\n## Lockstep: " << format("%.0f", days) << " days of readings in compressed time\n\n"
     << "Every meter sends its reading, the next only once every meter has its acknowledgement and forecast.\n\n"
     << "| | |\n|---|---:|\n"
     << "| readings, all meters | " << format("%.0f", meters * steps) << " |\n"
     << "| wall time of the steps, s (of which the nightly trainings) | " << format("%.1f", l.stepping_seconds) << " ("
     << format("%.1f", training_wall) << ") |\n"
     << "| readings per second outside the trainings (each: a PUBLISH up, a PUBLISH down, their PUBACKs) | "
     << format("%.0f", readings_per_second) << " |\n"
     << "| compressed time: simulated days per wall minute | " << format("%.1f", days / (l.stepping_seconds / 60)) << " |\n"
     << "| gateway ingest CPU per message (decode, store, commit, forecast, answer), us | "
     << format("%.0f", ingest_per_message_us) << " |\n"
     << "| gateway ingest CPU per meter per day, ms | " << format("%.2f", 1000 * ingest_per_meter_day) << " |\n"
     << "| nightly trainings | " << g.trainings.size() << " |\n"
     << "| last training: examples, CPU s | " << format("%.0f", last_examples) << ", " << format("%.1f", last_training)
     << " |\n"
     << "| training CPU per meter per night, ms | " << format("%.2f", 1000 * train_per_meter) << " |\n"
     << "| SQLite bytes per meter per day | " << format("%.0f", db_per_meter_day) << " |\n"
     << "| gateway peak RAM, MB | " << format("%.1f", g.max_rss_kb / 1024.0) << " |\n"
     << "| meter clients' process: CPU s, peak RAM MB | " << format("%.1f", l.meter_process_cpu_seconds) << ", "
     << format("%.0f", l.meter_process_max_rss_kb / 1024.0) << " |\n"
     << "| readings stored / sent | " << l.stored_readings << " / " << format("%.0f", meters * steps) << " |\n"
     << "| the machine's load average (1 min) at the end, all its users | " << format("%.1f", l.stepping_load_average)
     << " |\n";

  double saturation = 0;
  if (!result.open_loop.phases.empty()) {
    md << "\n## Open loop: rising rates\n\nThe meters send at a fixed rate without waiting for answers ("
       << format("%.0f", options.fleet.open_loop_seconds) << " s a phase, then drained); latency is from a reading's "
       << "PUBLISH to its acknowledgement's arrival. CPU: cores busy on average over the phase. Load: the machine's "
       << "one-minute load average at the phase's end, every user of the machine included (on " << std::thread::hardware_concurrency()
       << " cores, a load above that means the run's processes waited for a core).\n\n"
       << "| asked, readings/s | sent | acknowledged | p50 ms | p99 ms | max ms | broker CPU | gateway CPU | meters' CPU | load |\n"
       << "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    host::PlotSeries acknowledged{"acknowledged readings/s", {}, {}}, latency{"p99 latency, ms", {}, {}};
    for (const OpenLoopPhase& p : result.open_loop.phases) {
      md << "| " << format("%.0f", p.target_rate) << " | " << format("%.0f", p.offered_rate) << " | "
         << format("%.0f", p.acknowledged_rate) << " | " << format("%.1f", p.p50_ms) << " | " << format("%.1f", p.p99_ms)
         << " | " << format("%.0f", p.max_ms) << " | " << format("%.2f", p.broker_cpu) << " | "
         << format("%.2f", p.gateway_cpu) << " | " << format("%.2f", p.meters_cpu) << " | "
         << format("%.1f", p.load_average) << " |\n";
      acknowledged.x.push_back(p.offered_rate);
      acknowledged.y.push_back(p.acknowledged_rate);
      latency.x.push_back(p.offered_rate);
      latency.y.push_back(p.p99_ms);
      // Held: everything acknowledged at (nearly) the rate sent, within a second at the 99th percentile.
      if (p.drained && p.acknowledged_rate >= 0.9 * p.offered_rate && p.p99_ms < 1000) {
        saturation = std::max(saturation, p.acknowledged_rate);
      }
    }
    host::plot_lines(dir, "fleet_scale", "Open loop: what one broker and one gateway acknowledge", "readings/s sent",
                     "readings/s  /  ms", {acknowledged, latency});
    md << "\n![scale](fleet_scale.svg)\n\nHeld (acknowledged at >= 90% of the rate sent, p99 under 1 s): up to "
       << format("%.0f", saturation) << " readings/s.\n";
  }

  // The projection, from the measured per-meter costs.
  const double million = 1e6;
  const double average_rate = million / data.interval_seconds;
  md << "\n## Projection to 1,000,000 meters (on paper, from the figures above)\n\n"
     << "| | per meter (measured) | 1,000,000 meters |\n|---|---:|---:|\n"
     << "| readings per second, on average | 1 per " << data.interval_seconds << " s | " << format("%.0f", average_rate)
     << " |\n"
     << "| readings per second if every meter sends within 60 s of the half-hour | | " << format("%.0f", million / 60) << " |\n"
     << "| gateway ingest CPU per day, core-hours (a forecast answered on the second day only) | "
     << format("%.2f ms", 1000 * ingest_per_meter_day) << " | "
     << format("%.1f", million * ingest_per_meter_day / 3600) << " |\n"
     << "| nightly training CPU, core-hours (the global model on " << format("%.0f", days) << " days of readings; "
     << "linear in the examples: x " << format("%.0f", options.fleet.central.history_days / std::max(1.0, days - 1))
     << " for a " << options.fleet.central.history_days << "-day span) | "
     << format("%.2f ms", 1000 * train_per_meter) << " | " << format("%.1f", million * train_per_meter / 3600) << " |\n"
     << "| SQLite growth per day, GB | " << format("%.0f B", db_per_meter_day) << " | "
     << format("%.1f", million * db_per_meter_day / 1e9) << " |\n"
     << "| storage per year, TB | | " << format("%.2f", 365 * million * db_per_meter_day / 1e12) << " |\n";
  if (saturation > 0) {
    md << "| gateway + broker pairs like this one for the 60-second peak | " << format("%.0f readings/s each", saturation)
       << " | " << format("%.0f", std::ceil(million / 60 / saturation)) << " |\n";
  }
  md << "\ndocs/fleet.md discusses the architecture (an MQTT cluster in front of sharded gateways) and the costs.\n";
  const std::string path = dir + "/fleet_scale.md";
  std::ofstream out(path, std::ios::trunc);
  out << md.str();
  if (!out) throw host::InputError(path + ": cannot write the scale report");
}

}  // namespace edgelstm::fleet
