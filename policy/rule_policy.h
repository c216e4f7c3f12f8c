// The simple rule a battery installer would set up, the baseline the learned policies must beat:
// charge at night, discharge at the peak.
//   off-peak band (22:00-07:00)           charge at the full level
//   the day's dearest band                discharge the level whose delivered energy is nearest to
//   (peak on working days, shoulder on    the last reading (persistence: the next half-hour will
//    weekends and public holidays)         use about what the last one did)
//   otherwise                             idle
#pragma once

#include <cstddef>

#include "policy/battery.h"
#include "policy/decision_inputs.h"
#include "policy/home.h"

namespace edgelstm::policy {

int rule_action(const Battery& battery, const Home& home, const Readings& readings, std::size_t t);

}  // namespace edgelstm::policy
