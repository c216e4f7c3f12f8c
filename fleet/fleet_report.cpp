#include "fleet/fleet_report.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "edgelstm/meter_forecaster.h"
#include "host/csv_reader.h"
#include "host/report.h"

namespace edgelstm::fleet {
namespace {

using host::format;

// 12,345 (thousands separated), for counts.
std::string count(double value) {
  char digits[32];
  std::snprintf(digits, sizeof digits, "%.0f", value);
  std::string s = digits, out;
  const std::size_t start = s[0] == '-' ? 1 : 0;
  for (std::size_t k = 0; k < s.size(); ++k) {
    if (k > start && (s.size() - k) % 3 == 0) out += ',';
    out += s[k];
  }
  return out;
}

std::int64_t cost(const MeterCosts& costs, const std::string& target, const std::string& kind, const std::string& path) {
  const auto it = costs.find({target, kind});
  if (it == costs.end()) throw host::InputError(path + ": no '" + kind + "' for target " + target);
  return it->second;
}

double days_of(const FleetResult& run, const FleetData& data) {
  return static_cast<double>(run.steps) * data.interval_seconds / 86400.0;
}

}  // namespace

MeterCosts read_meter_costs(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw host::InputError(path + ": cannot read the meter costs (bench/mcu/meter_costs.py --csv writes them)");
  MeterCosts costs;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty() || line[0] == '#' || line.rfind("target,", 0) == 0) continue;
    std::stringstream fields(line);
    std::string target, kind, value;
    // The count at most 18 digits: stoll would throw out_of_range past a long long (it did: a
    // 23-digit count aborted the command).
    if (!std::getline(fields, target, ',') || !std::getline(fields, kind, ',') || !std::getline(fields, value) ||
        !host::is_decimal(value, 18)) {
      throw host::InputError(path + ":" + std::to_string(number) +
                             ": expected target,kind,value (a count of at most 18 digits), found " + host::excerpt(line));
    }
    costs[{target, kind}] = std::stoll(value);
  }
  return costs;
}

TrafficPerMeterDay traffic_per_meter_day(const FleetResult& run) {
  TrafficPerMeterDay t;
  if (run.meters.empty() || run.steps == 0) return t;
  const double meter_days = static_cast<double>(run.meters.size()) * static_cast<double>(run.steps) / 48.0;
  for (const MeterResult& m : run.meters) {
    const MeterTraffic& total = m.traffic_by_day.back();
    t.messages_up += total.messages_up;
    t.messages_down += total.messages_down;
    t.payload_up += total.payload_bytes_up;
    t.payload_down += total.payload_bytes_down;
    t.packet_up += total.packet_bytes_up;
    t.packet_down += total.packet_bytes_down;
    t.wire_up += total.wire_bytes_up;
    t.wire_down += total.wire_bytes_down;
    t.segments_up += total.segments_up;
    t.sessions += m.radio_sessions;
  }
  for (double* v : {&t.messages_up, &t.messages_down, &t.payload_up, &t.payload_down, &t.packet_up, &t.packet_down,
                    &t.wire_up, &t.wire_down, &t.segments_up, &t.sessions}) {
    *v /= meter_days;
  }
  return t;
}

