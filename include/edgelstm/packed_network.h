// Inference with repacked weights, for cores with a vector unit (hosts, gateways).
//
// Network::step reads the weights where they are, in PyTorch's row-major layout: each gate row is
// a dot product, summed across vector lanes at its end. PackedNetwork copies a network's weights
// once into panels of gate rows stored column by column, so a step multiplies column k of a panel
// (one aligned vector load per 16 rows) by the broadcast input k and adds it into accumulators that
// stay in registers for the whole panel: every weight is read exactly once, in address order, with
// no horizontal sums. On the development machine (AVX-512) the H = 100 step's matrix-vector
// product takes ~1.0 µs instead of ~1.6 µs: it runs at the rate L2 delivers the 160 KB of weights.
//
//   alignas(64) static std::uint8_t arena[edgelstm::packed_inference_bytes(kSpec)];
//   edgelstm::PackedNetwork fast;
//   if (fast.bind(trained_network, arena) != edgelstm::Status::kOk) { ... }
//   fast.step(reading, prediction);   // same outputs as trained_network.step(), up to rounding
//
// The outputs equal Network::step's up to float rounding (each gate row sums its products in a
// different order); the tests hold both to PyTorch. The packed copy is a snapshot: after more
// training, load_parameters() repacks. It needs a second copy of the weights (packed_inference_
// bytes), so on a microcontroller Network::step, reading the weights in place, is the one to use.
#pragma once

#include <cstddef>
#include <cstdint>

#include "activations.h"
#include "arena_state.h"
#include "kernels.h"
#include "lstm_cell.h"
#include "network.h"
#include "simd.h"
#include "span.h"
#include "spec.h"
#include "status.h"
#include "window.h"

#if EDGELSTM_HAVE_AVX512F || EDGELSTM_HAVE_AVX2_FMA
#include <immintrin.h>
#endif

