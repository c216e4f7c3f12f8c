#include "fleet/central_model.h"

#include <time.h>

#include <algorithm>
#include <cmath>

#include "host/csv_reader.h"
#include "host/forecast.h"
#include "host/model_io.h"

namespace edgelstm::fleet {

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

namespace {

// One meter's readings as the training loop sees them.
struct MeterSeries {
  std::int64_t meter_id = 0;
  std::int64_t first_index = 0;  // index (from the meter's first reading) of values[0]
  std::int64_t from = 0;         // timestamp of values[0]
  std::vector<float> values;
  std::vector<bool> present;
  float scale = 1;
};

}  // namespace

CentralModel::CentralModel(const CentralModelOptions& options) : options_(options), shuffle_state_(options.seed) {
  const LstmSpec spec = make_spec(kMeterInputs, static_cast<std::uint16_t>(options.hidden), 1, 1, options.features.window);
  TrainConfig config;
  config.optimizer = OptimizerKind::kAdam;
  config.loss = LossKind::kHuber;
  config.huber_delta = options.huber_delta;
  config.clip_norm = options.clip_norm;
  config.learning_rate = options.learning_rate;
  if (validate_spec(spec) != Status::kOk ||
      net_.bind_training(spec, config, host::aligned_arena(storage_, train_bytes(spec, config.optimizer))) != Status::kOk ||
      net_.initialize(options.seed, 1.0f) != Status::kOk) {
    throw host::InputError("gateway: cannot set up the central model (hidden " + std::to_string(options.hidden) + ")");
  }
  window_.resize(static_cast<std::size_t>(options.features.window) * kMeterInputs);
}

std::size_t CentralModel::parameter_count() const { return net_.parameters().size(); }

std::int64_t CentralModel::first_reading(ReadingStore& store, std::int64_t meter_id) {
  const auto known = first_.find(meter_id);
  if (known != first_.end()) return known->second;
  const std::int64_t first = store.first_reading(meter_id);
  if (first >= 0) first_[meter_id] = first;
  return first;
}

bool CentralModel::dense_readings(ReadingStore& store, std::int64_t meter_id, std::int64_t from, std::int64_t to,
                                  std::vector<float>* values, std::vector<bool>* present) {
  const std::vector<StoredReading> rows = store.readings(meter_id, from, to);
  const std::size_t n = static_cast<std::size_t>((to - from) / interval());
  values->assign(n, 0.0f);
  present->assign(n, false);
  for (const StoredReading& r : rows) {
    const std::size_t k = static_cast<std::size_t>((r.interval_start - from) / interval());
    if (k < n) {
      (*values)[k] = static_cast<float>(r.energy_wh) / 1000.0f;
      (*present)[k] = true;
    }
  }
  // Gaps take the previous reading (a meter offline for a while); leading gaps stay 0.
  for (std::size_t k = 1; k < n; ++k) {
    if (!(*present)[k]) (*values)[k] = (*values)[k - 1];
  }
  return !rows.empty();
}

TrainingReport CentralModel::train(ReadingStore& store, std::int64_t until) {
  const double start = thread_cpu_seconds();
  const std::int64_t step = interval(), day = 86400;
  const std::int64_t train_from = until - options_.history_days * day;
  // The windows of the oldest targets reach history_days (features) + window readings further back.
  const std::int64_t read_from =
      train_from - options_.features.history_days * day - static_cast<std::int64_t>(options_.features.window) * step;
  std::vector<MeterSeries> meters;
  std::vector<StoredReading> rows = store.all_readings(read_from, until);
  for (std::size_t begin = 0; begin < rows.size();) {
    std::size_t end = begin;
    while (end < rows.size() && rows[end].meter_id == rows[begin].meter_id) ++end;
    MeterSeries m;
    m.meter_id = rows[begin].meter_id;
    const std::int64_t first = first_reading(store, m.meter_id);
    m.from = std::max(read_from, first);
    m.first_index = (m.from - first) / step;
    const std::size_t n = static_cast<std::size_t>((until - m.from) / step);
    m.values.assign(n, 0.0f);
    m.present.assign(n, false);
    double sum = 0;
    std::size_t count = 0;
    for (std::size_t k = begin; k < end; ++k) {
      const std::size_t i = static_cast<std::size_t>((rows[k].interval_start - m.from) / step);
      if (i >= n) continue;
      m.values[i] = static_cast<float>(rows[k].energy_wh) / 1000.0f;
      m.present[i] = true;
      if (rows[k].interval_start >= train_from) {
        sum += m.values[i];
        ++count;
      }
    }
    for (std::size_t i = 1; i < n; ++i) {
      if (!m.present[i]) m.values[i] = m.values[i - 1];
    }
    m.scale = std::max(options_.min_scale, count > 0 ? static_cast<float>(sum / static_cast<double>(count)) : 0.0f);
    meters.push_back(std::move(m));
    begin = end;
  }
  // Examples: (meter, index in values) of targets in the training span with their window present.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> examples;
  const std::size_t window = options_.features.window;
  for (std::size_t m = 0; m < meters.size(); ++m) {
    const MeterSeries& s = meters[m];
    for (std::size_t i = window; i < s.values.size(); ++i) {
      if (s.from + static_cast<std::int64_t>(i) * step < train_from || !s.present[i]) continue;
      bool complete = true;
      for (std::size_t k = i - window; k < i && complete; ++k) complete = s.present[k];
      if (complete) examples.emplace_back(static_cast<std::uint32_t>(m), static_cast<std::uint32_t>(i));
    }
  }
  TrainingReport report;
  report.examples = examples.size();
  report.meters = meters.size();
  double loss_sum = 0;
  std::size_t steps = 0;
  std::vector<std::size_t> order(examples.size());
  for (int epoch = 0; epoch < options_.epochs && !examples.empty(); ++epoch) {
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
    host::shuffle_epoch(order, shuffle_state_);
    for (std::size_t k : order) {
      const MeterSeries& s = meters[examples[k].first];
      const std::uint32_t i = examples[k].second;
      const float* values = s.values.data();
      const std::int64_t base = s.first_index;
      // Indices from the meter's first reading: what the feature builder counts in.
      build_meter_window(options_.features, static_cast<std::uint32_t>(base + i),
                         static_cast<std::uint32_t>(s.from + static_cast<std::int64_t>(i) * step), s.scale,
                         [values, base](std::uint32_t index) { return values[index - base]; }, window_.data());
      const float target = s.values[i] / s.scale;
      const TrainResult r = net_.train_step(Span<const float>(window_.data(), window_.size()),
                                            Span<const float>(&target, 1), WindowStart::kZeroState);
      if (r.status == Status::kOk) {
        loss_sum += r.loss;
        ++steps;
      }
    }
    ++report.epochs;
  }
  for (const MeterSeries& s : meters) scales_[s.meter_id] = s.scale;
  if (steps > 0) {
    trained_ = true;
    ++trainings_;
  }
  report.mean_loss = steps > 0 ? loss_sum / static_cast<double>(steps) : 0.0;
  report.cpu_seconds = thread_cpu_seconds() - start;
  return report;
}

bool CentralModel::forecast(ReadingStore& store, std::int64_t meter_id, std::int64_t target, double* kwh) {
  if (!trained_) return false;
  const auto scale = scales_.find(meter_id);
  const std::int64_t first = first_reading(store, meter_id);
  if (scale == scales_.end() || first < 0 || target < first) return false;
  const std::int64_t step = interval();
  const std::size_t window = options_.features.window;
  const std::int64_t target_index = (target - first) / step;
  if (target_index < static_cast<std::int64_t>(window)) return false;
  const std::int64_t reach = static_cast<std::int64_t>(window) + options_.features.history_days * options_.features.readings_per_day;
  const std::int64_t from = std::max(first, target - reach * step);
  std::vector<float> values;
  std::vector<bool> present;
  if (!dense_readings(store, meter_id, from, target, &values, &present)) return false;
  for (std::size_t k = values.size() - window; k < values.size(); ++k) {
    if (!present[k]) return false;  // the window itself must be what the meter read
  }
  const std::int64_t base = (from - first) / step;
  const float* data = values.data();
  build_meter_window(options_.features, static_cast<std::uint32_t>(target_index), static_cast<std::uint32_t>(target),
                     scale->second, [data, base](std::uint32_t index) { return data[index - base]; }, window_.data());
  float y = 0;
  net_.reset_state();
  if (net_.forward(Span<const float>(window_.data(), window_.size()), Span<float>(&y, 1)) != Status::kOk) return false;
  *kwh = std::max(0.0, static_cast<double>(y) * scale->second);
  return true;
}

void CentralModel::save(const std::string& path) const {
  host::ModelFile model;
  model.spec = net_.spec();
  model.parameters.assign(net_.parameters().begin(), net_.parameters().end());
  std::vector<std::int32_t> ids;
  std::vector<float> scales;
  for (const auto& [id, scale] : scales_) {
    ids.push_back(static_cast<std::int32_t>(id));
    scales.push_back(scale);
  }
  model.ints["fleet.meter_ids"] = ids;
  model.floats["fleet.meter_scales"] = scales;
  host::save_model(model, path);
}

void CentralModel::load(const std::string& path) {
  const host::ModelFile model = host::load_model(path);
  const auto ids = model.ints.find("fleet.meter_ids");
  const auto scales = model.floats.find("fleet.meter_scales");
  if (model.parameters.size() != net_.parameters().size() || ids == model.ints.end() || scales == model.floats.end() ||
      ids->second.size() != scales->second.size()) {
    throw host::InputError(path + ": not a central model of this gateway's shape");
  }
  std::copy(model.parameters.begin(), model.parameters.end(), net_.parameters().begin());
  scales_.clear();
  for (std::size_t k = 0; k < ids->second.size(); ++k) scales_[ids->second[k]] = scales->second[k];
  trained_ = true;
}

}  // namespace edgelstm::fleet
