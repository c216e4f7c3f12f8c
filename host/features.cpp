#include "host/features.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "host/csv_reader.h"
#include "host/settings.h"
#include "host/settings_text.h"
#include "host/statistics.h"

namespace edgelstm::host {
namespace {

constexpr double kTwoPi = 6.283185307179586;
constexpr std::int64_t kDay = 86400, kWeek = 7 * kDay;

}  // namespace

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) items.push_back(item);
  return items;
}

std::string join_list(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

int FeatureConfig::calendar_features() const {
  if (!calendar) return 0;
  return interval_seconds >= kDay && !daily_time_of_day ? 2 : 4;
}

int FeatureConfig::features() const {
  return 1 + static_cast<int>(lags.size()) + calendar_features() + static_cast<int>(covariates.size()) +
         (base == Base::kNone ? 0 : 2);
}

int FeatureConfig::max_lag() const {
  int largest = 1;
  for (int lag : lags) largest = std::max(largest, lag);
  return largest;
}

std::size_t FeatureConfig::steps_per_day() const {
  if (interval_seconds <= 0 || kDay % interval_seconds != 0) {
    throw InputError("the series interval (" + std::to_string(interval_seconds) + " s) does not divide a day");
  }
  return static_cast<std::size_t>(kDay / interval_seconds);
}

std::size_t FeatureConfig::first_target() const {
  std::size_t first = static_cast<std::size_t>(window - 1 + max_lag());
  if (base == Base::kDoubleSeasonal) first = std::max(first, 2 * 7 * steps_per_day());
  return first;
}

std::vector<std::string> FeatureConfig::input_names() const {
  std::vector<std::string> names = {"x[s]"};
  for (int lag : lags) names.push_back("x[s+1-" + std::to_string(lag) + "]");
  if (calendar_features() == 4) names.insert(names.end(), {"sin(time of day)", "cos(time of day)"});
  if (calendar) names.insert(names.end(), {"sin(day of week)", "cos(day of week)"});
  for (const std::string& column : covariates) names.push_back(column + "[s+1]");
  if (base == Base::kDoubleSeasonal) names.insert(names.end(), {"holt_winters[s+1]", "x[s]-holt_winters[s]"});
  return names;
}

std::string FeatureConfig::encode() const {
  std::ostringstream out;
  out << "window=" << window << ";lags=";
  for (std::size_t k = 0; k < lags.size(); ++k) out << (k ? "," : "") << lags[k];
  out << ";calendar=" << (calendar ? 1 : 0) << ";interval=" << interval_seconds;
  if (!covariates.empty()) out << ";covariates=" << join_list(covariates);
  if (base == Base::kDoubleSeasonal) out << ";base=dshw";
  if (daily_time_of_day && calendar && interval_seconds >= kDay) out << ";time_of_day=1";
  return out.str();
}

FeatureConfig FeatureConfig::decode(const std::string& text) {
  // Strict, since the text may come from a file or an option: each key once (parse_settings),
  // whole integers ("48abc" is not 48), calendar 0 or 1; then the ranges (check_feature_config).
  const auto values =
      parse_settings(text, "feature settings", {"window", "lags", "calendar", "interval"}, {"covariates", "base", "time_of_day"});
  const auto integer = [&](const std::string& key, std::string_view digits) {
    std::int64_t number = 0;
    if (!parse_integer(digits, &number) || number < INT32_MIN || number > INT32_MAX) {
      throw InputError("feature settings: bad value for '" + key + "': " + excerpt(values.at(key)));
    }
    return number;
  };
  const auto flag = [&](const std::string& key) {
    const std::string& value = values.at(key);
    if (value != "0" && value != "1") throw InputError("feature settings: " + key + " must be 0 or 1, found " + excerpt(value));
    return value == "1";
  };
  FeatureConfig config;
  config.lags.clear();
  config.window = static_cast<int>(integer("window", values.at("window")));
  for (const std::string& lag : split_list(values.at("lags"))) config.lags.push_back(static_cast<int>(integer("lags", lag)));
  config.calendar = flag("calendar");
  config.interval_seconds = integer("interval", values.at("interval"));
  if (values.count("covariates") != 0) {
    config.covariates = split_list(values.at("covariates"));
    for (const std::string& column : config.covariates) {
      if (column.empty()) throw InputError("feature settings: an empty covariate column name in " + excerpt(text));
    }
    check_column_names(config.covariates, "feature settings: covariates");
  }
  if (values.count("base") != 0) {
    if (values.at("base") != "dshw") throw InputError("feature settings: unknown base " + excerpt(values.at("base")) + " (expected dshw)");
    config.base = Base::kDoubleSeasonal;
  }
  config.daily_time_of_day = values.count("time_of_day") != 0 && flag("time_of_day");
  check_feature_config(config);
  return config;
}

std::vector<int> default_lags(std::int64_t interval_seconds, std::size_t readings, std::size_t held_out, int window) {
  std::vector<int> candidates;
  if (interval_seconds == kDay) {
    candidates = {7};
  } else if (interval_seconds > 0 && interval_seconds < kDay && kDay % interval_seconds == 0) {
    const int day = static_cast<int>(kDay / interval_seconds);
    candidates = {day, 7 * day};
  }
  // Keep the longest lags whose training span still holds at least as many targets as the lag.
  while (!candidates.empty()) {
    const std::size_t first = static_cast<std::size_t>(window - 1 + candidates.back());
    if (readings >= held_out + first + static_cast<std::size_t>(candidates.back())) break;
    candidates.pop_back();
  }
  return candidates;
}

void build_window(const Series& series, const FeatureConfig& features, const Normalization& norm, std::size_t t,
                  float* out) {
  const std::size_t w = static_cast<std::size_t>(features.window);
  const bool time_of_day = features.calendar_features() == 4;
  for (std::size_t k = 0; k < w; ++k) {
    const std::size_t s = t - w + k;
    *out++ = norm.apply(series.values[s]);
    for (int lag : features.lags) *out++ = norm.apply(series.values[s + 1 - static_cast<std::size_t>(lag)]);
    if (features.calendar) {
      const std::int64_t when = series.times[s] + features.interval_seconds;  // the step forecast
      if (time_of_day) {
        const double day = static_cast<double>(((when % kDay) + kDay) % kDay) / kDay;
        *out++ = static_cast<float>(std::sin(kTwoPi * day));
        *out++ = static_cast<float>(std::cos(kTwoPi * day));
      }
      // 1970-01-01 was a Thursday: shift so that Monday 00:00 is 0.
      const double week = static_cast<double>((((when + 3 * kDay) % kWeek) + kWeek) % kWeek) / kWeek;
      *out++ = static_cast<float>(std::sin(kTwoPi * week));
      *out++ = static_cast<float>(std::cos(kTwoPi * week));
    }
    for (std::size_t c = 0; c < features.covariates.size(); ++c) {
      *out++ = static_cast<float>((series.covariates[c][s + 1] - norm.covariate_mean[c]) / norm.covariate_scale[c]);
    }
    if (features.base != Base::kNone) {
      *out++ = norm.apply(series.base[s + 1]);
      *out++ = static_cast<float>((series.values[s] - series.base[s]) / norm.error_scale);
    }
  }
}

float target_of(const Series& series, const FeatureConfig& features, const Normalization& norm, std::size_t t) {
  if (features.base == Base::kNone) return norm.apply(series.values[t]);
  return static_cast<float>((series.values[t] - series.base[t]) / norm.error_scale);
}

double forecast_of(const Series& series, const FeatureConfig& features, const Normalization& norm, std::size_t t,
                   float y) {
  if (features.base == Base::kNone) return norm.invert(y);
  return series.base[t] + static_cast<double>(y) * norm.error_scale;
}

void fit_mean_scale(const std::vector<double>& values, const std::vector<std::size_t>& span, const std::string& what,
                    double* mean, double* scale) {
  // Scaled Welford (statistics.h): no sum or square that could overflow, one pass in double.
  const MeanAndSpread fitted = mean_and_spread(span.size(), [&](std::size_t k) { return values[span[k]]; });
  if (fitted.spread == 0) throw InputError("the training span's " + what + " is constant: nothing to learn from it");
  check_normalization(fitted.mean, fitted.spread, "the training span's " + what + " normalization");
  *mean = fitted.mean;
  *scale = fitted.spread;
}

}  // namespace edgelstm::host
