// What a policy sees when it decides the action of step t, and how the LSTM receives it.
//
// A meter knows its own readings up to the previous step, the clock and the tariff, and the
// battery's state of charge; not the demand of the step it is deciding. The LSTM's input is a
// window of the last W decision times tau = t-W+1 .. t, each with kDecisionFeatures values:
//   0  the reading of step tau-1 (kWh), normalised by the training span's mean and deviation
//   1  sin(2 pi h / 24), 2  cos(2 pi h / 24)   h = time of day of step tau
//   3  1 on a working day (the tariff's peak applies), 0 otherwise
//   4  the import price of step tau over the peak price
//   5  the lattice level (state of charge) now, before step t, over the top level (the same at
//      every step of the window: what is optimal depends on the state of charge now, not on how
//      the battery got there, and a policy must not learn the optimiser's own path from it)
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "policy/battery.h"
#include "policy/home.h"

namespace edgelstm::policy {

inline constexpr int kDecisionFeatures = 6;

// The readings a policy is given (the true ones, or with sensor noise: sensor_noise.h) and their
// normalisation (fitted on the training span's readings).
struct Readings {
  std::vector<double> kwh;  // one per step of the home
  double mean = 0, scale = 1;
};
Readings readings_of(const std::vector<double>& kwh, StepRange train);

// The reading of step t-1 a policy deciding step t sees (for t = 0: the first reading).
inline double last_reading(const Readings& readings, std::size_t t) { return readings.kwh[t == 0 ? 0 : t - 1]; }

// The window for step t at lattice level `level`: window * kDecisionFeatures floats into `out`.
void decision_window(const Home& home, const Battery& battery, const Readings& readings, int level, std::size_t t,
                     int window, float* out);

// The executed actions feasible at `level`: -min(level, L) .. min(L, top - level).
inline int lowest_feasible(const Battery& battery, int level) { return level < battery.levels() ? -level : -battery.levels(); }
inline int highest_feasible(const Battery& battery, int level) {
  return battery.top() - level < battery.levels() ? battery.top() - level : battery.levels();
}

// The feasible action with the highest score (scores indexed by class = action + L; float logits
// or the integer path's int32 ones); the lowest such action on a tie.
template <typename Score>
int best_feasible_action(const Battery& battery, int level, const Score* scores) {
  const int low = lowest_feasible(battery, level), high = highest_feasible(battery, level);
  int best = low;
  for (int a = low + 1; a <= high; ++a) {
    if (scores[a + battery.levels()] > scores[best + battery.levels()]) best = a;
  }
  return best;
}

}  // namespace edgelstm::policy
