#include "cli/node_flags.h"

#include "cli/command.h"
#include "host/data_loading.h"

namespace edgelstm::cli {

void NodeFlags::add(CLI::App* app) {
  app->add_option("--peer-timeout-ms", peer_timeout_ms, "a node not heard from for this long is reported lost")
      ->capture_default_str()->check(CLI::Range(100, 600000));
  app->add_option("--heartbeat-ms", heartbeat_ms, "heartbeat on a quiet link")->capture_default_str()->check(CLI::Range(10, 60000));
  app->add_option("--retransmit-ms", retransmit_ms, "resend an unacknowledged frame after this long")
      ->capture_default_str()->check(CLI::Range(5, 60000));
  app->add_option("--activations", activations, "activations on the wire: f32 (exact) or q15 (half the bytes, lossy)")
      ->capture_default_str()->check(CLI::IsMember({"f32", "q15"}));
  app->add_flag("--train", train, "this cluster learns (node 0: --learn); every node needs the same training options");
  app->add_option("--lr", learning_rate, "learning rate")->capture_default_str()->check(CLI::PositiveNumber);
  app->add_option("--optimizer", optimizer, "sgd, momentum or adam")
      ->capture_default_str()->check(CLI::IsMember({"sgd", "momentum", "adam"}));
  app->add_option("--clip", clip, "global gradient-norm clipping (0: off)")->capture_default_str()->check(CLI::NonNegativeNumber);
  app->add_option("--checkpoint-every", checkpoint_every,
                  "training: windows between checkpoints (0: none; a restarted node resumes only from the last "
                  "committed window's)")
      ->capture_default_str();
  app->add_option("--loss", loss, "UDP: probability a sent frame is lost (fault injection)")->check(CLI::Range(0.0, 0.9));
  app->add_option("--duplicate", duplicate, "UDP: probability a sent frame is duplicated")->check(CLI::Range(0.0, 0.9));
  app->add_option("--reorder", reorder, "UDP: probability a sent frame is overtaken by the next")->check(CLI::Range(0.0, 0.9));
  app->add_option("--seed", seed, "seed of the injected faults (0 .. 2^64 - 1)")->capture_default_str()->check(unsigned_integer());
}

SessionConfig NodeFlags::session() const {
  SessionConfig config;
  config.peer_timeout_ms = static_cast<std::uint32_t>(peer_timeout_ms);
  config.heartbeat_ms = static_cast<std::uint32_t>(heartbeat_ms);
  config.link.retransmit_ms = static_cast<std::uint32_t>(retransmit_ms);
  config.activations = activations == "q15" ? PayloadEncoding::kQ15 : PayloadEncoding::kFloat32;
  return config;
}

TrainConfig NodeFlags::train_config() const {
  TrainConfig config;
  config.optimizer = host::parse_optimizer(optimizer);
  config.learning_rate = learning_rate;
  config.clip_norm = clip;
  return config;
}


}  // namespace edgelstm::cli
