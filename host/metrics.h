// Forecast accuracy on a span of one-step forecasts, defined where readings are zero, and the
// tables that print it with the digits the data's scale needs (a household meter's kWh per
// half-hour and a national grid's MW alike).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace edgelstm::host {

// The measures over n forecasts f[k] of readings y[k], e[k] = f[k] - y[k]:
//   MAE   = mean |e|                      RMSE = sqrt(mean e^2)      (units of the series)
//   MAPE  = 100 mean |e| / |y|            undefined when a reading is 0
//   sMAPE = 100 mean 2|e| / (|f| + |y|)   in [0, 200]; a term with f = y = 0 counts 0
//   MASE  = MAE / s, s = mean |x[k] - x[k-1]| over the series before the span (the one-step error
//           of persistence there): below 1 beats persistence's in-sample error; undefined when s = 0.
struct Metrics {
  std::size_t count = 0;
  std::size_t failed = 0;  // forecasts that are not finite (a refused step): then nothing is defined
  double mae = 0, rmse = 0, smape = 0;
  std::optional<double> mape, mase;
  bool defined() const { return count > 0 && failed == 0; }
};

// `mase_scale`: s above (persistence_scale), 0 when unknown.
Metrics metrics_of(const std::vector<double>& forecast, const std::vector<double>& actual, double mase_scale = 0);

// s of MASE: mean |values[k] - values[k-1]| for k = 1 .. end-1.
double persistence_scale(const std::vector<double>& values, std::size_t end);

// The measure early stopping minimizes on the validation span.
enum class Score { kMae, kRmse, kMape, kSmape };
Score parse_score(const std::string& name);  // "mae", "rmse", "mape", "smape"; InputError otherwise
const char* score_name(Score score);         // "MAE", ...
// The score of `m`; InputError when it is undefined there (MAPE over a zero reading, failed forecasts).
double score_of(const Metrics& m, Score score, const std::string& span);

// Decimals that print `smallest` (> 0) with three significant digits, 0 to 8 (0 for >= 100).
int decimals_for(double smallest);
std::string format_fixed(double value, int decimals);
// A percentage with the decimals for three significant digits of the smallest in its column.
std::string format_percent(double value, int decimals);

// A Markdown table of metrics, one row per forecaster on exactly the same points: MAE and RMSE
// with the decimals the smallest MAE of the table needs (and so in every row alike), MAPE, sMAPE
// and MASE; an undefined measure reads "n/a" and a note under the table says why.
struct MetricsRow {
  std::string name;
  Metrics metrics;
  std::string unavailable;  // why the forecaster could not run here (its cells read n/a)
};
std::string metrics_table(const std::string& first_header, const std::vector<MetricsRow>& rows);

// One line "MAE 0.152, RMSE 0.301, sMAPE 45.2%, MAPE n/a (zero readings), MASE 0.88" with
// `decimals` for MAE and RMSE.
std::string metrics_summary(const Metrics& m, int decimals);

}  // namespace edgelstm::host
