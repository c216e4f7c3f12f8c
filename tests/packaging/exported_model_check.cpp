// Compiles against a header written by `edgelstm export --format c-header` (EDGELSTM_EXPORTED_HEADER)
// and runs the exported network from flash: bound in place, one window forward, finite output.
#include <cmath>
#include <cstdint>
#include <cstdio>

#include EDGELSTM_EXPORTED_HEADER

namespace {
alignas(edgelstm::kArenaAlignment) std::uint8_t g_arena[edgelstm::inference_in_place_bytes(kModelSpec)];
float g_window[kModelSpec.window * kModelSpec.input_size];
}  // namespace

int main() {
  edgelstm::Network net;
  if (net.bind_inference_in_place(kModelSpec, kModelParameters, g_arena) != edgelstm::Status::kOk) return 1;
  float y[kModelSpec.output_size];
  if (net.forward(g_window, y) != edgelstm::Status::kOk) return 1;
  std::printf("exported model: %u parameters from flash, output %.4f, arena %u bytes\n",
              static_cast<unsigned>(sizeof kModelParameters / sizeof(float)), static_cast<double>(y[0]),
              static_cast<unsigned>(sizeof g_arena));
  return std::isfinite(y[0]) ? 0 : 1;
}
