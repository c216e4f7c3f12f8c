// Two references that make the learned policies' numbers readable, both model-predictive control
// (re-plan every step with the exact dynamic program over the next `horizon` steps, carry out the
// first action):
//   - forecast MPC: the demand of every coming step forecast as the reading one day before it (the
//     readings the policies see, noisy or not). A classical controller with no learning.
//   - informed MPC: the same, except that it knows the true demand of the step it is deciding. No
//     meter can do this (the half-hour has not happened yet); it bounds what any policy that
//     decides before the half-hour can reach, because on this battery model the optimiser's
//     hindsight of that half-hour's demand is worth most of the gap to it (docs/policy.md).
#pragma once

#include <cstddef>

#include "policy/battery.h"
#include "policy/closed_loop.h"
#include "policy/decision_inputs.h"
#include "policy/home.h"

namespace edgelstm::policy {

// `home`, `battery` and `readings` must outlive the returned function.
DecideFunction forecast_mpc(const Battery& battery, const Home& home, const Readings& readings, bool knows_current_step,
                            std::size_t horizon = 96);

}  // namespace edgelstm::policy
