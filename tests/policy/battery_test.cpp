// The battery environment's accounting, checked step by step against the physics it documents, and
// the refusals of a bad battery, tariff or meter file.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>

#include "host/csv_reader.h"
#include "policy/battery.h"
#include "policy/home.h"
#include "policy/schedule.h"
#include "policy/tariff.h"

namespace {

using namespace edgelstm::policy;
using edgelstm::host::InputError;

const char* const kMeters = EDGELSTM_SOURCE_DIR "/data/sgsc_50hh_30min_2013-04-02_2013-05-29.csv";

// Seconds since 1970 of a local date and time (days since 1970 from the proleptic Gregorian calendar).
std::int64_t at(int year, int month, int day, int hour, int minute) {
  const int y = year - (month <= 2);
  const int era = y / 400, yoe = y - era * 400;
  const int doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return (static_cast<std::int64_t>(era) * 146097 + doe - 719468) * 86400 + hour * 3600 + minute * 60;
}

// Checks every documented identity of one step (energies in kWh, cost in AUD).
void expect_accounted(const Battery& battery, const StepOutcome& out, double price, double feed_in) {
  const double u = battery.step_kwh(), eta = std::sqrt(battery.config().round_trip_efficiency);
  ASSERT_GE(out.level_after, 0);
  ASSERT_LE(out.level_after, battery.top());
  EXPECT_EQ(out.level_after - out.level_before, out.executed);
  // Stored energy: what charging adds (eta_c times the drawn energy), what discharging removes
  // (the delivered energy over eta_d).
  const double stored_change = eta * out.grid_to_battery - out.battery_to_home / eta;
  EXPECT_NEAR(stored_change, battery.stored_kwh(out.level_after) - battery.stored_kwh(out.level_before), 1e-12);
  EXPECT_NEAR(stored_change, out.executed * u, 1e-12);
  EXPECT_TRUE(out.grid_to_battery == 0 || out.battery_to_home == 0);
  // The meter: import - export = demand + charging - discharging, never both.
  EXPECT_NEAR(out.imported - out.exported, out.demand + out.grid_to_battery - out.battery_to_home, 1e-12);
  EXPECT_GE(out.imported, 0);
  EXPECT_GE(out.exported, 0);
  EXPECT_TRUE(out.imported == 0 || out.exported == 0);
  EXPECT_NEAR(out.cost, out.imported * price - out.exported * feed_in, 1e-12);
  // Never outside the state of charge limits.
  const BatteryConfig& c = battery.config();
  EXPECT_GE(battery.stored_kwh(out.level_after), c.soc_min * c.capacity_kwh - 1e-12);
  EXPECT_LE(battery.stored_kwh(out.level_after), c.soc_max * c.capacity_kwh + 1e-12);
  // The power limit: charging never draws more than power_kw over the step.
  EXPECT_LE(out.grid_to_battery, c.power_kw * battery.interval_hours() + 1e-12);
  EXPECT_LE(out.battery_to_home, c.power_kw * battery.interval_hours() + 1e-12);
}

TEST(PolicyBattery, LatticeFollowsTheConfiguration) {
  const Battery battery(BatteryConfig{}, 0.5);  // 5 kWh, 2 kW, 90%, 10-90%, 2 levels
  const double eta = std::sqrt(0.9);
  EXPECT_NEAR(battery.step_kwh(), 2.0 * 0.5 * eta / 2, 1e-15);       // 0.474 kWh stored per level
  EXPECT_EQ(battery.top(), static_cast<int>(std::floor(4.0 / (0.5 * eta))));  // 4 kWh usable: 8 steps
  EXPECT_EQ(battery.top(), 8);
  EXPECT_EQ(battery.actions(), 5);
  EXPECT_EQ(battery.initial_level(), 0);
  // Charging at the full level draws exactly the power limit for the step.
  EXPECT_NEAR(battery.step(0, 2, 0.3, 0.12, 0.08).grid_to_battery, 2.0 * 0.5, 1e-12);
  // Charge k levels, then discharge them: delivered / drawn = the round-trip efficiency.
  const StepOutcome charge = battery.step(0, 2, 0.0, 0.12, 0.0), discharge = battery.step(2, -2, 5.0, 0.5, 0.0);
  EXPECT_NEAR(discharge.battery_to_home / charge.grid_to_battery, 0.9, 1e-12);
}

TEST(PolicyBattery, EnergyBalanceHoldsAndLimitsHoldOnEveryStep) {
  const TimeOfUseTariff tariff;
  const Home home = load_home(kMeters, "timestamp", "10006664", tariff);
  BatteryConfig config;
  config.levels = 3;
  config.soc_initial = 0.5;
  const Battery battery(config, home.interval_hours);
  std::mt19937 random(17);
  std::vector<int> actions;
  // Random requests, including ones beyond the levels and long runs of full charge and discharge
  // that push against both limits.
  for (std::size_t t = 0; t < home.steps(); ++t) {
    const int phase = static_cast<int>(t / 100 % 3);
    actions.push_back(phase == 0 ? static_cast<int>(random() % 9) - 4 : phase == 1 ? 3 : -3);
  }
  const Schedule schedule = replay(battery, home, {0, home.steps()}, battery.initial_level(), actions);
  double cost = 0;
  int at_top = 0, at_bottom = 0;
  for (std::size_t t = 0; t < home.steps(); ++t) {
    const StepOutcome& out = schedule.steps[t];
    expect_accounted(battery, out, home.price[t], home.feed_in_price);
    EXPECT_EQ(out.demand, home.demand_kwh[t]);
    EXPECT_EQ(out.executed, std::clamp(std::clamp(actions[t], -3, 3), -out.level_before, battery.top() - out.level_before));
    at_top += out.level_after == battery.top() ? 1 : 0;
    at_bottom += out.level_after == 0 ? 1 : 0;
    cost += out.cost;
  }
  EXPECT_GT(at_top, 100);  // the limits were really pressed against
  EXPECT_GT(at_bottom, 100);
  EXPECT_NEAR(schedule.cost, cost, 1e-9);
  // With the battery idle the bill is the demand at its prices.
  const Schedule idle = replay(battery, home, {0, home.steps()}, 0, std::vector<int>(home.steps(), 0));
  EXPECT_NEAR(idle.cost, cost_without_battery(home, {0, home.steps()}), 1e-9);
}

TEST(PolicyBattery, BadConfigurationIsRefusedByName) {
  const auto refused = [](BatteryConfig config, const char* expected) {
    try {
      Battery battery(config, 0.5);
      ADD_FAILURE() << "accepted; expected a refusal mentioning " << expected;
    } catch (const InputError& error) {
      EXPECT_NE(std::string(error.what()).find(expected), std::string::npos) << error.what();
    }
  };
  BatteryConfig c;
  c.capacity_kwh = -5;
  refused(c, "capacity = -5, expected a capacity > 0 kWh");
  c = {};
  c.round_trip_efficiency = 1.2;
  refused(c, "round-trip efficiency = 1.2, expected a value in (0, 1]");
  c = {};
  c.round_trip_efficiency = NAN;
  refused(c, "round-trip efficiency");
  c = {};
  c.power_kw = 0;
  refused(c, "power limit = 0");
  c = {};
  c.soc_min = 0.9;
  c.soc_max = 0.5;
  refused(c, "soc_max = 0.5, expected a fraction in (soc_min, 1]");
  c = {};
  c.soc_initial = 0.95;
  refused(c, "soc_initial = 0.95");
  c = {};
  c.levels = 0;
  refused(c, "levels = 0");
  c = {};
  c.capacity_kwh = 0.5;  // 0.4 kWh usable, less than one level of 0.474 kWh
  refused(c, "smaller than one action level");
}

TEST(PolicyTariff, BandsFollowAusgridsTimeOfUseTariff) {
  const TimeOfUseTariff tariff;
  EXPECT_EQ(tariff.band(at(2013, 4, 2, 15, 0)), TariffBand::kPeak);      // Tuesday 15:00
  EXPECT_EQ(tariff.band(at(2013, 4, 2, 13, 30)), TariffBand::kShoulder);  // Tuesday 13:30
  EXPECT_EQ(tariff.band(at(2013, 4, 2, 19, 30)), TariffBand::kPeak);
  EXPECT_EQ(tariff.band(at(2013, 4, 2, 20, 0)), TariffBand::kShoulder);
  EXPECT_EQ(tariff.band(at(2013, 4, 2, 22, 0)), TariffBand::kOffPeak);
  EXPECT_EQ(tariff.band(at(2013, 4, 2, 6, 30)), TariffBand::kOffPeak);
  EXPECT_EQ(tariff.band(at(2013, 4, 2, 7, 0)), TariffBand::kShoulder);
  EXPECT_EQ(tariff.band(at(2013, 4, 6, 15, 0)), TariffBand::kShoulder);   // Saturday
  EXPECT_EQ(tariff.band(at(2013, 4, 25, 15, 0)), TariffBand::kShoulder);  // Anzac Day, a Thursday
  EXPECT_EQ(tariff.band(at(2013, 4, 26, 15, 0)), TariffBand::kPeak);      // the Friday after
  EXPECT_EQ(weekday_of(at(2013, 4, 2, 0, 0)), 1);                          // a Tuesday
  EXPECT_DOUBLE_EQ(tariff.price(at(2013, 4, 2, 15, 0)), 0.50);
}

TEST(PolicyTariff, BadTariffIsRefused) {
  const auto refused = [](TimeOfUseTariff tariff, const char* expected) {
    try {
      tariff.validate();
      ADD_FAILURE() << "accepted; expected " << expected;
    } catch (const InputError& error) {
      EXPECT_NE(std::string(error.what()).find(expected), std::string::npos) << error.what();
    }
  };
  TimeOfUseTariff t;
  t.feed_in_price = 0.15;
  refused(t, "exceeds the off-peak import price");
  t = {};
  t.shoulder_price = 0.60;
  refused(t, "expected off-peak <= shoulder <= peak");
  t = {};
  t.off_peak_price = -0.1;
  refused(t, "the off-peak price must be a finite price >= 0");
}

TEST(PolicyHome, MeterFileErrorsNameTheFileLineAndColumn) {
  const std::string path = testing::TempDir() + "policy_meters_bad.csv";
  {
    std::ofstream out(path);
    out << "timestamp,a,b\n2013-04-02 00:00,0.1,0.2\n2013-04-02 00:30,-0.1,0.2\n";
  }
  try {
    load_home(path, "timestamp", "a", TimeOfUseTariff{});
    ADD_FAILURE() << "a negative reading was accepted";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find(":3: column 'a': expected an energy >= 0 kWh"), std::string::npos) << error.what();
  }
  try {
    load_home(kMeters, "timestamp", "no-such-meter", TimeOfUseTariff{});
    ADD_FAILURE() << "an unknown meter was accepted";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("column 'no-such-meter': missing from the header"), std::string::npos);
  }
  std::remove(path.c_str());
}

TEST(PolicyHome, TrainingIsTheFirstTwoThirdsOfTheDays) {
  const Home home = load_home(kMeters, "timestamp", "10006664", TimeOfUseTariff{});
  ASSERT_EQ(home.steps(), 58u * 48u);
  const HomeSplit split = split_home(home);
  EXPECT_EQ(split.train.begin, 0u);
  EXPECT_EQ(split.train.end, 39u * 48u);  // 2/3 of 58 days = 38.7, rounded
  EXPECT_EQ(split.test.begin, split.train.end);
  EXPECT_EQ(split.test.end, home.steps());
  EXPECT_EQ(home.times[split.test.begin], at(2013, 5, 11, 0, 0));
}

}  // namespace
