#include "policy/closed_loop.h"

#include "host/csv_reader.h"
#include "policy/number_text.h"

namespace edgelstm::policy {

Schedule run_closed_loop(const Battery& battery, const Home& home, StepRange range, int start_level,
                         const DecideFunction& decide) {
  std::vector<int> actions;
  actions.reserve(range.size());
  int level = start_level;
  for (std::size_t t = range.begin; t < range.end; ++t) {
    const int action = battery.executed(level, decide(t, level));
    actions.push_back(action);
    level += action;
  }
  return replay(battery, home, range, start_level, actions);
}

SpanOptimum::SpanOptimum(const Battery& battery, const Home& home, StepRange span, int start, Schedule optimum)
    : range(span), start_level(start), schedule(std::move(optimum)), no_battery_cost(cost_without_battery(home, span)),
      judge(battery, home, span, 0.0) {
  if (!(no_battery_cost - schedule.cost > 1e-9)) {
    throw host::InputError(home.name + ": the battery saves nothing on this span (optimal cost " +
                           number_text(schedule.cost) + " AUD, without battery " + number_text(no_battery_cost) +
                           "): no saving to share");
  }
}

double SpanOptimum::saving_share(double cost) const { return (no_battery_cost - cost) / (no_battery_cost - schedule.cost); }

PolicyScore score_policy(const Battery& battery, const Home& home, const SpanOptimum& optimum, const DecideFunction& decide,
                         Schedule* closed_loop) {
  PolicyScore score;
  const StepRange range = optimum.range;
  const Schedule own = run_closed_loop(battery, home, range, optimum.start_level, decide);
  score.cost = own.cost;
  score.saving_share = optimum.saving_share(own.cost);
  std::size_t good = 0, agree = 0;
  for (std::size_t k = 0; k < range.size(); ++k) {
    const std::size_t t = range.begin + k;
    good += optimum.judge.optimal(t, own.levels[k], own.actions[k]) ? 1 : 0;
    const int level = optimum.schedule.levels[k];
    agree += battery.executed(level, decide(t, level)) == optimum.schedule.actions[k] ? 1 : 0;
  }
  score.good_own_path = static_cast<double>(good) / static_cast<double>(range.size());
  score.good_optimum_path = static_cast<double>(agree) / static_cast<double>(range.size());
  if (closed_loop != nullptr) *closed_loop = own;
  return score;
}

}  // namespace edgelstm::policy
