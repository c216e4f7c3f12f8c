#include "policy/schedule.h"

#include "host/csv_reader.h"

namespace edgelstm::policy {

Schedule replay(const Battery& battery, const Home& home, StepRange range, int level, const std::vector<int>& actions) {
  if (actions.size() != range.size()) {
    throw host::InputError("replay: " + std::to_string(actions.size()) + " actions for a span of " +
                           std::to_string(range.size()) + " steps");
  }
  Schedule schedule;
  schedule.levels.push_back(level);
  for (std::size_t k = 0; k < actions.size(); ++k) {
    const std::size_t t = range.begin + k;
    const StepOutcome out = battery.step(level, actions[k], home.demand_kwh[t], home.price[t], home.feed_in_price);
    level = out.level_after;
    schedule.actions.push_back(out.executed);
    schedule.levels.push_back(level);
    schedule.steps.push_back(out);
    schedule.cost += out.cost;
    schedule.objective += out.cost + kTieBreak * level;
  }
  return schedule;
}

double cost_without_battery(const Home& home, StepRange range) {
  double cost = 0;
  for (std::size_t t = range.begin; t < range.end; ++t) cost += home.demand_kwh[t] * home.price[t];
  return cost;
}

}  // namespace edgelstm::policy
