// Memory planning: exactly how many arena bytes a network needs, computed at compile time.
//
// The network never allocates. It carves every buffer out of one caller-owned arena, in the order
// listed in MemoryPlan below, each region starting on a kArenaAlignment boundary. The functions
// here are the single source of truth for that layout: Network::bind() uses the same plan, so
// inference_bytes()/train_bytes() are what the code really uses, not an estimate.
#pragma once

#include <cstddef>
#include <cstdint>

#include "span.h"
#include "spec.h"
#include "status.h"

namespace edgelstm {

inline constexpr std::size_t kArenaAlignment = 16;

enum class OptimizerKind : std::uint8_t {
  kSgd,       // no optimizer state
  kMomentum,  // one velocity per parameter
  kAdam,      // first and second moment per parameter
};

// What the arena must hold.
enum class Purpose : std::uint8_t {
  kInference,          // parameters, recurrent state, one step of gate scratch
  kInferenceInPlace,   // recurrent state and gate scratch only: parameters stay where they are
                       // (flash), see Network::bind_inference_in_place
  kTraining,           // + gradients, optimizer state, BPTT caches for one window
};

constexpr std::size_t optimizer_state_slots(OptimizerKind optimizer) {
  return optimizer == OptimizerKind::kAdam ? 2 : optimizer == OptimizerKind::kMomentum ? 1 : 0;
}

// Byte offsets of each region inside the arena. A region of size zero has offset == previous end.
struct MemoryPlan {
  struct Region {
    std::size_t offset = 0;
    std::size_t count = 0;  // elements, not bytes
  };
  struct LayerCache {
    Region h;       // (T + 1) x H: h_{-1} (the initial state), h_0 ... h_{T-1}
    Region c;       // (T + 1) x H: c_{-1}, c_0 ... c_{T-1}
    Region gates;   // T x 4H: activations i, f, g, o per step; BPTT overwrites them with dz
    Region tanh_c;  // T x H: tanh(c_t), reused by the backward pass
  };

  // Inference (and training).
  Region parameters;    // parameter_count(spec)
  Region state;         // h then c of every layer, layer after layer: 2 * sum(H)
  Region gate_scratch;  // 4 * max(H): pre-activations of one step of one layer
  // Training only (count == 0 for inference).
  Region gradients;       // parameter_count(spec), same order as parameters
  Region optimizer_state; // slots * parameter_count(spec)
  Region input_cache;     // T x input_size: the window being trained on
  LayerCache layers[kMaxLayers];
  Region outputs;         // output_steps x O: head outputs of the window
  Region output_grad;     // output_steps x O: dLoss/dOutput
  Region dh_from_above;   // T x max(H): dLoss/dh_t arriving from the head or the layer above
  Region dh_to_below;     // T x max(H): dLoss/dx_t sent to the layer below
  Region dh_next;         // max(H): dLoss/dh_{t-1} flowing back through time
  Region dc_next;         // max(H): dLoss/dc_{t-1} flowing back through time
  Region initial_state_grad;  // dh_{-1} then dc_{-1} of every layer: 2 * sum(H)

  std::size_t total_bytes = 0;
};

namespace detail {

constexpr std::size_t align_up(std::size_t bytes) {
  return (bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
}

struct PlanBuilder {
  std::size_t element_bytes;
  std::size_t cursor = 0;
  constexpr MemoryPlan::Region take(std::size_t count) {
    MemoryPlan::Region region;
    region.offset = cursor;
    region.count = count;
    cursor = align_up(cursor + count * element_bytes);
    return region;
  }
};

// kOk when `arena` holds at least `bytes` bytes from a kArenaAlignment boundary.
inline Status check_arena(Span<std::uint8_t> arena, std::size_t bytes) {
  if (arena.data() == nullptr || arena.size() < bytes) return Status::kBufferTooSmall;
  if (reinterpret_cast<std::uintptr_t>(arena.data()) % kArenaAlignment != 0) return Status::kMisalignedBuffer;
  return Status::kOk;
}

}  // namespace detail

// The layout for `spec` with elements of `element_bytes` (4 for float). The spec must be valid.
constexpr MemoryPlan plan_memory(const LstmSpec& spec, Purpose purpose,
                                 OptimizerKind optimizer = OptimizerKind::kSgd,
                                 std::size_t element_bytes = sizeof(float)) {
  MemoryPlan plan;
  detail::PlanBuilder builder{element_bytes};
  const std::size_t parameters = parameter_count(spec);
  const std::size_t window = spec.window;
  const std::size_t max_hidden = spec.max_hidden();
  plan.parameters = builder.take(purpose == Purpose::kInferenceInPlace ? 0 : parameters);
  plan.state = builder.take(2 * spec.total_hidden());
  plan.gate_scratch = builder.take(4 * max_hidden);
  if (purpose == Purpose::kTraining) {
    plan.gradients = builder.take(parameters);
    plan.optimizer_state = builder.take(optimizer_state_slots(optimizer) * parameters);
    plan.input_cache = builder.take(window * spec.input_size);
    for (std::size_t layer = 0; layer < spec.num_layers; ++layer) {
      const std::size_t hidden = spec.hidden(layer);
      plan.layers[layer].h = builder.take((window + 1) * hidden);
      plan.layers[layer].c = builder.take((window + 1) * hidden);
      plan.layers[layer].gates = builder.take(window * 4 * hidden);
      plan.layers[layer].tanh_c = builder.take(window * hidden);
    }
    plan.outputs = builder.take(spec.output_steps() * spec.output_size);
    plan.output_grad = builder.take(spec.output_steps() * spec.output_size);
    plan.dh_from_above = builder.take(window * max_hidden);
    plan.dh_to_below = builder.take(window * max_hidden);
    plan.dh_next = builder.take(max_hidden);
    plan.dc_next = builder.take(max_hidden);
    plan.initial_state_grad = builder.take(2 * spec.total_hidden());
  }
  plan.total_bytes = builder.cursor;
  return plan;
}

// Bytes of arena for inference only (float32). Zero for an invalid spec.
constexpr std::size_t inference_bytes(const LstmSpec& spec) {
  return validate_spec(spec) == Status::kOk ? plan_memory(spec, Purpose::kInference).total_bytes
                                            : 0;
}

// Bytes of arena for inference with the parameters kept elsewhere, e.g. in flash (float32): the
// recurrent state and one step of scratch. Zero for an invalid spec.
constexpr std::size_t inference_in_place_bytes(const LstmSpec& spec) {
  return validate_spec(spec) == Status::kOk
             ? plan_memory(spec, Purpose::kInferenceInPlace).total_bytes
             : 0;
}

// Bytes of arena for training with `optimizer` (float32); also enough for inference.
// Zero for an invalid spec.
constexpr std::size_t train_bytes(const LstmSpec& spec, OptimizerKind optimizer) {
  return validate_spec(spec) == Status::kOk
             ? plan_memory(spec, Purpose::kTraining, optimizer).total_bytes
             : 0;
}

}  // namespace edgelstm
