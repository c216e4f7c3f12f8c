// A battery schedule over a span of a home's steps, and its replay through the battery model: the
// one place where costs are added up, for the optimiser, the policies and the baselines alike.
#pragma once

#include <vector>

#include "policy/battery.h"
#include "policy/home.h"

namespace edgelstm::policy {

// The tie-break both optimisers add to the cost: kTieBreak AUD per lattice step stored after each
// step. Among schedules of equal cost it prefers the one that keeps the battery emptiest (charge
// as late, discharge as early as cost allows): one canonical set of labels instead of an arbitrary
// choice between equally cheap hours of the same tariff band. It is far below any cost difference
// the tariff makes (0.04 AUD for one lattice step of 0.47 kWh at the smallest price gap), and the
// reported costs never include it.
inline constexpr double kTieBreak = 1e-5;

struct Schedule {
  std::vector<int> actions;   // executed action of each step of the span, -L..L
  std::vector<int> levels;    // lattice index before each step (levels.size() == actions.size() + 1)
  std::vector<StepOutcome> steps;
  double cost = 0;            // AUD over the span
  double objective = 0;       // cost + kTieBreak * sum of levels after each step
};

// Runs `actions` (one per step of `range`, requested actions) from lattice index `level`.
Schedule replay(const Battery& battery, const Home& home, StepRange range, int level, const std::vector<int>& actions);

// The cost of the span with no battery (every reading imported at its price).
double cost_without_battery(const Home& home, StepRange range);

}  // namespace edgelstm::policy
