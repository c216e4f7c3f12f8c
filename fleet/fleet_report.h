// The fleet's comparison report (`edgelstm fleet --report DIR`): fleet.md with the tables and
// gnuplot SVG plots (quality over time, traffic, the gateway's storage and training), from the two
// platforms' runs on the same meters and readings.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "fleet/energy_model.h"
#include "fleet/fleet_run.h"
#include "fleet/forecast_quality.h"

namespace edgelstm::fleet {

// bench/mcu/meter_costs.csv: (target, kind) -> value. Throws host::InputError naming the file and
// line for a malformed one.
using MeterCosts = std::map<std::pair<std::string, std::string>, std::int64_t>;
MeterCosts read_meter_costs(const std::string& path);

struct ComparisonInput {
  const FleetData* data = nullptr;
  const FleetOptions* options = nullptr;  // the settings both runs shared (the platform aside)
  const FleetResult* self_learning = nullptr;
  const FleetResult* gateway = nullptr;
  MeterCosts costs;
  std::string costs_path;
  std::size_t evaluation_days = 28;  // the last days, for the headline comparison
};

struct ComparisonSummary {
  std::vector<QualityRow> quality;     // self-learning, gateway, then the baselines
  double mae_ratio = 0;                // self-learning / gateway median MAE
  bool within_15_percent = false;
  bool both_beat_every_baseline = false;
};

// Writes DIR/fleet.md and DIR/fleet_*.svg; returns the headline numbers.
ComparisonSummary write_fleet_report(const std::string& directory, const ComparisonInput& input);

// The per-meter per-day averages of one run, measured.
struct TrafficPerMeterDay {
  double messages_up = 0, messages_down = 0, payload_up = 0, payload_down = 0;
  double packet_up = 0, packet_down = 0, wire_up = 0, wire_down = 0, segments_up = 0;
  double sessions = 0;
};
TrafficPerMeterDay traffic_per_meter_day(const FleetResult& run);

}  // namespace edgelstm::fleet
