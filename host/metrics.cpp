#include "host/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "host/csv_reader.h"

namespace edgelstm::host {

Metrics metrics_of(const std::vector<double>& forecast, const std::vector<double>& actual, double mase_scale) {
  Metrics m;
  m.count = actual.size();
  double absolute = 0, squares = 0, percent = 0, symmetric = 0;
  bool zero_reading = false;
  for (std::size_t k = 0; k < actual.size(); ++k) {
    if (!std::isfinite(forecast[k])) {
      ++m.failed;
      continue;
    }
    const double error = std::fabs(forecast[k] - actual[k]);
    absolute += error;
    squares += error * error;
    if (actual[k] == 0) {
      zero_reading = true;
    } else {
      percent += error / std::fabs(actual[k]);
    }
    const double denominator = std::fabs(forecast[k]) + std::fabs(actual[k]);
    if (denominator > 0) symmetric += 2 * error / denominator;
  }
  if (!m.defined()) return m;
  const double n = static_cast<double>(m.count);
  m.mae = absolute / n;
  m.rmse = std::sqrt(squares / n);
  m.smape = 100 * symmetric / n;
  if (!zero_reading) m.mape = 100 * percent / n;
  if (mase_scale > 0) m.mase = m.mae / mase_scale;
  return m;
}

double persistence_scale(const std::vector<double>& values, std::size_t end) {
  end = std::min(end, values.size());
  if (end < 2) return 0;
  double sum = 0;
  for (std::size_t k = 1; k < end; ++k) sum += std::fabs(values[k] - values[k - 1]);
  return sum / static_cast<double>(end - 1);
}

Score parse_score(const std::string& name) {
  if (name == "mae") return Score::kMae;
  if (name == "rmse") return Score::kRmse;
  if (name == "mape") return Score::kMape;
  if (name == "smape") return Score::kSmape;
  throw InputError("expected mae, rmse, mape or smape, found '" + name.substr(0, 40) + "'");
}

const char* score_name(Score score) {
  switch (score) {
    case Score::kMae: return "MAE";
    case Score::kRmse: return "RMSE";
    case Score::kMape: return "MAPE";
    case Score::kSmape: return "sMAPE";
  }
  return "?";
}

double score_of(const Metrics& m, Score score, const std::string& span) {
  if (!m.defined()) {
    throw InputError("the " + span + " span's " + score_name(score) + " is undefined: " + std::to_string(m.failed) +
                     " of its " + std::to_string(m.count) + " forecasts are not finite");
  }
  switch (score) {
    case Score::kMae: return m.mae;
    case Score::kRmse: return m.rmse;
    case Score::kSmape: return m.smape;
    case Score::kMape:
      if (!m.mape) {
        throw InputError("the " + span + " span holds a reading of 0, where MAPE is undefined: choose "
                         "--early-stopping mae, rmse or smape");
      }
      return *m.mape;
  }
  return 0;
}

int decimals_for(double smallest) {
  if (!(smallest > 0) || !std::isfinite(smallest)) return 2;
  const int magnitude = static_cast<int>(std::floor(std::log10(smallest)));
  return std::clamp(2 - magnitude, 0, 8);
}

std::string format_fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string format_percent(double value, int decimals) { return format_fixed(value, decimals) + "%"; }

namespace {

// The smallest positive value of a column, for its decimals.
template <typename Get>
double smallest_of(const std::vector<MetricsRow>& rows, Get get) {
  double smallest = 0;
  for (const MetricsRow& row : rows) {
    if (!row.metrics.defined() || !row.unavailable.empty()) continue;
    const std::optional<double> v = get(row.metrics);
    if (v && *v > 0 && (smallest == 0 || *v < smallest)) smallest = *v;
  }
  return smallest;
}

}  // namespace

std::string metrics_table(const std::string& first_header, const std::vector<MetricsRow>& rows) {
  const int absolute = decimals_for(smallest_of(rows, [](const Metrics& m) { return std::optional<double>(m.mae); }));
  const int percent = decimals_for(smallest_of(rows, [](const Metrics& m) { return m.mape; }));
  const int symmetric = decimals_for(smallest_of(rows, [](const Metrics& m) { return std::optional<double>(m.smape); }));
  const int scaled = decimals_for(smallest_of(rows, [](const Metrics& m) { return m.mase; }));
  std::ostringstream out;
  out << "| " << first_header << " | MAE | RMSE | MAPE | sMAPE | MASE |\n|---|---:|---:|---:|---:|---:|\n";
  bool failed = false, zero_reading = false, no_scale = false;
  for (const MetricsRow& row : rows) {
    const Metrics& m = row.metrics;
    out << "| " << row.name << " | ";
    if (!row.unavailable.empty()) {
      out << "n/a | n/a | n/a | n/a | n/a |\n";
      continue;
    }
    if (!m.defined()) {
      failed = true;
      out << "n/a | n/a | n/a | n/a | n/a |\n";
      continue;
    }
    out << format_fixed(m.mae, absolute) << " | " << format_fixed(m.rmse, absolute) << " | "
        << (m.mape ? format_percent(*m.mape, percent) : "n/a") << " | " << format_percent(m.smape, symmetric) << " | "
        << (m.mase ? format_fixed(*m.mase, scaled) : "n/a") << " |\n";
    zero_reading = zero_reading || !m.mape;
    no_scale = no_scale || !m.mase;
  }
  if (zero_reading) out << "\nMAPE n/a: the span holds readings of 0, where MAPE (error / reading) is undefined.\n";
  if (no_scale) out << "\nMASE n/a: the series does not change before the span, so persistence's error (its scale) is 0.\n";
  if (failed) out << "\nn/a in a whole row: some of its forecasts are not finite (the network refused a step).\n";
  for (const MetricsRow& row : rows) {
    if (!row.unavailable.empty()) out << "\n" << row.name << ": n/a, " << row.unavailable << ".\n";
  }
  return out.str();
}

std::string metrics_summary(const Metrics& m, int decimals) {
  if (!m.defined()) return "n/a (" + std::to_string(m.failed) + " forecasts not finite)";
  std::string out = "MAE " + format_fixed(m.mae, decimals) + ", RMSE " + format_fixed(m.rmse, decimals) + ", sMAPE " +
                    format_percent(m.smape, decimals_for(m.smape));
  out += m.mape ? ", MAPE " + format_percent(*m.mape, decimals_for(*m.mape)) : ", MAPE n/a (zero readings)";
  if (m.mase) out += ", MASE " + format_fixed(*m.mase, decimals_for(*m.mase));
  return out;
}

}  // namespace edgelstm::host
