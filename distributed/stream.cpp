#include "distributed/stream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "host/csv_reader.h"
#include "host/metrics.h"

namespace edgelstm::distributed {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

void check_streamable(const host::ModelFile& model, const std::string& path) {
  try {
    (void)host::normalization_of(model);
    if (host::features_of(model).features() != model.spec.input_size) {
      throw host::InputError("its features do not match its inputs");
    }
  } catch (const host::InputError& error) {
    throw host::InputError(path + ": not a forecaster node 0 can stream a series through (" + error.what() +
                           "); expected a model from `edgelstm train --task forecast` or `quantize`");
  }
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double rank = std::ceil(p / 100.0 * static_cast<double>(values.size()));
  const std::size_t index = rank < 1 ? 0 : static_cast<std::size_t>(rank) - 1;
  return values[std::min(index, values.size() - 1)];
}

std::vector<std::string> summary_lines(const std::vector<StepRecord>& records) {
  std::vector<double> latencies, forecasts, actual;
  std::size_t refused = 0, warm_up = 0;
  for (const StepRecord& r : records) {
    latencies.push_back(r.latency_ms);
    if (r.status != Status::kOk) {
      ++refused;
    } else if (r.warm_up) {
      ++warm_up;
    } else {
      forecasts.push_back(r.forecast);
      actual.push_back(r.actual);
    }
  }
  // Zero-safe measures (a household meter reads 0 at times): MAPE is said undefined there.
  const host::Metrics m = host::metrics_of(forecasts, actual);
  char line[3][160];
  std::snprintf(line[0], sizeof line[0], "steps %zu, refused %zu, warm-up %zu", records.size(), refused, warm_up);
  std::snprintf(line[1], sizeof line[1], "over %zu forecasts: %s", forecasts.size(),
                forecasts.empty() ? "no measure" : host::metrics_summary(m, host::decimals_for(m.mae)).c_str());
  std::snprintf(line[2], sizeof line[2], "latency per step: median %.3f ms, p99 %.3f ms", percentile(latencies, 50),
                percentile(latencies, 99));
  return {line[0], line[1], line[2]};
}

std::vector<StepRecord> stream_series(NodeRuntime& node, const host::ModelFile& model, const host::Series& series,
                                      const StreamOptions& options, const std::function<void(const StepRecord&)>& on_step,
                                      const std::function<void(const SessionEvent&)>& on_event) {
  const host::FeatureConfig features = host::features_of(model);
  const host::Normalization norm = host::normalization_of(model);
  if (features.features() != model.spec.input_size) throw host::InputError("the model's features do not match its inputs");
  std::size_t last_lost_peer = 0;
  bool lost = false;
  SessionEvent done;
  bool finished = false;
  const auto handle = [&](const SessionEvent& event) {
    if (event.kind == SessionEventKind::kStepDone || event.kind == SessionEventKind::kWindowDone) {
      done = event;
      finished = true;
    }
    if (event.kind == SessionEventKind::kPeerLost) {
      lost = true;
      last_lost_peer = event.peer;
    }
    on_event(event);
  };
  const auto join_start = std::chrono::steady_clock::now();
  while (!node.ready()) {
    if (seconds_since(join_start) > options.join_timeout_seconds) {
      throw host::InputError("node 0: the other nodes did not all join within " +
                             std::to_string(static_cast<int>(options.join_timeout_seconds)) + " s");
    }
    node.pump(20, handle);
  }
  host::FeatureConfig one_step = features;
  one_step.window = 1;
  const std::size_t first = std::max(options.first, features.first_target());
  const std::size_t end = options.steps == 0 ? series.values.size() : std::min(series.values.size(), first + options.steps);
  std::vector<float> input(static_cast<std::size_t>(features.window * features.features()));
  std::vector<StepRecord> records;
  for (std::size_t t = first; t < end; ++t) {
    StepRecord record;
    record.t = t;
    record.actual = series.values[t];
    Status submitted;
    float target = host::target_of(series, features, norm, t);
    if (options.learn) {
      host::build_window(series, features, norm, t, input.data());
      submitted = node.submit_window(Span<const float>(input.data(), input.size()), Span<const float>(&target, 1),
                                     WindowStart::kZeroState);
    } else {
      host::build_window(series, one_step, norm, t, input.data());
      submitted = node.submit_step(Span<const float>(input.data(), static_cast<std::size_t>(features.features())));
    }
    if (submitted != Status::kOk) throw host::InputError("node 0: step " + std::to_string(t) + ": " + status_name(submitted));
    const auto start = std::chrono::steady_clock::now();
    finished = false;
    while (!finished) {
      if (node.inconsistent()) throw host::InputError("node 0: a restarted node lost committed training windows; stopping");
      if (seconds_since(start) > options.round_timeout_seconds) {
        throw host::InputError("node 0: step " + std::to_string(t) + " did not finish within " +
                               std::to_string(static_cast<int>(options.round_timeout_seconds)) + " s" +
                               (lost ? " (node " + std::to_string(last_lost_peer) + " timed out)" : ""));
      }
      node.pump(50, handle);
    }
    record.latency_ms = seconds_since(start) * 1000.0;
    record.status = done.status;
    record.warm_up = done.warm_up;
    record.loss = done.loss;
    record.forecast = done.status == Status::kOk ? host::forecast_of(series, features, norm, t, node.outputs()[0]) : NAN;
    records.push_back(record);
    on_step(record);
  }
  return records;
}

}  // namespace edgelstm::distributed
