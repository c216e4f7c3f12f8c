// How far one Mosquitto and one gateway go on this machine: many meters on the gateway platform
// (the platform that loads the centre), first in lockstep for two days of compressed time (the
// nightly trainings included), then in open loop at rising rates to find where it saturates.
// `edgelstm fleet --scale` runs it and writes fleet_scale.md with the projection to a million meters.
#pragma once

#include <string>
#include <vector>

#include "fleet/fleet_run.h"

namespace edgelstm::fleet {

struct ScaleOptions {
  FleetOptions fleet;             // meters, broker, gateway settings
  std::vector<double> rates;      // readings per second of the open-loop phases
  std::size_t lockstep_days = 2;  // two nightly trainings: on one day and on two days of readings
};

struct ScaleResult {
  FleetResult lockstep;
  FleetResult open_loop;
};

ScaleResult run_scale(const FleetData& data, const ScaleOptions& options);
void write_scale_report(const std::string& directory, const FleetData& data, const ScaleOptions& options,
                        const ScaleResult& result);

}  // namespace edgelstm::fleet
