#include "host/forecast.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <numeric>
#include <sstream>

namespace edgelstm::host {
namespace {

constexpr double kTwoPi = 6.283185307179586;

std::uint32_t mix(std::uint64_t& state) {  // SplitMix64, for the epoch shuffles
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return static_cast<std::uint32_t>((z ^ (z >> 31)) >> 32);
}

}  // namespace

int FeatureConfig::max_lag() const {
  int largest = 1;
  for (int lag : lags) largest = std::max(largest, lag);
  return largest;
}

std::string FeatureConfig::encode() const {
  std::ostringstream out;
  out << "window=" << window << ";lags=";
  for (std::size_t k = 0; k < lags.size(); ++k) out << (k ? "," : "") << lags[k];
  out << ";calendar=" << (calendar ? 1 : 0) << ";interval=" << interval_seconds;
  return out.str();
}

FeatureConfig FeatureConfig::decode(const std::string& text) {
  FeatureConfig config;
  config.lags.clear();
  std::istringstream in(text);
  std::string item;
  int seen = 0;
  while (std::getline(in, item, ';')) {
    const std::size_t eq = item.find('=');
    if (eq == std::string::npos) throw InputError("feature settings: expected key=value, found '" + item + "'");
    const std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    try {
      if (key == "window") {
        config.window = std::stoi(value);
      } else if (key == "lags") {
        std::istringstream list(value);
        std::string lag;
        while (std::getline(list, lag, ',')) config.lags.push_back(std::stoi(lag));
      } else if (key == "calendar") {
        config.calendar = value == "1";
      } else if (key == "interval") {
        config.interval_seconds = std::stoll(value);
      } else {
        throw InputError("feature settings: unknown key '" + key + "'");
      }
    } catch (const std::logic_error&) {
      throw InputError("feature settings: bad value for '" + key + "': '" + value + "'");
    }
    ++seen;
  }
  if (seen != 4 || config.window < 1 || config.interval_seconds <= 0) {
    throw InputError("feature settings: expected window, lags, calendar and interval, found '" + text + "'");
  }
  return config;
}

Split chronological_split(const Series& series, const FeatureConfig& features, std::size_t validation_steps,
                          std::size_t test_steps) {
  const std::size_t first = static_cast<std::size_t>(features.window - 1 + features.max_lag());
  const std::size_t n = series.values.size();
  if (n < first + test_steps + validation_steps + 1) {
    throw InputError("the series has " + std::to_string(n) + " readings: too few for a window of " +
                     std::to_string(features.window) + ", lags up to " + std::to_string(features.max_lag()) +
                     " and validation + test spans of " + std::to_string(validation_steps + test_steps));
  }
  return split_indices(first, n, validation_steps, test_steps);
}

Split split_indices(std::size_t first, std::size_t n, std::size_t validation_count, std::size_t test_count) {
  Split split;
  for (std::size_t t = first; t < n; ++t) {
    if (t >= n - test_count) {
      split.test.push_back(t);
    } else if (t >= n - test_count - validation_count) {
      split.validation.push_back(t);
    } else {
      split.train.push_back(t);
    }
  }
  return split;
}

void shuffle_epoch(std::vector<std::size_t>& order, std::uint64_t& state) {
  for (std::size_t k = order.size(); k > 1; --k) std::swap(order[k - 1], order[mix(state) % k]);
}

void build_window(const Series& series, const FeatureConfig& features, const Normalization& norm, std::size_t t,
                  float* out) {
  const std::size_t w = static_cast<std::size_t>(features.window);
  for (std::size_t k = 0; k < w; ++k) {
    const std::size_t s = t - w + k;
    *out++ = norm.apply(series.values[s]);
    for (int lag : features.lags) *out++ = norm.apply(series.values[s + 1 - static_cast<std::size_t>(lag)]);
    if (features.calendar) {
      const std::int64_t when = series.times[s] + features.interval_seconds;  // the step forecast
      const double day = static_cast<double>(((when % 86400) + 86400) % 86400) / 86400.0;
      // 1970-01-01 was a Thursday: shift so that Monday 00:00 is 0.
      const double week = static_cast<double>((((when + 3 * 86400) % 604800) + 604800) % 604800) / 604800.0;
      *out++ = static_cast<float>(std::sin(kTwoPi * day));
      *out++ = static_cast<float>(std::cos(kTwoPi * day));
      *out++ = static_cast<float>(std::sin(kTwoPi * week));
      *out++ = static_cast<float>(std::cos(kTwoPi * week));
    }
  }
}

Metrics metrics_of(const std::vector<double>& forecast, const std::vector<double>& actual) {
  Metrics m;
  m.count = actual.size();
  for (std::size_t k = 0; k < actual.size(); ++k) {
    const double error = forecast[k] - actual[k];
    m.mae += std::fabs(error);
    m.rmse += error * error;
    m.mape += 100.0 * std::fabs(error) / std::fabs(actual[k]);
  }
  if (m.count != 0) {
    m.mae /= m.count;
    m.rmse = std::sqrt(m.rmse / m.count);
    m.mape /= m.count;
  }
  return m;
}

std::vector<double> persistence(const Series& series, const std::vector<std::size_t>& targets) {
  std::vector<double> out;
  for (std::size_t t : targets) out.push_back(series.values[t - 1]);
  return out;
}

std::vector<double> seasonal_naive(const Series& series, const std::vector<std::size_t>& targets, int season) {
  std::vector<double> out;
  for (std::size_t t : targets) out.push_back(series.values[t - static_cast<std::size_t>(season)]);
  return out;
}

std::vector<double> persistence_with_seasonal_change(const Series& series, const std::vector<std::size_t>& targets,
                                                     int season) {
  std::vector<double> out;
  const std::size_t s = static_cast<std::size_t>(season);
  for (std::size_t t : targets) out.push_back(series.values[t - 1] + series.values[t - s] - series.values[t - s - 1]);
  return out;
}

Span<std::uint8_t> aligned_arena(std::vector<std::uint8_t>& storage, std::size_t bytes) {
  storage.assign(bytes + kArenaAlignment, 0);
  const auto address = reinterpret_cast<std::uintptr_t>(storage.data());
  const std::size_t shift = (kArenaAlignment - address % kArenaAlignment) % kArenaAlignment;
  return Span<std::uint8_t>(storage.data() + shift, bytes);
}

Normalization normalization_of(const ModelFile& model) {
  const auto found = model.floats.find("norm.value");
  if (found == model.floats.end() || found->second.size() != 2 || !(found->second[1] > 0)) {
    throw InputError("the model holds no value normalization (norm.value): not a forecaster made by `edgelstm train`");
  }
  Normalization norm;
  norm.mean = found->second[0];
  norm.scale = found->second[1];
  return norm;
}

FeatureConfig features_of(const ModelFile& model) {
  const auto found = model.texts.find("meta.features");
  if (found == model.texts.end()) throw InputError("the model holds no feature settings (meta.features)");
  FeatureConfig config = FeatureConfig::decode(found->second);
  if (config.features() != model.spec.input_size || config.window != model.spec.window) {
    throw InputError("the model's feature settings (" + found->second + ") do not match its input size " +
                     std::to_string(model.spec.input_size) + " and window " + std::to_string(model.spec.window));
  }
  return config;
}

std::vector<float> train_with_early_stopping(Network& net, std::size_t examples, const TrainOptions& options,
                                             const std::function<TrainResult(std::size_t)>& train_example,
                                             const std::function<double()>& validation_error,
                                             const std::function<void(const EpochReport&)>& progress,
                                             std::vector<float>* history) {
  std::vector<std::size_t> order(examples);
  std::iota(order.begin(), order.end(), 0);
  std::uint64_t shuffle_state = options.seed;
  // Quantization-aware: validation measures the network with its weights quantized, and the float
  // weights are put back afterwards (they are what training continues from and what is kept).
  std::vector<float> float_weights;
  const auto measure = [&]() {
    if (!options.quantization_aware) return validation_error();
    float_weights.assign(net.parameters().begin(), net.parameters().end());
    if (fake_quantize_weights(net, options.fake_quantization) != Status::kOk) throw InputError("cannot fake-quantize the network");
    const double error = validation_error();
    std::copy(float_weights.begin(), float_weights.end(), net.parameters().begin());
    return error;
  };
  std::vector<float> best(net.parameters().begin(), net.parameters().end());
  double best_error = measure();
  int since_best = 0;
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    shuffle_epoch(order, shuffle_state);
    double loss = 0;
    std::size_t accepted = 0;
    for (std::size_t k : order) {
      const TrainResult r = train_example(k);
      if (r.status == Status::kOk) {
        loss += r.loss;
        ++accepted;
      }
    }
    const double error = measure();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double mean_loss = accepted ? loss / accepted : NAN;
    history->insert(history->end(), {static_cast<float>(epoch), static_cast<float>(mean_loss), static_cast<float>(error)});
    if (progress) progress(EpochReport{epoch, mean_loss, error, seconds});
    if (error < best_error) {
      best_error = error;
      best.assign(net.parameters().begin(), net.parameters().end());
      since_best = 0;
    } else if (++since_best >= options.patience) {
      break;
    }
  }
  return best;
}

