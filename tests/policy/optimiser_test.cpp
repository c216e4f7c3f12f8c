// The optimiser: GLPK's MILP against an exhaustive search on tiny instances and against the exact
// dynamic program on real days of a household, for several battery shapes and start levels.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "policy/battery.h"
#include "policy/dynamic_program.h"
#include "policy/home.h"
#include "policy/milp_schedule.h"
#include "policy/schedule.h"

namespace {

using namespace edgelstm::policy;

// A home of `demand.size()` half-hours with the given import prices.
Home tiny_home(const std::vector<double>& demand, const std::vector<double>& price, double feed_in) {
  Home home;
  home.name = "tiny";
  home.demand_kwh = demand;
  home.price = price;
  home.feed_in_price = feed_in;
  for (std::size_t t = 0; t < demand.size(); ++t) {
    home.times.push_back(static_cast<std::int64_t>(t) * 1800);
    home.band.push_back(TariffBand::kShoulder);
    home.working.push_back(true);
  }
  home.peak_price = *std::max_element(price.begin(), price.end());
  return home;
}

struct Best {
  double objective = std::numeric_limits<double>::infinity(), cost = std::numeric_limits<double>::infinity();
  std::vector<int> actions;
};

// Every sequence of feasible actions, by recursion over the steps.
void search(const Battery& battery, const Home& home, std::size_t t, int level, double cost, double objective,
            std::vector<int>& actions, Best* best) {
  if (t == home.steps()) {
    if (objective < best->objective) {
      best->objective = objective;
      best->actions = actions;
    }
    best->cost = std::min(best->cost, cost);
    return;
  }
  for (int a = -battery.levels(); a <= battery.levels(); ++a) {
    if (level + a < 0 || level + a > battery.top()) continue;
    const StepOutcome out = battery.step(level, a, home.demand_kwh[t], home.price[t], home.feed_in_price);
    actions.push_back(a);
    search(battery, home, t + 1, level + a, cost + out.cost, objective + out.cost + kTieBreak * (level + a), actions, best);
    actions.pop_back();
  }
}

TEST(PolicyOptimiser, MilpEqualsExhaustiveSearchOnTinyInstances) {
  std::mt19937 random(2023);
  std::uniform_real_distribution<double> demand(0.0, 1.2);
  const double prices[] = {0.12, 0.20, 0.50};
  for (int instance = 0; instance < 12; ++instance) {
    std::vector<double> d, p;
    for (int t = 0; t < 8; ++t) {
      d.push_back(demand(random));
      p.push_back(prices[random() % 3]);
    }
    const Home home = tiny_home(d, p, instance % 2 == 0 ? 0.08 : 0.0);
    BatteryConfig config;
    config.capacity_kwh = 2.5;  // 4 levels of 0.474 kWh within 10-90%: the limits bind
    config.levels = 1 + instance % 3;
    config.power_kw = 2.0 * config.levels / 2;  // the same step at every level count
    config.soc_initial = instance % 4 == 0 ? 0.5 : 0.1;
    const Battery battery(config, 0.5);
    ASSERT_EQ(battery.top(), 4);
    Best best;
    std::vector<int> actions;
    search(battery, home, 0, battery.initial_level(), 0, 0, actions, &best);
    const MilpResult milp = solve_milp(battery, home, {0, home.steps()}, battery.initial_level());
    const ValueTable dp(battery, home, {0, home.steps()}, kTieBreak), cost_only(battery, home, {0, home.steps()}, 0.0);
    EXPECT_NEAR(milp.schedule.objective, best.objective, 1e-9) << "instance " << instance;
    EXPECT_NEAR(milp.solver_objective, best.objective, 1e-6) << "instance " << instance;
    EXPECT_NEAR(dp.value(0, battery.initial_level()), best.objective, 1e-12) << "instance " << instance;
    EXPECT_NEAR(cost_only.value(0, battery.initial_level()), best.cost, 1e-12) << "instance " << instance;
    EXPECT_EQ(milp.schedule.actions, best.actions) << "instance " << instance;
    // The tie-break costs at most its own weight over the steps and levels (schedule.h).
    EXPECT_LE(milp.schedule.cost - best.cost, kTieBreak * 8 * battery.top() + 1e-12) << "instance " << instance;
  }
}

TEST(PolicyOptimiser, MilpEqualsTheDynamicProgramOnRealDays) {
  const Home home = load_home(EDGELSTM_SOURCE_DIR "/data/sgsc_50hh_30min_2013-04-02_2013-05-29.csv", "timestamp", "10017482",
                              TimeOfUseTariff{});
  for (int levels = 1; levels <= 3; ++levels) {
    BatteryConfig config;
    config.levels = levels;
    config.soc_initial = 0.5;
    const Battery battery(config, home.interval_hours);
    const StepRange days{10 * 48, 15 * 48};  // Friday 12 April to Tuesday 16 April: a weekend inside
    const MilpResult milp = solve_milp(battery, home, days, battery.initial_level());
    const ValueTable dp(battery, home, days, kTieBreak);
    const Schedule optimum = dp.schedule(battery.initial_level());
    EXPECT_NEAR(milp.schedule.objective, optimum.objective, 1e-9) << levels << " levels";
    EXPECT_NEAR(milp.schedule.cost, optimum.cost, 1e-9) << levels << " levels";
    EXPECT_EQ(milp.schedule.actions, optimum.actions) << levels << " levels";
    EXPECT_LT(milp.schedule.cost, cost_without_battery(home, days) - 1.0) << "the battery must save something";
    EXPECT_EQ(milp.integer_variables, static_cast<int>(days.size()) * 2 * levels);
  }
}

TEST(PolicyOptimiser, DynamicProgramJudgesActionsFromAnyState) {
  const Home home = tiny_home({0.2, 0.9, 0.8, 0.1}, {0.12, 0.50, 0.50, 0.12}, 0.0);
  BatteryConfig config;
  config.capacity_kwh = 2.5;
  const Battery battery(config, 0.5);
  const ValueTable judge(battery, home, {0, 4}, 0.0);
  // Empty at a cheap step before two dear ones: charging is optimal, idling is not.
  EXPECT_TRUE(judge.optimal(0, 0, 2));
  EXPECT_FALSE(judge.optimal(0, 0, 0));
  // At the last step, stored energy is worth only the import it avoids: discharge (either level
  // covers the 0.1 kWh; the rest earns nothing without a feed-in price), never idle or charge.
  EXPECT_TRUE(judge.optimal(3, 2, -1));
  EXPECT_TRUE(judge.optimal(3, 2, -2));
  EXPECT_FALSE(judge.optimal(3, 2, 0));
  EXPECT_FALSE(judge.optimal(3, 2, 2));
  // Two levels before two dear steps of 0.9 and 0.8 kWh: all now (0.9 covered, 0.8 imported) or one
  // level each (0.45 of each covered) import the same 0.8 kWh at the peak price; idling now does not.
  EXPECT_TRUE(judge.optimal(1, 2, -2));
  EXPECT_TRUE(judge.optimal(1, 2, -1));
  EXPECT_FALSE(judge.optimal(1, 2, 0));
}

}  // namespace
