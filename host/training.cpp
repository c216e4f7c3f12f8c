#include "host/training.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "host/csv_reader.h"
#include "host/memory_budget.h"
#include "host/settings_text.h"

namespace edgelstm::host {
namespace {

std::uint32_t mix(std::uint64_t& state) {  // SplitMix64, for the epoch shuffles
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return static_cast<std::uint32_t>((z ^ (z >> 31)) >> 32);
}

}  // namespace

std::string EarlyStopping::encode() const {
  char text[256];
  std::snprintf(text, sizeof text, "measure=%s;chosen_epoch=%d;epochs_run=%d;validation=%.9g;initial_validation=%.9g",
                measure.c_str(), chosen_epoch, epochs_run, validation_error, initial_validation_error);
  return text;
}

EarlyStopping EarlyStopping::decode(const std::string& text) {
  const auto values = parse_settings(text, "train.early_stopping",
                                     {"measure", "chosen_epoch", "epochs_run", "validation", "initial_validation"});
  EarlyStopping out;
  try {
    out.measure = values.at("measure");
    out.chosen_epoch = std::stoi(values.at("chosen_epoch"));
    out.epochs_run = std::stoi(values.at("epochs_run"));
    out.validation_error = std::stod(values.at("validation"));
    out.initial_validation_error = std::stod(values.at("initial_validation"));
  } catch (const std::logic_error&) {
    throw InputError("train.early_stopping: a value is not a number in '" + text.substr(0, 120) + "'");
  }
  return out;
}

void shuffle_epoch(std::vector<std::size_t>& order, std::uint64_t& state) {
  for (std::size_t k = order.size(); k > 1; --k) std::swap(order[k - 1], order[mix(state) % k]);
}

EarlyStopping train_with_early_stopping(Network& net, std::size_t examples, const TrainOptions& options,
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
  EarlyStopping result;
  result.parameters.assign(net.parameters().begin(), net.parameters().end());
  result.validation_error = result.initial_validation_error = measure();
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
    result.epochs_run = epoch;
    if (progress) progress(EpochReport{epoch, mean_loss, error, seconds});
    if (error < result.validation_error) {
      result.validation_error = error;
      result.chosen_epoch = epoch;
      result.parameters.assign(net.parameters().begin(), net.parameters().end());
      since_best = 0;
    } else if (++since_best >= options.patience) {
      break;
    }
  }
  return result;
}

Span<std::uint8_t> aligned_arena(std::vector<std::uint8_t>& storage, std::size_t bytes) {
  storage.assign(bytes + kArenaAlignment, 0);
  const auto address = reinterpret_cast<std::uintptr_t>(storage.data());
  const std::size_t shift = (kArenaAlignment - address % kArenaAlignment) % kArenaAlignment;
  return Span<std::uint8_t>(storage.data() + shift, bytes);
}

void check_training_memory(const LstmSpec& spec, OptimizerKind optimizer, std::size_t examples,
                           std::size_t floats_per_example) {
  const std::size_t network = train_bytes(spec, optimizer);
  const std::size_t windows = saturating_multiply(saturating_multiply(examples, floats_per_example + 1), sizeof(float));
  std::string shape = std::to_string(spec.hidden(0));
  for (std::size_t l = 1; l < spec.num_layers; ++l) shape += " + " + std::to_string(spec.hidden(l));
  check_memory(saturating_add(network, windows),
               "training an LSTM of " + shape + " units (" + std::to_string(spec.input_size) + " inputs, window " +
                   std::to_string(spec.window) + ": " + std::to_string(network) + " bytes) on " +
                   std::to_string(examples) + " windows (" + std::to_string(windows) + " bytes)");
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

}  // namespace edgelstm::host
