#include "host/baselines.h"

#include "host/double_seasonal.h"

namespace edgelstm::host {

std::vector<double> persistence(const Series& series, const std::vector<std::size_t>& targets) {
  std::vector<double> out;
  for (std::size_t t : targets) out.push_back(series.values[t - 1]);
  return out;
}

std::vector<double> seasonal_naive(const Series& series, const std::vector<std::size_t>& targets, int season) {
  std::vector<double> out;
  for (std::size_t t : targets) out.push_back(series.values[t - static_cast<std::size_t>(season)]);
  return out;
}

std::vector<double> persistence_with_seasonal_change(const Series& series, const std::vector<std::size_t>& targets,
                                                     int season) {
  std::vector<double> out;
  const std::size_t s = static_cast<std::size_t>(season);
  for (std::size_t t : targets) out.push_back(series.values[t - 1] + series.values[t - s] - series.values[t - s - 1]);
  return out;
}

std::string double_seasonal_unavailable(const std::vector<double>& values, std::int64_t interval_seconds,
                                        std::size_t fit_end) {
  if (interval_seconds <= 0 || interval_seconds >= 86400 || 86400 % interval_seconds != 0) {
    return "its periods are one day and one week: it needs readings several times a day";
  }
  const std::size_t week = static_cast<std::size_t>(7 * 86400 / interval_seconds);
  if (fit_end < 2 * week) {
    return "it starts from two weeks of readings (" + std::to_string(2 * week) + ") and the span before holds " +
           std::to_string(fit_end);
  }
  if (!all_positive(values)) return "the series holds readings <= 0 and the method is multiplicative";
  return "";
}

std::vector<MetricsRow> baseline_rows(const Series& series, std::int64_t interval_seconds,
                                      const std::vector<std::size_t>& targets, double mase_scale) {
  std::vector<double> actual;
  for (std::size_t t : targets) actual.push_back(series.values[t]);
  const std::size_t first = targets.empty() ? 0 : targets.front();
  const std::size_t day = interval_seconds < 86400 && 86400 % interval_seconds == 0
                              ? static_cast<std::size_t>(86400 / interval_seconds)
                              : 1;
  const std::size_t week = 7 * day;
  const auto row = [&](const std::string& name, std::size_t history, auto forecasts) {
    MetricsRow r{name, {}, {}};
    if (first < history) {
      r.unavailable = "it needs " + std::to_string(history) + " readings before the first target";
    } else {
      r.metrics = metrics_of(forecasts(), actual, mase_scale);
    }
    return r;
  };
  std::vector<MetricsRow> rows;
  rows.push_back(row("persistence x[t-1]", 1, [&] { return persistence(series, targets); }));
  if (day > 1) {
    rows.push_back(row("seasonal naive x[t-" + std::to_string(day) + "] (one day before)", day,
                       [&] { return seasonal_naive(series, targets, static_cast<int>(day)); }));
  }
  rows.push_back(row("seasonal naive x[t-" + std::to_string(week) + "] (one week before)", week,
                     [&] { return seasonal_naive(series, targets, static_cast<int>(week)); }));
  rows.push_back(row("persistence + last week's change x[t-1] + x[t-" + std::to_string(week) + "] - x[t-" +
                         std::to_string(week + 1) + "]",
                     week + 1, [&] { return persistence_with_seasonal_change(series, targets, static_cast<int>(week)); }));
  const std::string reason = double_seasonal_unavailable(series.values, interval_seconds, first);
  for (DshwFit fit : {DshwFit::kAsR, DshwFit::kConverged}) {
    MetricsRow r{fit == DshwFit::kAsR ? "double seasonal Holt-Winters (Taylor 2003), fitted as R's dshw"
                                      : "double seasonal Holt-Winters, fitted to convergence",
                 {},
                 reason};
    if (reason.empty()) {
      const std::vector<double> before(series.values.begin(), series.values.begin() + static_cast<std::ptrdiff_t>(first));
      const int p1 = static_cast<int>(day), p2 = static_cast<int>(week);
      const std::vector<double> all = dshw_one_step_forecasts(series.values, p1, p2, fit_dshw(before, p1, p2, fit));
      std::vector<double> forecasts;
      for (std::size_t t : targets) forecasts.push_back(all[t]);
      r.metrics = metrics_of(forecasts, actual, mase_scale);
    }
    rows.push_back(r);
  }
  return rows;
}

}  // namespace edgelstm::host
