// The single host process the cluster is compared with: the whole paper's network (one Network,
// 357 KB of arena) learning the cluster's task (taylor_training.h) from the same initial weights,
// window by window, as node 0 feeds the boards. Prints the weekly error and the weight digest
// that tests/firmware/compare_cluster.py compares with the boards' (examples/cluster/
// cluster_training.expected is this program's output for the test's stream).
//
// usage: edgelstm_cluster_reference [windows]   (default: the whole stream)
#include <cstdio>
#include <cstdlib>

#include "edgelstm/network.h"
#include "taylor_training.h"

namespace {

alignas(edgelstm::kArenaAlignment) std::uint8_t
    g_arena[edgelstm::train_bytes(cluster::taylor::kSpec, edgelstm::OptimizerKind::kSgd)];

}  // namespace

int main(int argc, char** argv) {
  using namespace cluster::taylor;
  const long requested = argc > 1 ? std::strtol(argv[1], nullptr, 10) : static_cast<long>(kStreamWindows);
  if (argc > 2 || requested <= 0 || requested > static_cast<long>(kStreamWindows)) {
    std::fprintf(stderr, "usage: edgelstm_cluster_reference [windows, 1..%u]\n", static_cast<unsigned>(kStreamWindows));
    return 2;
  }
  const std::size_t windows = static_cast<std::size_t>(requested);
  edgelstm::Network net;
  if (net.bind_training(kSpec, train_config(), g_arena) != edgelstm::Status::kOk ||
      net.initialize(kSeed, kForgetBias) != edgelstm::Status::kOk) {
    return 1;
  }
  std::printf("reference: one process, LSTM 1 x 100, window 6, SGD; arena %u bytes; %u windows\n",
              static_cast<unsigned>(sizeof g_arena), static_cast<unsigned>(windows));
  ForecastError week;
  const std::size_t last_t = kFirstReading + windows - 1;
  for (std::size_t t = kFirstReading; t <= last_t; ++t) {
    float x[kWindow], target = 0;
    window_for(t, x, &target);
    const edgelstm::TrainResult result =
        net.train_step(x, edgelstm::Span<const float>(&target, 1), edgelstm::WindowStart::kZeroState);
    if (result.status != edgelstm::Status::kOk) {
      std::printf("window for reading %u refused: %s\n", static_cast<unsigned>(t), edgelstm::status_name(result.status));
      return 1;
    }
    add_to_week(&week, t, net.window_outputs()[0], last_t);
  }
  const edgelstm::Span<const float> weights = static_cast<const edgelstm::Network&>(net).parameters();
  print_weight_digest("reference", [&](auto&& visit) {
    for (std::size_t index = 0; index < weights.size(); ++index) visit(index, weights[index]);
  });
  return 0;
}
