// Double seasonal Holt-Winters against R's forecast::dshw (run here through Rscript: Debian
// r-cran-forecast, installed by scripts/install-deps.sh), and the Nelder-Mead minimizer it fits with.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "host/baselines.h"
#include "host/csv_reader.h"
#include "host/double_seasonal.h"
#include "host/nelder_mead.h"

namespace {

using namespace edgelstm::host;

constexpr const char* kTaylor = EDGELSTM_SOURCE_DIR "/data/taylor_england_wales_halfhourly_demand_2000.csv";

std::vector<double> taylor() {
  return read_table(kTaylor, "timestamp", {ColumnRequest{"demand_mw", true}}, true).numbers[0];
}

TEST(DoubleSeasonal, NelderMeadFindsTheRosenbrockMinimum) {
  const auto rosenbrock = [](const std::vector<double>& v) {
    return 100 * (v[1] - v[0] * v[0]) * (v[1] - v[0] * v[0]) + (1 - v[0]) * (1 - v[0]);
  };
  NelderMeadOptions options;
  options.max_evaluations = 5000;
  const NelderMeadResult r = minimize_nelder_mead(rosenbrock, {-1.2, 1.0}, options);
  EXPECT_TRUE(r.converged);
  EXPECT_NEAR(r.point[0], 1.0, 1e-3);
  EXPECT_NEAR(r.point[1], 1.0, 2e-3);
  // Outside a feasible region (+inf) counts as very large, and the search stays inside.
  const NelderMeadResult bounded = minimize_nelder_mead(
      [](const std::vector<double>& v) { return v[0] < 0.5 ? INFINITY : (v[0] - 0.2) * (v[0] - 0.2); }, {1.0});
  EXPECT_GE(bounded.point[0], 0.5);
  EXPECT_LT(bounded.point[0], 0.51);
}

TEST(DoubleSeasonal, ParametersRoundTripAndBadOnesAreRefused) {
  const DshwParameters p{0.4051979598670622, 2.866688959031848e-4, 0.2846152915202543, 0.4839744010256525, 0.6152936824494097};
  const DshwParameters back = DshwParameters::decode(p.encode());
  EXPECT_EQ(back.alpha, p.alpha);
  EXPECT_EQ(back.phi, p.phi);
  EXPECT_THROW(DshwParameters::decode("alpha=0.1;beta=0.1;gamma=0.1;omega=0.1"), InputError);
  EXPECT_THROW(DshwParameters::decode("alpha=2;beta=0.1;gamma=0.1;omega=0.1;phi=0"), InputError);
  EXPECT_THROW(DshwParameters::decode("alpha=nan;beta=0.1;gamma=0.1;omega=0.1;phi=0"), InputError);
  // Multiplicative: a reading of 0 is refused, and so is a series shorter than two weeks.
  std::vector<double> y(2 * 336, 100.0);
  y[5] = 0;
  EXPECT_THROW(fit_dshw(y, 48, 336), InputError);
  EXPECT_THROW(fit_dshw(std::vector<double>(600, 100.0), 48, 336), InputError);
  EXPECT_FALSE(double_seasonal_unavailable(y, 1800, 672).empty());
  EXPECT_FALSE(double_seasonal_unavailable(std::vector<double>(900, 1.0), 86400, 800).empty());
}

// (Suite DoubleSeasonalR: R's fit takes ~30 s of R code, so it runs in the portable build only.)
// R fits dshw on all of Taylor but the last two weeks and runs it one step ahead over them
// (fitted(dshw(y, model = fit))), and also runs the recursions with given parameters. The project's
// fit as R (kAsR) must find R's parameters and R's forecasts, and its recursions must give R's
// one-step forecasts for the same parameters over the whole series; the converged fit must reach
// a lower criterion than R's.
TEST(DoubleSeasonalR, MatchesRsDshwOnTaylor) {
  const std::vector<double> y = taylor();
  const std::size_t test = 672, n = y.size();
  const std::vector<double> before(y.begin(), y.end() - static_cast<std::ptrdiff_t>(test));
  const DshwParameters ours = fit_dshw(before, 48, 336, DshwFit::kAsR);
  const DshwParameters converged = fit_dshw(before, 48, 336, DshwFit::kConverged);
  const std::string dir = testing::TempDir();
  const std::string script = dir + "/dshw_check.R", out = dir + "/dshw_r.txt", fitted = dir + "/dshw_r_fitted.txt";
  {
    std::ofstream r(script);
    r.precision(17);  // the parameters passed to R exactly
    r << "suppressMessages(library(forecast))\n"
      << "y <- read.csv('" << kTaylor << "')$demand_mw\n"
      << "n <- length(y); h <- " << test << "\n"
      << "fit <- dshw(msts(y[1:(n - h)], c(48, 336)))\n"
      << "f <- as.numeric(fitted(dshw(msts(y, c(48, 336)), model = fit)))[(n - h + 1):n]\n"
      << "m <- fit$model\n"
      << "out <- file('" << out << "', 'w')\n"
      << "writeLines(sprintf('%.17g', c(m$alpha, m$beta, m$gamma, m$omega, m$phi, m$mse)), out)\n"
      << "writeLines(sprintf('%.17g', f), out)\n"
      << "close(out)\n"
      << "given <- dshw(msts(y, c(48, 336)), alpha = " << converged.alpha << ", beta = " << converged.beta
      << ", gamma = " << converged.gamma << ", omega = " << converged.omega << ", phi = " << converged.phi << ")\n"
      << "writeLines(sprintf('%.17g', as.numeric(fitted(given))), '" << fitted << "')\n";
  }
  const std::string command = std::string(EDGELSTM_RSCRIPT) + " " + script;
  ASSERT_EQ(std::system(command.c_str()), 0)
      << command << " failed: R with the forecast package is needed (Debian: sudo apt-get install r-cran-forecast; "
      << "scripts/install-deps.sh installs it)";
  std::ifstream in(out);
  double r_fit[6];
  for (double& v : r_fit) ASSERT_TRUE(in >> v);
  std::vector<double> r_forecast(test);
  for (double& v : r_forecast) ASSERT_TRUE(in >> v);

  const double our_fit[5] = {ours.alpha, ours.beta, ours.gamma, ours.omega, ours.phi};
  for (int k = 0; k < 5; ++k) EXPECT_NEAR(our_fit[k], r_fit[k], 1e-6 * std::fabs(r_fit[k]) + 1e-12) << "parameter " << k;
  EXPECT_NEAR(dshw_mse(before, 48, 336, ours), r_fit[5], 1e-6 * r_fit[5]);
  const std::vector<double> forecast = dshw_one_step_forecasts(y, 48, 336, ours);
  double mae = 0, squares = 0, percent = 0;
  for (std::size_t k = 0; k < test; ++k) {
    const std::size_t t = n - test + k;
    EXPECT_NEAR(forecast[t], r_forecast[k], 1e-6 * r_forecast[k]) << "test step " << k;
    mae += std::fabs(forecast[t] - y[t]);
    squares += (forecast[t] - y[t]) * (forecast[t] - y[t]);
    percent += 100 * std::fabs(forecast[t] - y[t]) / y[t];
  }
  // The published figures the forecasting issue quotes: MAPE 0.368%, MAE 109 MW, RMSE 152 MW.
  std::printf("R's dshw (and ours fitted as R): alpha %.4f beta %.3g gamma %.4f omega %.4f phi %.4f; test MAPE %.4f%%, "
              "MAE %.2f, RMSE %.2f\n", ours.alpha, ours.beta, ours.gamma, ours.omega, ours.phi, percent / test, mae / test,
              std::sqrt(squares / test));
  EXPECT_NEAR(percent / test, 0.3677, 0.0001);
  EXPECT_NEAR(mae / test, 109.08, 0.01);
  EXPECT_NEAR(std::sqrt(squares / test), 151.87, 0.01);

  // The recursions and the initial state alone: R's one-step forecasts for the converged
  // parameters, over all 4032 readings.
  std::ifstream given(fitted);
  const std::vector<double> mine = dshw_one_step_forecasts(y, 48, 336, converged);
  double worst = 0;
  for (std::size_t t = 0; t < n; ++t) {
    double theirs = 0;
    ASSERT_TRUE(given >> theirs) << "R gave fewer fitted values than readings";
    worst = std::max(worst, std::fabs(mine[t] - theirs) / theirs);
  }
  std::printf("converged parameters: largest relative difference from R's one-step forecasts %.2g\n", worst);
  EXPECT_LT(worst, 1e-9);
  // Converged means a lower criterion than R's single run.
  EXPECT_LT(dshw_mse(before, 48, 336, converged), 0.9 * r_fit[5]);
}

}  // namespace
