// An inference-only meter: the weights learned by meter_firmware.cpp (trained_weights.h) stay in
// flash and are read in place; RAM holds only the recurrent state and one step of scratch. The
// meter forecasts each reading of the Taylor series from the previous kWindow and prints its error
// per week, next to persistence's.
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "edgelstm/edgelstm.h"
#include "taylor_demand.h"
#include "trained_weights.h"

namespace {

constexpr std::uint16_t kWindow = 6;  // as in meter_firmware.cpp
constexpr auto kSpec = edgelstm::make_spec(1, 16, 1, 1, kWindow);
static_assert(sizeof kMeterWeights / sizeof(float) == edgelstm::parameter_count(kSpec), "weights match the spec");
alignas(edgelstm::kArenaAlignment) std::uint8_t g_arena[edgelstm::inference_in_place_bytes(kSpec)];
constexpr float kNominalMw = 30000.0f, kSpreadMw = 5000.0f;
constexpr std::size_t kWeek = 336;

}  // namespace

int main() {
  edgelstm::Network net;
  if (net.bind_inference_in_place(kSpec, kMeterWeights, g_arena) != edgelstm::Status::kOk) return 1;
  std::printf("meter (inference only): weights %u bytes in flash, arena %u bytes\n",
              static_cast<unsigned>(sizeof kMeterWeights), static_cast<unsigned>(sizeof g_arena));
  double week_percent = 0, week_persistence = 0;
  std::size_t count = 0;
  float window[kWindow], forecast[1];
  for (std::size_t t = kWindow; t < kTaylorReadings; ++t) {
    for (std::size_t k = 0; k < kWindow; ++k) {
      window[k] = (static_cast<float>(kTaylorDemandMw[t - kWindow + k]) - kNominalMw) / kSpreadMw;
    }
    net.reset_state();
    if (net.forward(window, forecast) != edgelstm::Status::kOk) return 1;
    const double actual = kTaylorDemandMw[t];
    week_percent += 100.0 * std::fabs(static_cast<double>(forecast[0]) * kSpreadMw + kNominalMw - actual) / actual;
    week_persistence += 100.0 * std::fabs(kTaylorDemandMw[t - 1] - actual) / actual;
    if (++count, (t + 1) % kWeek == 0) {
      std::printf("week %2u  MAPE %5.2f%%  (persistence %5.2f%%)\n", static_cast<unsigned>((t + 1) / kWeek),
                  week_percent / count, week_persistence / count);
      week_percent = week_persistence = 0;
      count = 0;
    }
  }
  return 0;
}
