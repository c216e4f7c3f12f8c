// A smart meter's self-learning forecaster: what a meter runs to forecast its own next reading and
// learn from every reading, on the device, from scratch.
//
// At each reading x[n] (energy of one interval, e.g. kWh per half-hour) observe():
//   1. scores the forecast it made of x[n] at the previous reading (predict, then learn);
//   2. learns: one training step (forward, BPTT, Adam) on the window that forecasts x[n], then
//      `replay` more on windows of targets drawn from the last `replay_span` readings: a replay
//      buffer rebuilt from the meter's own reading history, so it costs no memory beyond the
//      history itself;
//   3. forecasts x[n + 1] with the updated weights.
// The learning rate falls from `learning_rate` towards `final_learning_rate` as
// lr(n) = final + (first - final) / (1 + n / decay_readings): large steps while the network knows
// nothing, small ones once it has seen some weeks.
//
// Inputs of each step s of a window that forecasts x[u] (s = u - W .. u - 1), kMeterInputs values,
// all divided by the meter's scale (the mean reading of its first day, at least min_scale):
//   x[s], x[u - D] (the same interval yesterday), the mean of x[u - kD] over k = 1 .. history_days
//   (the same interval on the previous days; over the days seen so far in the first week), and
//   sin/cos of the time of day and of the day of week of x[u].
// D = readings_per_day. Household loads are spiky; the Huber loss (huber_delta in units of the
// scale) keeps a single kettle spike from dominating an update, and forecasts are clamped at 0.
//
// Memory: one caller-owned arena of meter_forecaster_bytes(spec) bytes (the network's training
// arena, the reading history, one window). Checkpoint: save() writes meter_checkpoint_bytes(spec)
// bytes (weights, Adam state, history, counters; native little-endian floats) and restore() brings
// a bound forecaster back to exactly that state, so a meter that reboots and replays the readings
// since its checkpoint ends bit-identical to one that never rebooted. Nothing allocates or throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "memory_plan.h"
#include "model_format.h"
#include "network.h"
#include "span.h"
#include "spec.h"
#include "status.h"

