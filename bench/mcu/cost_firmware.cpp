// Instruction counts of the core on a microcontroller, read by the QEMU plugin
// tools/qemu-plugin/insn_count.c around marker instructions (bench/mcu/cost_table.py runs it).
// For H in {16, 32, 64, 100}, input 1, window 6, one layer, head of 1:
//   forward: one streaming time step (Network::step: LSTM + head)
//   train:   one training step on a window of 6 (forward + BPTT + SGD update)
// Prints "region <index> <hidden> <kind>" in the order the regions run; region 0 is empty and
// calibrates the cost of the markers themselves. Also prints "stack <hidden> <bytes>": the
// deepest stack the training step used (painted-stack high-water mark).
#include <cstdint>
#include <cstdio>

#include "edgelstm/edgelstm.h"
#include "markers.h"
#include "stack_probe.h"

namespace {

alignas(edgelstm::kArenaAlignment) std::uint8_t g_arena[edgelstm::train_bytes(
    edgelstm::make_spec(1, 100, 1, 1, 6), edgelstm::OptimizerKind::kSgd)];
int g_region = 0;

void announce(int hidden, const char* kind) { std::printf("region %d %d %s\n", g_region++, hidden, kind); }

}  // namespace

int main() {
  EDGELSTM_MARK_BEGIN();
  EDGELSTM_MARK_END();
  announce(0, "empty");
  const int sizes[] = {16, 32, 64, 100};
  for (int hidden : sizes) {
    const auto spec = edgelstm::make_spec(1, static_cast<std::uint16_t>(hidden), 1, 1, 6);
    edgelstm::Network net;
    edgelstm::TrainConfig config;
    config.learning_rate = 1e-3f;
    if (net.bind_training(spec, config, g_arena) != edgelstm::Status::kOk) return 1;
    if (net.initialize(1) != edgelstm::Status::kOk) return 1;
    const float window[6] = {0.1f, -0.2f, 0.3f, 0.5f, -0.1f, 0.2f};
    const float target[1] = {0.4f};
    float y[1];
    // Warm the state with a few steps, then measure one.
    for (int k = 0; k < 3; ++k) {
      if (net.step(edgelstm::Span<const float>(window + k, 1), y) != edgelstm::Status::kOk) return 1;
    }
    EDGELSTM_MARK_BEGIN();
    const edgelstm::Status status = net.step(edgelstm::Span<const float>(window + 3, 1), y);
    EDGELSTM_MARK_END();
    if (status != edgelstm::Status::kOk) return 1;
    announce(hidden, "forward");
    const std::uintptr_t stack_top = edgelstm::bench::paint_stack();
    EDGELSTM_MARK_BEGIN();
    const edgelstm::TrainResult result = net.train_step(window, target, edgelstm::WindowStart::kCarryState);
    EDGELSTM_MARK_END();
    const std::size_t stack = edgelstm::bench::stack_used(stack_top);
    if (result.status != edgelstm::Status::kOk) return 1;
    announce(hidden, "train");
    std::printf("stack %d %u\n", hidden, static_cast<unsigned>(stack));
  }
  return 0;
}
