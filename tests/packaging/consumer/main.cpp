#include <cstdint>
#include <cstdio>

#include "edgelstm/edgelstm.h"

int main() {
  constexpr auto kSpec = edgelstm::make_spec(1, 8, 1, 1, 4);
  alignas(edgelstm::kArenaAlignment) static std::uint8_t arena[edgelstm::train_bytes(kSpec, edgelstm::OptimizerKind::kSgd)];
  edgelstm::Network net;
  if (net.bind_training(kSpec, edgelstm::TrainConfig{}, arena) != edgelstm::Status::kOk) return 1;
  if (net.initialize(1) != edgelstm::Status::kOk) return 1;
  const float x[4] = {0.1f, 0.2f, 0.3f, 0.4f}, target[1] = {0.5f};
  const edgelstm::TrainResult result = net.train_step(x, target, edgelstm::WindowStart::kZeroState);
  std::printf("consumer: trained one step through find_package(edgelstm), loss %.4f\n", static_cast<double>(result.loss));
  return result.status == edgelstm::Status::kOk ? 0 : 1;
}
