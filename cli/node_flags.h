// The options every node of a cluster takes (`edgelstm node` and `edgelstm cluster`): timers,
// the activations' encoding, training, and faults injected on UDP links.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

#include "distributed/transport.h"
#include "edgelstm/edgelstm.h"
#include "host/online_learning.h"

namespace edgelstm::cli {

struct NodeFlags {
  int peer_timeout_ms = 2000, heartbeat_ms = 250, retransmit_ms = 100;
  std::string activations = "f32";
  bool train = false;
  // Nodes always learn on from a trained model, so the online learner's defaults from a model apply:
  // a small rate (a larger one makes the network worse than frozen; docs/forecasting.md) and clipping.
  float learning_rate = host::kOnlineLearningRateFromModel, clip = 1.0f;
  std::string optimizer = "adam";
  std::uint32_t checkpoint_every = 1;
  double loss = 0, duplicate = 0, reorder = 0;
  std::uint64_t seed = 1;

  void add(CLI::App* app);
  SessionConfig session() const;
  TrainConfig train_config() const;
  distributed::LinkFaults faults() const { return distributed::LinkFaults{loss, duplicate, reorder, seed}; }
};

}  // namespace edgelstm::cli