Normalization fit_normalization(const Series& series, const Split& split) {
  Normalization norm;
  double sum = 0, squares = 0;
  for (std::size_t t : split.train) sum += series.values[t];
  norm.mean = sum / split.train.size();
  for (std::size_t t : split.train) squares += (series.values[t] - norm.mean) * (series.values[t] - norm.mean);
  norm.scale = std::sqrt(squares / split.train.size());
  if (!(norm.scale > 0)) throw InputError("the training span is constant: nothing to learn");
  return norm;
}

void export_dataset(const Series& series, const FeatureConfig& features, const Split& split, const Normalization& norm,
                    const std::string& directory) {
  const std::size_t floats = static_cast<std::size_t>(features.window * features.features());
  std::ofstream shapes(directory + "/shapes.txt");
  shapes << "window " << features.window << "\nfeatures " << features.features() << "\nmean " << norm.mean
         << "\nscale " << norm.scale << "\n";
  const std::pair<const char*, const std::vector<std::size_t>*> parts[] = {
      {"train", &split.train}, {"validation", &split.validation}, {"test", &split.test}};
  for (const auto& [name, targets] : parts) {
    std::ofstream x(directory + "/" + name + "_x.f32", std::ios::binary), y(directory + "/" + name + "_y.f32", std::ios::binary);
    std::vector<float> window(floats);
    for (std::size_t t : *targets) {
      build_window(series, features, norm, t, window.data());
      const float target = norm.apply(series.values[t]);
      x.write(reinterpret_cast<const char*>(window.data()), static_cast<std::streamsize>(floats * sizeof(float)));
      y.write(reinterpret_cast<const char*>(&target), sizeof target);
    }
    shapes << name << " " << targets->size() << "\n";
    if (!x || !y) throw InputError(directory + ": cannot write the " + std::string(name) + " split");
  }
  if (!shapes) throw InputError(directory + "/shapes.txt: cannot write");
}

