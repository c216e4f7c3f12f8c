// Forecast quality of the fleet on the same points for every forecaster: MAE and RMSE in kWh per
// half-hour, and WAPE (weighted absolute percentage error, sum |error| / sum |actual|), a
// percentage that stays defined when a household reads 0 (MAPE divides by each reading and is
// undefined there). Medians are over the occupied households: meters that read 0 more than half the
// time (the vacant homes of the SGSC sample) are reported apart.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "fleet/fleet_run.h"

namespace edgelstm::fleet {

// [meter][step] forecasts; NaN where the forecaster has none.
using FleetForecasts = std::vector<std::vector<float>>;

struct NamedForecasts {
  std::string name;
  FleetForecasts forecasts;
};

// The simple baselines on every point they can forecast: persistence x[t-1], the mean of the same
// interval over the last 7 days, seasonal-naive one day x[t-D] and one week x[t-7D], persistence
// plus last week's change x[t-1] + x[t-7D] - x[t-7D-1].
std::vector<NamedForecasts> baseline_forecasts(const FleetData& data, std::size_t meters);

bool occupied(const std::vector<float>& readings);

struct QualityRow {
  std::string name;
  double median_mae = 0, median_rmse = 0, median_wape = 0;  // over occupied meters
  double fleet_wape = 0;                                    // all meters' errors over all their readings
  std::size_t points = 0;                                   // evaluated points (all meters)
};

// Quality of each forecaster on steps [from, to), on the points where every one of them has a
// forecast (the same points for all).
std::vector<QualityRow> compare_forecasters(const FleetData& data, std::size_t meters,
                                            const std::vector<NamedForecasts>& forecasters, std::size_t from,
                                            std::size_t to);

// The median over occupied meters of each day's MAE, for one forecaster on its own points
// (NaN for a day without forecasts).
std::vector<double> daily_median_mae(const FleetData& data, std::size_t meters, const FleetForecasts& forecasts,
                                     std::size_t steps);

// Points of [from, to) with a forecast, over all meters.
std::size_t coverage(const FleetForecasts& forecasts, std::size_t from, std::size_t to);

}  // namespace edgelstm::fleet
