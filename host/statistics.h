// Mean and spread of readings without overflow: a reading of 1e308, or squares beyond double's
// range (readings near 2e154), must not turn a normalization into (inf, inf).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace edgelstm::host {

struct MeanAndSpread {
  double mean = 0;
  double spread = 0;  // population standard deviation
};

// Over value(0) .. value(count - 1): Welford's running mean and sum of squared deviations, on the
// values divided by their largest magnitude m (so every term is at most 1 and no partial sum can
// overflow), scaled back by m at the end. Finite inputs give finite results, a NaN or Inf input
// NaN; count 0 and all-zero inputs give zeros.
template <typename ValueAt>
MeanAndSpread mean_and_spread(std::size_t count, ValueAt value) {
  double largest = 0;
  for (std::size_t k = 0; k < count; ++k) largest = std::max(largest, std::fabs(static_cast<double>(value(k))));
  if (!std::isfinite(largest)) return MeanAndSpread{NAN, NAN};  // a non-finite input: the callers refuse NaN
  if (count == 0 || largest == 0) return MeanAndSpread{};
  double mean = 0, squares = 0;
  for (std::size_t k = 0; k < count; ++k) {
    const double x = static_cast<double>(value(k)) / largest;
    const double delta = x - mean;
    mean += delta / static_cast<double>(k + 1);
    squares += delta * (x - mean);
  }
  return MeanAndSpread{mean * largest, std::sqrt(std::max(0.0, squares) / static_cast<double>(count)) * largest};
}

}  // namespace edgelstm::host
