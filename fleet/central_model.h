// The gateway platform's forecaster: one global LSTM for every meter, trained at the centre on the
// readings in the store, on a schedule (nightly), with the project's core network and host helpers.
//
// Why one global model and not one per meter: the households share their daily rhythm (night low,
// morning and evening peaks), so a model trained on all of them has fifty times the examples of any
// one meter after the same number of days, and a new meter is forecast from its first day; one
// training job a night costs the same per meter whatever the fleet's size (per-meter models would
// need a job per meter); and each meter's own level enters through its scale (its mean reading over
// the training span), as on the device. The inputs are exactly the self-learning meter's
// (build_meter_window in meter_forecaster.h), so the two platforms differ in where and how they
// learn, not in what they see.
//
// Training: every (meter, interval) of the last history_days days with a complete window is one
// example; `epochs` shuffled passes (Adam, Huber loss, gradient-norm clipping), warm-started from
// the previous night's weights and optimizer state. Missing readings in a window's history (a
// meter that was offline) take the previous reading's value.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "edgelstm/meter_forecaster.h"
#include "fleet/reading_store.h"

namespace edgelstm::fleet {

struct CentralModelOptions {
  MeterForecasterSpec features;  // window, readings per day, history days (the meters' inputs)
  int hidden = 32;
  int epochs = 2;
  int history_days = 28;   // training span
  float learning_rate = 2e-3f;
  float huber_delta = 1.0f;
  float clip_norm = 5.0f;
  float min_scale = 0.05f;
  std::uint64_t seed = 1;
};

struct TrainingReport {
  std::size_t examples = 0, meters = 0;
  int epochs = 0;
  double mean_loss = 0;
  double cpu_seconds = 0;   // this thread's CPU time for the training
};

class CentralModel {
 public:
  explicit CentralModel(const CentralModelOptions& options);

  // Trains on every meter's readings with interval_start < until (the last history_days days).
  TrainingReport train(ReadingStore& store, std::int64_t until);
  bool trained() const { return trained_; }
  int trainings() const { return trainings_; }

  // The forecast of meter `meter_id`'s reading at `target` (kWh) from the readings stored before
  // it; false when there is no model yet, no scale for the meter, or a window reading is missing.
  bool forecast(ReadingStore& store, std::int64_t meter_id, std::int64_t target, double* kwh);

  // The model file (format: edgelstm model file; the meters' scales as extra tensors), written
  // atomically; load() reads one written by another gateway process (scale-out).
  void save(const std::string& path) const;
  void load(const std::string& path);
  std::size_t parameter_count() const;

 private:
  std::int64_t interval() const { return 86400 / options_.features.readings_per_day; }
  // A meter's readings in [from, to) as a dense array from `from`, gaps carried forward; false when
  // it holds no reading.
  bool dense_readings(ReadingStore& store, std::int64_t meter_id, std::int64_t from, std::int64_t to,
                      std::vector<float>* values, std::vector<bool>* present);
  std::int64_t first_reading(ReadingStore& store, std::int64_t meter_id);

  CentralModelOptions options_;
  std::vector<std::uint8_t> storage_;
  Network net_;
  bool trained_ = false;
  int trainings_ = 0;
  std::uint64_t shuffle_state_;
  std::map<std::int64_t, float> scales_;          // per meter, from the last training
  std::map<std::int64_t, std::int64_t> first_;    // each meter's first stored reading
  std::vector<float> window_;
};

// CPU seconds the calling thread has used (CLOCK_THREAD_CPUTIME_ID): the gateway's ingest and training.
double thread_cpu_seconds();

}  // namespace edgelstm::fleet
