#include "policy/mpc_policy.h"

#include <algorithm>
#include <memory>

#include "policy/dynamic_program.h"

namespace edgelstm::policy {

DecideFunction forecast_mpc(const Battery& battery, const Home& home, const Readings& readings, bool knows_current_step,
                            std::size_t horizon) {
  // A copy of the home whose demand is overwritten with the forecast of the coming steps.
  auto forecast = std::make_shared<Home>(home);
  return [&battery, &home, &readings, knows_current_step, horizon, forecast](std::size_t t, int level) {
    const std::size_t day = home.steps_per_day;
    const StepRange plan{t, std::min(home.steps(), t + horizon)};
    for (std::size_t s = plan.begin; s < plan.end; ++s) {
      // The latest reading at the same time of day that the meter already has (s - day, s - 2 day, ...).
      std::size_t source = s;
      while (source >= t && source >= day) source -= day;
      if (source >= t) source = t == 0 ? 0 : t - 1;  // the first day: no earlier day yet
      forecast->demand_kwh[s] = readings.kwh[source];
    }
    if (knows_current_step) forecast->demand_kwh[t] = home.demand_kwh[t];
    return ValueTable(battery, *forecast, plan, 0.0).best_action(t, level);
  };
}

}  // namespace edgelstm::policy
