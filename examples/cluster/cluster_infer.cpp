// One board of two that together run the demo's Taylor forecaster on the full-integer path (int8
// weights, int16 activations; edgelstm quantize --integer), split by hidden units: each board holds
// half of the 32 units (its gate rows of the int8 weights and of the per-row constants; board 0
// also the head) in an arena the core sizes for that half. Board 0 streams the last two weeks of
// readings (the replay in examples/meter/taylor_integer_model.h: the inputs the host fed its
// integer network and the outputs it computed) through the pair, one step per reading, over their
// UARTs, and counts the outputs that differ from the host's: integer sums are exact in any order, so
// the split must give the host's outputs, and the single-board firmware's (meter_integer.cpp), bit
// for bit. Both boards read their slice from the model file in flash.
//
// Built once per node (CLUSTER_NODE = 0, 1). usage (semihosting, from run_cluster.py): <node> <nodes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "board.h"
#include "edgelstm/integer_partition_node.h"
#include "edgelstm/model_format.h"
#include "edgelstm/node_session.h"
#include "session_lines.h"
#include "taylor_integer_model.h"

#ifndef CLUSTER_NODE
#error "build one image per node: -DCLUSTER_NODE=<0..1>"
#endif

namespace {

using edgelstm::SessionEventKind;

constexpr std::size_t kNodes = 2;
constexpr std::size_t kMe = CLUSTER_NODE;
static_assert(kMe < kNodes, "CLUSTER_NODE must be 0 or 1");

// The forecaster's shape, as its model file says (checked against the file at start-up).
constexpr auto kSpec = edgelstm::make_spec(/*input_size=*/7, /*hidden_size=*/32, /*num_layers=*/1,
                                           /*output_size=*/1, /*window=*/12);
constexpr edgelstm::Partition kPartition = edgelstm::make_hidden_split(kSpec, kNodes);
constexpr std::size_t kComputeBytes = edgelstm::integer_node_bytes(kSpec, kPartition, kMe);
constexpr std::size_t kSessionBytes = edgelstm::session_bytes(kSpec, kPartition, kMe, /*training=*/false);
static_assert(kComputeBytes != 0 && kSessionBytes != 0, "the partition does not fit the spec");
alignas(edgelstm::kArenaAlignment) std::uint8_t g_compute[kComputeBytes];
alignas(edgelstm::kArenaAlignment) std::uint8_t g_session_memory[kSessionBytes];

edgelstm::IntegerPartitionNode g_node;
edgelstm::NodeSession<edgelstm::IntegerPartitionNode> g_session;
cluster::SessionLines<edgelstm::NodeSession<edgelstm::IntegerPartitionNode>, 1> g_lines(&g_session, kMe);

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || std::strtol(argv[1], nullptr, 10) != static_cast<long>(kMe) ||
      std::strtol(argv[2], nullptr, 10) != static_cast<long>(kNodes)) {
    std::printf("usage: node %u of %u: <node> <nodes>\n", static_cast<unsigned>(kMe), static_cast<unsigned>(kNodes));
    return 2;
  }
  cluster::board::init();
  edgelstm::ModelView model;
  if (edgelstm::read_model(edgelstm::Span<const std::uint8_t>(kTaylorInteger, sizeof kTaylorInteger), &model) !=
          edgelstm::Status::kOk ||
      model.spec().input_size != kSpec.input_size || model.spec().num_layers != kSpec.num_layers ||
      model.spec().hidden(0) != kSpec.hidden(0) || model.spec().output_size != kSpec.output_size) {
    std::printf("node %u: the model in flash is not the 7-input, 32-unit forecaster\n", static_cast<unsigned>(kMe));
    return 1;
  }
  const edgelstm::Status loaded = g_node.bind(model.spec(), kPartition, kMe, g_compute) == edgelstm::Status::kOk
                                      ? g_node.load(model)
                                      : edgelstm::Status::kBufferTooSmall;
  edgelstm::SessionConfig config;
  config.model_id = edgelstm::crc32_update(0, kTaylorInteger, sizeof kTaylorInteger);  // the same file on both
  if (loaded != edgelstm::Status::kOk ||
      g_session.bind(&g_node, kPartition, config, /*training=*/false, g_session_memory, g_lines.send, &g_lines) !=
          edgelstm::Status::kOk) {
    std::printf("node %u: %s\n", static_cast<unsigned>(kMe), edgelstm::status_name(loaded));
    return 1;
  }
  cluster::print_node_start(g_node.share(), "integer", kComputeBytes, kSessionBytes);

  unsigned done = 0, submitted = 0, differing = 0;
  std::int64_t absolute_error = 0, relative_error_ppm = 0;
  const std::uint32_t start = cluster::board::milliseconds();
  while (done < kTaylorIntegerReplaySteps) {
    const std::uint32_t now = cluster::board::milliseconds();
    for (edgelstm::SessionEvent event = g_session.poll(now); event.kind != SessionEventKind::kNone;
         event = g_session.poll(now)) {
      if (event.kind != SessionEventKind::kStepDone) {
        std::printf("node %u: %s (peer %u, round %u)\n", static_cast<unsigned>(kMe),
                    edgelstm::session_event_name(event.kind), static_cast<unsigned>(event.peer),
                    static_cast<unsigned>(event.round));
        continue;
      }
      if (kMe == 0) {
        // The forecast in MW and its error, in integers as meter_integer.cpp computes them.
        const std::int32_t y = g_session.outputs()[0];
        differing += y != kTaylorIntegerReplayOutputs[done] ? 1 : 0;
        const std::int64_t forecast =
            kTaylorIntegerNormMean + ((static_cast<std::int64_t>(y) * kTaylorIntegerNormScaleQ8) >> 24);
        const std::int64_t actual = kTaylorIntegerReplayActual[done];
        const std::int64_t error = forecast > actual ? forecast - actual : actual - forecast;
        absolute_error += error;
        relative_error_ppm += error * 1000000 / actual;
      }
      if (++done % 96 == 0) {
        std::printf("node %u: %u readings, %u s\n", static_cast<unsigned>(kMe), done,
                    static_cast<unsigned>((cluster::board::milliseconds() - start) / 1000));
      }
    }
    if (kMe == 0 && submitted < kTaylorIntegerReplaySteps && g_session.ready()) {
      const edgelstm::Span<const std::int16_t> x(kTaylorIntegerReplayInputs + submitted * kTaylorIntegerReplayFeatures,
                                                 kTaylorIntegerReplayFeatures);
      if (g_session.submit_step(x) != edgelstm::Status::kOk) return 1;
      ++submitted;
      continue;
    }
    g_lines.receive(now + 50);
  }
  g_lines.linger(g_lines.linger_for(config.link));  // the last acknowledgements may still be on their way
  std::printf("node %u: %u steps in %u ms, %u bytes sent and %u received on the line, stack high water %u bytes\n",
              static_cast<unsigned>(kMe), done, static_cast<unsigned>(cluster::board::milliseconds() - start),
              static_cast<unsigned>(g_lines.line(0).bytes_sent()), static_cast<unsigned>(g_lines.line(0).bytes_received()),
              static_cast<unsigned>(cluster::board::stack_high_water_bytes()));
  if (kMe == 0) {
    const std::int64_t mape_thousandths = relative_error_ppm / 10 / kTaylorIntegerReplaySteps;
    std::printf("%u readings: MAE %d MW, MAPE %d.%03d%%; %u outputs differ from the host's\n",
                kTaylorIntegerReplaySteps, static_cast<int>(absolute_error / kTaylorIntegerReplaySteps),
                static_cast<int>(mape_thousandths / 1000), static_cast<int>(mape_thousandths % 1000), differing);
  }
  return kMe == 0 && differing != 0 ? 1 : 0;
}
