// The exact optimum over the battery's lattice by backward dynamic programming, with perfect
// knowledge of the span's demand and prices:
//   V(end, s) = 0,  V(t, s) = min over feasible a of  cost(t, s, a) + w * (s + a) + V(t + 1, s + a)
// (w = kTieBreak for the labels' tie-break, 0 for the cost alone). It checks the MILP
// (milp_schedule.h) and judges a policy in closed loop: from whatever state a policy has reached,
// which actions are optimal for the rest of the span.
#pragma once

#include <vector>

#include "policy/battery.h"
#include "policy/home.h"
#include "policy/schedule.h"

namespace edgelstm::policy {

class ValueTable {
 public:
  // Solves the span (O(steps x levels x actions)). `battery` and `home` must outlive the table.
  ValueTable(const Battery& battery, const Home& home, StepRange range, double tie_break);

  // V(t, s): the optimal objective from step t (absolute index, range.begin..range.end) at level s.
  double value(std::size_t t, int level) const;
  // cost(t, s, a) + w (s + a) + V(t + 1, s + a) for a feasible executed action a.
  double action_value(std::size_t t, int level, int action) const;
  // Whether executed action `action` at (t, s) is within `tolerance` AUD of the optimum.
  bool optimal(std::size_t t, int level, int action, double tolerance = 1e-9) const;
  // The optimal action at (t, s); among equal ones, the lowest.
  int best_action(std::size_t t, int level) const;
  // The optimal schedule from `level` at the span's start.
  Schedule schedule(int level) const;

 private:
  const Battery& battery_;
  const Home& home_;
  StepRange range_;
  double tie_break_;
  std::vector<double> value_;  // (range.size() + 1) x (top + 1)
};

}  // namespace edgelstm::policy
