// Derivative-free minimization by the Nelder-Mead simplex method, in the variant of J. C. Nash,
// "Compact Numerical Methods for Computers" (2nd ed., 1990), Algorithm 19 — the variant R's
// optim(method = "Nelder-Mead") runs, with its defaults, so that parameters fitted here can be
// checked against R's (the double seasonal Holt-Winters test).
#pragma once

#include <functional>
#include <vector>

namespace edgelstm::host {

struct NelderMeadOptions {
  double reflection = 1.0, contraction = 0.5, expansion = 2.0;  // R's alpha, beta, gamma
  double relative_tolerance = 1.490116119384765625e-8;          // R's reltol: sqrt(double epsilon)
  int max_evaluations = 500;                                     // R's maxit (function evaluations)
};

struct NelderMeadResult {
  std::vector<double> point;
  double value = 0;
  int evaluations = 0;
  bool converged = false;  // the simplex's values came within the tolerance before max_evaluations
};

// Minimizes f from `start`. A non-finite value of f (e.g. +inf outside a feasible region) counts
// as a very large one. The initial simplex moves one coordinate at a time by a tenth of the
// largest |start| coordinate (0.1 when all are zero). Convergence: the highest and the lowest
// vertex differ by at most tolerance * (|f(start)| + tolerance).
NelderMeadResult minimize_nelder_mead(const std::function<double(const std::vector<double>&)>& f,
                                      const std::vector<double>& start, const NelderMeadOptions& options = {});

}  // namespace edgelstm::host
