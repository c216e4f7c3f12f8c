// Helpers for the distributed tests (heap-free, so they run on the targets): a cluster of nodes of
// one partition in one program, connected by the in-process bus, and an integer model file
// written from a float network.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "edgelstm/edgelstm.h"
#include "support/in_process_bus.h"

namespace edgelstm::test {

// A bump allocator over a static buffer: every node's arena and link memory.
struct ArenaPool {
  static constexpr std::size_t kBytes = 192 * 1024;
  alignas(kArenaAlignment) std::uint8_t bytes[kBytes];
  std::size_t used = 0;
  Span<std::uint8_t> take(std::size_t size) {
    const std::size_t start = (used + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
    if (start + size > kBytes) return Span<std::uint8_t>();
    used = start + size;
    return Span<std::uint8_t>(bytes + start, size);
  }
};

// One pool, one bus and two scratch arenas for all the distributed tests (they run one after the
// other), so the test program stays small enough for the targets.
inline ArenaPool& shared_pool() {
  static ArenaPool pool;
  return pool;
}
inline InProcessBus& shared_bus() {
  static InProcessBus bus;
  return bus;
}
// For one-device reference networks, and for nodes that hold what a node should hold.
inline Span<std::uint8_t> reference_arena() {
  alignas(kArenaAlignment) static std::uint8_t arena[64 * 1024];
  return Span<std::uint8_t>(arena, sizeof arena);
}
inline Span<std::uint8_t> check_arena() {
  alignas(kArenaAlignment) static std::uint8_t arena[24 * 1024];
  return Span<std::uint8_t>(arena, sizeof arena);
}

// The nodes of one partition, their sessions and the bus between them. Node k's session has
// incarnation 1 + 100 * restarts(k).
template <typename Node>
struct Cluster {
  using Session = NodeSession<Node>;
  static constexpr std::size_t kNodes = 4;
  LstmSpec spec{};
  Partition partition{};
  SessionConfig config{};
  bool training = false;
  Node nodes[kNodes];
  Session sessions[kNodes];
  InProcessBus& bus = shared_bus();
  ArenaPool& pool = shared_pool();
  std::uint32_t restarts[kNodes] = {};
  // What the last round produced at each node, and what it reported.
  SessionEvent last_done[kNodes];
  std::uint32_t done_count[kNodes] = {};
  std::uint32_t lost_events[kNodes] = {};
  SessionEvent last_lost[kNodes];
  std::uint32_t reset_events = 0;

  // Forgets the last test's cluster (tests share one).
  void clear() {
    config = SessionConfig{};
    training = false;
    pool.used = 0;
    bus.reset();
    for (std::size_t k = 0; k < kNodes; ++k) {
      restarts[k] = done_count[k] = lost_events[k] = 0;
      last_done[k] = last_lost[k] = SessionEvent{};
    }
    reset_events = 0;
  }

  // Binds session k over an already bound node k (`committed`: training windows its weights hold).
  Status attach(std::size_t k, std::uint32_t committed = 0) {
    SessionConfig node_config = config;
    node_config.incarnation = 1 + 100 * restarts[k];
    node_config.committed_windows = committed;
    const Span<std::uint8_t> memory = pool.take(session_bytes(spec, partition, k, training));
    EDGELSTM_TRY(sessions[k].bind(&nodes[k], partition, node_config, training, memory, &InProcessBus::output,
                                  bus.context(k)));
    bus.attach(k, &sessions[k]);
    return Status::kOk;
  }

  void on_event(std::size_t k, const SessionEvent& event) {
    if (event.kind == SessionEventKind::kStepDone || event.kind == SessionEventKind::kWindowDone) {
      last_done[k] = event;
      ++done_count[k];
    } else if (event.kind == SessionEventKind::kPeerLost) {
      last_lost[k] = event;
      ++lost_events[k];
    } else if (event.kind == SessionEventKind::kReset && k == 0) {
      ++reset_events;
    }
  }

  // Runs until every live node has finished the round node 0 is on (or the limit passes).
  bool finish_round(std::uint32_t limit_ms = 20000) {
    std::uint32_t before[kNodes];
    for (std::size_t k = 0; k < partition.nodes; ++k) before[k] = done_count[k];
    return bus.run(
        [&] {
          for (std::size_t k = 0; k < partition.nodes; ++k) {
            if (bus.alive(k) && done_count[k] == before[k]) return false;
          }
          return true;
        },
        [&](std::size_t k, const SessionEvent& event) { on_event(k, event); }, limit_ms);
  }

