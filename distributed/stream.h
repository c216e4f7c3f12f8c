// Node 0's side of a cluster: streams a forecaster's series through the partitioned network, one
// reading at a time, and times each round.
//   infer  stateful streaming: each step feeds the features of the reading before and forecasts
//          the next (as host::Forecaster::stream does on one device)
//   learn  online learning: each step forecasts the reading from the window before it, then
//          learns from it (as host::OnlineLearner::observe does on one device: one training
//          window from the zero state, the forecast is the window's output before the update)
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "distributed/node_runtime.h"
#include "host/forecast.h"
#include "host/model_io.h"

namespace edgelstm::distributed {

struct StreamOptions {
  bool learn = false;
  std::size_t first = 0;              // first reading to forecast (at least the model's first)
  std::size_t steps = 0;              // readings to stream (0: to the end of the series)
  double join_timeout_seconds = 30;   // for every node to join
  double round_timeout_seconds = 60;  // for a round, recovery included; then the stream stops
};

struct StepRecord {
  std::size_t t = 0;       // index of the reading forecast
  double forecast = 0;     // in the series' units (NaN when the round was refused)
  double actual = 0;
  double latency_ms = 0;   // submit to the round's end at node 0
  bool warm_up = false;    // within a window of a reset
  Status status = Status::kOk;
  float loss = 0;          // learn: the window's loss
};

// Streams `series` (the model's series: host::load_model_series, with its covariates and base
// forecasts) through `node` (node 0 of the cluster). on_step gets each finished step,
// on_event every session event of node 0 (joins, losses, resets). Throws host::InputError when
// the nodes do not join in time or a round does not end in time ("node 2 timed out at step 17").
std::vector<StepRecord> stream_series(NodeRuntime& node, const host::ModelFile& model, const host::Series& series,
                                      const StreamOptions& options, const std::function<void(const StepRecord&)>& on_step,
                                      const std::function<void(const SessionEvent&)>& on_event);

// Refuses, naming `path`, a model node 0 cannot stream a series through (a classifier, a model
// without feature settings or normalization): checked before any node is started.
void check_streamable(const host::ModelFile& model, const std::string& path);

// The p-th percentile (0..100) of `values` (nearest rank); 0 for none.
double percentile(std::vector<double> values, double p);

// Lines summing a stream up: steps, refused and warm-up steps, after warm-up MAE, RMSE, sMAPE,
// MAPE (n/a over zero readings) and MASE, latency median and p99.
std::vector<std::string> summary_lines(const std::vector<StepRecord>& records);

}  // namespace edgelstm::distributed
