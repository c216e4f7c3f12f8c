#include "policy/lstm_policy.h"

#include <memory>
#include <random>
#include <numeric>
#include <sstream>

#include "host/csv_reader.h"

namespace edgelstm::policy {
namespace {

constexpr const char* kPolicyMeta = "meta.policy";
constexpr const char* kReadingsNorm = "norm.readings";

}  // namespace

PolicyExamples optimum_path_examples(const Home& home, const Battery& battery, const Readings& readings,
                                     const Schedule& optimum, StepRange range, int window) {
  if (optimum.actions.size() != range.size()) throw host::InputError("the optimum does not cover the training span");
  PolicyExamples examples;
  examples.window = window;
  examples.steps = range.size();
  examples.windows.resize(range.size() * examples.floats());
  for (std::size_t k = 0; k < range.size(); ++k) {
    decision_window(home, battery, readings, optimum.levels[k], range.begin + k, window, examples.windows.data() + k * examples.floats());
    examples.labels.push_back(static_cast<std::uint16_t>(optimum.actions[k] + battery.levels()));
  }
  return examples;
}

PolicyExamples every_level_examples(const Home& home, const Battery& battery, const Readings& readings,
                                    const ValueTable& optimum, StepRange range, int window) {
  PolicyExamples examples;
  examples.window = window;
  examples.steps = range.size();
  examples.per_step = static_cast<std::size_t>(battery.top()) + 1;
  examples.windows.resize(range.size() * examples.per_step * examples.floats());
  float* out = examples.windows.data();
  for (std::size_t k = 0; k < range.size(); ++k) {
    for (int level = 0; level <= battery.top(); ++level, out += examples.floats()) {
      decision_window(home, battery, readings, level, range.begin + k, window, out);
      examples.labels.push_back(static_cast<std::uint16_t>(optimum.best_action(range.begin + k, level) + battery.levels()));
    }
  }
  return examples;
}

host::ModelFile train_lstm_policy(const PolicyExamples& examples, const Battery& battery, const Readings& readings,
                                  const LstmPolicyOptions& options, const std::vector<std::size_t>& checkpoints,
                                  const std::function<void(std::size_t samples, Network& net)>& at_checkpoint) {
  if (options.hidden < 1 || options.hidden > 1024 || options.window < 1 || options.window > 1024 || options.epochs < 1) {
    throw host::InputError("LSTM policy: expected 1..1024 hidden units, a window of 1..1024 steps and at least one epoch");
  }
  if (examples.steps == 0 || examples.window != options.window) throw host::InputError("LSTM policy: no examples for this window");
  const LstmSpec spec = make_spec(static_cast<std::uint16_t>(kDecisionFeatures), static_cast<std::uint16_t>(options.hidden), 1,
                                  static_cast<std::uint16_t>(battery.actions()), static_cast<std::uint16_t>(options.window),
                                  Task::kClassification);
  host::TrainOptions train;
  train.hidden = options.hidden;
  train.optimizer = OptimizerKind::kAdam;
  train.learning_rate = options.learning_rate;
  train.clip_norm = options.clip_norm;
  train.seed = options.seed;
  std::vector<std::uint8_t> storage;
  Network net;
  host::bind_for_training(net, storage, spec, train, LossKind::kCrossEntropy);
  std::vector<std::size_t> order(examples.steps);
  std::iota(order.begin(), order.end(), 0);
  std::uint64_t shuffle_state = options.seed;
  std::mt19937_64 pick(options.seed ^ 0x5eedu);  // which state of charge of each step an epoch uses
  std::size_t samples = 0, next = 0;
  while (next < checkpoints.size() && checkpoints[next] == 0) at_checkpoint(checkpoints[next++], net);
  const double total = static_cast<double>(options.epochs) * static_cast<double>(examples.steps);
  TrainConfig config = net.train_config();
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    // The learning rate falls linearly to a tenth over the run (set per epoch): per-example Adam
    // steps at the full rate leave the last epochs' weights, and so the closed-loop cost, jumping.
    config.learning_rate = options.learning_rate * static_cast<float>(1.0 - 0.9 * static_cast<double>(samples) / total);
    if (net.set_train_config(config) != Status::kOk) throw host::InputError("LSTM policy: cannot set the learning rate");
    host::shuffle_epoch(order, shuffle_state);
    for (std::size_t step : order) {
      const std::size_t k = step * examples.per_step + (examples.per_step > 1 ? pick() % examples.per_step : 0);
      const std::uint16_t label = examples.labels[k];
      const TrainResult r = net.train_step(Span<const float>(examples.windows.data() + k * examples.floats(), examples.floats()),
                                           Span<const std::uint16_t>(&label, 1), WindowStart::kZeroState);
      if (r.status != Status::kOk && r.status != Status::kNonFinite) {
        throw host::InputError(std::string("LSTM policy: a training step failed: ") + status_name(r.status));
      }
      ++samples;
      while (next < checkpoints.size() && checkpoints[next] == samples) at_checkpoint(checkpoints[next++], net);
    }
  }
  host::ModelFile model;
  model.spec = spec;
  model.parameters.assign(net.parameters().begin(), net.parameters().end());
  model.floats[kReadingsNorm] = {static_cast<float>(readings.mean), static_cast<float>(readings.scale)};
  std::ostringstream meta;
  meta << "window=" << options.window << ";levels=" << battery.levels() << ";features=" << kDecisionFeatures;
  model.texts[kPolicyMeta] = meta.str();
  return model;
}

void check_policy_model(const host::ModelFile& model, const Battery& battery) {
  const auto meta = model.texts.find(kPolicyMeta);
  const auto norm = model.floats.find(kReadingsNorm);
  if (meta == model.texts.end() || norm == model.floats.end() || norm->second.size() != 2 ||
      model.spec.task != Task::kClassification || model.spec.input_size != kDecisionFeatures) {
    throw host::InputError("the model is not a battery policy (edgelstm policy --out)");
  }
  if (model.spec.output_size != battery.actions()) {
    throw host::InputError("the policy chooses among " + std::to_string(model.spec.output_size) + " actions, the battery has " +
                           std::to_string(battery.actions()) + " (--levels " + std::to_string(battery.levels()) + ")");
  }
}

Readings policy_readings(const host::ModelFile& model, const std::vector<double>& kwh) {
  const auto norm = model.floats.find(kReadingsNorm);
  if (norm == model.floats.end() || norm->second.size() != 2 || !(norm->second[1] > 0)) {
    throw host::InputError("the model holds no readings normalisation (norm.readings)");
  }
  Readings readings;
  readings.kwh = kwh;
  readings.mean = norm->second[0];
  readings.scale = norm->second[1];
  return readings;
}

LstmPolicyNetwork::LstmPolicyNetwork(const host::ModelFile& model) {
  const Status status = net_.bind_inference(model.spec, host::aligned_arena(arena_, inference_bytes(model.spec)));
  if (status != Status::kOk) throw host::InputError(std::string("cannot bind the policy: ") + status_name(status));
  std::copy(model.parameters.begin(), model.parameters.end(), net_.parameters().begin());
}

}  // namespace edgelstm::policy
