// The optimal schedule of a span as a mixed-integer linear program, solved by GLPK (Debian's
// libglpk-dev): the optimiser whose actions the LSTM policy learns to imitate.
//
// Let f_t(a) be the cost of executed action a in -L..L at step t (the battery model's energy
// balance and the tariff: Battery::step). f_t is convex in a: the grid energy D_t + e(a) is convex
// in a (charging draws u/eta per level, discharging returns u*eta < u/eta) and the meter's cost
// p_t max(n, 0) - f max(-n, 0) is convex and non-decreasing in n because p_t >= f >= 0. So the
// action is written with 2L binary segments, a_t = -L + sum_j z_tj, each costing its increment
// Delta_tj = f_t(-L + j) - f_t(-L + j - 1) (increasing in j):
//   minimise  sum_t [ f_t(-L) + sum_j Delta_tj z_tj + w s_t ]        (w = kTieBreak, schedule.h)
//   s.t.      s_t - s_{t-1} - sum_j z_tj = -L,   s_{-1} = the start level,   0 <= s_t <= S,
//             z_tj in {0, 1}.
// Any m chosen segments cost at least the m cheapest (the first m), so the optimum prices every
// action exactly at f_t. The constraint matrix is a network matrix (each s_t is +1 in one row and
// -1 in the next; each z_tj is in one row), hence totally unimodular: the LP relaxation's vertices
// are integral, and GLPK proves the optimum at the root. (The textbook formulation -- integer
// charge and discharge levels with continuous import and export -- has a fractional relaxation
// wherever discharging should just cover the demand, and GLPK did not prove it optimal over the
// 39 training days within 10 minutes.)
#pragma once

#include "policy/battery.h"
#include "policy/home.h"
#include "policy/schedule.h"

namespace edgelstm::policy {

struct MilpResult {
  Schedule schedule;            // the solver's actions replayed through the battery model
  double solver_objective = 0;  // GLPK's objective value (equals schedule.objective up to its tolerances)
  double seconds = 0;
  int variables = 0, integer_variables = 0, constraints = 0;
};

// Solves the span from lattice index `level` to proven optimality (relative gap 0). Throws
// host::InputError when GLPK reports a failure or no optimal solution within `time_limit_seconds`.
MilpResult solve_milp(const Battery& battery, const Home& home, StepRange range, int level,
                      double time_limit_seconds = 600);

}  // namespace edgelstm::policy