namespace edgelstm {

// The panel kernel this build runs, for logs and benchmark reports.
constexpr const char* packed_kernel_variant() {
  return EDGELSTM_HAVE_AVX512F ? "avx-512" : EDGELSTM_HAVE_AVX2_FMA ? "avx2+fma" : "portable";
}

// The arena of a PackedNetwork starts on this boundary (one cache line; the panels are read with
// aligned vector loads).
inline constexpr std::size_t kPackedAlignment = 64;

namespace detail {

// A panel is a run of gate rows, a multiple of kPanelVector, stored column by column; a panel of
// at most kMaxPanelVectors vectors keeps its accumulators in registers (6 zmm, or 12 ymm of 16).
inline constexpr std::size_t kPanelVector = 16;
inline constexpr std::size_t kMaxPanelVectors = 6;

constexpr std::size_t packed_align(std::size_t bytes) {
  return (bytes + kPackedAlignment - 1) / kPackedAlignment * kPackedAlignment;
}

// Gate rows of a layer rounded up to whole vectors (the padding rows have zero weights and bias).
constexpr std::size_t packed_rows(std::size_t hidden) {
  return (4 * hidden + kPanelVector - 1) / kPanelVector * kPanelVector;
}

// The rows are split into as few panels as the register budget allows, as even as possible:
// panel p of `panels` holds panel_vectors(vectors, p) vectors (the first ones one more).
constexpr std::size_t panel_count(std::size_t vectors) {
  return (vectors + kMaxPanelVectors - 1) / kMaxPanelVectors;
}
constexpr std::size_t panel_vectors(std::size_t vectors, std::size_t panel) {
  const std::size_t panels = panel_count(vectors);
  return vectors / panels + (panel < vectors % panels ? 1 : 0);
}

// Byte offsets of a packed network's regions, each on a kPackedAlignment boundary.
struct PackedPlan {
  struct Layer {
    std::size_t weights = 0;  // packed_rows(H) x (input + H): [W_ih | W_hh] in panels
    std::size_t bias = 0;     // packed_rows(H): b_ih + b_hh
    std::size_t xh = 0;       // input + H: the layer's input, then its h (the recurrent state)
    std::size_t c = 0;        // H
  };
  Layer layers[kMaxLayers];
  std::size_t gates = 0;  // packed_rows(max H): one step's gates
  std::size_t head = 0;   // O x H_top head weight, then O bias
  std::size_t total_bytes = 0;
};

constexpr PackedPlan plan_packed(const LstmSpec& spec) {
  PackedPlan plan;
  std::size_t cursor = 0;
  const auto take = [&cursor](std::size_t floats) {
    const std::size_t offset = cursor;
    cursor = packed_align(cursor + floats * sizeof(float));
    return offset;
  };
  for (std::size_t layer = 0; layer < spec.num_layers; ++layer) {
    const std::size_t hidden = spec.hidden(layer), cols = spec.layer_input(layer) + hidden;
    plan.layers[layer].weights = take(packed_rows(hidden) * cols);
    plan.layers[layer].bias = take(packed_rows(hidden));
    plan.layers[layer].xh = take(cols);
    plan.layers[layer].c = take(hidden);
  }
  plan.gates = take(packed_rows(spec.max_hidden()));
  plan.head = take(spec.output_size * spec.top_hidden() + spec.output_size);
  plan.total_bytes = cursor;
  return plan;
}

// y[0 .. 16 kVectors) = bias + panel x: one panel, its accumulators in registers for all columns.
template <std::size_t kVectors>
inline void panel_matvec(const float* EDGELSTM_RESTRICT panel, std::size_t cols,
                         const float* EDGELSTM_RESTRICT x, const float* EDGELSTM_RESTRICT bias,
                         float* EDGELSTM_RESTRICT y) {
  constexpr std::size_t kRows = kVectors * kPanelVector;
#if EDGELSTM_HAVE_AVX512F
  __m512 acc[kVectors];
  for (std::size_t v = 0; v < kVectors; ++v) acc[v] = _mm512_load_ps(bias + 16 * v);
  for (std::size_t k = 0; k < cols; ++k, panel += kRows) {
    const __m512 xk = _mm512_set1_ps(x[k]);
    for (std::size_t v = 0; v < kVectors; ++v) {
      acc[v] = _mm512_fmadd_ps(_mm512_load_ps(panel + 16 * v), xk, acc[v]);
    }
  }
  for (std::size_t v = 0; v < kVectors; ++v) _mm512_store_ps(y + 16 * v, acc[v]);
#elif EDGELSTM_HAVE_AVX2_FMA
  __m256 acc[2 * kVectors];
  for (std::size_t v = 0; v < 2 * kVectors; ++v) acc[v] = _mm256_load_ps(bias + 8 * v);
  for (std::size_t k = 0; k < cols; ++k, panel += kRows) {
    const __m256 xk = _mm256_broadcast_ss(x + k);
    for (std::size_t v = 0; v < 2 * kVectors; ++v) {
      acc[v] = _mm256_fmadd_ps(_mm256_load_ps(panel + 8 * v), xk, acc[v]);
    }
  }
  for (std::size_t v = 0; v < 2 * kVectors; ++v) _mm256_store_ps(y + 8 * v, acc[v]);
#else
  float acc[kRows];
  for (std::size_t r = 0; r < kRows; ++r) acc[r] = bias[r];
  for (std::size_t k = 0; k < cols; ++k, panel += kRows) {
    const float xk = x[k];
    for (std::size_t r = 0; r < kRows; ++r) acc[r] += panel[r] * xk;
  }
  for (std::size_t r = 0; r < kRows; ++r) y[r] = acc[r];
#endif
}

// y = bias + W x over all panels of a packed matrix of `rows` (a multiple of kPanelVector) rows.
// The panels are independent, so their order does not change any result: with `backwards` they
// run last to first. Alternating the order from step to step starts each step on the panels the
// previous one read last, which are still in L1.
inline void packed_matvec(const float* packed, std::size_t rows, std::size_t cols, const float* x,
                          const float* bias, float* y, bool backwards) {
  static_assert(kMaxPanelVectors == 6, "panel_matvec is instantiated for 1..6 vectors");
  const std::size_t vectors = rows / kPanelVector;
  const std::size_t panels = panel_count(vectors);
  std::size_t first_row = backwards ? rows : 0;
  for (std::size_t i = 0; i < panels; ++i) {
    const std::size_t p = backwards ? panels - 1 - i : i;
    const std::size_t panel_rows = panel_vectors(vectors, p) * kPanelVector;
    if (backwards) first_row -= panel_rows;
    const float* panel = packed + first_row * cols;
    switch (panel_rows / kPanelVector) {
      case 1: panel_matvec<1>(panel, cols, x, bias + first_row, y + first_row); break;
      case 2: panel_matvec<2>(panel, cols, x, bias + first_row, y + first_row); break;
      case 3: panel_matvec<3>(panel, cols, x, bias + first_row, y + first_row); break;
      case 4: panel_matvec<4>(panel, cols, x, bias + first_row, y + first_row); break;
      case 5: panel_matvec<5>(panel, cols, x, bias + first_row, y + first_row); break;
      default: panel_matvec<6>(panel, cols, x, bias + first_row, y + first_row); break;
    }
    if (!backwards) first_row += panel_rows;
  }
}

}  // namespace detail

// Arena bytes of a PackedNetwork for `spec`: the packed weights, the fused biases, the recurrent
// state, one step's gates and the head. Zero for an invalid spec.
constexpr std::size_t packed_inference_bytes(const LstmSpec& spec) {
  return validate_spec(spec) == Status::kOk ? detail::plan_packed(spec).total_bytes : 0;
}

class PackedNetwork : public detail::ArenaLstmState<PackedNetwork> {
 public:
  // Binds to `arena` (packed_inference_bytes(spec) bytes on a kPackedAlignment boundary), packs
  // `parameters` (parameter_count(spec) values in Network::parameters() order; they must not lie
  // inside the arena) and resets the recurrent state. A refused bind leaves any earlier binding.
  Status bind(const LstmSpec& spec, Span<const float> parameters, Span<std::uint8_t> arena) {
    EDGELSTM_TRY(validate_spec(spec));
    if (parameters.data() == nullptr || parameters.size() != parameter_count(spec)) {
      return Status::kInvalidArgument;
    }
    const detail::PackedPlan plan = detail::plan_packed(spec);
    if (arena.data() == nullptr || arena.size() < plan.total_bytes) return Status::kBufferTooSmall;
    if (reinterpret_cast<std::uintptr_t>(arena.data()) % kPackedAlignment != 0) {
      return Status::kMisalignedBuffer;
    }
    spec_ = spec;
    plan_ = plan;
    base_ = arena.data();
    pack(parameters.data());
    reset_state();
    return Status::kOk;
  }

