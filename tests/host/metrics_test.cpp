// Forecast metrics at zero readings, MASE's scale, failed forecasts, and tables that print the
// digits the data's scale needs (a household meter's kWh per half-hour as well as MW).
#include <gtest/gtest.h>

#include <cmath>

#include "host/csv_reader.h"
#include "host/metrics.h"

namespace {

using namespace edgelstm::host;

TEST(Metrics, ZeroReadingsLeaveMapeUndefinedAndTheOthersDefined) {
  // Readings 0, 1, 2 forecast as 0, 1.5, 2: errors 0, 0.5, 0.
  const Metrics m = metrics_of({0.0, 1.5, 2.0}, {0.0, 1.0, 2.0}, 0.25);
  ASSERT_TRUE(m.defined());
  EXPECT_DOUBLE_EQ(m.mae, 0.5 / 3);
  EXPECT_DOUBLE_EQ(m.rmse, std::sqrt(0.25 / 3));
  EXPECT_FALSE(m.mape.has_value());
  // sMAPE: the term where forecast and reading are both 0 counts 0; 2 * 0.5 / 2.5 for the second.
  EXPECT_DOUBLE_EQ(m.smape, 100.0 * (2 * 0.5 / 2.5) / 3);
  ASSERT_TRUE(m.mase.has_value());
  EXPECT_DOUBLE_EQ(*m.mase, (0.5 / 3) / 0.25);
  // Without a zero reading, MAPE is the mean relative error.
  EXPECT_DOUBLE_EQ(*metrics_of({1.5, 2.0}, {1.0, 2.0}).mape, 100.0 * 0.5 / 2);

  const std::string table = metrics_table("forecaster", {{"meter", m, {}}});
  EXPECT_NE(table.find("| meter | 0.167 | 0.289 | n/a | 13.3% | 0.667 |"), std::string::npos) << table;
  EXPECT_NE(table.find("MAPE n/a: the span holds readings of 0"), std::string::npos) << table;
  EXPECT_EQ(table.find("inf"), std::string::npos) << table;
  EXPECT_EQ(table.find("nan"), std::string::npos) << table;
}

TEST(Metrics, MaseIsScaledByPersistencesStepAndUndefinedWithoutChange) {
  EXPECT_DOUBLE_EQ(persistence_scale({1, 3, 2, 2, 5}, 5), (2 + 1 + 0 + 3) / 4.0);
  EXPECT_DOUBLE_EQ(persistence_scale({1, 3, 2, 2, 5}, 3), (2 + 1) / 2.0);  // only before the span
  const double vacant = persistence_scale({0, 0, 0, 0}, 4);  // a meter that reads 0 throughout
  EXPECT_EQ(vacant, 0.0);
  const Metrics m = metrics_of({0.1, 0.1}, {0.0, 0.0}, vacant);
  EXPECT_FALSE(m.mase.has_value());
  EXPECT_FALSE(m.mape.has_value());
  EXPECT_DOUBLE_EQ(m.smape, 200.0);  // a forecast above a zero reading is as wrong as sMAPE gets
  const std::string table = metrics_table("forecaster", {{"vacant", m, {}}});
  EXPECT_NE(table.find("MASE n/a: the series does not change"), std::string::npos) << table;
}

TEST(Metrics, NotFiniteForecastsLeaveTheRowUndefined) {
  const Metrics m = metrics_of({1.0, NAN, 2.0}, {1.0, 1.0, 2.0}, 1.0);
  EXPECT_FALSE(m.defined());
  EXPECT_EQ(m.failed, 1u);
  const std::string table = metrics_table("forecaster", {{"broken", m, {}}, {"unavailable", {}, "no reason"}});
  EXPECT_NE(table.find("| broken | n/a | n/a | n/a | n/a | n/a |"), std::string::npos) << table;
  EXPECT_NE(table.find("unavailable: n/a, no reason."), std::string::npos) << table;
  EXPECT_EQ(table.find("nan"), std::string::npos) << table;
  EXPECT_THROW(score_of(m, Score::kMae, "validation"), InputError);
}

TEST(Metrics, TablesPrintTheDigitsTheDataNeeds) {
  EXPECT_EQ(decimals_for(109.08), 0);
  EXPECT_EQ(decimals_for(96.7), 1);
  EXPECT_EQ(decimals_for(0.1523), 3);
  EXPECT_EQ(decimals_for(0.004), 5);
  // A household meter: every MAE and RMSE below 1 kWh keeps three significant digits, and all rows
  // the same decimals so they compare.
  const Metrics lstm = metrics_of({0.20, 0.31, 0.12}, {0.25, 0.30, 0.10});
  const Metrics persistence = metrics_of({0.40, 0.25, 0.30}, {0.25, 0.30, 0.10});
  const std::string table = metrics_table("forecaster", {{"lstm", lstm, {}}, {"persistence", persistence, {}}});
  EXPECT_NE(table.find("| lstm | 0.0267 | 0.0316 |"), std::string::npos) << table;
  EXPECT_NE(table.find("| persistence | 0.1333 | 0.1472 |"), std::string::npos) << table;
  // A grid in MW: no decimals needed beyond the tens.
  const std::string mw = metrics_table("forecaster", {{"grid", metrics_of({30109.0}, {30000.0}), {}}});
  EXPECT_NE(mw.find("| grid | 109 | 109 | 0.363% |"), std::string::npos) << mw;
}

TEST(Metrics, EarlyStoppingScoresAndMapeAtZero) {
  EXPECT_EQ(parse_score("smape"), Score::kSmape);
  EXPECT_THROW(parse_score("mase"), InputError);
  const Metrics with_zero = metrics_of({1.0, 1.0}, {0.0, 2.0});
  EXPECT_DOUBLE_EQ(score_of(with_zero, Score::kMae, "validation"), 1.0);
  try {
    (void)score_of(with_zero, Score::kMape, "validation");
    ADD_FAILURE() << "MAPE over a zero reading was scored";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("holds a reading of 0"), std::string::npos) << error.what();
  }
}

}  // namespace