ModelFile train_forecaster(const Series& series, const FeatureConfig& requested_features, const Split& split,
                           const TrainOptions& options, const std::function<void(const EpochReport&)>& progress) {
  if (options.hidden < 1 || options.hidden > 1024 || options.layers < 1 || options.layers > 4 ||
      requested_features.window > 1024) {
    throw InputError("hidden size must be 1..1024, layers 1..4, window 1..1024");
  }
  const ModelFile* start = options.start_from;
  if (start != nullptr && (start->spec.task != Task::kRegression || start->spec.output_size != 1 ||
                           start->spec.output_mode != OutputMode::kLastStep)) {
    throw InputError("the model to fine-tune is not a one-step forecaster (regression, 1 output, last step)");
  }
  const Normalization norm = start != nullptr ? normalization_of(*start) : fit_normalization(series, split);
  const FeatureConfig features = start != nullptr ? features_of(*start) : requested_features;
  const LstmSpec spec = start != nullptr ? start->spec
                                         : make_spec(static_cast<std::uint16_t>(features.features()),
                                                     static_cast<std::uint16_t>(options.hidden),
                                                     static_cast<std::uint8_t>(options.layers), 1,
                                                     static_cast<std::uint16_t>(features.window));
  std::vector<std::uint8_t> storage;
  Network net;
  bind_for_training(net, storage, spec, options, LossKind::kMse);
  auto snapshot = [&](const std::vector<float>& parameters, const std::vector<float>& history) {
    ModelFile model;
    model.spec = spec;
    model.parameters = parameters;
    model.floats["norm.value"] = {static_cast<float>(norm.mean), static_cast<float>(norm.scale)};
    model.floats["train.history"] = history;
    model.texts["meta.features"] = features.encode();
    // Marked only when fine-tuning changed the weights (early stopping may keep the start's).
    if (options.quantization_aware && !(start != nullptr && parameters == start->parameters)) {
      model.texts["meta.quantization_aware"] = quantization_aware_label(options.fake_quantization);
    }
    return model;
  };
  if (options.on_initialized) options.on_initialized(snapshot({net.parameters().begin(), net.parameters().end()}, {}));

  const std::size_t window_floats = static_cast<std::size_t>(features.window * features.features());
  std::vector<float> windows(split.train.size() * window_floats), targets(split.train.size());
  for (std::size_t k = 0; k < split.train.size(); ++k) {
    build_window(series, features, norm, split.train[k], windows.data() + k * window_floats);
    targets[k] = norm.apply(series.values[split.train[k]]);
  }
  std::vector<float> validation_window(window_floats);
  auto validation_mape = [&]() {
    double sum = 0;
    float y = 0;
    for (std::size_t t : split.validation) {
      build_window(series, features, norm, t, validation_window.data());
      net.reset_state();
      (void)net.forward(Span<const float>(validation_window.data(), window_floats), Span<float>(&y, 1));
      sum += 100.0 * std::fabs(norm.invert(y) - series.values[t]) / std::fabs(series.values[t]);
    }
    return sum / split.validation.size();
  };

  std::vector<float> history;  // epoch, train loss, validation MAPE
  std::vector<float> master;
  const std::vector<float> best = train_with_early_stopping(
      net, split.train.size(), options,
      [&](std::size_t k) {
        return train_step_for(net, options, Span<const float>(windows.data() + k * window_floats, window_floats),
                              Span<const float>(&targets[k], 1), master);
      },
      validation_mape, progress, &history);
  return snapshot(best, history);
}

