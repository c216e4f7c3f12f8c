// The forecasters an LSTM is compared with, on exactly the same target points: persistence,
// seasonal naive (one day and one week before), persistence + last week's change, and Taylor's
// double seasonal Holt-Winters.
#pragma once

#include <string>
#include <vector>

#include "host/features.h"
#include "host/metrics.h"
#include "host/splits.h"

namespace edgelstm::host {

std::vector<double> persistence(const Series& series, const std::vector<std::size_t>& targets);
std::vector<double> seasonal_naive(const Series& series, const std::vector<std::size_t>& targets, int season);
std::vector<double> persistence_with_seasonal_change(const Series& series, const std::vector<std::size_t>& targets,
                                                     int season);

// Why double seasonal Holt-Winters cannot forecast `values` with one day and one week as its
// periods, fitted on values[0 .. fit_end-1] (empty when it can): not sub-daily readings, fewer
// than two weeks to start from, readings <= 0 (the method is multiplicative).
std::string double_seasonal_unavailable(const std::vector<double>& values, std::int64_t interval_seconds,
                                        std::size_t fit_end);

// The baselines' rows of an evaluation on `targets` (the test span): persistence, seasonal naive
// of one day (sub-daily data) and of one week, persistence + last week's change, and double
// seasonal Holt-Winters fitted on everything before the targets, once as R's dshw fits it and
// once to convergence (DshwFit). A baseline that needs readings before the series start, or a
// method that does not apply, gives a row with `unavailable` set.
std::vector<MetricsRow> baseline_rows(const Series& series, std::int64_t interval_seconds,
                                      const std::vector<std::size_t>& targets, double mase_scale);

}  // namespace edgelstm::host