namespace edgelstm {

inline constexpr std::uint16_t kMeterInputs = 7;

// The forecaster's shape: everything that sizes memory and the checkpoint.
struct MeterForecasterSpec {
  std::uint16_t hidden = 16;             // LSTM units (one layer)
  std::uint16_t window = 6;              // steps per window
  std::uint16_t readings_per_day = 48;   // D: half-hourly readings
  std::uint16_t history_days = 7;        // days averaged for the same-interval mean
  std::uint16_t replay = 4;              // replayed windows per reading
  std::uint16_t replay_span = 336;       // replay draws targets among the last replay_span readings
};

// How it learns: may change between runs without invalidating a checkpoint.
struct MeterForecasterConfig {
  float learning_rate = 3e-3f;        // Adam, at the first reading
  float final_learning_rate = 5e-4f;  // approached as the readings accumulate
  float decay_readings = 336.0f;      // lr halfway between the two after this many readings
  float huber_delta = 1.0f;           // in units of the scale
  float clip_norm = 5.0f;             // global gradient-norm limit
  float min_scale = 0.05f;            // floor of the normalization scale (units of the readings)
  std::uint32_t seed = 1;             // initial weights and replay draws
};

// What one reading did.
struct MeterObservation {
  bool scored = false;           // a forecast of this reading had been made
  float forecast_of_reading = 0; // that forecast
  bool has_forecast = false;     // next_forecast is valid
  float next_forecast = 0;       // forecast of the next reading
  std::uint16_t trained = 0;     // training steps taken
  std::uint16_t refused = 0;     // training steps refused (non-finite): nothing changed
};

constexpr LstmSpec meter_lstm_spec(const MeterForecasterSpec& spec) {
  return make_spec(kMeterInputs, spec.hidden, 1, 1, spec.window);
}

// Readings kept: enough to rebuild every window the forecaster uses (the oldest replayed target's
// window reaches history_days days behind its first step).
constexpr std::size_t meter_history_length(const MeterForecasterSpec& spec) {
  return static_cast<std::size_t>(spec.history_days) * spec.readings_per_day + spec.window + spec.replay_span;
}

constexpr bool meter_spec_valid(const MeterForecasterSpec& spec) {
  return validate_spec(meter_lstm_spec(spec)) == Status::kOk && spec.readings_per_day > 0 &&
         86400 % spec.readings_per_day == 0 && spec.history_days > 0 && spec.replay_span > 0;
}

// Arena bytes: the network's training arena (Adam), then the history and one window of floats.
constexpr std::size_t meter_forecaster_bytes(const MeterForecasterSpec& spec) {
  return meter_spec_valid(spec)
             ? train_bytes(meter_lstm_spec(spec), OptimizerKind::kAdam) +
                   detail::align_up(meter_history_length(spec) * sizeof(float)) +
                   detail::align_up(static_cast<std::size_t>(spec.window) * kMeterInputs * sizeof(float))
             : 0;
}

// The checkpoint is a model file (model_format.h: read_model reads it, `edgelstm inspect` shows
// it) whose tensors after the network's parameters hold the rest of the state:
//   optimizer.adam_m, optimizer.adam_v  f32 [parameters]   Adam's moments
//   meter.history                       f32 [history]      the reading ring, x[i] at i % history
//   meter.values                        f32 [3]            pending forecast, scale, first-day sum
//   meter.counters                      i32 [15]           readings, first timestamp, learned
//       readings, replay generator, forecast pending, the spec's six fields, Adam's beta1^t and
//       beta2^t (doubles, as two words each: low, high)
inline constexpr std::size_t kMeterCheckpointExtras = 5;
inline constexpr std::size_t kMeterCheckpointCounters = 15;

// Bytes of the checkpoint (model_file_bytes of the same tensors, computed at compile time).
constexpr std::size_t meter_checkpoint_bytes(const MeterForecasterSpec& spec) {
  if (!meter_spec_valid(spec)) return 0;
  const std::size_t parameters = parameter_count(meter_lstm_spec(spec));
  const std::size_t tensors = 4 + 2 + kMeterCheckpointExtras;  // one layer: 4 LSTM tensors, the head's 2
  const std::size_t table = (kModelHeaderBytes + tensors * kModelTableEntryBytes + 15) / 16 * 16;
  return table + 4 * (3 * parameters + meter_history_length(spec) + 3 + kMeterCheckpointCounters);
}

namespace detail {

// sin(2 pi turns) in float, to a few 1e-7: range-reduced to [-1/4, 1/4] turn and the Taylor
// polynomial of degree 11, so the calendar inputs need no libm.
inline float sin_turns(float turns) {
  turns -= static_cast<float>(static_cast<std::int32_t>(turns));  // (-1, 1)
  if (turns > 0.5f) turns -= 1.0f;
  if (turns < -0.5f) turns += 1.0f;
  if (turns > 0.25f) turns = 0.5f - turns;
  if (turns < -0.25f) turns = -0.5f - turns;
  const float x = turns * 6.28318530718f, x2 = x * x;
  return x * (1.0f + x2 * (-1.0f / 6 + x2 * (1.0f / 120 + x2 * (-1.0f / 5040 + x2 * (1.0f / 362880 +
                                                                                  x2 * (-1.0f / 39916800))))));
}

}  // namespace detail

// The inputs of the window that forecasts x[u] (steps s = u - W .. u - 1, kMeterInputs values
// each, step-major) into `out`: see the file comment. Indices count the meter's readings from its
// first (0); `timestamp_u` is the start of interval u; reading(i) returns x[i] for every index the
// window refers to: u - W .. u - 1 and, for each step, target - k D for k = 1 .. history_days where
// that is >= 0 (target = s + 1). The gateway builds its windows with this function too, so both
// platforms forecast from the same inputs.
template <typename Reading>
inline void build_meter_window(const MeterForecasterSpec& spec, std::uint32_t u, std::uint32_t timestamp_u, float scale,
                               const Reading& reading, float* out) {
  const std::uint32_t day = spec.readings_per_day, interval = 86400u / day;
  const float inverse_scale = 1.0f / scale;
  for (std::uint32_t s = u - spec.window; s < u; ++s) {
    const std::uint32_t target = s + 1;  // the reading this step's lag and calendar inputs refer to
    const float now = reading(s) * inverse_scale;
    float sum = 0;
    std::uint32_t days = 0;
    for (std::uint32_t k = 1; k <= spec.history_days && target >= k * day; ++k, ++days) sum += reading(target - k * day);
    out[0] = now;
    out[1] = days > 0 ? reading(target - day) * inverse_scale : now;
    out[2] = days > 0 ? sum * inverse_scale / static_cast<float>(days) : now;
    const std::uint32_t seconds = timestamp_u - (u - target) * interval;
    const float time_of_day = static_cast<float>(seconds % 86400u) / 86400.0f;
    const float day_of_week = static_cast<float>((seconds / 86400u + 3u) % 7u) / 7.0f;  // Monday 0
    out[3] = detail::sin_turns(time_of_day);
    out[4] = detail::sin_turns(time_of_day + 0.25f);
    out[5] = detail::sin_turns(day_of_week);
    out[6] = detail::sin_turns(day_of_week + 0.25f);
    out += kMeterInputs;
  }
}

class MeterForecaster {
 public:
  // Binds to `arena` (meter_forecaster_bytes(spec) bytes on a kArenaAlignment boundary) and starts
  // from scratch: seeded weights, no readings. kInvalidSpec / kInvalidArgument / kBufferTooSmall /
  // kMisalignedBuffer as for the network.
  Status bind(const MeterForecasterSpec& spec, const MeterForecasterConfig& config, Span<std::uint8_t> arena) {
    if (!meter_spec_valid(spec)) return Status::kInvalidSpec;
    if (!(config.learning_rate > 0 && config.final_learning_rate > 0 && config.decay_readings > 0 &&
          config.min_scale > 0 && config.huber_delta > 0 && config.clip_norm >= 0)) {
      return Status::kInvalidArgument;
    }
    if (arena.size() < meter_forecaster_bytes(spec)) return Status::kBufferTooSmall;
    spec_ = spec;
    config_ = config;
    const std::size_t network_bytes = train_bytes(meter_lstm_spec(spec), OptimizerKind::kAdam);
    EDGELSTM_TRY(net_.bind_training(meter_lstm_spec(spec), train_config(0), arena.subspan(0, network_bytes)));
    EDGELSTM_TRY(net_.initialize(config.seed, /*forget_bias=*/1.0f));
    history_ = reinterpret_cast<float*>(arena.data() + network_bytes);
    window_ = reinterpret_cast<float*>(arena.data() + network_bytes +
                                       detail::align_up(meter_history_length(spec) * sizeof(float)));
    for (std::size_t k = 0; k < meter_history_length(spec); ++k) history_[k] = 0.0f;
    readings_ = 0;
    first_timestamp_ = 0;
    scale_sum_ = 0.0f;
    scale_ = config.min_scale;
    learned_ = 0;
    replay_state_ = config.seed * 2654435761u + 1u;
    has_pending_ = false;
    pending_forecast_ = 0.0f;
    return Status::kOk;
  }

