// Sensor noise on the readings a policy sees (the second condition of the study): each reading plus
// zero-mean Gaussian noise of standard deviation `sigma_kwh`, cut at 0 (a meter reads no negative
// consumption). Seeded and reproducible on every platform (mt19937_64 and Box-Muller, not
// std::normal_distribution, whose algorithm the standard leaves open). The battery and the bill
// always use the true demand: only what the policy sees is noisy.
#pragma once

#include <cstdint>
#include <vector>

namespace edgelstm::policy {

std::vector<double> add_sensor_noise(const std::vector<double>& kwh, double sigma_kwh, std::uint64_t seed);

}  // namespace edgelstm::policy