  // The same with the parameters of a bound float network (weights in RAM or in place).
  Status bind(const Network& network, Span<std::uint8_t> arena) {
    if (!network.bound()) return Status::kNotBound;
    return bind(network.spec(), network.parameters(), arena);
  }

  // Repacks new parameters (after more training) and keeps the recurrent state.
  Status load_parameters(Span<const float> parameters) {
    if (!bound()) return Status::kNotBound;
    if (parameters.data() == nullptr || parameters.size() != parameter_count(spec_)) {
      return Status::kInvalidArgument;
    }
    pack(parameters.data());
    return Status::kOk;
  }

  bool bound() const { return base_ != nullptr; }
  const LstmSpec& spec() const { return spec_; }
  std::size_t bytes_used() const { return plan_.total_bytes; }

  // One streaming time step, as Network::step: a non-finite input is refused before it reaches
  // the state.
  Status step(Span<const float> x, Span<float> y) {
    EDGELSTM_TRY(check_step(x, y));
    float* gates = at(plan_.gates);
    const float* input = x.data();
    for (std::size_t layer = 0; layer < spec_.num_layers; ++layer) {
      const std::size_t in = spec_.layer_input(layer), hidden = spec_.hidden(layer);
      float* xh = at(plan_.layers[layer].xh);
      copy(input, in, xh);
      detail::packed_matvec(at(plan_.layers[layer].weights), detail::packed_rows(hidden), in + hidden,
                            xh, at(plan_.layers[layer].bias), gates, backwards_);
      float* h = xh + in;
      float* c = state_c(layer);
      lstm_cell_finish(hidden, gates, c, c, h, h);
      input = h;
    }
    backwards_ = !backwards_;
    dense_head(at(plan_.head), spec_.output_size, spec_.top_hidden(), input, y.data());
    return Status::kOk;
  }

 private:
  friend class detail::ArenaLstmState<PackedNetwork>;
  float* at(std::size_t offset) const { return reinterpret_cast<float*>(base_ + offset); }
  float* state_h(std::size_t layer) const { return at(plan_.layers[layer].xh) + spec_.layer_input(layer); }
  float* state_c(std::size_t layer) const { return at(plan_.layers[layer].c); }

  // Writes the panels, fused biases and head from parameters in Network::parameters() order.
  void pack(const float* p) {
    for (std::size_t layer = 0; layer < spec_.num_layers; ++layer) {
      const std::size_t in = spec_.layer_input(layer), hidden = spec_.hidden(layer);
      const std::size_t rows = 4 * hidden, padded = detail::packed_rows(hidden), cols = in + hidden;
      const float* weight_ih = p;
      const float* weight_hh = weight_ih + rows * in;
      const float* bias_ih = weight_hh + rows * hidden;
      const float* bias_hh = bias_ih + rows;
      float* out = at(plan_.layers[layer].weights);
      const std::size_t vectors = padded / detail::kPanelVector;
      std::size_t r0 = 0;
      for (std::size_t panel = 0; panel < detail::panel_count(vectors); ++panel) {
        const std::size_t panel_rows = detail::panel_vectors(vectors, panel) * detail::kPanelVector;
        for (std::size_t k = 0; k < cols; ++k) {
          for (std::size_t i = 0; i < panel_rows; ++i) {
            const std::size_t r = r0 + i;
            *out++ = r >= rows ? 0.0f : k < in ? weight_ih[r * in + k] : weight_hh[r * hidden + (k - in)];
          }
        }
        r0 += panel_rows;
      }
      float* bias = at(plan_.layers[layer].bias);
      for (std::size_t r = 0; r < padded; ++r) bias[r] = r < rows ? bias_ih[r] + bias_hh[r] : 0.0f;
      p = bias_hh + rows;
    }
    const std::size_t head_count = spec_.output_size * spec_.top_hidden() + spec_.output_size;
    copy(p, head_count, at(plan_.head));
  }

  LstmSpec spec_{};
  detail::PackedPlan plan_{};
  std::uint8_t* base_ = nullptr;
  bool backwards_ = false;  // the panels' order in the next step (see packed_matvec)
};

}  // namespace edgelstm
