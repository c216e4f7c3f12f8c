#include "policy/sensor_noise.h"

#include <cmath>
#include <random>

#include "host/csv_reader.h"
#include "policy/number_text.h"

namespace edgelstm::policy {

std::vector<double> add_sensor_noise(const std::vector<double>& kwh, double sigma_kwh, std::uint64_t seed) {
  if (!std::isfinite(sigma_kwh) || sigma_kwh < 0) {
    throw host::InputError("sensor noise: the standard deviation must be a finite value >= 0 kWh, found " +
                           number_text(sigma_kwh));
  }
  std::mt19937_64 random(seed);
  const auto uniform = [&]() { return (static_cast<double>(random() >> 11) + 0.5) * 0x1.0p-53; };  // (0, 1)
  std::vector<double> noisy(kwh.size());
  for (std::size_t t = 0; t < kwh.size(); ++t) {
    const double gaussian = std::sqrt(-2.0 * std::log(uniform())) * std::cos(6.283185307179586 * uniform());
    noisy[t] = std::max(0.0, kwh[t] + sigma_kwh * gaussian);
  }
  return noisy;
}

}  // namespace edgelstm::policy
