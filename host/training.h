// The training loop the forecaster and the classifier share: options, an epoch loop with early
// stopping on a validation measure, and what it chose (stored in the model file).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "edgelstm/edgelstm.h"
#include "host/metrics.h"
#include "host/model_io.h"

namespace edgelstm::host {

struct TrainOptions {
  // Called once with the initialized, untrained model (for reference runs in other frameworks).
  std::function<void(const ModelFile&)> on_initialized;
  int hidden = 32;
  int layers = 1;
  OptimizerKind optimizer = OptimizerKind::kAdam;
  float learning_rate = 2e-3f;
  float clip_norm = 1.0f;
  int epochs = 40;
  int patience = 6;
  std::uint64_t seed = 1;
  // What a forecaster's early stopping minimizes on the validation span (MAE: defined at zero,
  // in the units of the series). A classifier's is always its validation error (100 - accuracy).
  Score early_stopping = Score::kMae;
  // Quantization-aware training: every step runs on fake-quantized weight matrices (see
  // edgelstm/quantization_aware.h) and validation measures the quantized network.
  bool quantization_aware = false;
  FakeQuantization fake_quantization;
  // Fine-tuning: start from this model's weights (and, for a forecaster, its normalization and
  // features) instead of fresh ones. Its spec must be the one being trained.
  const ModelFile* start_from = nullptr;
};

struct EpochReport {
  int epoch;
  double train_loss, validation_error, seconds;
};

// What early stopping kept.
struct EarlyStopping {
  std::vector<float> parameters;  // those of the lowest validation error
  int chosen_epoch = 0;           // their epoch; 0: no epoch improved on the initial weights
  int epochs_run = 0;
  double validation_error = 0, initial_validation_error = 0;
  std::string measure;  // "MAE", "validation error %", ...
  // Stored in the model file as "train.early_stopping".
  std::string encode() const;
  static EarlyStopping decode(const std::string& text);  // without parameters; InputError when malformed
};

// The epoch loop both trainers share: each epoch trains on every training example once, in the
// order shuffle_epoch gives (train_example(k) runs one step on example k), then measures
// validation_error() (lower is better); stops after `patience` epochs without improvement.
// Appends (epoch, mean training loss, validation error) to *history for every epoch and returns
// the parameters of the best validation error (the initial ones if no epoch improved on them).
EarlyStopping train_with_early_stopping(Network& net, std::size_t examples, const TrainOptions& options,
                                        const std::function<TrainResult(std::size_t)>& train_example,
                                        const std::function<double()>& validation_error,
                                        const std::function<void(const EpochReport&)>& progress,
                                        std::vector<float>* history);

// One epoch's training order: a Fisher-Yates shuffle of `order` driven by SplitMix64 from `state`
// (tools/torch_forecast_reference.py repeats it exactly).
void shuffle_epoch(std::vector<std::size_t>& order, std::uint64_t& state);

// One training step on one example, quantization-aware when the options ask for it (`master` is
// the scratch it needs, resized here).
template <typename Targets>
TrainResult train_step_for(Network& net, const TrainOptions& options, Span<const float> x, Span<const Targets> targets,
                           std::vector<float>& master) {
  if (!options.quantization_aware) return net.train_step(x, targets, WindowStart::kZeroState);
  master.resize(net.parameters().size());
  return train_step_quantization_aware(net, x, targets, WindowStart::kZeroState, options.fake_quantization,
                                       Span<float>(master.data(), master.size()));
}

// A 16-byte aligned arena of `bytes` inside `storage`.
Span<std::uint8_t> aligned_arena(std::vector<std::uint8_t>& storage, std::size_t bytes);

// Refuses (InputError with the byte counts) training `spec` on `examples` windows of
// `floats_per_example` floats when the network and the windows need more memory than the machine
// has (memory_budget.h); called before anything is allocated.
void check_training_memory(const LstmSpec& spec, OptimizerKind optimizer, std::size_t examples,
                           std::size_t floats_per_example);

// Binds `net` for training `spec` with the options' optimizer, learning rate and clipping, in an
// arena inside `storage`, and initializes it from the options' seed (forget bias 1), or with
// options.start_from's weights.
void bind_for_training(Network& net, std::vector<std::uint8_t>& storage, const LstmSpec& spec,
                       const TrainOptions& options, LossKind loss);

// Options that fine-tune `start` from `base`: at most `epochs` epochs at `learning_rate`, early
// stopping after 3 without improvement; quantization-aware with `fq` unless its format is
// kFloat32 (then plain fine-tuning: the control for the quantization-aware runs).
TrainOptions fine_tuning_options(TrainOptions base, const ModelFile& start, const FakeQuantization& fq,
                                 float learning_rate, int epochs);

// "int4 per row" and the like: stored as meta.quantization_aware in models trained that way.
std::string quantization_aware_label(const FakeQuantization& fq);

}  // namespace edgelstm::host
