#include "policy/policy_study.h"

#include <algorithm>
#include <cstdio>

#include "host/integer_forecaster.h"
#include "policy/dynamic_program.h"
#include "policy/milp_schedule.h"
#include "policy/mpc_policy.h"
#include "policy/number_text.h"
#include "policy/rule_policy.h"
#include "policy/sensor_noise.h"

namespace edgelstm::policy {

const char* const kIdle = "no battery use (always idle)";
const char* const kRule = "rule: charge at night, discharge at the peak";
const char* const kForecastMpc = "forecast MPC (yesterday's readings, exact DP)";
const char* const kInformedMpc = "informed MPC (also knows the half-hour's true demand)";
const char* const kLstm = "LSTM policy (labels from every state of charge)";
const char* const kLstmInteger = "LSTM policy, full integer (int8 weights, int16 activations)";
const char* const kLstmCloning = "LSTM policy, optimum's path only (behavioural cloning)";
const char* const kQLearning = "tabular Q-learning";

namespace {

void say(const StudyOptions& options, const std::string& line) {
  if (options.progress) options.progress(line);
}

OptimiserCheck check_optimiser(const Battery& battery, const Home& home, StepRange range, const MilpResult& milp,
                               const ValueTable& tie_broken) {
  OptimiserCheck check;
  check.range = range;
  check.no_battery_cost = cost_without_battery(home, range);
  check.milp_cost = milp.schedule.cost;
  check.milp_objective = milp.schedule.objective;
  check.solver_objective = milp.solver_objective;
  check.milp_seconds = milp.seconds;
  check.variables = milp.variables;
  check.integer_variables = milp.integer_variables;
  check.constraints = milp.constraints;
  const Schedule dp = tie_broken.schedule(battery.initial_level());
  check.dp_objective = dp.objective;
  check.dp_cost = dp.cost;
  check.cost_only_optimum = ValueTable(battery, home, range, 0.0).value(range.begin, battery.initial_level());
  for (std::size_t k = 0; k < dp.actions.size(); ++k) check.equal_actions += dp.actions[k] == milp.schedule.actions[k] ? 1 : 0;
  return check;
}

// Q-learning's checkpoints: the LSTM's, then every doubling of the episodes up to the budget.
std::vector<std::size_t> q_checkpoints(const std::vector<std::size_t>& lstm, std::size_t steps, std::size_t episodes) {
  std::vector<std::size_t> points = lstm;
  for (std::size_t e = 1; e <= episodes; e *= 2) points.push_back(e * steps);
  points.push_back(episodes * steps);
  std::sort(points.begin(), points.end());
  points.erase(std::unique(points.begin(), points.end()), points.end());
  return points;
}

MethodResult train_lstm(const char* name, const PolicyExamples& examples, const Battery& battery, const Home& home,
                        const Readings& readings, const SpanOptimum& optimum, const LstmPolicyOptions& options,
                        host::ModelFile* model) {
  MethodResult result;
  result.name = name;
  const std::vector<std::size_t> points = lstm_checkpoints(examples.steps, options.epochs);
  *model = train_lstm_policy(examples, battery, readings, options, points, [&](std::size_t samples, Network& net) {
    Schedule own;
    result.curve.push_back(
        {samples, score_policy(battery, home, optimum, lstm_decider(net, home, battery, readings, options.window), &own)});
    if (samples == points.back()) result.levels = own.levels;
  });
  result.score = result.curve.back().score;  // the final weights (the last checkpoint is the end of training)
  result.training_samples = result.curve.back().samples;
  return result;
}

}  // namespace

const MethodResult* ConditionResult::find(const std::string& method) const {
  for (const MethodResult& m : methods) {
    if (m.name == method) return &m;
  }
  return nullptr;
}

std::vector<std::size_t> lstm_checkpoints(std::size_t steps_per_epoch, int epochs) {
  std::vector<std::size_t> points;
  for (std::size_t early : {250, 500, 1000}) {
    if (early < steps_per_epoch) points.push_back(early);
  }
  for (int e = 1; e <= epochs; ++e) points.push_back(static_cast<std::size_t>(e) * steps_per_epoch);
  return points;
}

StudyResult run_policy_study(const Home& home, const StudyOptions& options) {
  const Battery battery(options.battery, home.interval_hours);
  StudyResult study;
  study.home = home.name;
  study.split = split_home(home);
  const HomeSplit& split = study.split;
  const int start = battery.initial_level();

  say(options, "optimiser: GLPK on the training span (" + std::to_string(split.train.size()) + " steps) and the test span (" +
                   std::to_string(split.test.size()) + ")");
  const MilpResult train_milp = solve_milp(battery, home, split.train, start);
  const MilpResult test_milp = solve_milp(battery, home, split.test, start);
  const ValueTable train_labels(battery, home, split.train, kTieBreak), test_labels(battery, home, split.test, kTieBreak);
  study.train = check_optimiser(battery, home, split.train, train_milp, train_labels);
  study.test = check_optimiser(battery, home, split.test, test_milp, test_labels);
  study.test_optimum_levels = test_milp.schedule.levels;
  const SpanOptimum optimum(battery, home, split.test, start, test_milp.schedule);
  const SpanOptimum training_optimum(battery, home, split.train, start, train_milp.schedule);  // to choose Q's setting

  for (ConditionResult* condition : {&study.clean, &study.noisy}) {
    const bool noisy = condition == &study.noisy;
    condition->name = noisy ? "sensor noise" : "no noise";
    condition->noise_kwh = noisy ? options.noise_kwh : 0.0;
    const Readings readings = readings_of(
        noisy ? add_sensor_noise(home.demand_kwh, options.noise_kwh, options.noise_seed) : home.demand_kwh, split.train);
    const auto add = [&](const char* name, const DecideFunction& decide) {
      MethodResult result{name, {}, 0, {}, {}};
      Schedule own;
      result.score = score_policy(battery, home, optimum, decide, &own);
      result.levels = own.levels;
      condition->methods.push_back(result);
    };
    say(options, condition->name + ": baselines");
    add(kIdle, [](std::size_t, int) { return 0; });
    add(kRule, [&](std::size_t t, int) { return rule_action(battery, home, readings, t); });
    add(kForecastMpc, forecast_mpc(battery, home, readings, false));
    add(kInformedMpc, forecast_mpc(battery, home, readings, true));

    say(options, condition->name + ": LSTM policy, " + std::to_string(options.lstm.hidden) + " units, " +
                     std::to_string(options.lstm.epochs) + " epochs");
    const PolicyExamples every_level = every_level_examples(home, battery, readings, train_labels, split.train, options.lstm.window);
    condition->methods.push_back(
        train_lstm(kLstm, every_level, battery, home, readings, optimum, options.lstm, &condition->lstm_model));

    say(options, condition->name + ": the same network on the full-integer path");
    condition->integer_model = host::to_integer_model(condition->lstm_model,
                                                      host::calibrate_integer_windows(condition->lstm_model, every_level.windows));
    {
      host::BoundIntegerModel integer(condition->integer_model);
      add(kLstmInteger, lstm_decider(integer.adapter(), home, battery, readings, options.lstm.window));
    }

    if (!noisy && options.behavioural_cloning) {
      say(options, condition->name + ": LSTM policy on the optimum's path only");
      const PolicyExamples path = optimum_path_examples(home, battery, readings, train_milp.schedule, split.train, options.lstm.window);
      host::ModelFile unused;
      condition->methods.push_back(train_lstm(kLstmCloning, path, battery, home, readings, optimum, options.lstm, &unused));
    }

    const std::vector<std::size_t> lstm_points = lstm_checkpoints(split.train.size(), options.lstm.epochs);
    const std::size_t lstm_samples = lstm_points.back();
    condition->q_chosen = options.q;
    double best_on_training = -1e300;
    if (!options.q_alphas.empty() && !options.q_bins.empty()) {
      say(options, condition->name + ": tabular Q-learning, " + std::to_string(options.q_alphas.size() * options.q_bins.size()) +
                       " settings x " + std::to_string(options.q.episodes) + " episodes");
    }
    for (double alpha : options.q_alphas) {
      for (int bins : options.q_bins) {
        QLearningOptions q = options.q;
        q.alpha = alpha;
        q.demand_bins = bins;
        QGridResult cell{alpha, bins, {}, {}, {}};
        QTable table(battery, home, readings, split.train, q);
        const std::size_t end = q.episodes * split.train.size();
        train_q_learning(table, q, {lstm_samples, end}, [&](std::size_t samples, const QTable& t) {
          const PolicyScore score = score_policy(battery, home, optimum, t.greedy());
          if (samples <= lstm_samples) cell.at_lstm_samples = score;
          if (samples >= end) cell.at_end = score;
        });
        cell.training_span = score_policy(battery, home, training_optimum, table.greedy());
        if (cell.training_span.saving_share > best_on_training) {
          best_on_training = cell.training_span.saving_share;
          condition->q_chosen = q;
        }
        condition->q_grid.push_back(cell);
      }
    }
    say(options, condition->name + ": tabular Q-learning (alpha " + number_text(condition->q_chosen.alpha) + ", demand bins " +
                     std::to_string(condition->q_chosen.demand_bins) + "), learning curve");
    MethodResult q_result;
    q_result.name = kQLearning;
    QTable table(battery, home, readings, split.train, condition->q_chosen);
    train_q_learning(table, condition->q_chosen, q_checkpoints(lstm_points, split.train.size(), condition->q_chosen.episodes),
                     [&](std::size_t samples, const QTable& t) {
                       Schedule own;
                       q_result.curve.push_back({samples, score_policy(battery, home, optimum, t.greedy(), &own)});
                       q_result.levels = own.levels;
                     });
    q_result.score = q_result.curve.back().score;
    q_result.training_samples = q_result.curve.back().samples;
    condition->methods.push_back(q_result);
  }
  return study;
}

}  // namespace edgelstm::policy
