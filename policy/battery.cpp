#include "policy/battery.h"

#include <algorithm>
#include <cmath>

#include "host/csv_reader.h"
#include "policy/number_text.h"

namespace edgelstm::policy {
namespace {

[[noreturn]] void refuse(const std::string& field, double value, const std::string& expected) {
  throw host::InputError("battery: " + field + " = " + number_text(value) + ", expected " + expected);
}

bool finite(double v) { return std::isfinite(v); }

}  // namespace

void BatteryConfig::validate(double interval_hours) const {
  if (!finite(capacity_kwh) || capacity_kwh <= 0) refuse("capacity", capacity_kwh, "a capacity > 0 kWh");
  if (!finite(power_kw) || power_kw <= 0) refuse("power limit", power_kw, "a power limit > 0 kW");
  if (!finite(round_trip_efficiency) || round_trip_efficiency <= 0 || round_trip_efficiency > 1) {
    refuse("round-trip efficiency", round_trip_efficiency, "a value in (0, 1]");
  }
  if (!finite(soc_min) || soc_min < 0 || soc_min >= 1) refuse("soc_min", soc_min, "a fraction in [0, 1)");
  if (!finite(soc_max) || soc_max <= soc_min || soc_max > 1) refuse("soc_max", soc_max, "a fraction in (soc_min, 1]");
  if (!finite(soc_initial) || soc_initial < soc_min || soc_initial > soc_max) {
    refuse("soc_initial", soc_initial, "a fraction in [soc_min, soc_max] = [" + number_text(soc_min) + ", " +
                                           number_text(soc_max) + "]");
  }
  if (levels < 1 || levels > 8) refuse("levels", levels, "1..8 action levels per direction");
  if (!finite(interval_hours) || interval_hours <= 0) refuse("interval", interval_hours, "a step > 0 hours");
  const double step = power_kw * interval_hours * std::sqrt(round_trip_efficiency) / levels;
  const double usable = (soc_max - soc_min) * capacity_kwh;
  if (usable + 1e-9 < step) {
    throw host::InputError("battery: the usable range (" + number_text(usable) +
                           " kWh) is smaller than one action level (" + number_text(step) +
                           " kWh stored per step): raise the capacity or the SoC range, or lower the power");
  }
}

Battery::Battery(const BatteryConfig& config, double interval_hours) : config_(config), interval_hours_(interval_hours) {
  config.validate(interval_hours);
  eta_ = std::sqrt(config.round_trip_efficiency);
  step_kwh_ = config.power_kw * interval_hours * eta_ / config.levels;
  min_kwh_ = config.soc_min * config.capacity_kwh;
  top_ = static_cast<int>(std::floor((config.soc_max - config.soc_min) * config.capacity_kwh / step_kwh_ + 1e-9));
  initial_ = std::clamp(static_cast<int>(std::lround((config.soc_initial - config.soc_min) * config.capacity_kwh / step_kwh_)),
                        0, top_);
}

int Battery::executed(int level, int action) const {
  return std::clamp(std::clamp(action, -config_.levels, config_.levels), -level, top_ - level);
}

double Battery::net_grid_kwh(int executed_action, double demand_kwh) const {
  if (executed_action > 0) return demand_kwh + executed_action * step_kwh_ / eta_;
  return demand_kwh + executed_action * step_kwh_ * eta_;
}

StepOutcome Battery::step(int level, int action, double demand_kwh, double price, double feed_in_price) const {
  StepOutcome out;
  out.requested = action;
  out.executed = executed(level, action);
  out.level_before = level;
  out.level_after = level + out.executed;
  out.demand = demand_kwh;
  if (out.executed > 0) out.grid_to_battery = out.executed * step_kwh_ / eta_;
  if (out.executed < 0) out.battery_to_home = -out.executed * step_kwh_ * eta_;
  const double net = demand_kwh + out.grid_to_battery - out.battery_to_home;
  out.imported = std::max(net, 0.0);
  out.exported = std::max(-net, 0.0);
  out.cost = out.imported * price - out.exported * feed_in_price;
  return out;
}

}  // namespace edgelstm::policy