  // One reading: `timestamp` (seconds, local clock, start of the interval) must follow the previous
  // one by exactly one interval (86400 / readings_per_day s); `reading` finite and >= 0. Refused
  // (kInvalidArgument / kNonFinite, nothing changed) otherwise. See the file comment for the steps.
  Status observe(std::uint32_t timestamp, float reading, MeterObservation* out) {
    if (!net_.bound() || out == nullptr) return Status::kNotBound;
    if (!all_finite(&reading, 1)) return Status::kNonFinite;
    if (reading < 0.0f) return Status::kInvalidArgument;
    if (readings_ > 0 && timestamp != next_timestamp()) return Status::kInvalidArgument;
    *out = MeterObservation{};
    if (readings_ == 0) first_timestamp_ = timestamp;
    out->scored = has_pending_;
    out->forecast_of_reading = pending_forecast_;
    const std::uint32_t n = readings_;
    history_[n % meter_history_length(spec_)] = reading;
    readings_ = n + 1;
    if (n < spec_.readings_per_day) {  // the first day sets the scale
      scale_sum_ += reading;
      const float mean = scale_sum_ / static_cast<float>(n + 1);
      scale_ = mean > config_.min_scale ? mean : config_.min_scale;
    }

    // Learn from x[n], then from `replay` targets of the recent past.
    if (n >= spec_.window) {
      EDGELSTM_TRY(net_.set_train_config(train_config(learned_)));
      learn(n, out);
      const std::uint32_t span = spec_.replay_span;
      const std::uint32_t oldest = n > spec_.window + span ? n - span : spec_.window;
      for (std::uint16_t k = 0; k < spec_.replay && oldest < n; ++k) learn(oldest + next_random() % (n - oldest), out);
      ++learned_;
    }

    // Forecast x[n + 1].
    has_pending_ = false;
    if (n + 1 >= spec_.window) {
      build_window(n + 1);
      net_.reset_state();
      float y = 0;
      if (net_.forward(Span<const float>(window_, window_length()), Span<float>(&y, 1)) == Status::kOk) {
        const float forecast = y * scale_;
        pending_forecast_ = forecast > 0.0f ? forecast : 0.0f;
        has_pending_ = true;
      }
    }
    out->has_forecast = has_pending_;
    out->next_forecast = pending_forecast_;
    return Status::kOk;
  }

