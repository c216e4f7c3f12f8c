// Small helpers shared by the core tests (heap-free, so they also run on targets).
#pragma once

#include <cmath>
#include <cstddef>

#include "edgelstm/random.h"

namespace edgelstm::test {

// Fills `values` with uniform draws in [-bound, bound) from a seeded generator.
template <typename T>
inline void fill_uniform(T* values, std::size_t count, std::uint64_t seed, float bound) {
  Random random(seed);
  for (std::size_t k = 0; k < count; ++k) values[k] = static_cast<T>(random.uniform_symmetric(bound));
}

// Relative error of a against the reference b, element by element, with the denominator floored
// at 1% of the reference's largest magnitude (so entries that are zero up to rounding do not
// divide by ~0) and at `absolute_floor`. Returns the largest.
template <typename A, typename B>
inline double max_relative_error(const A* a, const B* b, std::size_t count,
                                 double absolute_floor = 0.0) {
  double scale = 0;
  for (std::size_t k = 0; k < count; ++k) scale = std::fmax(scale, std::fabs(static_cast<double>(b[k])));
  const double floor = std::fmax(scale * 1e-2, absolute_floor) + 1e-30;
  double worst = 0;
  for (std::size_t k = 0; k < count; ++k) {
    const double reference = static_cast<double>(b[k]);
    const double error = std::fabs(static_cast<double>(a[k]) - reference) /
                         std::fmax(std::fabs(reference), floor);
    worst = std::fmax(worst, error);
  }
  return worst;
}

}  // namespace edgelstm::test
