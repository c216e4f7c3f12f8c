#include "policy/rule_policy.h"

#include <algorithm>
#include <cmath>

namespace edgelstm::policy {

int rule_action(const Battery& battery, const Home& home, const Readings& readings, std::size_t t) {
  const TariffBand band = home.band[t];
  if (band == TariffBand::kOffPeak) return battery.levels();
  const TariffBand dearest = home.working[t] ? TariffBand::kPeak : TariffBand::kShoulder;
  if (band != dearest) return 0;
  const double delivered_per_level = battery.step_kwh() * battery.discharge_efficiency();
  const int level = static_cast<int>(std::lround(std::max(0.0, last_reading(readings, t)) / delivered_per_level));
  return -std::min(level, battery.levels());
}

}  // namespace edgelstm::policy