  std::uint32_t readings() const { return readings_; }
  // The timestamp observe() expects next (meaningless before the first reading).
  std::uint32_t next_timestamp() const { return first_timestamp_ + readings_ * interval_seconds(); }
  std::uint32_t interval_seconds() const { return 86400u / spec_.readings_per_day; }
  float scale() const { return scale_; }
  float learning_rate() const { return train_config(learned_).learning_rate; }
  const MeterForecasterSpec& spec() const { return spec_; }
  const Network& network() const { return net_; }

  // Writes the checkpoint (meter_checkpoint_bytes(spec()) bytes) to the front of `out`, which must
  // start on a 4-byte boundary.
  Status save(Span<std::uint8_t> out) const {
    if (!net_.bound()) return Status::kNotBound;
    if (out.size() < meter_checkpoint_bytes(spec_)) return Status::kBufferTooSmall;
    Network& net = const_cast<Network&>(net_);  // optimizer_state() is only read here
    const std::size_t parameters = net_.parameters().size();
    const float values[3] = {pending_forecast_, scale_, scale_sum_};
    std::uint32_t counters[kMeterCheckpointCounters] = {readings_, first_timestamp_, learned_, replay_state_,
                                                       has_pending_ ? 1u : 0u};
    const SpecFields fields = spec_fields(spec_);
    for (int k = 0; k < 6; ++k) counters[5 + k] = fields.values[k];
    split_double(net_.adam_beta1_power(), counters + 11);
    split_double(net_.adam_beta2_power(), counters + 13);
    const ModelTensor extras[kMeterCheckpointExtras] = {
        {"optimizer.adam_m", TensorType::kFloat32, net.optimizer_state().data(), static_cast<std::uint32_t>(parameters), 0},
        {"optimizer.adam_v", TensorType::kFloat32, net.optimizer_state().data() + parameters,
         static_cast<std::uint32_t>(parameters), 0},
        {"meter.history", TensorType::kFloat32, history_, static_cast<std::uint32_t>(meter_history_length(spec_)), 0},
        {"meter.values", TensorType::kFloat32, values, 3, 0},
        {"meter.counters", TensorType::kInt32, counters, kMeterCheckpointCounters, 0},
    };
    std::size_t written = 0;
    return write_model(net_.spec(), net_.parameters(), Span<const ModelTensor>(extras, kMeterCheckpointExtras), out,
                       &written);
  }

  // Restores a bound forecaster from save()'s bytes (4-byte aligned). Refuses, changing nothing,
  // bytes that are not a valid model file (read_model's statuses), a checkpoint of another spec or
  // with inconsistent counters (kMalformedModel), or one holding a non-finite value (kNonFinite).
  Status restore(Span<const std::uint8_t> in) {
    if (!net_.bound()) return Status::kNotBound;
    ModelView view;
    EDGELSTM_TRY(read_model(in, &view));
    const LstmSpec expected = meter_lstm_spec(spec_);
    if (view.weight_format() != WeightFormat::kFloat32 || !same_spec(view.spec(), expected)) {
      return Status::kMalformedModel;
    }
    const std::size_t parameters = parameter_count(expected), history = meter_history_length(spec_);
    ModelTensor m, v, ring, values, counters;
    EDGELSTM_TRY(find(view, "optimizer.adam_m", TensorType::kFloat32, parameters, &m));
    EDGELSTM_TRY(find(view, "optimizer.adam_v", TensorType::kFloat32, parameters, &v));
    EDGELSTM_TRY(find(view, "meter.history", TensorType::kFloat32, history, &ring));
    EDGELSTM_TRY(find(view, "meter.values", TensorType::kFloat32, 3, &values));
    EDGELSTM_TRY(find(view, "meter.counters", TensorType::kInt32, kMeterCheckpointCounters, &counters));
    std::uint32_t c[kMeterCheckpointCounters];
    std::memcpy(c, counters.data, sizeof c);
    float f[3];
    std::memcpy(f, values.data, sizeof f);
    const SpecFields fields = spec_fields(spec_);
    for (int k = 0; k < 6; ++k) {
      if (c[5 + k] != fields.values[k]) return Status::kMalformedModel;
    }
    const double beta1_power = join_double(c + 11), beta2_power = join_double(c + 13);
    if (c[2] > c[0] || c[3] == 0 || c[4] > 1 || !(f[1] >= config_.min_scale) || !(beta1_power >= 0 && beta1_power <= 1) ||
        !(beta2_power >= 0 && beta2_power <= 1)) {
      return Status::kMalformedModel;
    }
    if (!all_finite(f, 3) || !all_finite(view.parameters().data(), parameters) ||
        !all_finite(static_cast<const float*>(m.data), parameters) ||
        !all_finite(static_cast<const float*>(v.data), parameters) ||
        !all_finite(static_cast<const float*>(ring.data), history)) {
      return Status::kNonFinite;
    }
    EDGELSTM_TRY(net_.restore_adam_powers(beta1_power, beta2_power));
    std::memcpy(net_.parameters().data(), view.parameters().data(), parameters * sizeof(float));
    std::memcpy(net_.optimizer_state().data(), m.data, parameters * sizeof(float));
    std::memcpy(net_.optimizer_state().data() + parameters, v.data, parameters * sizeof(float));
    std::memcpy(history_, ring.data, history * sizeof(float));
    readings_ = c[0];
    first_timestamp_ = c[1];
    learned_ = c[2];
    replay_state_ = c[3];
    has_pending_ = c[4] == 1;
    pending_forecast_ = f[0];
    scale_ = f[1];
    scale_sum_ = f[2];
    return net_.set_train_config(train_config(learned_));
  }