  // Lets the nodes greet each other until node 0 is ready.
  bool join(std::uint32_t limit_ms = 5000) {
    return bus.run([&] { return sessions[0].ready(); },
                   [&](std::size_t k, const SessionEvent& event) { on_event(k, event); }, limit_ms);
  }
};

// The clusters the tests share (one of each node type).
inline Cluster<PartitionNode>& float_cluster() {
  static Cluster<PartitionNode> cluster;
  return cluster;
}
inline Cluster<IntegerPartitionNode>& integer_cluster() {
  static Cluster<IntegerPartitionNode> cluster;
  return cluster;
}

// Writes an integer model file (as edgelstm quantize --integer does) for a float network's
// parameters and a calibration into `out`; *written gets its size. Scratch buffers are the
// caller's (integer_weight_count etc.).
inline Status write_integer_model(const LstmSpec& spec, Span<const float> parameters, const IntegerCalibration& calibration,
                                  Span<std::int8_t> weights, Span<float> scales, Span<std::int32_t> constants,
                                  Span<std::int16_t> zero_biases, Span<std::uint8_t> out, std::size_t* written,
                                  const char* constants_as_int8 = nullptr) {
  IntegerParameters integer;
  EDGELSTM_TRY(quantize_to_integer(spec, parameters, calibration, weights, scales, constants, &integer));
  detail::ParameterTensor names[4 * kMaxLayers + 2];
  const std::size_t count = detail::parameter_tensors(spec, WeightFormat::kInt8, names);
  ModelTensor tensors[kMaxModelTensors];
  std::size_t n = 0;
  const std::int8_t* w = weights.data();
  const float* head_bias = parameters.data() + parameter_count(spec) - spec.output_size;
  for (std::size_t k = 0; k < count; ++k) {
    ModelTensor& t = tensors[n++];
    t.name = names[k].name;
    t.type = names[k].type;
    t.count = names[k].count;
    t.cols = names[k].cols;
    if (t.type == TensorType::kInt8) {
      t.data = w;
      w += t.count;
    } else {
      t.data = t.type == TensorType::kInt16 ? static_cast<const void*>(zero_biases.data()) : head_bias;
    }
  }
  // One scale per row of every int8 matrix (file order), then the fused biases' scale.
  static char scale_names[4 * kMaxLayers + 2][kModelTensorNameBytes + 8];
  const float* s = scales.data();
  static const float kOne = 1.0f;
  for (std::size_t k = 0; k < count; ++k) {
    if (names[k].type == TensorType::kFloat32) continue;
    std::memset(scale_names[k], 0, sizeof scale_names[k]);
    std::memcpy(scale_names[k], names[k].name, std::strlen(names[k].name));
    std::memcpy(scale_names[k] + std::strlen(names[k].name), ".scale", 6);
    const std::size_t rows = names[k].count / names[k].cols;
    if (names[k].type == TensorType::kInt8) {
      tensors[n++] = ModelTensor{scale_names[k], TensorType::kFloat32, s, static_cast<std::uint32_t>(rows), 0};
      s += rows;
    } else {
      tensors[n++] = ModelTensor{scale_names[k], TensorType::kFloat32, &kOne, 1, 0};
    }
  }
  static std::int32_t config[kIntegerConfigCount];
  std::memset(config, 0, sizeof config);
  config[0] = kIntegerFormatVersion;
  config[1 + kMaxLayers] = kOutputFractionBits;
  for (std::size_t l = 0; l < spec.num_layers; ++l) {
    config[1 + l] = integer.layers[l].cell_fraction_bits;
    config[2 + kMaxLayers + l] = integer.layers[l].shift_ih;
    config[2 + 2 * kMaxLayers + l] = integer.layers[l].shift_hh;
  }
  static float input_scale;
  input_scale = calibration.input_scale;
  tensors[n++] = ModelTensor{"int.config", TensorType::kInt32, config, kIntegerConfigCount, 0};
  tensors[n++] = ModelTensor{"int.input_scale", TensorType::kFloat32, &input_scale, 1, 0};
  static char gate_names[kMaxLayers][16];
  for (std::size_t l = 0; l < spec.num_layers; ++l) {
    std::memcpy(gate_names[l], "int.l0.gates", 13);
    gate_names[l][5] = static_cast<char>('0' + l);
    const auto values = static_cast<std::uint32_t>(4 * spec.hidden(l) * kIntegerGateFields);
    // A damaged file for the loaders' checks: the gate constants typed as int8 bytes (3 a row).
    const bool retyped = constants_as_int8 != nullptr && std::strcmp(constants_as_int8, gate_names[l]) == 0;
    tensors[n++] = retyped ? ModelTensor{gate_names[l], TensorType::kInt8, integer.layers[l].gates, 4 * values, kIntegerGateFields}
                           : ModelTensor{gate_names[l], TensorType::kInt32, integer.layers[l].gates, values, 0};
  }
  tensors[n++] = ModelTensor{"int.head", TensorType::kInt32, integer.head.rows,
                             static_cast<std::uint32_t>(spec.output_size * kIntegerHeadFields), 0};
  return write_model_tensors(spec, WeightFormat::kInt8, Span<const ModelTensor>(tensors, n), out, written);
}

}  // namespace edgelstm::test
