// A home battery behind the meter, on a lattice: every action moves the stored energy by a whole
// number of steps of `step_kwh`, so the state of charge takes finitely many values and an exact
// dynamic program over it exists (optimal_schedule.h). Action a in -L..L (L = `levels`):
//   a > 0  charge:    the battery stores a * step_kwh and draws a * step_kwh / eta_c from the grid
//   a < 0  discharge: the battery gives up |a| * step_kwh and delivers |a| * step_kwh * eta_d
//   a = 0  idle
// with eta_c = eta_d = sqrt(round-trip efficiency). step_kwh = power_kw * interval_h * eta_c / L:
// the full charge level draws exactly power_kw from the grid (the inverter's rating); the full
// discharge level delivers power_kw * eta_c * eta_d. The usable range soc_min..soc_max of the
// capacity is rounded down to a whole number of steps; the battery starts at soc_initial rounded to
// the nearest step. An action that would leave the range is cut to the nearest one that does not.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace edgelstm::policy {

struct BatteryConfig {
  double capacity_kwh = 5.0;
  double power_kw = 2.0;                // grid-side limit of charging (and rating of the inverter)
  double round_trip_efficiency = 0.90;  // stored-and-recovered energy / drawn energy
  double soc_min = 0.10, soc_max = 0.90;  // fractions of the capacity
  double soc_initial = 0.10;
  int levels = 2;  // action levels per direction: 2 L + 1 actions

  // Throws host::InputError naming the field and the expected range: capacity and power > 0,
  // efficiency in (0, 1], 0 <= soc_min < soc_max <= 1, soc_initial in [soc_min, soc_max], levels
  // in 1..8, and a usable range of at least one step of the lattice at this interval.
  void validate(double interval_hours) const;
};

// What one step did: energies in kWh over the step, cost in AUD.
struct StepOutcome {
  int requested = 0, executed = 0;     // action levels, -L..L
  int level_before = 0, level_after = 0;  // lattice index of the stored energy, 0..top
  double demand = 0;            // the home's own consumption
  double grid_to_battery = 0;   // drawn to charge (>= 0)
  double battery_to_home = 0;   // delivered by discharging (>= 0), to the home or exported
  double imported = 0, exported = 0;  // at the meter, each >= 0, never both > 0
  double cost = 0;              // imported * price - exported * feed-in price
};

class Battery {
 public:
  // Validates `config` for steps of `interval_hours` (throws host::InputError).
  Battery(const BatteryConfig& config, double interval_hours);

  const BatteryConfig& config() const { return config_; }
  int levels() const { return config_.levels; }
  int actions() const { return 2 * config_.levels + 1; }  // class index = action + levels
  int top() const { return top_; }                         // highest lattice index
  int initial_level() const { return initial_; }
  double step_kwh() const { return step_kwh_; }
  double charge_efficiency() const { return eta_; }
  double discharge_efficiency() const { return eta_; }
  double interval_hours() const { return interval_hours_; }
  double stored_kwh(int level) const { return min_kwh_ + level * step_kwh_; }
  double state_of_charge(int level) const { return stored_kwh(level) / config_.capacity_kwh; }

  // The action the battery carries out when asked for `action` at lattice index `level`.
  int executed(int level, int action) const;
  // One step: the action cut to the usable range, the energy flows and their cost.
  StepOutcome step(int level, int action, double demand_kwh, double price, double feed_in_price) const;
  // Net energy at the meter (import > 0) for an executed action.
  double net_grid_kwh(int executed_action, double demand_kwh) const;

 private:
  BatteryConfig config_;
  double interval_hours_ = 0.5, eta_ = 1, step_kwh_ = 0, min_kwh_ = 0;
  int top_ = 0, initial_ = 0;
};

}  // namespace edgelstm::policy