 private:
  struct SpecFields {
    std::uint16_t values[6];
    const std::uint16_t* begin() const { return values; }
    const std::uint16_t* end() const { return values + 6; }
  };
  static SpecFields spec_fields(const MeterForecasterSpec& s) {
    return SpecFields{{s.hidden, s.window, s.readings_per_day, s.history_days, s.replay, s.replay_span}};
  }
  static void split_double(double value, std::uint32_t* words) {
    std::uint64_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    words[0] = static_cast<std::uint32_t>(bits);
    words[1] = static_cast<std::uint32_t>(bits >> 32);
  }
  static double join_double(const std::uint32_t* words) {
    const std::uint64_t bits = words[0] | (static_cast<std::uint64_t>(words[1]) << 32);
    double value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
  }
  static bool same_spec(const LstmSpec& a, const LstmSpec& b) {
    for (std::size_t k = 0; k < kMaxLayers; ++k) {
      if (a.hidden_size[k] != b.hidden_size[k]) return false;
    }
    return a.input_size == b.input_size && a.num_layers == b.num_layers && a.output_size == b.output_size &&
           a.window == b.window && a.task == b.task && a.output_mode == b.output_mode;
  }
  static Status find(const ModelView& view, const char* name, TensorType type, std::size_t count, ModelTensor* out) {
    EDGELSTM_TRY(view.tensor(name, out));
    return out->type == type && out->count == count ? Status::kOk : Status::kMalformedModel;
  }

  TrainConfig train_config(std::uint32_t learned) const {
    TrainConfig config;
    config.optimizer = OptimizerKind::kAdam;
    config.loss = LossKind::kHuber;
    config.huber_delta = config_.huber_delta;
    config.clip_norm = config_.clip_norm;
    config.learning_rate = config_.final_learning_rate + (config_.learning_rate - config_.final_learning_rate) /
                                                             (1.0f + static_cast<float>(learned) / config_.decay_readings);
    return config;
  }

  std::size_t window_length() const { return static_cast<std::size_t>(spec_.window) * kMeterInputs; }

  // xorshift32: the replay draws, saved with the checkpoint.
  std::uint32_t next_random() {
    std::uint32_t x = replay_state_;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    replay_state_ = x;
    return x;
  }

  // x[i] / scale for a reading the history still holds (i < readings_, within the last
  // meter_history_length readings).
  float scaled(std::uint32_t i) const { return history_[i % meter_history_length(spec_)] / scale_; }

  // The window that forecasts x[u] (u >= window, u <= readings_).
  void build_window(std::uint32_t u) {
    const float* history = history_;
    const std::size_t length = meter_history_length(spec_);
    build_meter_window(spec_, u, first_timestamp_ + u * interval_seconds(), scale_,
                       [history, length](std::uint32_t i) { return history[i % length]; }, window_);
  }

  void learn(std::uint32_t target, MeterObservation* out) {
    build_window(target);
    const float y = scaled(target);
    const TrainResult result = net_.train_step(Span<const float>(window_, window_length()), Span<const float>(&y, 1),
                                               WindowStart::kZeroState);
    if (result.status == Status::kOk) {
      ++out->trained;
    } else {
      ++out->refused;
    }
  }

  MeterForecasterSpec spec_{};
  MeterForecasterConfig config_{};
  Network net_;
  float* history_ = nullptr;  // ring: x[i] at i % meter_history_length
  float* window_ = nullptr;
  std::uint32_t readings_ = 0, first_timestamp_ = 0, learned_ = 0, replay_state_ = 1;
  float scale_sum_ = 0, scale_ = 1, pending_forecast_ = 0;
  bool has_pending_ = false;
};

}  // namespace edgelstm
