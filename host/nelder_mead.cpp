#include "host/nelder_mead.h"

#include <algorithm>
#include <cmath>

namespace edgelstm::host {
namespace {

constexpr double kBig = 1.0e35;  // what a non-finite value counts as

}  // namespace

NelderMeadResult minimize_nelder_mead(const std::function<double(const std::vector<double>&)>& f,
                                      const std::vector<double>& start, const NelderMeadOptions& options) {
  const std::size_t n = start.size();
  NelderMeadResult result;
  result.point = start;
  result.value = f(start);
  result.evaluations = 1;
  if (!std::isfinite(result.value) || n == 0) return result;
  const auto evaluate = [&](const std::vector<double>& x) {
    ++result.evaluations;
    const double v = f(x);
    return std::isfinite(v) ? v : kBig;
  };
  const double tolerance = options.relative_tolerance * (std::fabs(result.value) + options.relative_tolerance);

  // The simplex: the start and n vertices each moved along one coordinate.
  double step = 0;
  for (double x : start) step = std::max(step, 0.1 * std::fabs(x));
  if (step == 0) step = 0.1;
  std::vector<std::vector<double>> vertex(n + 1, start);
  std::vector<double> value(n + 1, result.value);
  double size = 0;
  for (std::size_t j = 1; j <= n; ++j) {
    double moved = step;
    while (vertex[j][j - 1] == start[j - 1]) {  // a step too small to change the coordinate grows
      vertex[j][j - 1] = start[j - 1] + moved;
      moved *= 10;
    }
    size += moved;
  }
  double previous_size = size;
  std::size_t lowest = 0;
  bool evaluate_vertices = true;
  std::vector<double> centroid(n), trial(n), expanded(n);
  while (result.evaluations <= options.max_evaluations) {
    if (evaluate_vertices) {
      for (std::size_t j = 0; j <= n; ++j) {
        if (j != lowest) value[j] = evaluate(vertex[j]);
      }
      evaluate_vertices = false;
    }
    // The lowest and the highest vertex (ties: the earlier one, the previous lowest first).
    const std::size_t previous_lowest = lowest;
    std::size_t highest = lowest;
    for (std::size_t j = 0; j <= n; ++j) {
      if (j == previous_lowest) continue;
      if (value[j] < value[lowest]) lowest = j;
      if (value[j] > value[highest]) highest = j;
    }
    if (value[highest] <= value[lowest] + tolerance) {
      result.converged = true;
      break;
    }
    for (std::size_t i = 0; i < n; ++i) {
      double sum = -vertex[highest][i];  // all vertices but the highest, summed in R's order
      for (std::size_t j = 0; j <= n; ++j) sum += vertex[j][i];
      centroid[i] = sum / static_cast<double>(n);
    }
    // Reflect the highest vertex through the centroid of the others.
    for (std::size_t i = 0; i < n; ++i) {
      trial[i] = (1 + options.reflection) * centroid[i] - options.reflection * vertex[highest][i];
    }
    const double reflected = evaluate(trial);
    if (reflected < value[lowest]) {
      // Better than every vertex: try going further the same way, keep the better of the two.
      for (std::size_t i = 0; i < n; ++i) {
        expanded[i] = options.expansion * trial[i] + (1 - options.expansion) * centroid[i];
      }
      const double further = evaluate(expanded);
      if (further < reflected) {
        vertex[highest] = expanded;
        value[highest] = further;
      } else {
        vertex[highest] = trial;
        value[highest] = reflected;
      }
      continue;
    }
    const double highest_before = value[highest];
    if (reflected < highest_before) {
      vertex[highest] = trial;
      value[highest] = reflected;
    }
    // Contract the (possibly replaced) highest vertex towards the centroid.
    for (std::size_t i = 0; i < n; ++i) {
      trial[i] = (1 - options.contraction) * vertex[highest][i] + options.contraction * centroid[i];
    }
    const double contracted = evaluate(trial);
    if (contracted < value[highest]) {
      vertex[highest] = trial;
      value[highest] = contracted;
    } else if (reflected >= highest_before) {
      // Neither helped: shrink every vertex towards the lowest one; stop when that no longer
      // makes the simplex smaller.
      size = 0;
      for (std::size_t j = 0; j <= n; ++j) {
        if (j == lowest) continue;
        for (std::size_t i = 0; i < n; ++i) {
          vertex[j][i] = options.contraction * (vertex[j][i] - vertex[lowest][i]) + vertex[lowest][i];
          size += std::fabs(vertex[j][i] - vertex[lowest][i]);
        }
      }
      evaluate_vertices = true;
      if (size >= previous_size) break;
      previous_size = size;
    }
  }
  result.point = vertex[lowest];
  result.value = value[lowest];
  return result;
}

}  // namespace edgelstm::host
