#include "policy/milp_schedule.h"

#include <glpk.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <vector>

#include "host/csv_reader.h"

namespace edgelstm::policy {
namespace {

struct ProblemDeleter {
  void operator()(glp_prob* p) const { glp_delete_prob(p); }
};

// f_t(a): the cost of executed action a at step t, whatever the level (the cost does not depend on it).
double action_cost(const Battery& battery, const Home& home, std::size_t t, int action) {
  const int level = action < 0 ? -action : 0;  // a level from which `action` is feasible
  if (action > battery.top() || -action > battery.top()) return 0;  // never chosen: beyond the lattice
  return battery.step(level, action, home.demand_kwh[t], home.price[t], home.feed_in_price).cost;
}

}  // namespace

MilpResult solve_milp(const Battery& battery, const Home& home, StepRange range, int level, double time_limit_seconds) {
  const int n = static_cast<int>(range.size()), levels = battery.levels(), segments = 2 * levels;
  const int per_step = segments + 1;  // z_t1 .. z_t(2L), then s_t
  const auto column = [&](int t, int k) { return per_step * t + k + 1; };
  std::unique_ptr<glp_prob, ProblemDeleter> problem(glp_create_prob());
  glp_prob* p = problem.get();
  glp_set_obj_dir(p, GLP_MIN);
  glp_add_cols(p, per_step * n);
  glp_add_rows(p, n);
  std::vector<int> rows{0}, columns{0};
  std::vector<double> values{0.0};
  const auto add = [&](int row, int col, double value) {
    rows.push_back(row);
    columns.push_back(col);
    values.push_back(value);
  };
  double constant = 0;
  for (int t = 0; t < n; ++t) {
    const std::size_t step = range.begin + static_cast<std::size_t>(t);
    double previous = action_cost(battery, home, step, -levels);
    constant += previous;
    for (int j = 0; j < segments; ++j) {
      const double cost = action_cost(battery, home, step, -levels + j + 1);
      glp_set_col_kind(p, column(t, j), GLP_BV);
      glp_set_obj_coef(p, column(t, j), cost - previous);
      add(t + 1, column(t, j), -1.0);
      previous = cost;
    }
    glp_set_col_bnds(p, column(t, segments), GLP_DB, 0.0, battery.top());
    glp_set_obj_coef(p, column(t, segments), kTieBreak);
    add(t + 1, column(t, segments), 1.0);
    if (t > 0) add(t + 1, column(t - 1, segments), -1.0);
    const double rhs = -levels + (t == 0 ? level : 0);
    glp_set_row_bnds(p, t + 1, GLP_FX, rhs, rhs);
  }
  glp_set_obj_coef(p, 0, constant);
  glp_load_matrix(p, static_cast<int>(rows.size()) - 1, rows.data(), columns.data(), values.data());

  glp_iocp parameters;
  glp_init_iocp(&parameters);
  parameters.msg_lev = GLP_MSG_OFF;
  parameters.presolve = GLP_ON;
  parameters.mip_gap = 0.0;
  parameters.tm_lim = static_cast<int>(std::fmin(time_limit_seconds * 1000.0, 2e9));
  const auto start = std::chrono::steady_clock::now();
  const int status = glp_intopt(p, &parameters);
  MilpResult result;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (status != 0 || glp_mip_status(p) != GLP_OPT) {
    throw host::InputError(home.name + ": GLPK found no proven optimum (glp_intopt returned " + std::to_string(status) +
                           ", MIP status " + std::to_string(glp_mip_status(p)) + ")");
  }
  std::vector<int> actions(static_cast<std::size_t>(n));
  for (int t = 0; t < n; ++t) {
    double chosen = 0;
    for (int j = 0; j < segments; ++j) chosen += glp_mip_col_val(p, column(t, j));
    actions[static_cast<std::size_t>(t)] = -levels + static_cast<int>(std::lround(chosen));
  }
  result.solver_objective = glp_mip_obj_val(p);
  result.variables = glp_get_num_cols(p);
  result.integer_variables = glp_get_num_int(p);
  result.constraints = glp_get_num_rows(p);
  result.schedule = replay(battery, home, range, level, actions);
  return result;
}

}  // namespace edgelstm::policy
