// Tabular Q-learning on the same training span, the reinforcement-learning peer of the LSTM policy.
// It learns from the bill alone (reward = the step's saving against no battery, AUD), by trial and error in the
// battery model driven by the training span's true demand, seeing the readings as the LSTM does
// (with the same sensor noise, if any).
//
// State (documented discretisation): the half-hour of the day (steps_per_day slots) x working day
// or not x the battery's lattice level (top + 1) x the last reading's bin (demand_bins bins, edges
// at the training readings' quantiles). The tariff band, hence the price, is a function of the
// first two, so it needs no dimension of its own.
// Update: Q(s, a) += alpha (r + gamma max_a' Q(s', a') - Q(s, a)) over feasible a'; no bootstrap
// after the span's last step. Episodes run the training span from the start level. epsilon-greedy
// over the feasible actions, epsilon = max(epsilon_min, epsilon_start * epsilon_decay^episode).
// Q starts at 0 (what idle earns). The greedy policy breaks ties towards idle.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "policy/battery.h"
#include "policy/closed_loop.h"
#include "policy/decision_inputs.h"
#include "policy/home.h"

namespace edgelstm::policy {

struct QLearningOptions {
  double alpha = 0.1;
  double gamma = 0.99;
  double epsilon_start = 1.0, epsilon_decay = 0.998, epsilon_min = 0.05;
  int demand_bins = 3;
  std::size_t episodes = 2000;
  std::uint64_t seed = 1;
};

class QTable {
 public:
  QTable(const Battery& battery, const Home& home, const Readings& readings, StepRange train, const QLearningOptions& options);

  std::size_t state(std::size_t t, int level) const;
  int greedy_action(std::size_t t, int level) const;
  double value(std::size_t state, int action) const { return q_[state * actions_ + static_cast<std::size_t>(action + levels_)]; }
  std::size_t states() const { return q_.size() / actions_; }
  std::size_t visited_states() const;

  // One episode over the training span; returns the transitions it made.
  std::size_t run_episode(std::size_t episode);
  DecideFunction greedy() const;

 private:
  const Battery& battery_;
  const Home& home_;
  const Readings& readings_;
  StepRange train_;
  QLearningOptions options_;
  std::vector<double> bin_edges_;
  std::size_t actions_ = 0;
  int levels_ = 0;
  std::vector<double> q_;
  std::vector<std::uint32_t> visits_;
  std::uint64_t random_state_ = 0;
  double uniform();
};

// Trains for options.episodes episodes; after each number of transitions in `checkpoints`
// (ascending; reached at the end of an episode, the first episode boundary at or past it),
// calls at_checkpoint(samples, table).
void train_q_learning(QTable& table, const QLearningOptions& options, const std::vector<std::size_t>& checkpoints,
                      const std::function<void(std::size_t samples, const QTable& table)>& at_checkpoint);

}  // namespace edgelstm::policy