Forecaster::Forecaster(const ModelFile& model) : features_(features_of(model)), norm_(normalization_of(model)) {
  if (model.spec.task != Task::kRegression || model.spec.output_size != 1 || model.spec.output_mode != OutputMode::kLastStep) {
    throw InputError("the model is not a one-step forecaster (regression, 1 output, last step)");
  }
  Status status = net_.bind_inference(model.spec, aligned_arena(arena_, inference_bytes(model.spec)));
  if (status != Status::kOk) throw InputError(std::string("cannot bind the model: ") + status_name(status));
  std::copy(model.parameters.begin(), model.parameters.end(), net_.parameters().begin());
  window_.resize(static_cast<std::size_t>(features_.window * features_.features()));
}

double Forecaster::forecast(const Series& series, std::size_t t) {
  return forecast_with(net_, series, features_, norm_, window_, t);
}

TrainOptions fine_tuning_options(TrainOptions base, const ModelFile& start, const FakeQuantization& fq,
                                 float learning_rate, int epochs) {
  base.start_from = &start;
  base.quantization_aware = fq.format != WeightFormat::kFloat32;
  base.fake_quantization = fq;
  base.learning_rate = learning_rate;
  base.epochs = epochs;
  base.patience = 3;
  return base;
}

std::string quantization_aware_label(const FakeQuantization& fq) {
  const char* bits = fq.format == WeightFormat::kInt16 ? "int16" : fq.format == WeightFormat::kInt8 ? "int8" : "int4";
  return std::string(bits) + (fq.granularity == ScaleGranularity::kRow ? " per row" : " per tensor");
}

void bind_for_training(Network& net, std::vector<std::uint8_t>& storage, const LstmSpec& spec,
                       const TrainOptions& options, LossKind loss) {
  TrainConfig config;
  config.optimizer = options.optimizer;
  config.loss = loss;
  config.learning_rate = options.learning_rate;
  config.clip_norm = options.clip_norm;
  Status status = net.bind_training(spec, config, aligned_arena(storage, train_bytes(spec, config.optimizer)));
  if (status == Status::kOk) status = net.initialize(options.seed, 1.0f);
  if (status == Status::kOk && options.start_from != nullptr) {
    if (options.start_from->parameters.size() != net.parameters().size()) {
      throw InputError("the model to fine-tune holds " + std::to_string(options.start_from->parameters.size()) +
                       " parameters, its shape needs " + std::to_string(net.parameters().size()));
    }
    std::copy(options.start_from->parameters.begin(), options.start_from->parameters.end(), net.parameters().begin());
  }
  if (status != Status::kOk) throw InputError(std::string("cannot set up the network: ") + status_name(status));
}

}  // namespace edgelstm::host
