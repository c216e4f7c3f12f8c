#include "policy/dynamic_program.h"

#include <cmath>
#include <limits>

namespace edgelstm::policy {

ValueTable::ValueTable(const Battery& battery, const Home& home, StepRange range, double tie_break)
    : battery_(battery), home_(home), range_(range), tie_break_(tie_break) {
  const std::size_t width = static_cast<std::size_t>(battery.top()) + 1;
  value_.assign((range.size() + 1) * width, 0.0);
  for (std::size_t k = range.size(); k-- > 0;) {
    const std::size_t t = range.begin + k;
    for (int s = 0; s <= battery.top(); ++s) {
      double best = std::numeric_limits<double>::infinity();
      for (int a = -std::min(s, battery.levels()); a <= std::min(battery.levels(), battery.top() - s); ++a) {
        best = std::min(best, action_value(t, s, a));
      }
      value_[k * width + static_cast<std::size_t>(s)] = best;
    }
  }
}

double ValueTable::value(std::size_t t, int level) const {
  return value_[(t - range_.begin) * (static_cast<std::size_t>(battery_.top()) + 1) + static_cast<std::size_t>(level)];
}

double ValueTable::action_value(std::size_t t, int level, int action) const {
  const StepOutcome out = battery_.step(level, action, home_.demand_kwh[t], home_.price[t], home_.feed_in_price);
  return out.cost + tie_break_ * out.level_after + value(t + 1, out.level_after);
}

bool ValueTable::optimal(std::size_t t, int level, int action, double tolerance) const {
  return action_value(t, level, battery_.executed(level, action)) <= value(t, level) + tolerance;
}

int ValueTable::best_action(std::size_t t, int level) const {
  int best = 0;
  double best_value = std::numeric_limits<double>::infinity();
  for (int a = -std::min(level, battery_.levels()); a <= std::min(battery_.levels(), battery_.top() - level); ++a) {
    const double v = action_value(t, level, a);
    if (v < best_value) {
      best_value = v;
      best = a;
    }
  }
  return best;
}

Schedule ValueTable::schedule(int level) const {
  std::vector<int> actions;
  int s = level;
  for (std::size_t t = range_.begin; t < range_.end; ++t) {
    const int a = best_action(t, s);
    actions.push_back(a);
    s += a;
  }
  return replay(battery_, home_, range_, level, actions);
}

}  // namespace edgelstm::policy
