// The deep LSTM policy of the paper: a window of W decision times (decision_inputs.h) through one
// LSTM layer of H units and a dense softmax head over the 2L + 1 actions, trained by the core as a
// classifier (softmax cross-entropy, Adam, truncated BPTT over the window from a zero state) on the
// optimiser's actions over the training span, and run in closed loop on the test span.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "edgelstm/edgelstm.h"
#include "host/forecast.h"
#include "host/model_io.h"
#include "policy/battery.h"
#include "policy/closed_loop.h"
#include "policy/decision_inputs.h"
#include "policy/home.h"
#include "policy/schedule.h"

namespace edgelstm::policy {

// Labelled examples: decision windows and the optimiser's action for them, as class indices
// (action + L), `per_step` of them for each step of the training span. An epoch visits every step
// once, with one of its examples drawn at random.
struct PolicyExamples {
  int window = 6;
  std::size_t steps = 0, per_step = 1;
  std::vector<float> windows;            // steps x per_step x window x kDecisionFeatures
  std::vector<std::uint16_t> labels;     // steps x per_step
  std::size_t floats() const { return static_cast<std::size_t>(window * kDecisionFeatures); }
};
// Behavioural cloning: the optimiser's (MILP) action at each step, at the state of charge its own
// schedule is in. A policy trained on these alone has never seen a state off that path.
PolicyExamples optimum_path_examples(const Home& home, const Battery& battery, const Readings& readings,
                                     const Schedule& optimum, StepRange range, int window);
// The optimiser's action at each step from every state of charge (per_step = top + 1): the optimum
// for the rest of the span from that state (`optimum`: the dynamic program with the MILP's
// tie-break; on the optimiser's path these are the MILP's actions). What the policy is then taught
// covers the states its own mistakes lead to in closed loop.
PolicyExamples every_level_examples(const Home& home, const Battery& battery, const Readings& readings,
                                    const ValueTable& optimum, StepRange range, int window);

struct LstmPolicyOptions {
  int hidden = 100;
  int window = 6;
  int epochs = 20;
  float learning_rate = 2e-3f;  // Adam, falling linearly to a tenth over the epochs
  float clip_norm = 1.0f;       // global gradient norm
  std::uint64_t seed = 1;       // initial weights and the order of the examples
};

// Trains on `examples` for options.epochs epochs (each step once per epoch, shuffled). After
// each number of examples in `checkpoints` (ascending), calls at_checkpoint(samples, net) with the
// network as it stands. Returns the final model: its spec, weights, and the readings' normalisation
// and the policy's settings as extra tensors (policy_model_* below).
host::ModelFile train_lstm_policy(const PolicyExamples& examples, const Battery& battery, const Readings& readings,
                                  const LstmPolicyOptions& options, const std::vector<std::size_t>& checkpoints,
                                  const std::function<void(std::size_t samples, Network& net)>& at_checkpoint);

// The readings' normalisation and the window a policy model was trained with; throws
// host::InputError for a model that is not a battery policy for `battery`'s action count.
Readings policy_readings(const host::ModelFile& model, const std::vector<double>& kwh);
void check_policy_model(const host::ModelFile& model, const Battery& battery);

// A policy that runs `net` (Network, or the integer path's float adapter) on each decision window
// from a zero state and takes the feasible action with the highest logit. `net`, `home`, `battery`
// and `readings` must outlive it.
template <typename Net>
DecideFunction lstm_decider(Net& net, const Home& home, const Battery& battery, const Readings& readings, int window) {
  auto scratch = std::make_shared<std::vector<float>>(static_cast<std::size_t>(window * kDecisionFeatures) +
                                                      static_cast<std::size_t>(battery.actions()));
  return [&net, &home, &battery, &readings, window, scratch](std::size_t t, int level) {
    float* x = scratch->data();
    float* logits = x + window * kDecisionFeatures;
    decision_window(home, battery, readings, level, t, window, x);
    net.reset_state();
    if (net.forward(Span<const float>(x, static_cast<std::size_t>(window * kDecisionFeatures)),
                    Span<float>(logits, static_cast<std::size_t>(battery.actions()))) != Status::kOk) {
      return 0;  // a refused window (non-finite input): stay idle
    }
    return best_feasible_action(battery, level, logits);
  };
}

// A float policy model bound for inference.
class LstmPolicyNetwork {
 public:
  explicit LstmPolicyNetwork(const host::ModelFile& model);
  Network& net() { return net_; }

 private:
  std::vector<std::uint8_t> arena_;
  Network net_;
};

}  // namespace edgelstm::policy
