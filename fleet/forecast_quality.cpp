#include "fleet/forecast_quality.h"

#include <algorithm>
#include <cmath>

namespace edgelstm::fleet {
namespace {

double median(std::vector<double> values) {
  if (values.empty()) return NAN;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

}  // namespace

bool occupied(const std::vector<float>& readings) {
  std::size_t nonzero = 0;
  for (float v : readings) nonzero += v > 0 ? 1 : 0;
  return 2 * nonzero >= readings.size();
}

std::vector<NamedForecasts> baseline_forecasts(const FleetData& data, std::size_t meters) {
  const std::size_t day = 86400 / data.interval_seconds, week = 7 * day, steps = data.steps();
  std::vector<NamedForecasts> out = {{"persistence x[t-1]", {}},
                                     {"mean of the same half-hour, last 7 days", {}},
                                     {"seasonal naive, one day x[t-48]", {}},
                                     {"seasonal naive, one week x[t-336]", {}},
                                     {"persistence + last week's change", {}}};
  for (NamedForecasts& b : out) b.forecasts.assign(meters, std::vector<float>(steps, NAN));
  for (std::size_t m = 0; m < meters; ++m) {
    const std::vector<float>& x = data.readings[m];
    for (std::size_t t = 1; t < steps; ++t) {
      out[0].forecasts[m][t] = x[t - 1];
      if (t >= week) {
        double sum = 0;
        for (std::size_t d = 1; d <= 7; ++d) sum += x[t - d * day];
        out[1].forecasts[m][t] = static_cast<float>(sum / 7);
        out[3].forecasts[m][t] = x[t - week];
      }
      if (t >= day) out[2].forecasts[m][t] = x[t - day];
      if (t > week) out[4].forecasts[m][t] = x[t - 1] + x[t - week] - x[t - week - 1];
    }
  }
  return out;
}

std::vector<QualityRow> compare_forecasters(const FleetData& data, std::size_t meters,
                                            const std::vector<NamedForecasts>& forecasters, std::size_t from,
                                            std::size_t to) {
  std::vector<QualityRow> rows(forecasters.size());
  std::vector<std::vector<double>> maes(forecasters.size()), rmses(forecasters.size()), wapes(forecasters.size());
  std::vector<double> fleet_abs(forecasters.size(), 0), fleet_actual(forecasters.size(), 0);
  for (std::size_t m = 0; m < meters; ++m) {
    std::vector<double> abs_sum(forecasters.size(), 0), squared(forecasters.size(), 0);
    double actual_sum = 0;
    std::size_t count = 0;
    for (std::size_t t = from; t < to; ++t) {
      bool all = true;
      for (const NamedForecasts& f : forecasters) all = all && !std::isnan(f.forecasts[m][t]);
      if (!all) continue;
      const double actual = data.readings[m][t];
      for (std::size_t k = 0; k < forecasters.size(); ++k) {
        const double error = forecasters[k].forecasts[m][t] - actual;
        abs_sum[k] += std::fabs(error);
        squared[k] += error * error;
      }
      actual_sum += std::fabs(actual);
      ++count;
    }
    if (count == 0) continue;
    for (std::size_t k = 0; k < forecasters.size(); ++k) {
      rows[k].points += count;
      fleet_abs[k] += abs_sum[k];
      fleet_actual[k] += actual_sum;
      if (!occupied(data.readings[m])) continue;
      maes[k].push_back(abs_sum[k] / count);
      rmses[k].push_back(std::sqrt(squared[k] / count));
      wapes[k].push_back(actual_sum > 0 ? 100.0 * abs_sum[k] / actual_sum : NAN);
    }
  }
  for (std::size_t k = 0; k < forecasters.size(); ++k) {
    rows[k].name = forecasters[k].name;
    rows[k].median_mae = median(maes[k]);
    rows[k].median_rmse = median(rmses[k]);
    rows[k].median_wape = median(wapes[k]);
    rows[k].fleet_wape = fleet_actual[k] > 0 ? 100.0 * fleet_abs[k] / fleet_actual[k] : NAN;
  }
  return rows;
}

std::vector<double> daily_median_mae(const FleetData& data, std::size_t meters, const FleetForecasts& forecasts,
                                     std::size_t steps) {
  const std::size_t day = 86400 / data.interval_seconds;
  std::vector<double> out;
  for (std::size_t start = 0; start + day <= steps; start += day) {
    std::vector<double> maes;
    for (std::size_t m = 0; m < meters; ++m) {
      if (!occupied(data.readings[m])) continue;
      double sum = 0;
      std::size_t count = 0;
      for (std::size_t t = start; t < start + day; ++t) {
        if (std::isnan(forecasts[m][t])) continue;
        sum += std::fabs(forecasts[m][t] - data.readings[m][t]);
        ++count;
      }
      if (count > 0) maes.push_back(sum / count);
    }
    out.push_back(median(maes));
  }
  return out;
}

std::size_t coverage(const FleetForecasts& forecasts, std::size_t from, std::size_t to) {
  std::size_t n = 0;
  for (const std::vector<float>& meter : forecasts) {
    for (std::size_t t = from; t < to && t < meter.size(); ++t) n += std::isnan(meter[t]) ? 0 : 1;
  }
  return n;
}

}  // namespace edgelstm::fleet
