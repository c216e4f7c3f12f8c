// Running a policy on a span and scoring it. The policy acts in closed loop: each step it decides
// from the state of charge its own earlier actions produced, and the cost is that of the
// trajectory it actually drives. It is scored three ways:
//   - its cost, and the share of the optimal saving it achieves:
//       (cost without battery - its cost) / (cost without battery - optimal cost)
//     (0% = no battery, 100% = the optimiser's hindsight optimum, negative = worse than no battery);
//   - good actions on its own path: the share of steps whose executed action is optimal for the
//     rest of the span from the state it was in (the exact dynamic program, cost only: any of
//     several equally cheap actions counts);
//   - good actions on the optimum's path: the share of steps at which, given the optimiser's state
//     of charge history, it picks the optimiser's action (per-step label accuracy, open loop).
#pragma once

#include <functional>
#include <vector>

#include "policy/battery.h"
#include "policy/dynamic_program.h"
#include "policy/home.h"
#include "policy/schedule.h"

namespace edgelstm::policy {

// A policy's decision for step t at lattice level `level` (it sees the readings before t). Returns
// an action in -L..L.
using DecideFunction = std::function<int(std::size_t t, int level)>;

Schedule run_closed_loop(const Battery& battery, const Home& home, StepRange range, int start_level,
                         const DecideFunction& decide);

struct PolicyScore {
  double cost = 0;                // AUD over the span, closed loop
  double saving_share = 0;        // of the optimal saving, 0..1 (can be negative)
  double good_own_path = 0;       // 0..1
  double good_optimum_path = 0;   // 0..1
};

// The optimum of a span, computed once and shared by every policy scored on it (the battery and the
// home must outlive it).
struct SpanOptimum {
  StepRange range;
  int start_level = 0;
  Schedule schedule;         // the optimiser's (MILP) schedule
  double no_battery_cost = 0;
  ValueTable judge;          // cost only (no tie-break)
  SpanOptimum(const Battery& battery, const Home& home, StepRange range, int start_level, Schedule optimum);
  double saving_share(double cost) const;
};

PolicyScore score_policy(const Battery& battery, const Home& home, const SpanOptimum& optimum, const DecideFunction& decide,
                         Schedule* closed_loop = nullptr);

}  // namespace edgelstm::policy
