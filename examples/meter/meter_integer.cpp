// A forecasting meter for cores without an FPU (rv32imc, the ESP32-C3 class): the Taylor
// forecaster of the demo, converted to the full-integer path (edgelstm quantize --integer) and
// exported as its model file bytes (taylor_integer_model.h), is bound in place from flash and run
// over the last two weeks of readings (the test span) with integer arithmetic only. Every output
// must equal, bit for bit, what the host computed for the same inputs; the error is reported in MW
// and as MAPE, computed in integers too. The link-level test checks that no floating-point routine is in the program.
//
// Regenerate the header (after a change to the integer path or to the demo model): run
// scripts/demo.sh (it writes report/taylor.integer.elstm), then
//   build/default/cli/edgelstm export --format model-bytes --model report/taylor.integer.elstm
//     --out examples/meter/taylor_integer_model.h --name kTaylorInteger
//     --replay-data data/taylor_england_wales_halfhourly_demand_2000.csv --replay-steps 672
#include <cstdint>
#include <cstdio>

#include "edgelstm/integer_network.h"
#include "edgelstm/model_format.h"
#include "taylor_integer_model.h"

namespace {

alignas(edgelstm::kArenaAlignment) std::uint8_t g_arena[4096];

}  // namespace

int main() {
  edgelstm::ModelView view;
  if (edgelstm::read_model(edgelstm::Span<const std::uint8_t>(kTaylorInteger, sizeof kTaylorInteger), &view) !=
      edgelstm::Status::kOk) {
    std::printf("model rejected\n");
    return 1;
  }
  edgelstm::IntegerNetwork net;
  const edgelstm::Status bound = net.bind(view, g_arena);
  if (bound != edgelstm::Status::kOk) {
    std::printf("bind: %s\n", edgelstm::status_name(bound));
    return 1;
  }
  std::printf("meter (full integer): model %u bytes in flash, arena %u bytes\n",
              static_cast<unsigned>(sizeof kTaylorInteger),
              static_cast<unsigned>(edgelstm::integer_inference_bytes(view.spec())));
  unsigned differing = 0;
  std::int64_t absolute_error = 0, relative_error_ppm = 0;  // sum |forecast - actual| (MW), sum of ppm
  for (unsigned t = 0; t < kTaylorIntegerReplaySteps; ++t) {
    std::int32_t y = 0;
    const edgelstm::Span<const std::int16_t> x(kTaylorIntegerReplayInputs + t * kTaylorIntegerReplayFeatures,
                                               kTaylorIntegerReplayFeatures);
    if (net.step(x, edgelstm::Span<std::int32_t>(&y, 1)) != edgelstm::Status::kOk) return 1;
    differing += y != kTaylorIntegerReplayOutputs[t] ? 1 : 0;
    const std::int64_t forecast = kTaylorIntegerNormMean + ((static_cast<std::int64_t>(y) * kTaylorIntegerNormScaleQ8) >> 24);
    const std::int64_t actual = kTaylorIntegerReplayActual[t];
    const std::int64_t error = forecast > actual ? forecast - actual : actual - forecast;
    absolute_error += error;
    relative_error_ppm += error * 1000000 / actual;
  }
  const std::int64_t mape_thousandths = relative_error_ppm / 10 / kTaylorIntegerReplaySteps;  // percent * 1000
  std::printf("%u readings: MAE %d MW, MAPE %d.%03d%%; %u outputs differ from the host's\n", kTaylorIntegerReplaySteps,
              static_cast<int>(absolute_error / kTaylorIntegerReplaySteps), static_cast<int>(mape_thousandths / 1000),
              static_cast<int>(mape_thousandths % 1000), differing);
  return differing == 0 ? 0 : 1;
}
