// The study of issue 17 on one home: the optimiser's labels (GLPK, checked against the dynamic
// program), the LSTM policy (float and full integer) against tabular Q-learning, the rule and the
// MPC references, each run in closed loop on the test span, with and without sensor noise on the
// readings, with learning curves in training samples.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "host/model_io.h"
#include "policy/battery.h"
#include "policy/closed_loop.h"
#include "policy/home.h"
#include "policy/lstm_policy.h"
#include "policy/q_learning.h"

namespace edgelstm::policy {

struct StudyOptions {
  BatteryConfig battery;
  LstmPolicyOptions lstm;
  QLearningOptions q;
  // Q-learning is run with every pair of these; the setting whose greedy policy saves most on the
  // training span (never the test span) is the one reported, with its learning curve. Empty:
  // options.q alone.
  std::vector<double> q_alphas = {0.05, 0.1, 0.2, 0.5};
  std::vector<int> q_bins = {1, 3, 5};
  double noise_kwh = 0.1;         // sensor noise of the second condition (standard deviation per reading)
  std::uint64_t noise_seed = 2013;
  bool behavioural_cloning = true;  // also the LSTM trained on the optimum's path only (first condition)
  std::function<void(const std::string&)> progress;  // one line per stage, or nothing
};

struct CurvePoint {
  std::size_t samples = 0;
  PolicyScore score;
};

struct MethodResult {
  std::string name;
  PolicyScore score;
  std::size_t training_samples = 0;  // 0: the method does not learn
  std::vector<CurvePoint> curve;     // test-span scores during training (not used to choose anything)
  std::vector<int> levels;           // the lattice level over the test span, closed loop (steps + 1)
};

struct QGridResult {
  double alpha = 0;
  int demand_bins = 0;
  PolicyScore training_span;            // greedy, closed loop on the training span, at the end
  PolicyScore at_lstm_samples, at_end;  // on the test span
};

struct ConditionResult {
  std::string name;
  double noise_kwh = 0;
  std::vector<MethodResult> methods;
  std::vector<QGridResult> q_grid;
  QLearningOptions q_chosen;  // the Q-learning setting reported
  host::ModelFile lstm_model, integer_model;
  const MethodResult* find(const std::string& name) const;
};

// The optimiser on one span, and its check against the dynamic program.
struct OptimiserCheck {
  StepRange range;
  double no_battery_cost = 0, milp_cost = 0, milp_objective = 0, solver_objective = 0, dp_objective = 0, dp_cost = 0;
  double cost_only_optimum = 0;  // the dynamic program without the tie-break: what the tie-break costs is milp_cost minus this
  double milp_seconds = 0;
  std::size_t equal_actions = 0;
  int variables = 0, integer_variables = 0, constraints = 0;
};

struct StudyResult {
  std::string home;
  HomeSplit split;
  OptimiserCheck train, test;
  std::vector<int> test_optimum_levels;  // the optimiser's state of charge over the test span
  ConditionResult clean, noisy;
};

// Method names, as the results and the report use them.
extern const char* const kIdle;
extern const char* const kRule;
extern const char* const kForecastMpc;
extern const char* const kInformedMpc;
extern const char* const kLstm;
extern const char* const kLstmInteger;
extern const char* const kLstmCloning;
extern const char* const kQLearning;

StudyResult run_policy_study(const Home& home, const StudyOptions& options);

// The LSTM's checkpoints: 250, 500 and 1000 examples, then the end of every epoch.
std::vector<std::size_t> lstm_checkpoints(std::size_t steps_per_epoch, int epochs);

}  // namespace edgelstm::policy
