#include "host/double_seasonal.h"

#include <cmath>
#include <cstdio>
#include <limits>

#include "host/csv_reader.h"
#include "host/settings_text.h"
#include "host/nelder_mead.h"

namespace edgelstm::host {
namespace {

// R's mean(): a sum in extended precision, then one correction pass.
double mean_as_r(const double* x, std::size_t n) {
  long double sum = 0;
  for (std::size_t k = 0; k < n; ++k) sum += x[k];
  sum /= static_cast<long double>(n);
  long double correction = 0;
  for (std::size_t k = 0; k < n; ++k) correction += x[k] - sum;
  return static_cast<double>(sum + correction / static_cast<long double>(n));
}

// zoo::rollmean(x[0 .. n-1], k) as zoo computes it: the first sum, then the differences
// x[j+k-1] - x[j-1], accumulated in extended precision (R's cumsum), each divided by k.
std::vector<double> rolling_mean(const double* x, std::size_t n, std::size_t k) {
  std::vector<double> out(n - k + 1);
  long double first = 0;
  for (std::size_t i = 0; i < k; ++i) first += x[i];
  long double running = static_cast<double>(first);
  out[0] = static_cast<double>(running) / static_cast<double>(k);
  for (std::size_t j = 1; j < out.size(); ++j) {
    running += x[j + k - 1] - x[j - 1];
    out[j] = static_cast<double>(running) / static_cast<double>(k);
  }
  return out;
}

// Seasonal indices of period p from y's first 2p readings (R's forecast:::seasindex): each reading
// divided by the centred moving average around it, for the p readings from the middle of the
// first period, ordered by phase (k mod p).
std::vector<double> seasonal_indices(const std::vector<double>& y, std::size_t p) {
  const std::vector<double> moving = rolling_mean(y.data(), 2 * p, p);  // p + 1 averages
  std::vector<double> ratio(2 * p, 0.0);  // ratio[k]: y[k] over the average centred on it
  const std::size_t half = p / 2;
  if (p % 2 == 0) {
    const std::vector<double> centred = rolling_mean(moving.data(), p + 1, 2);
    for (std::size_t j = 0; j < p; ++j) ratio[half + j] = y[half + j] / centred[j];
  } else {
    for (std::size_t j = 0; j < p; ++j) ratio[half + j] = y[half + j] / moving[j];
  }
  std::vector<double> indices(p);
  // Phases 0 .. half-1 come from the second period, the rest from the first.
  for (std::size_t k = 0; k < p; ++k) indices[k] = k < half ? ratio[p + k] : ratio[k];
  return indices;
}

}  // namespace

bool all_positive(const std::vector<double>& y) {
  for (double v : y) {
    if (!(v > 0)) return false;
  }
  return true;
}

std::string DshwParameters::encode() const {
  char text[200];
  std::snprintf(text, sizeof text, "alpha=%.17g;beta=%.17g;gamma=%.17g;omega=%.17g;phi=%.17g", alpha, beta, gamma, omega,
                phi);
  return text;
}

DshwParameters DshwParameters::decode(const std::string& text) {
  const char* names[] = {"alpha", "beta", "gamma", "omega", "phi"};
  const auto values = parse_settings(text, "double seasonal Holt-Winters parameters", {"alpha", "beta", "gamma", "omega", "phi"});
  DshwParameters p;
  double* fields[] = {&p.alpha, &p.beta, &p.gamma, &p.omega, &p.phi};
  for (int k = 0; k < 5; ++k) {
    const std::string& value = values.at(names[k]);
    std::size_t used = 0;
    try {
      *fields[k] = std::stod(value, &used);
    } catch (const std::logic_error&) {
      used = 0;
    }
    if (used == 0 || used != value.size() || !(*fields[k] >= 0 && *fields[k] <= 1)) {
      throw InputError(std::string("double seasonal Holt-Winters parameters: ") + names[k] + " must be in [0, 1], found '" +
                       value.substr(0, 40) + "'");
    }
  }
  return p;
}

DoubleSeasonalFilter::DoubleSeasonalFilter(const std::vector<double>& y, int period1, int period2,
                                           const DshwParameters& parameters)
    : p_(parameters), period1_(period1), period2_(period2) {
  if (period1 < 1 || period2 <= period1 || period2 % period1 != 0) {
    throw InputError("double seasonal Holt-Winters: the periods (" + std::to_string(period1) + ", " +
                     std::to_string(period2) + ") must be nested: the longer a multiple of the shorter");
  }
  const std::size_t p1 = static_cast<std::size_t>(period1), p2 = static_cast<std::size_t>(period2);
  if (y.size() < 2 * p2) {
    throw InputError("double seasonal Holt-Winters needs two of its longer periods (" + std::to_string(2 * p2) +
                     " readings) to start; the series has " + std::to_string(y.size()));
  }
  for (std::size_t k = 0; k < 2 * p2; ++k) {
    if (!(y[k] > 0)) {
      throw InputError("double seasonal Holt-Winters (multiplicative) needs readings > 0; reading " + std::to_string(k) +
                       " is " + std::to_string(y[k]));
    }
  }
  daily_ = seasonal_indices(y, p1);
  weekly_ = seasonal_indices(y, p2);
  for (std::size_t k = 0; k < p2; ++k) weekly_[k] /= daily_[k % p1];
  // Trend: half the mean of the per-step change between the first two periods and of the first
  // period's step-to-step differences; level: the first two periods' mean, moved back to step 0.
  std::vector<double> terms(p2);
  for (std::size_t k = 0; k < p2; ++k) {
    const double difference = k == 0 ? 0.0 : y[k] - y[k - 1];
    terms[k] = (y[k] - y[k + p2]) / static_cast<double>(p2) + difference;
  }
  trend_ = mean_as_r(terms.data(), p2) / 2;
  level_ = mean_as_r(y.data(), 2 * p2) - (static_cast<double>(p2) + 0.5) * trend_;
}

double DoubleSeasonalFilter::forecast() const {
  const double raw = (level_ + trend_) * daily_[step_ % static_cast<std::size_t>(period1_)] *
                     weekly_[step_ % static_cast<std::size_t>(period2_)];
  return raw + p_.phi * last_error_;
}

void DoubleSeasonalFilter::update(double y) {
  double& daily = daily_[step_ % static_cast<std::size_t>(period1_)];
  double& weekly = weekly_[step_ % static_cast<std::size_t>(period2_)];
  last_error_ = y - (level_ + trend_) * daily * weekly;
  const double level = p_.alpha * (y / (daily * weekly)) + (1 - p_.alpha) * (level_ + trend_);
  trend_ = p_.beta * (level - level_) + (1 - p_.beta) * trend_;
  const double previous_daily = daily;
  daily = p_.gamma * (y / (level * weekly)) + (1 - p_.gamma) * daily;
  weekly = p_.omega * (y / (level * previous_daily)) + (1 - p_.omega) * weekly;
  level_ = level;
  ++step_;
}

std::vector<double> dshw_one_step_forecasts(const std::vector<double>& y, int period1, int period2,
                                            const DshwParameters& parameters) {
  DoubleSeasonalFilter filter(y, period1, period2, parameters);
  std::vector<double> out(y.size());
  for (std::size_t k = 0; k < y.size(); ++k) {
    out[k] = filter.forecast();
    filter.update(y[k]);
  }
  return out;
}

double dshw_mse(const std::vector<double>& y, int period1, int period2, const DshwParameters& parameters) {
  const double values[] = {parameters.alpha, parameters.beta, parameters.gamma, parameters.omega, parameters.phi};
  for (double v : values) {
    if (v > 0.99 || v < 0) return std::numeric_limits<double>::infinity();
  }
  if (parameters.phi > 0.9) return std::numeric_limits<double>::infinity();
  DshwParameters used = parameters;
  if (std::fabs(used.phi) <= 1e-7) used.phi = 0;  // R runs without the AR(1) step then
  const std::vector<double> forecasts = dshw_one_step_forecasts(y, period1, period2, used);
  std::vector<double> squares(y.size());
  for (std::size_t k = 0; k < y.size(); ++k) squares[k] = (y[k] - forecasts[k]) * (y[k] - forecasts[k]);
  return mean_as_r(squares.data(), squares.size());
}

DshwParameters fit_dshw(const std::vector<double>& y, int period1, int period2, DshwFit fit) {
  if (!all_positive(y)) {
    throw InputError("double seasonal Holt-Winters (multiplicative) needs every reading > 0: this series has zeros or "
                     "negative readings");
  }
  (void)DoubleSeasonalFilter(y, period1, period2, DshwParameters{});  // checks length and periods
  const auto unpack = [](const std::vector<double>& v) { return DshwParameters{v[0], v[1], v[2], v[3], v[4]}; };
  const auto criterion = [&](const std::vector<double>& v) { return dshw_mse(y, period1, period2, unpack(v)); };
  const std::vector<double> r_start = {0.1, 0.01, 0.001, 0.001, 0};
  if (fit == DshwFit::kAsR) return unpack(minimize_nelder_mead(criterion, r_start).point);
  const auto converge = [&](const std::vector<double>& start) {
    NelderMeadResult best = minimize_nelder_mead(criterion, start);
    constexpr int kMaxRestarts = 50;
    for (int restart = 0; restart < kMaxRestarts; ++restart) {
      const NelderMeadResult next = minimize_nelder_mead(criterion, best.point);
      const bool improved = next.value < best.value * (1 - 1e-9);
      if (next.value < best.value) best = next;
      if (!improved) break;
    }
    return best;
  };
  // R's start and two inside the box: one run from R's start alone can settle in a poor local
  // minimum (Taylor's first 9 weeks: mean squared error 28,301 there, 22,409 from the others).
  NelderMeadResult best = converge(r_start);
  for (const std::vector<double>& start : {std::vector<double>{0.02, 0.001, 0.1, 0.1, 0.5},
                                           std::vector<double>{0.3, 0.001, 0.1, 0.3, 0.5}}) {
    const NelderMeadResult next = converge(start);
    if (next.value < best.value) best = next;
  }
  return unpack(best.point);
}

}  // namespace edgelstm::host
