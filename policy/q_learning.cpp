#include "policy/q_learning.h"

#include <algorithm>
#include <cmath>

#include "host/csv_reader.h"

namespace edgelstm::policy {
namespace {

std::uint64_t split_mix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

QTable::QTable(const Battery& battery, const Home& home, const Readings& readings, StepRange train,
               const QLearningOptions& options)
    : battery_(battery), home_(home), readings_(readings), train_(train), options_(options), random_state_(options.seed) {
  if (!(options.alpha > 0 && options.alpha <= 1) || !(options.gamma >= 0 && options.gamma <= 1) ||
      !(options.epsilon_min >= 0 && options.epsilon_min <= options.epsilon_start && options.epsilon_start <= 1) ||
      !(options.epsilon_decay > 0 && options.epsilon_decay <= 1) || options.demand_bins < 1 || options.demand_bins > 64) {
    throw host::InputError("Q-learning: expected alpha in (0, 1], gamma in [0, 1], 0 <= epsilon_min <= epsilon_start <= 1, "
                           "epsilon_decay in (0, 1] and 1..64 demand bins");
  }
  std::vector<double> sorted;
  for (std::size_t t = train.begin; t < train.end; ++t) sorted.push_back(last_reading(readings, t));
  std::sort(sorted.begin(), sorted.end());
  for (int b = 1; b < options.demand_bins; ++b) bin_edges_.push_back(sorted[sorted.size() * static_cast<std::size_t>(b) / static_cast<std::size_t>(options.demand_bins)]);
  actions_ = static_cast<std::size_t>(battery.actions());
  levels_ = battery.levels();
  const std::size_t states = home.steps_per_day * 2 * (static_cast<std::size_t>(battery.top()) + 1) *
                             static_cast<std::size_t>(options.demand_bins);
  q_.assign(states * actions_, 0.0);
  visits_.assign(states, 0);
}

std::size_t QTable::state(std::size_t t, int level) const {
  const std::size_t slot = t % home_.steps_per_day;
  const std::size_t bin = static_cast<std::size_t>(std::upper_bound(bin_edges_.begin(), bin_edges_.end(), last_reading(readings_, t)) -
                                                   bin_edges_.begin());
  return ((slot * 2 + (home_.working[t] ? 1 : 0)) * (static_cast<std::size_t>(battery_.top()) + 1) +
          static_cast<std::size_t>(level)) * static_cast<std::size_t>(options_.demand_bins) + bin;
}

int QTable::greedy_action(std::size_t t, int level) const {
  const std::size_t s = state(t, level);
  int best = 0;  // idle first: an unvisited state (all zeros) stays idle
  for (int a = lowest_feasible(battery_, level); a <= highest_feasible(battery_, level); ++a) {
    if (value(s, a) > value(s, best)) best = a;
  }
  return best;
}

std::size_t QTable::visited_states() const {
  return static_cast<std::size_t>(std::count_if(visits_.begin(), visits_.end(), [](std::uint32_t v) { return v > 0; }));
}

double QTable::uniform() { return static_cast<double>(split_mix(random_state_) >> 11) * 0x1.0p-53; }

std::size_t QTable::run_episode(std::size_t episode) {
  const double epsilon = std::max(options_.epsilon_min,
                                  options_.epsilon_start * std::pow(options_.epsilon_decay, static_cast<double>(episode)));
  int level = battery_.initial_level();
  for (std::size_t t = train_.begin; t < train_.end; ++t) {
    const std::size_t s = state(t, level);
    int action = greedy_action(t, level);
    if (uniform() < epsilon) {
      const int low = lowest_feasible(battery_, level), high = highest_feasible(battery_, level);
      action = low + static_cast<int>(split_mix(random_state_) % static_cast<std::uint64_t>(high - low + 1));
    }
    const StepOutcome out = battery_.step(level, action, home_.demand_kwh[t], home_.price[t], home_.feed_in_price);
    // Reward: the step's saving against no battery (its cost without battery minus its cost). The
    // shift depends on the step only, not on the action, so the optimal policy is that of -cost,
    // but idle is worth 0 and an action tried once no longer looks better than a well-known one.
    double target = home_.demand_kwh[t] * home_.price[t] - out.cost;
    if (t + 1 < train_.end) {
      const std::size_t next = state(t + 1, out.level_after);
      double best = value(next, 0);
      for (int a = lowest_feasible(battery_, out.level_after); a <= highest_feasible(battery_, out.level_after); ++a) {
        best = std::max(best, value(next, a));
      }
      target += options_.gamma * best;
    }
    double& q = q_[s * actions_ + static_cast<std::size_t>(out.executed + levels_)];
    q += options_.alpha * (target - q);
    ++visits_[s];
    level = out.level_after;
  }
  return train_.size();
}

DecideFunction QTable::greedy() const {
  return [this](std::size_t t, int level) { return greedy_action(t, level); };
}

void train_q_learning(QTable& table, const QLearningOptions& options, const std::vector<std::size_t>& checkpoints,
                      const std::function<void(std::size_t samples, const QTable& table)>& at_checkpoint) {
  std::size_t samples = 0, next = 0;
  while (next < checkpoints.size() && checkpoints[next] == 0) at_checkpoint(checkpoints[next++], table);
  for (std::size_t episode = 0; episode < options.episodes; ++episode) {
    samples += table.run_episode(episode);
    if (next < checkpoints.size() && checkpoints[next] <= samples) {
      at_checkpoint(samples, table);
      while (next < checkpoints.size() && checkpoints[next] <= samples) ++next;
    }
  }
}

}  // namespace edgelstm::policy
