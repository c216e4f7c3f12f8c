// The learned policies, small and bounded here (the paper's 100-unit network trains in the demo):
// the LSTM policy trained on the optimiser's actions beats the installer's rule in closed loop on
// the test span; tabular Q-learning finds the optimum of a home whose days repeat; the integer path
// decides like the float network; scores mean what they say.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "host/integer_forecaster.h"
#include "host/model_io.h"
#include "policy/closed_loop.h"
#include "policy/dynamic_program.h"
#include "policy/home.h"
#include "policy/lstm_policy.h"
#include "policy/milp_schedule.h"
#include "policy/q_learning.h"
#include "policy/rule_policy.h"

namespace {

using namespace edgelstm::policy;

const char* const kMeters = EDGELSTM_SOURCE_DIR "/data/sgsc_50hh_30min_2013-04-02_2013-05-29.csv";

struct StudiedHome {
  TimeOfUseTariff tariff;
  Home home = load_home(kMeters, "timestamp", "10006664", tariff);
  Battery battery{BatteryConfig{}, home.interval_hours};
  HomeSplit split = split_home(home);
  Readings readings = readings_of(home.demand_kwh, split.train);
  SpanOptimum optimum{battery, home, split.test, battery.initial_level(),
                      solve_milp(battery, home, split.test, battery.initial_level()).schedule};
};

TEST(PolicyScores, OptimumScoresFullMarksAndIdleNothing) {
  const StudiedHome s;
  const PolicyScore best = score_policy(s.battery, s.home, s.optimum,
                                        [&](std::size_t t, int level) { return s.optimum.judge.best_action(t, level); });
  EXPECT_NEAR(best.saving_share, 1.0, 1e-9);
  EXPECT_DOUBLE_EQ(best.good_own_path, 1.0);
  const PolicyScore idle = score_policy(s.battery, s.home, s.optimum, [](std::size_t, int) { return 0; });
  EXPECT_NEAR(idle.saving_share, 0.0, 1e-12);
  EXPECT_NEAR(idle.cost, s.optimum.no_battery_cost, 1e-9);
  EXPECT_LT(idle.good_own_path, 0.95);  // never charging misses the night's charging steps
  // The optimiser's labels replayed: every label matches.
  std::size_t k = 0;
  const PolicyScore labels = score_policy(s.battery, s.home, s.optimum, [&](std::size_t, int) {
    return s.optimum.schedule.actions[k++ % s.optimum.schedule.actions.size()];
  });
  EXPECT_DOUBLE_EQ(labels.good_optimum_path, 1.0);
}

TEST(PolicyLstm, BeatsTheRuleBaselineInClosedLoop) {
  const StudiedHome s;
  const ValueTable labels(s.battery, s.home, s.split.train, kTieBreak);
  LstmPolicyOptions options;
  options.hidden = 24;
  options.epochs = 8;
  options.seed = 3;
  const PolicyExamples examples = every_level_examples(s.home, s.battery, s.readings, labels, s.split.train, options.window);
  const edgelstm::host::ModelFile model = train_lstm_policy(examples, s.battery, s.readings, options, {}, nullptr);
  LstmPolicyNetwork network(model);
  const PolicyScore lstm = score_policy(s.battery, s.home, s.optimum,
                                       lstm_decider(network.net(), s.home, s.battery, s.readings, options.window));
  const PolicyScore rule = score_policy(s.battery, s.home, s.optimum,
                                        [&](std::size_t t, int) { return rule_action(s.battery, s.home, s.readings, t); });
  std::printf("test span, closed loop: LSTM %.1f%% of the optimal saving (good actions %.1f%%), rule %.1f%%\n",
              100 * lstm.saving_share, 100 * lstm.good_optimum_path, 100 * rule.saving_share);
  EXPECT_GT(lstm.saving_share, rule.saving_share + 0.05);
  EXPECT_GT(lstm.good_optimum_path, rule.good_optimum_path);

  // The model file keeps what the policy needs; a forecaster is not a policy.
  const std::string path = testing::TempDir() + "policy_test.elstm";
  edgelstm::host::save_model(model, path);
  const edgelstm::host::ModelFile loaded = edgelstm::host::load_model(path);
  EXPECT_NO_THROW(check_policy_model(loaded, s.battery));
  EXPECT_EQ(policy_readings(loaded, s.home.demand_kwh).mean, s.readings.mean);
  edgelstm::host::ModelFile forecaster = loaded;
  forecaster.texts.clear();
  EXPECT_THROW(check_policy_model(forecaster, s.battery), edgelstm::host::InputError);
  std::remove(path.c_str());

  // The full-integer path decides like the float network on nearly every step of the optimum's path.
  const edgelstm::host::ModelFile integer =
      edgelstm::host::to_integer_model(model, edgelstm::host::calibrate_integer_windows(model, examples.windows));
  edgelstm::host::BoundIntegerModel bound(integer);
  const DecideFunction on_float = lstm_decider(network.net(), s.home, s.battery, s.readings, options.window);
  const DecideFunction on_integer = lstm_decider(bound.adapter(), s.home, s.battery, s.readings, options.window);
  std::size_t same = 0;
  for (std::size_t k = 0; k < s.split.test.size(); ++k) {
    const int level = s.optimum.schedule.levels[k];
    same += on_float(s.split.test.begin + k, level) == on_integer(s.split.test.begin + k, level) ? 1 : 0;
  }
  std::printf("integer and float decide alike on %zu of %zu steps\n", same, s.split.test.size());
  EXPECT_GE(same, s.split.test.size() * 97 / 100);
}

TEST(PolicyQLearning, FindsTheOptimumOfAHomeWhoseDaysRepeat) {
  // Two weeks of one working day's readings: the best action depends only on the time of day and
  // the state of charge, which the table sees, so Q-learning must come close to the optimum.
  const StudiedHome s;
  std::vector<double> demand;
  std::vector<std::int64_t> times;
  for (std::size_t t = 0; t < 14 * 48; ++t) {
    demand.push_back(s.home.demand_kwh[48 + t % 48]);  // Wednesday 3 April 2013
    times.push_back(s.home.times[48] + static_cast<std::int64_t>(t) * 1800);
  }
  TimeOfUseTariff weekdays_only = s.tariff;
  weekdays_only.holidays.clear();
  Home home = make_home("repeated day", demand, times, weekdays_only);
  for (std::size_t t = 0; t < home.steps(); ++t) {  // every day a working day, so every day is the same problem
    home.working[t] = true;
    home.band[t] = weekdays_only.band(s.home.times[48 + t % 48]);
    home.price[t] = weekdays_only.band_price(home.band[t]);
  }
  const StepRange all{0, home.steps()};
  const Readings readings = readings_of(home.demand_kwh, all);
  const SpanOptimum optimum(s.battery, home, all, 0, solve_milp(s.battery, home, all, 0).schedule);
  QLearningOptions options;
  options.demand_bins = 1;
  options.alpha = 0.5;  // deterministic transitions: a large step converges fast (0.1 stalls near 45% here)
  options.episodes = 800;
  options.epsilon_decay = 0.995;
  QTable table(s.battery, home, readings, all, options);
  train_q_learning(table, options, {}, nullptr);
  const PolicyScore q = score_policy(s.battery, home, optimum, table.greedy());
  std::printf("repeated day: Q-learning %.1f%% of the optimal saving, %zu of %zu states visited\n", 100 * q.saving_share,
              table.visited_states(), table.states());
  EXPECT_GT(q.saving_share, 0.9);
}

}  // namespace