ComparisonSummary write_fleet_report(const std::string& dir, const ComparisonInput& in) {
  const FleetData& data = *in.data;
  const FleetOptions& options = *in.options;
  const FleetResult* runs[2] = {in.self_learning, in.gateway};
  const char* names[2] = {"self-learning meters", "gateway platform"};
  const FleetResult& any = in.self_learning != nullptr ? *in.self_learning : *in.gateway;
  const std::size_t meters = any.meters.size(), steps = any.steps;
  const std::size_t per_day = 86400 / data.interval_seconds;
  const std::size_t evaluation = std::min(steps, in.evaluation_days * per_day);
  const std::size_t from = steps - evaluation;
  std::size_t occupied_meters = 0;
  for (std::size_t m = 0; m < meters; ++m) occupied_meters += occupied(data.readings[m]) ? 1 : 0;

  // ---- Quality on the same points.
  std::vector<NamedForecasts> forecasters;
  for (int p = 0; p < 2; ++p) {
    if (runs[p] == nullptr) continue;
    NamedForecasts f{names[p], {}};
    for (const MeterResult& m : runs[p]->meters) f.forecasts.push_back(m.forecasts);
    forecasters.push_back(std::move(f));
  }
  const std::size_t platforms = forecasters.size();
  std::vector<NamedForecasts> baselines = baseline_forecasts(data, meters);
  for (NamedForecasts& b : baselines) {
    for (auto& series : b.forecasts) series.resize(steps);
  }
  forecasters.insert(forecasters.end(), baselines.begin(), baselines.end());
  ComparisonSummary summary;
  summary.quality = compare_forecasters(data, meters, forecasters, from, steps);
  if (in.self_learning != nullptr && in.gateway != nullptr) {
    summary.mae_ratio = summary.quality[0].median_mae / summary.quality[1].median_mae;
    summary.within_15_percent = summary.mae_ratio <= 1.15;
    summary.both_beat_every_baseline = true;
    for (std::size_t b = 2; b < summary.quality.size(); ++b) {
      for (std::size_t p = 0; p < 2; ++p) {
        summary.both_beat_every_baseline = summary.both_beat_every_baseline &&
                                           summary.quality[p].median_mae < summary.quality[b].median_mae &&
                                           summary.quality[p].median_rmse < summary.quality[b].median_rmse;
      }
    }
  }

  std::ostringstream md;
  md << "# Self-learning meters against a gateway platform\n\n"
     << "Written by `edgelstm fleet`. " << meters << " meters (" << occupied_meters << " occupied homes), "
     << steps / per_day << " days of half-hourly readings (" << count(static_cast<double>(steps)) << " per meter), "
     << "the same readings for both platforms, one real Mosquitto per run"
     << (options.tls ? " with the meters on TLS" : "") << ", the gateway as its own process (`edgelstm gateway`).\n\n"
     << "- Self-learning meters: `MeterForecaster` (core), LSTM " << options.meter.spec.hidden << " units, window "
     << options.meter.spec.window << ", " << options.meter.spec.replay << " replayed windows a reading from the last "
     << options.meter.spec.replay_span << ", from scratch; a checkpoint in flash every "
     << options.meter.checkpoint_every << " readings; one daily summary up.\n"
     << "- Gateway platform: every reading up (QoS 1), SQLite, one global LSTM " << options.central.hidden
     << " units trained nightly (" << options.central.epochs << " epochs over the last " << options.central.history_days
     << " days, warm-started), a forecast of the next reading back with each acknowledgement.\n";
  for (const GatewayOutage& o : options.outages) {
    md << "- A gateway outage in both runs: from reading " << o.start << " (day " << o.start / per_day + 1 << ", "
       << format("%02.0f", static_cast<double>((o.start % per_day) / 2)) << ":" << ((o.start % 2) ? "30" : "00")
       << ") for " << o.steps << " readings (" << format("%.1f", o.steps / 2.0) << " h), "
       << (o.crash ? "killed" : "stopped") << ".\n";
  }

  md << "\n## Forecast quality, the last " << evaluation / per_day << " days\n\n"
     << "One-step forecasts (the next half-hour) on the same points for every row: " << count(summary.quality[0].points)
     << " points. MAE and RMSE in kWh per half-hour, medians over the " << occupied_meters
     << " occupied homes; WAPE = sum |error| / sum |reading| (defined where a home reads 0), the median over homes and "
     << "over the whole fleet.\n\n| forecaster | MAE | RMSE | WAPE (median) | WAPE (fleet) |\n|---|---:|---:|---:|---:|\n";
  for (const QualityRow& row : summary.quality) {
    md << "| " << row.name << " | " << format("%.4f", row.median_mae) << " | " << format("%.4f", row.median_rmse)
       << " | " << format("%.1f%%", row.median_wape) << " | " << format("%.1f%%", row.fleet_wape) << " |\n";
  }
  if (platforms == 2) {
    md << "\nSelf-learning median MAE / gateway median MAE = " << format("%.3f", summary.mae_ratio) << " (target: at most 1.15: "
       << (summary.within_15_percent ? "met" : "NOT met") << "). Both platforms below every baseline on MAE and RMSE: "
       << (summary.both_beat_every_baseline ? "yes" : "NO") << ".\n";
  }

  // Quality over time.
  std::vector<host::PlotSeries> quality_plot;
  for (std::size_t k = 0; k < std::min<std::size_t>(forecasters.size(), platforms + 2); ++k) {
    host::PlotSeries s{forecasters[k].name, {}, {}};
    const std::vector<double> daily = daily_median_mae(data, meters, forecasters[k].forecasts, steps);
    for (std::size_t d = 0; d < daily.size(); ++d) {
      if (std::isnan(daily[d])) continue;
      s.x.push_back(static_cast<double>(d + 1));
      s.y.push_back(daily[d]);
    }
    quality_plot.push_back(s);
  }
  host::plot_lines(dir, "fleet_quality", "Median daily MAE over the occupied homes (each on its own points)", "day",
                   "MAE, kWh per half-hour", quality_plot);
  md << "\n![quality over time](fleet_quality.svg)\n\nCoverage, the share of readings a platform had a forecast for in "
        "time:";
  for (std::size_t p = 0; p < platforms; ++p) {
    md << " " << forecasters[p].name << " " << format("%.1f%%", 100.0 * coverage(forecasters[p].forecasts, 0, steps) /
                                                                static_cast<double>(meters * steps))
       << " over the run, " << format("%.1f%%", 100.0 * coverage(forecasters[p].forecasts, from, steps) /
                                                  static_cast<double>(meters * evaluation))
       << " in the last " << evaluation / per_day << " days" << (p + 1 < platforms ? ";" : ".");
  }
  md << "\n";
  for (const GatewayOutage& o : options.outages) {
    // Readings start .. start + steps - 1 go up while the gateway is down; the forecasts of the
    // readings after the first need it. (Whether the forecast of the first reading after its return
    // comes in time depends on how fast it answers the queued readings: not counted.)
    const std::size_t a = o.start + 1, b = std::min(steps, o.start + o.steps);
    if (a >= b) continue;
    md << "\nDuring the outage (forecasts of readings " << a << " to " << b - 1 << "):";
    for (std::size_t p = 0; p < platforms; ++p) {
      md << " " << forecasters[p].name << " "
         << format("%.0f%%", 100.0 * coverage(forecasters[p].forecasts, a, b) /
                                 static_cast<double>(meters * (b - a)))
         << (p + 1 < platforms ? "," : ".");
    }
    md << "\n";
  }

  // ---- Traffic per meter per day.
  md << "\n## Traffic per meter per day\n\nCounted at each meter's MQTT client (messages, payload bytes, MQTT PUBLISH "
        "packet bytes) and its TCP connection (the kernel's TCP_INFO: "
     << (options.tls ? "TLS records" : "MQTT packets") << ", all packets). Radio sessions: the wakes at which it sent.\n\n"
     << "| platform | messages up | messages down | payload up (B) | payload down (B) | PUBLISH up (B) | PUBLISH down "
        "(B) | TCP up (B) | TCP down (B) | radio sessions |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  std::vector<TrafficPerMeterDay> traffic(2);
  for (int p = 0; p < 2; ++p) {
    if (runs[p] == nullptr) continue;
    traffic[p] = traffic_per_meter_day(*runs[p]);
    const TrafficPerMeterDay& t = traffic[p];
    md << "| " << names[p] << " | " << format("%.2f", t.messages_up) << " | " << format("%.2f", t.messages_down) << " | "
       << count(t.payload_up) << " | " << count(t.payload_down) << " | " << count(t.packet_up) << " | "
       << count(t.packet_down) << " | " << count(t.wire_up) << " | " << count(t.wire_down) << " | "
       << format("%.2f", t.sessions) << " |\n";
  }
  md << "\nThe broker's own count ($SYS, read by the monitor user after the run) against the clients' (meters and "
        "gateway):\n\n| platform | PUBLISH received | by the clients | PUBLISH sent | to the clients | payload bytes in / out "
        "| MQTT bytes in / out (broker) | meters' MQTT bytes per meter per day |\n|---|---:|---:|---:|---:|---|---|---:|\n";
  for (int p = 0; p < 2; ++p) {
    if (runs[p] == nullptr) continue;
    const FleetResult& r = *runs[p];
    std::uint64_t up = 0, down = 0, payload_up = 0, payload_down = 0;
    for (const MeterResult& m : r.meters) {
      up += m.traffic_by_day.back().messages_up;
      down += m.traffic_by_day.back().messages_down;
      payload_up += m.traffic_by_day.back().payload_bytes_up;
      payload_down += m.traffic_by_day.back().payload_bytes_down;
    }
    const bool payload_ok = r.broker.publish_bytes_received == payload_up + r.gateway.payload_bytes_out &&
                            r.broker.publish_bytes_sent == payload_down + r.gateway.payload_bytes_in;
    // The gateway is on plain MQTT: its TCP bytes are MQTT bytes, and the rest of the broker's are the meters'.
    const double meter_mqtt = (static_cast<double>(r.broker.bytes_received) + r.broker.bytes_sent -
                               r.gateway.wire_bytes_out - r.gateway.wire_bytes_in) /
                              (static_cast<double>(r.meters.size()) * days_of(r, data));
    md << "| " << names[p] << " | " << count(r.broker.publish_messages_received) << " | "
       << count(up + r.gateway.messages_out) << " | " << count(r.broker.publish_messages_sent) << " | "
       << count(down + r.gateway.messages_in) << " | " << (payload_ok ? "equal" : "DIFFER") << " | "
       << count(r.broker.bytes_received) << " / " << count(r.broker.bytes_sent) << " | " << count(meter_mqtt) << " |\n";
  }
  std::vector<host::PlotSeries> traffic_plot;
  for (int p = 0; p < 2; ++p) {
    if (runs[p] == nullptr) continue;
    host::PlotSeries s{std::string(names[p]) + ", TCP bytes up + down", {}, {}};
    for (std::size_t d = 0; d < runs[p]->meters[0].traffic_by_day.size(); ++d) {
      double bytes = 0;
      for (const MeterResult& m : runs[p]->meters) bytes += m.traffic_by_day[d].wire_bytes_up + m.traffic_by_day[d].wire_bytes_down;
      s.x.push_back(static_cast<double>(d + 1));
      s.y.push_back(bytes / static_cast<double>(runs[p]->meters.size()) / 1000.0);
    }
    traffic_plot.push_back(s);
  }
  host::plot_lines(dir, "fleet_traffic", "Bytes per meter, cumulative", "day", "kB", traffic_plot);
  md << "\n![traffic](fleet_traffic.svg)\n";

  // ---- The centre.
  if (in.gateway != nullptr) {
    const FleetResult& g = *in.gateway;
    const GatewayStats& s = g.gateway;
    const double meter_days = static_cast<double>(g.meters.size()) * days_of(g, data);
    double train_cpu = 0, last_train = 0;
    for (const TrainingRecord& t : s.trainings) {
      train_cpu += t.cpu_seconds;
      last_train = t.cpu_seconds;
    }
    md << "\n## The gateway\n\n| | |\n|---|---:|\n"
       << "| readings stored (sent by the meters: " << count(static_cast<double>(g.meters.size() * g.steps)) << ") | "
       << count(static_cast<double>(g.stored_readings)) << " |\n"
       << "| duplicates received (resends after the outage), absorbed by the key | " << count(s.duplicates) << " |\n"
       << "| SQLite file (after a WAL checkpoint), bytes | " << count(static_cast<double>(g.database_bytes)) << " |\n"
       << "| per meter per day | " << count(g.database_bytes / meter_days) << " |\n"
       << "| per reading | " << format("%.1f", g.database_bytes / static_cast<double>(std::max<std::int64_t>(1, g.stored_readings)))
       << " |\n"
       << "| ingest CPU (decode, store, commit, forecast, answer), s | " << format("%.2f", s.ingest_cpu_seconds) << " |\n"
       << "| per meter per day, ms | " << format("%.3f", 1000.0 * s.ingest_cpu_seconds / meter_days) << " |\n"
       << "| per message, us | " << format("%.1f", 1e6 * s.ingest_cpu_seconds / std::max<double>(1, s.messages)) << " |\n"
       << "| nightly trainings | " << s.trainings.size() << " |\n"
       << "| training CPU, s (all nights) | " << format("%.2f", train_cpu) << " |\n"
       << "| last night's training CPU per meter, ms | " << format("%.1f", 1000.0 * last_train / g.meters.size()) << " |\n"
       << "| gateway process CPU, s (all threads) | " << format("%.2f", s.process_cpu_seconds) << " |\n"
       << "| gateway peak RAM (max RSS), MB | " << format("%.1f", s.max_rss_kb / 1024.0) << " |\n";
    host::PlotSeries db{"SQLite bytes / 1000", {}, {}}, cpu{"training CPU ms per meter", {}, {}};
    for (const TrainingRecord& t : s.trainings) {
      const double day = static_cast<double>(t.until - data.timestamps[0]) / 86400.0;
      db.x.push_back(day);
      db.y.push_back(t.database_bytes / 1000.0);
      cpu.x.push_back(day);
      cpu.y.push_back(1000.0 * t.cpu_seconds / std::max<std::size_t>(1, t.meters));
    }
    host::plot_lines(dir, "fleet_gateway", "The gateway, night by night", "day", "kB  /  ms", {db, cpu});
    md << "\n![gateway](fleet_gateway.svg)\n";
  }
  if (in.self_learning != nullptr) {
    const FleetResult& r = *in.self_learning;
    md << "\nThe self-learning platform's centre stores " << count(static_cast<double>(r.stored_summaries))
       << " daily summaries (" << count(static_cast<double>(r.database_bytes)) << " bytes of SQLite, "
       << count(r.database_bytes / (r.meters.size() * days_of(r, data))) << " bytes per meter per day) and trains nothing; "
       << "gateway process CPU " << format("%.2f", r.gateway.process_cpu_seconds) << " s.\n";
  }

  // ---- The meter.
  md << "\n## The meter\n\nInstructions counted under QEMU (`" << in.costs_path << "`, bench/mcu/meter_cost.cpp), "
        "one reading = forecast scored, 1 + " << options.meter.spec.replay << " training steps, the next forecast:\n\n"
     << "| target | per reading | per day (48 readings) | checkpoint | restore at boot | firmware flash (B) | RAM: arena + "
        "checkpoint buffer (B) |\n|---|---:|---:|---:|---:|---:|---:|\n";
  for (const char* target : {"cortex-m4f", "rv32imafc", "rv32imc", "xtensa-lx106"}) {
    const double observe = static_cast<double>(cost(in.costs, target, "observe", in.costs_path));
    md << "| " << target << " | " << count(observe) << " | " << count(48 * observe) << " | "
       << count(static_cast<double>(cost(in.costs, target, "checkpoint", in.costs_path))) << " | "
       << count(static_cast<double>(cost(in.costs, target, "restore", in.costs_path))) << " | "
       << count(static_cast<double>(cost(in.costs, target, "flash_bytes", in.costs_path))) << " | "
       << count(static_cast<double>(cost(in.costs, target, "arena_bytes", in.costs_path) +
                                    cost(in.costs, target, "checkpoint_bytes", in.costs_path)))
       << " |\n";
  }
  md << "\nFlash for data: two checkpoint slots of "
     << count(static_cast<double>(cost(in.costs, "cortex-m4f", "checkpoint_slot_bytes", in.costs_path)))
     << " bytes and the reading log (" << options.meter.log_sectors << " sectors of 4 KB, "
     << options.meter.log_sectors * 128 << " readings); a gateway-platform meter needs the reading log only. One "
        "checkpoint a day erases each slot's sectors every other day: 100,000 erase cycles last centuries.\n";
  if (in.self_learning != nullptr) {
    std::uint64_t observes = 0, catch_up = 0, checkpoints = 0, refused = 0;
    for (const MeterResult& m : in.self_learning->meters) {
      observes += m.observe_calls;
      catch_up += m.catch_up_readings;
      checkpoints += m.checkpoints;
      refused += m.refused_steps;
    }
    md << "In the run: " << count(static_cast<double>(observes)) << " readings learned (" << count(static_cast<double>(catch_up))
       << " of them again after a reboot), " << count(static_cast<double>(checkpoints)) << " checkpoints, "
       << refused << " training steps refused (non-finite).\n";
  }

  // ---- Energy.
  const RadioTiming timing;
  md << "\n## Energy per meter per day\n\nCommunication and learning, from the measured counts above and datasheet "
        "currents (docs/fleet.md, \"Energy model\"): a radio session is on for "
     << format("%.0f", 1000 * (timing.wake_seconds + timing.rtt_seconds)) << " ms plus its transmit airtime at 1 Mbps "
     << "(802.11b, the highest TX current); with the radio off between sessions each session first connects ("
     << format("%.1f", timing.connect_seconds) << " s at RX current). CPU: instructions x " << format("%.0f", timing.cpi)
     << " cycle / clock. Joules per meter per day:\n\n"
     << "| chip | platform | radio associated: radio | + CPU | = total | radio off between sessions: total | standby floor "
        "(light sleep, both) |\n|---|---|---:|---:|---:|---:|---:|\n";
  for (const ChipFigures& chip : datasheet_chips()) {
    for (int p = 0; p < 2; ++p) {
      if (runs[p] == nullptr) continue;
      const TrafficPerMeterDay& t = traffic[p];
      MeterDay day;
      day.sessions = t.sessions;
      day.segments_up = t.segments_up;
      day.bytes_up = t.wire_up;
      day.instructions = p == 0 ? 48.0 * static_cast<double>(cost(in.costs, chip.cost_target, "observe", in.costs_path)) +
                                      static_cast<double>(cost(in.costs, chip.cost_target, "checkpoint", in.costs_path))
                                : 48.0 * static_cast<double>(cost(in.costs, chip.cost_target, "encode_readings", in.costs_path));
      const EnergyDay associated = energy_per_day(chip, timing, day, false);
      const EnergyDay off = energy_per_day(chip, timing, day, true);
      md << "| " << chip.name << " | " << names[p] << " | " << format("%.3f", associated.radio_joules) << " | "
         << format("%.3f", associated.cpu_joules) << " | " << format("%.3f", associated.total_joules()) << " | "
         << format("%.3f", off.total_joules()) << " | " << format("%.1f", standby_joules_per_day(chip)) << " |\n";
    }
  }
  md << "\nSources: ";
  for (const ChipFigures& chip : datasheet_chips()) md << chip.name << ": " << chip.source << ". ";
  md << "Instructions: ESP32 from the rv32imafc counts (its Xtensa core is not emulated here), ESP32-C3 from rv32imc "
        "(the same ISA: no FPU, so every float operation is a library call).\n";

  // ---- Run facts.
  md << "\n## The runs\n\n| | self-learning | gateway |\n|---|---:|---:|\n";
  auto cell = [&](int p, const std::string& text) { return runs[p] == nullptr ? std::string("-") : text; };
  md << "| wall time, s | " << cell(0, runs[0] ? format("%.0f", runs[0]->wall_seconds) : "") << " | "
     << cell(1, runs[1] ? format("%.0f", runs[1]->wall_seconds) : "") << " |\n";
  md << "| steps waiting past their timeout | " << cell(0, runs[0] ? count(runs[0]->late_steps) : "") << " | "
     << cell(1, runs[1] ? count(runs[1]->late_steps) : "") << " |\n";
  md << "| readings without a gateway | " << cell(0, runs[0] ? count(runs[0]->steps_without_gateway) : "") << " | "
     << cell(1, runs[1] ? count(runs[1]->steps_without_gateway) : "") << " |\n";
  md << "| store integrity | " << cell(0, runs[0] ? runs[0]->integrity : "") << " | " << cell(1, runs[1] ? runs[1]->integrity : "")
     << " |\n";
  md << "| meter process: CPU s / peak RSS MB | "
     << cell(0, runs[0] ? format("%.1f", runs[0]->meter_process_cpu_seconds) + " / " +
                              format("%.0f", runs[0]->meter_process_max_rss_kb / 1024.0)
                        : "")
     << " | "
     << cell(1, runs[1] ? format("%.1f", runs[1]->meter_process_cpu_seconds) + " / " +
                              format("%.0f", runs[1]->meter_process_max_rss_kb / 1024.0)
                        : "")
     << " |\n";

  const std::string path = dir + "/fleet.md";
  std::ofstream out(path, std::ios::trunc);
  out << md.str();
  if (!out) throw host::InputError(path + ": cannot write the report");
  return summary;
}

}  // namespace edgelstm::fleet
