#include "policy/decision_inputs.h"

#include <algorithm>
#include <cmath>

#include "host/csv_reader.h"

namespace edgelstm::policy {
namespace {

constexpr double kTwoPi = 6.283185307179586;

}  // namespace

Readings readings_of(const std::vector<double>& kwh, StepRange train) {
  Readings readings;
  readings.kwh = kwh;
  double sum = 0, squares = 0;
  for (std::size_t t = train.begin; t < train.end; ++t) sum += kwh[t];
  // Rounded to float: the model file stores them so, and the policy must see the same inputs after loading.
  readings.mean = static_cast<float>(sum / static_cast<double>(train.size()));
  for (std::size_t t = train.begin; t < train.end; ++t) squares += (kwh[t] - readings.mean) * (kwh[t] - readings.mean);
  readings.scale = static_cast<float>(std::sqrt(squares / static_cast<double>(train.size())));
  if (!(readings.scale > 0)) throw host::InputError("the training span's readings are constant: nothing to learn from");
  return readings;
}

void decision_window(const Home& home, const Battery& battery, const Readings& readings, int level, std::size_t t,
                     int window, float* out) {
  const float soc = static_cast<float>(level) / static_cast<float>(battery.top());
  for (int k = 0; k < window; ++k) {
    // Decision times before the home's first step repeat the first one.
    const std::size_t tau = t + 1 >= static_cast<std::size_t>(window - k) ? t + 1 - static_cast<std::size_t>(window - k) : 0;
    const double hours = static_cast<double>(seconds_of_day(home.times[tau])) / 3600.0;
    *out++ = static_cast<float>((last_reading(readings, tau) - readings.mean) / readings.scale);
    *out++ = static_cast<float>(std::sin(kTwoPi * hours / 24.0));
    *out++ = static_cast<float>(std::cos(kTwoPi * hours / 24.0));
    *out++ = home.working[tau] ? 1.0f : 0.0f;
    *out++ = static_cast<float>(home.price[tau] / home.peak_price);
    *out++ = soc;
  }
}

}  // namespace edgelstm::policy
