// One time step of one LSTM layer, forward and backward, with PyTorch's gate order and semantics:
//
//   z = W_ih x + b_ih + W_hh h_prev + b_hh           (4H, rows in the order i, f, g, o)
//   i = sigmoid(z_i)  f = sigmoid(z_f)  g = tanh(z_g)  o = sigmoid(z_o)
//   c = f * c_prev + i * g
//   h = o * tanh(c)
//
// These are free functions over raw views so that the network, the tests and later the quantized
// and distributed runtimes share one implementation.
#pragma once

#include <cstddef>
#include <type_traits>

#include "activations.h"
#include "activations_rv32f.h"
#include "activations_simd.h"
#include "kernels.h"

namespace edgelstm {

// Read-only view of one layer's parameters, laid out as in a torch.nn.LSTM state_dict.
template <typename T>
struct LstmLayerWeights {
  const T* weight_ih = nullptr;  // [4H x input]
  const T* weight_hh = nullptr;  // [4H x H]
  const T* bias_ih = nullptr;    // [4H]
  const T* bias_hh = nullptr;    // [4H]
  std::size_t input = 0;
  std::size_t hidden = 0;
};

namespace detail {

// lstm_cell_finish's loops, one activation policy `math` (Math<T>, or on RV32F its constants held
// in registers: activations_rv32f.h): with five activations in one loop body GCC reloads their
// constants inside the loop on RV32F, and the sigmoid and tanh loops unrolled by two pay their
// bookkeeping half as often.
template <typename T, typename Activations>
inline void lstm_cell_finish_units(std::size_t hidden, T* gates, const T* c_prev, T* c_out, T* tanh_c_out, T* h_out,
                                   const Activations& activations) {
  const Activations math = activations;  // a local copy, which no store through the arrays can change
  T* i = gates;
  T* f = gates + hidden;
  T* g = gates + 2 * hidden;
  T* o = gates + 3 * hidden;
  EDGELSTM_UNROLL_2
  for (std::size_t j = 0; j < 2 * hidden; ++j) i[j] = math.sigmoid(i[j]);  // i and f
  EDGELSTM_UNROLL_2
  for (std::size_t j = 0; j < hidden; ++j) o[j] = math.sigmoid(o[j]);
  EDGELSTM_UNROLL_2
  for (std::size_t j = 0; j < hidden; ++j) g[j] = math.tanh(g[j]);
  for (std::size_t j = 0; j < hidden; ++j) {
    const T cj = f[j] * c_prev[j] + i[j] * g[j];
    c_out[j] = cj;
    const T tanh_c = math.tanh(cj);
    tanh_c_out[j] = tanh_c;
    h_out[j] = o[j] * tanh_c;
  }
}

}  // namespace detail

// The second half of a forward step, shared by every weight format: from the gate
// pre-activations z in `gates` (4H) to i, f, g, o (in place), c_t, tanh(c_t) and h_t:
// sigmoid on i, f, o, then per unit tanh on g, c_t = f c_{t-1} + i g and h_t = o tanh(c_t).
// c_out may equal c_prev and h_out may equal tanh_c_out (the streaming inference path does both).
// On AVX2/AVX-512 hosts one vector pass over the units (activations_simd.h); on RV32F Math<float>
// with its constants in registers (activations_rv32f.h); elsewhere Math<T>.
template <typename T>
inline void lstm_cell_finish(std::size_t hidden, T* gates, const T* c_prev, T* c_out, T* tanh_c_out, T* h_out) {
#if EDGELSTM_HAVE_AVX512F
  if constexpr (std::is_same_v<T, float>) {
    detail::lstm_cell_finish_lanes<detail::Avx512Lanes>(hidden, gates, c_prev, c_out, tanh_c_out, h_out);
    return;
  }
#elif EDGELSTM_HAVE_AVX2_FMA
  if constexpr (std::is_same_v<T, float>) {
    detail::lstm_cell_finish_lanes<detail::Avx2Lanes>(hidden, gates, c_prev, c_out, tanh_c_out, h_out);
    return;
  }
#elif EDGELSTM_HAVE_RV32F_ASM
  if constexpr (std::is_same_v<T, float>) {
    detail::lstm_cell_finish_units(hidden, gates, c_prev, c_out, tanh_c_out, h_out, detail::RegisterActivations{});
    return;
  }
#endif
  detail::lstm_cell_finish_units(hidden, gates, c_prev, c_out, tanh_c_out, h_out, Math<T>{});
}

// Gate pre-activations z = b_ih + b_hh + W_ih x + W_hh h_prev of `rows` gate rows: weight_ih is
// [rows x input], weight_hh [rows x recurrent] and h_prev holds `recurrent` values. A whole layer
// has rows = 4H and recurrent = H; a node of a hidden split holds only its units' rows (rows =
// 4 x its units) but reads the whole h_prev. Each row is summed the same way in both cases.
template <typename T>
inline void lstm_gate_preactivations(const T* weight_ih, const T* weight_hh, const T* bias_ih, const T* bias_hh,
                                     std::size_t rows, std::size_t input, std::size_t recurrent, const T* x,
                                     const T* h_prev, T* gates) {
#if EDGELSTM_HAVE_RV32F_ASM
  if constexpr (std::is_same_v<T, float>) {
    // One feature on RV32F: the biases and the input column in the first block's pass.
    if (input == 1 && lstm_gates_input1_rv32f(weight_hh, rows, recurrent, h_prev, bias_ih, bias_hh, weight_ih, x[0], gates)) {
      return;
    }
  }
#endif
  if (input == 1 && rows % 4 == 0) {
    // A layer fed one feature (a meter reading): biases and input weights in one pass instead of
    // a bias pass plus a matrix-vector pass of width 1; four rows (one unit's worth of the four
    // gates' rows) per iteration, so an in-order core pays its pointer bookkeeping once per four.
    const T x0 = x[0];
    for (std::size_t r = 0; r < rows; r += 4) {
      gates[r] = bias_ih[r] + bias_hh[r] + weight_ih[r] * x0;
      gates[r + 1] = bias_ih[r + 1] + bias_hh[r + 1] + weight_ih[r + 1] * x0;
      gates[r + 2] = bias_ih[r + 2] + bias_hh[r + 2] + weight_ih[r + 2] * x0;
      gates[r + 3] = bias_ih[r + 3] + bias_hh[r + 3] + weight_ih[r + 3] * x0;
    }
  } else if (input <= 2) {
    // One or two features (a calendar pair): biases and input weights in one pass instead of a
    // bias pass plus a matrix-vector pass of width 1 or 2.
    for (std::size_t r = 0; r < rows; ++r) {
      T sum = bias_ih[r] + bias_hh[r];
      for (std::size_t k = 0; k < input; ++k) sum += weight_ih[r * input + k] * x[k];
      gates[r] = sum;
    }
  } else {
    for (std::size_t r = 0; r < rows; ++r) gates[r] = bias_ih[r] + bias_hh[r];
    matvec_accumulate(weight_ih, rows, input, x, gates);
  }
  matvec_accumulate(weight_hh, rows, recurrent, h_prev, gates);
}

// Forward step. Outputs: `gates` (4H) receives the activations i, f, g, o; c_out, tanh_c_out and
// h_out (H each) receive c_t, tanh(c_t) and h_t. In-place use is allowed: h_out may equal h_prev
// or tanh_c_out, and c_out may equal c_prev (the streaming inference path does exactly that);
// `gates` and `x` must not overlap anything else.
template <typename T>
inline void lstm_cell_forward(const LstmLayerWeights<T>& layer, const T* x, const T* h_prev,
                              const T* c_prev, T* gates, T* c_out, T* tanh_c_out, T* h_out) {
  const std::size_t hidden = layer.hidden;
  lstm_gate_preactivations(layer.weight_ih, layer.weight_hh, layer.bias_ih, layer.bias_hh, 4 * hidden, layer.input,
                           hidden, x, h_prev, gates);
  lstm_cell_finish(hidden, gates, c_prev, c_out, tanh_c_out, h_out);
}

// Backward step through the gates and the cell update.
//   dh:      dLoss/dh_t, total (from the output above and from step t+1)        [H]
//   dc:      in: dLoss/dc_t arriving from step t+1; out: dLoss/dc_{t-1}         [H]
//   gates:   in: the activations i, f, g, o of step t; out: dLoss/dz             [4H]
//   c_prev:  c_{t-1}; tanh_c: tanh(c_t)                                          [H]
// The caller then forms dLoss/dh_{t-1} = W_hh^T dz and dLoss/dx_t = W_ih^T dz.
template <typename T>
inline void lstm_cell_backward(std::size_t hidden, const T* EDGELSTM_RESTRICT dh,
                               T* EDGELSTM_RESTRICT dc, T* EDGELSTM_RESTRICT gates,
                               const T* EDGELSTM_RESTRICT c_prev,
                               const T* EDGELSTM_RESTRICT tanh_c) {
  T* i = gates;
  T* f = gates + hidden;
  T* g = gates + 2 * hidden;
  T* o = gates + 3 * hidden;
  for (std::size_t j = 0; j < hidden; ++j) {
    const T ij = i[j], fj = f[j], gj = g[j], oj = o[j], tc = tanh_c[j];
    // c_t = f c_{t-1} + i g  and  h_t = o tanh(c_t).
    const T dc_total = dc[j] + dh[j] * oj * (T(1) - tc * tc);
    i[j] = dc_total * gj * ij * (T(1) - ij);
    f[j] = dc_total * c_prev[j] * fj * (T(1) - fj);
    g[j] = dc_total * ij * (T(1) - gj * gj);
    o[j] = dh[j] * tc * oj * (T(1) - oj);
    dc[j] = dc_total * fj;
  }
}

}  // namespace edgelstm
