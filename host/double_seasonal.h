// Taylor's double seasonal Holt-Winters method (multiplicative, with the AR(1) adjustment of the
// one-step error): J. W. Taylor (2003), "Short-term electricity demand forecasting using double
// seasonal exponential smoothing", J. Operational Research Society 54, 799-805. The same
// recursions, initial state and parameter fit as R's forecast::dshw (checked against R by the
// test host.DoubleSeasonalR), so eval's baseline is the published method, not a look-alike.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace edgelstm::host {

struct DshwParameters {
  double alpha = 0;  // level
  double beta = 0;   // trend
  double gamma = 0;  // the shorter (daily) season
  double omega = 0;  // the longer (weekly) season
  double phi = 0;    // AR(1) adjustment: the forecast adds phi times the last one-step error
  std::string encode() const;                             // "alpha=...;beta=...;..." (17 digits)
  static DshwParameters decode(const std::string& text);  // throws InputError on a bad string
};

// The state of the method over a stream: level s, trend t, the daily indices I (period1 of them)
// and the weekly indices w (period2, nested: period2 a multiple of period1), and the last error.
//   forecast of y[k]:  (s + t) I[k mod p1] w[k mod p2] + phi e[k-1]
//   after y[k]:        e[k] = y[k] - (s + t) I w,
//                      s' = alpha y/(I w) + (1 - alpha)(s + t),  t' = beta (s' - s) + (1 - beta) t,
//                      I  = gamma y/(s' w) + (1 - gamma) I,       w  = omega y/(s' I) + (1 - omega) w.
class DoubleSeasonalFilter {
 public:
  // The initial state of R's dshw from the first 2 * period2 readings of `y` (classical
  // decomposition: centred moving averages of each period, level and trend from the first two
  // longer periods). Throws InputError when `y` is shorter, not positive there, or the periods
  // are not nested.
  DoubleSeasonalFilter(const std::vector<double>& y, int period1, int period2, const DshwParameters& parameters);

  double forecast() const;  // the one-step forecast of the next reading
  void update(double y);    // takes the next reading (must be > 0 for the state to stay meaningful)
  std::size_t steps() const { return step_; }

 private:
  DshwParameters p_;
  int period1_, period2_;
  double level_ = 0, trend_ = 0, last_error_ = 0;
  std::vector<double> daily_, weekly_;
  std::size_t step_ = 0;
};

// The one-step forecasts of y[0 .. n-1] by a filter started from y's first 2 * period2 readings
// (R: fitted(dshw(y, model = fit))): forecast k uses y[0 .. k-1] and the initial state.
std::vector<double> dshw_one_step_forecasts(const std::vector<double>& y, int period1, int period2,
                                            const DshwParameters& parameters);

// R's criterion: the mean squared one-step error over all of y; +inf outside 0 <= parameters <=
// 0.99, phi <= 0.9.
double dshw_mse(const std::vector<double>& y, int period1, int period2, const DshwParameters& parameters);

// How the parameters are fitted: as R does (one Nelder-Mead run of at most 500 evaluations, which
// often stops before the minimum: on Taylor's first 9 weeks it ends at omega 0.987 and a test
// MAPE of 0.64%), or converged: Nelder-Mead restarted from where each run ended until a run
// improves the criterion by less than a relative 1e-9, from R's start and two more, the lowest
// kept (0.33% there).
enum class DshwFit { kAsR, kConverged };

// R's fit (forecast:::par_dshw): Nelder-Mead on dshw_mse from alpha 0.1, beta 0.01, gamma 0.001,
// omega 0.001, phi 0 with optim's defaults; kConverged restarts it. Throws InputError when y holds
// a reading <= 0 or fewer than 2 * period2 readings.
DshwParameters fit_dshw(const std::vector<double>& y, int period1, int period2, DshwFit fit = DshwFit::kAsR);

// Whether every reading is > 0 (the multiplicative method needs it).
bool all_positive(const std::vector<double>& y);

}  // namespace edgelstm::host
