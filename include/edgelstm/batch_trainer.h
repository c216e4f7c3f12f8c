// Minibatch training for hosts and gateways that train one model on many windows at once (a
// global forecaster over many meters): B windows run through the network together, so every
// matrix product of a step is a matrix-matrix product (gemm.h) that streams each weight once for
// all B windows instead of once per window. The gradient is the sum of the B windows' gradients,
// each what Network::backward gives for that window alone (tested); the update is the network's
// own optimizer step (Network::apply_gradients), with its guard.
//
//   alignas(64) static std::uint8_t arena[edgelstm::batch_train_bytes(kSpec, 64)];
//   edgelstm::BatchTrainer trainer;
//   if (trainer.bind(net, 64, arena) != edgelstm::Status::kOk) { ... }   // net bound for training
//   edgelstm::TrainResult r = trainer.train_step(windows, targets);        // up to 64 windows
//
// Each window starts from a zero state (independent windows, as torch.nn.LSTM over a batch
// without h0). The summed gradient makes the step size scale with the number of windows: divide
// the learning rate by B for PyTorch's mean over a batch. The arena holds the BPTT caches of B
// windows (e.g. 6 x 100, B = 64: 1.8 MB), a transposed copy of each layer's weights and the
// summed gradient; no heap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "gemm.h"
#include "kernels.h"
#include "loss.h"
#include "lstm_cell.h"
#include "memory_plan.h"
#include "network.h"
#include "span.h"
#include "spec.h"
#include "status.h"

namespace edgelstm {

namespace detail {

// Float offsets of a BatchTrainer's regions (each on a 64-byte boundary).
struct BatchPlan {
  struct Layer {
    std::size_t weights_t = 0;  // K x 4H: [W_ih | W_hh] transposed (K = input + H)
    std::size_t bias_sum = 0;   // 4H: b_ih + b_hh
    std::size_t inputs = 0;     // (T + 1) x B x (1 + K): [1 | x_t | h_{t-1}] of every window; the last h_{T-1}
    std::size_t c = 0;          // (T + 1) x B x H: c_{t-1}
    std::size_t gates = 0;      // T x B x 4H: activations, then dLoss/dz
    std::size_t tanh_c = 0;     // T x B x H
    std::size_t dh_above = 0;   // T x B x H: dLoss/dh_t from the head or the layer above
    std::size_t weight_grad_t = 0;  // (1 + K) x 4H: the bias gradient, then the weight gradient, transposed
  };
  Layer layers[kMaxLayers];
  std::size_t dh_next = 0;    // B x max H
  std::size_t dc_next = 0;    // B x max H
  std::size_t outputs = 0;    // B x output_steps x O
  std::size_t output_grad = 0;
  std::size_t gradients = 0;  // parameter_count
  std::size_t total_floats = 0;
};

constexpr BatchPlan plan_batch(const LstmSpec& spec, std::size_t batch) {
  BatchPlan plan;
  std::size_t cursor = 0;
  const auto take = [&cursor](std::size_t floats) {
    const std::size_t offset = cursor;
    cursor = (cursor + floats + 15) / 16 * 16;
    return offset;
  };
  const std::size_t steps = spec.window;
  for (std::size_t l = 0; l < spec.num_layers; ++l) {
    const std::size_t hidden = spec.hidden(l), cols = spec.layer_input(l) + hidden, rows = 4 * hidden;
    plan.layers[l].weights_t = take(cols * rows);
    plan.layers[l].bias_sum = take(rows);
    plan.layers[l].inputs = take((steps + 1) * batch * (1 + cols));
    plan.layers[l].c = take((steps + 1) * batch * hidden);
    plan.layers[l].gates = take(steps * batch * rows);
    plan.layers[l].tanh_c = take(steps * batch * hidden);
    plan.layers[l].dh_above = take(steps * batch * hidden);
    plan.layers[l].weight_grad_t = take((1 + cols) * rows);
  }
  plan.dh_next = take(batch * spec.max_hidden());
  plan.dc_next = take(batch * spec.max_hidden());
  plan.outputs = take(batch * spec.output_steps() * spec.output_size);
  plan.output_grad = take(batch * spec.output_steps() * spec.output_size);
  plan.gradients = take(parameter_count(spec));
  plan.total_floats = cursor;
  return plan;
}

}  // namespace detail

// The arena alignment of a BatchTrainer.
inline constexpr std::size_t kBatchAlignment = 64;

// Arena bytes of a BatchTrainer for `spec` and up to `batch` windows per step; 0 for an invalid
// spec or batch 0.
constexpr std::size_t batch_train_bytes(const LstmSpec& spec, std::size_t batch) {
  return validate_spec(spec) == Status::kOk && batch > 0 ? detail::plan_batch(spec, batch).total_floats * sizeof(float) : 0;
}

class BatchTrainer {
 public:
  // Binds to `network` (bound for training; it must outlive the trainer) and an arena of
  // batch_train_bytes(network.spec(), batch) bytes on a kBatchAlignment boundary.
  Status bind(Network& network, std::size_t batch, Span<std::uint8_t> arena) {
    if (!network.bound_for_training() || network.parameters().empty()) return Status::kNotBound;
    if (batch == 0) return Status::kInvalidArgument;
    const detail::BatchPlan plan = detail::plan_batch(network.spec(), batch);
    if (arena.data() == nullptr || arena.size() < plan.total_floats * sizeof(float)) return Status::kBufferTooSmall;
    if (reinterpret_cast<std::uintptr_t>(arena.data()) % kBatchAlignment != 0) return Status::kMisalignedBuffer;
    network_ = &network;
    batch_ = batch;
    plan_ = plan;
    base_ = reinterpret_cast<float*>(arena.data());
    transpose_weights();
    return Status::kOk;
  }

  bool bound() const { return network_ != nullptr; }
  std::size_t batch() const { return batch_; }

  // Forward and BPTT over `count` windows (x: count * window * input_size values, window after
  // window; targets: count * output_steps * output_size), each from a zero state; gradients()
  // receives the sum of the windows' gradients and *loss the mean of their losses. The network is
  // not changed. count = x.size() / (window * input_size) must be 1..batch().
  Status compute_gradients(Span<const float> x, Span<const float> targets, float* loss) {
    return compute_with(x, targets, loss);
  }
  Status compute_gradients(Span<const float> x, Span<const std::uint16_t> labels, float* loss) {
    return compute_with(x, labels, loss);
  }

  // The summed gradient of the last compute_gradients, in Network::parameters() order.
  Span<const float> gradients() const {
    return bound() ? Span<const float>(at(plan_.gradients), parameter_count(network_->spec())) : Span<const float>();
  }

  // compute_gradients, then the network's optimizer step with the summed gradient
  // (Network::apply_gradients: clipping, the guard). On any status but kOk nothing changed.
  TrainResult train_step(Span<const float> x, Span<const float> targets) { return train_with(x, targets); }
  TrainResult train_step(Span<const float> x, Span<const std::uint16_t> labels) { return train_with(x, labels); }

  // After the network's parameters changed by other means (another trainer, a file), before the
  // next step: copies them again into the transposed layout the forward pass reads.
  void parameters_changed() {
    if (bound()) transpose_weights();
  }

 private:
  float* at(std::size_t offset) const { return base_ + offset; }

  template <typename Targets>
  TrainResult train_with(Span<const float> x, Span<const Targets> targets) {
    TrainResult result;
    float loss = 0;
    result.status = compute_with(x, targets, &loss);
    result.loss = loss;
    if (result.status != Status::kOk) return result;
    result.status = network_->apply_gradients(gradients(), &result.gradient_norm);
    if (result.status == Status::kOk) transpose_weights();
    return result;
  }

  template <typename Targets>
  Status compute_with(Span<const float> x, Span<const Targets> targets, float* loss) {
    if (!bound()) return Status::kNotBound;
    const LstmSpec& spec = network_->spec();
    const std::size_t window_values = spec.window * spec.input_size;
    if (x.empty() || x.size() % window_values != 0) return Status::kInvalidArgument;
    const std::size_t count = x.size() / window_values;
    if (count > batch_) return Status::kInvalidArgument;
    const std::size_t per_window = spec.task == Task::kRegression ? spec.output_steps() * spec.output_size : spec.output_steps();
    if (targets.size() != count * per_window) return Status::kInvalidArgument;
    if (!all_finite(x.data(), x.size())) return Status::kNonFinite;
    if constexpr (std::is_same_v<Targets, float>) {
      if (spec.task != Task::kRegression) return Status::kInvalidArgument;
      if (!all_finite(targets.data(), targets.size())) return Status::kNonFinite;
    } else {
      if (spec.task != Task::kClassification) return Status::kInvalidArgument;
      for (std::uint16_t label : targets) {
        if (label >= spec.output_size) return Status::kLabelOutOfRange;
      }
    }
    forward(x.data(), count);
    float sum = 0;
    for (std::size_t b = 0; b < count; ++b) sum += window_loss(b, targets.data() + b * per_window);
    *loss = sum / static_cast<float>(count);
    if (!Math<float>::is_finite(*loss)) return Status::kNonFinite;
    backward(count);
    return Status::kOk;
  }

  // Copies the parameters of every layer into what the forward products read: [W_ih | W_hh]
  // transposed, and b_ih + b_hh, the gates' starting value.
  void transpose_weights() {
    const LstmSpec& spec = network_->spec();
    const float* p = network_->parameters().data();
    for (std::size_t l = 0; l < spec.num_layers; ++l) {
      const detail::BatchPlan::Layer& layer = plan_.layers[l];
      const std::size_t in = spec.layer_input(l), hidden = spec.hidden(l), rows = 4 * hidden;
      float* t = at(layer.weights_t);
      const float* w_ih = p;
      const float* w_hh = p + rows * in;
      const float* bias_ih = w_hh + rows * hidden;
      const float* bias_hh = bias_ih + rows;
      transpose(w_ih, in, rows, in, t, rows);
      transpose(w_hh, hidden, rows, hidden, t + in * rows, rows);
      float* bias_sum = at(layer.bias_sum);
      for (std::size_t r = 0; r < rows; ++r) bias_sum[r] = bias_ih[r] + bias_hh[r];
      p += lstm_layer_parameter_count(in, hidden);
    }
  }

  void forward(const float* x, std::size_t count) {
    const LstmSpec& spec = network_->spec();
    const std::size_t steps = spec.window;
    const float* p = network_->parameters().data();
    for (std::size_t l = 0; l < spec.num_layers; ++l) {
      const detail::BatchPlan::Layer& cache = plan_.layers[l];
      const std::size_t in = spec.layer_input(l), hidden = spec.hidden(l), rows = 4 * hidden, cols = in + hidden;
      const std::size_t stride = 1 + cols;  // a row of inputs: [1 | x_t | h_{t-1}]
      const std::size_t below_in = l == 0 ? 0 : spec.layer_input(l - 1);
      float* inputs = at(cache.inputs);
      float* c = at(cache.c);
      for (std::size_t b = 0; b < count; ++b) {
        fill(inputs + b * stride + 1 + in, hidden, 0.0f);  // h_{-1} = 0
        fill(c + b * hidden, hidden, 0.0f);                // c_{-1} = 0
      }
      for (std::size_t t = 0; t < steps; ++t) {
        float* a_t = inputs + t * batch_ * stride;
        // The layer input of step t: the windows' x_t, or h_t of the layer below; before it the 1
        // whose column of the weight-gradient product is the bias gradient.
        for (std::size_t b = 0; b < count; ++b) {
          const float* source = l == 0 ? x + (b * steps + t) * in
                                       : at(plan_.layers[l - 1].inputs) + ((t + 1) * batch_ + b) * (1 + below_in + in) + 1 +
                                             below_in;
          a_t[b * stride] = 1.0f;
          copy(source, in, a_t + b * stride + 1);
        }
        float* z = at(cache.gates) + t * batch_ * rows;
        // z = b_ih + b_hh + [x_t | h_{t-1}] [W_ih | W_hh]^T, the biases as the sums' starting value;
        // h_{-1} = 0: the first step's product needs only the input columns.
        gemm(GemmOperand{a_t + 1, stride, false}, count, at(cache.weights_t), rows, t == 0 ? in : cols, rows, z, rows, false,
             at(cache.bias_sum));
        cell_finish(hidden, count, z, c + t * batch_ * hidden, c + (t + 1) * batch_ * hidden,
                    at(cache.tanh_c) + t * batch_ * hidden, a_t + batch_ * stride + 1 + in, stride);
      }
      p += lstm_layer_parameter_count(in, hidden);
    }
    // The head on the top layer's h at each output step.
    const std::size_t top = spec.num_layers - 1, top_hidden = spec.top_hidden(), out = spec.output_size;
    const std::size_t top_stride = 1 + spec.layer_input(top) + top_hidden, first = steps - spec.output_steps();
    const float* head = p;
    for (std::size_t b = 0; b < count; ++b) {
      for (std::size_t s = 0; s < spec.output_steps(); ++s) {
        float* y = at(plan_.outputs) + (b * spec.output_steps() + s) * out;
        copy(head + out * top_hidden, out, y);
        const float* h = at(plan_.layers[top].inputs) + ((first + s + 1) * batch_ + b) * top_stride + 1 + spec.layer_input(top);
        matvec_accumulate(head, out, top_hidden, h, y);
      }
    }
  }

  // The loss of window b, as Network::compute_loss computes it, and dLoss/doutputs.
  float window_loss(std::size_t b, const float* targets) {
    const LstmSpec& spec = network_->spec();
    const std::size_t n = spec.output_steps() * spec.output_size;
    const float* y = at(plan_.outputs) + b * n;
    float* dy = at(plan_.output_grad) + b * n;
    const TrainConfig& config = network_->train_config();
    return config.loss == LossKind::kHuber ? huber_loss(y, targets, n, config.huber_delta, dy) : mse_loss(y, targets, n, dy);
  }
  float window_loss(std::size_t b, const std::uint16_t* labels) {
    const LstmSpec& spec = network_->spec();
    const std::size_t rows = spec.output_steps(), classes = spec.output_size;
    const float scale = 1.0f / static_cast<float>(rows);
    float sum = 0;
    for (std::size_t s = 0; s < rows; ++s) {
      const std::size_t k = (b * rows + s) * classes;
      sum += softmax_cross_entropy(at(plan_.outputs) + k, classes, labels[s], scale, at(plan_.output_grad) + k);
    }
    return sum * scale;
  }

  void backward(std::size_t count) {
    const LstmSpec& spec = network_->spec();
    const std::size_t steps = spec.window, out = spec.output_size, top = spec.num_layers - 1;
    const std::size_t top_hidden = spec.top_hidden(), output_steps = spec.output_steps(), first = steps - output_steps;
    const std::size_t top_stride = 1 + spec.layer_input(top) + top_hidden;
    float* gradients = at(plan_.gradients);
    const float* parameters = network_->parameters().data();
    std::size_t offset = 0;
    std::size_t layer_offsets[kMaxLayers] = {};
    for (std::size_t l = 0; l < spec.num_layers; ++l) {
      layer_offsets[l] = offset;
      offset += lstm_layer_parameter_count(spec.layer_input(l), spec.hidden(l));
    }
    // Head: dW = sum dy h^T, db = sum dy, dh_t = W^T dy at the output steps.
    const float* head = parameters + offset;
    float* head_grad = gradients + offset;
    fill(head_grad, out * top_hidden + out, 0.0f);
    float* dh_top = at(plan_.layers[top].dh_above);
    fill(dh_top, steps * batch_ * top_hidden, 0.0f);
    for (std::size_t b = 0; b < count; ++b) {
      for (std::size_t s = 0; s < output_steps; ++s) {
        const float* dy = at(plan_.output_grad) + (b * output_steps + s) * out;
        const float* h = at(plan_.layers[top].inputs) + ((first + s + 1) * batch_ + b) * top_stride + 1 + spec.layer_input(top);
        for (std::size_t o = 0; o < out; ++o) {
          for (std::size_t k = 0; k < top_hidden; ++k) head_grad[o * top_hidden + k] += dy[o] * h[k];
          head_grad[out * top_hidden + o] += dy[o];
        }
        matvec_transposed_accumulate(head, out, top_hidden, dy, dh_top + ((first + s) * batch_ + b) * top_hidden);
      }
    }
    for (std::size_t l = spec.num_layers; l-- > 0;) {
      const detail::BatchPlan::Layer& cache = plan_.layers[l];
      const std::size_t in = spec.layer_input(l), hidden = spec.hidden(l), rows = 4 * hidden, cols = in + hidden;
      const std::size_t stride = 1 + cols;
      const float* w_ih = parameters + layer_offsets[l];
      const float* w_hh = w_ih + rows * in;
      float* dh_next = at(plan_.dh_next);
      float* dc_next = at(plan_.dc_next);
      fill(dh_next, batch_ * hidden, 0.0f);
      fill(dc_next, batch_ * hidden, 0.0f);
      float* below = l > 0 ? at(plan_.layers[l - 1].dh_above) : nullptr;
      if (below != nullptr) fill(below, steps * batch_ * in, 0.0f);
      for (std::size_t t = steps; t-- > 0;) {
        float* dz = at(cache.gates) + t * batch_ * rows;
#if EDGELSTM_HAVE_AVX2_FMA
        detail::lstm_cell_backward_batch_lanes<detail::BestLanes>(hidden, count, at(cache.dh_above) + t * batch_ * hidden,
                                                                  dh_next, dc_next, dz, rows, at(cache.c) + t * batch_ * hidden,
                                                                  at(cache.tanh_c) + t * batch_ * hidden);
#else
        for (std::size_t b = 0; b < count; ++b) {
          float* dh = at(cache.dh_above) + (t * batch_ + b) * hidden;
          for (std::size_t j = 0; j < hidden; ++j) dh[j] += dh_next[b * hidden + j];
          lstm_cell_backward(hidden, dh, dc_next + b * hidden, dz + b * rows, at(cache.c) + (t * batch_ + b) * hidden,
                             at(cache.tanh_c) + (t * batch_ + b) * hidden);
        }
#endif
        // dh_{t-1} = dz W_hh for every window at once (not at t = 0: the windows start from a
        // zero state, whose gradient nothing reads); below: dx_t = dz W_ih.
        if (t > 0) dz_times_w_hh(dz, count, w_hh, at(cache.weights_t) + in * rows, hidden, dh_next);
        if (below != nullptr) gemm(GemmOperand{dz, rows, false}, count, w_ih, in, rows, in, below + t * batch_ * in, in, false);
      }
      // Weight gradients over every window and step: [db | dW]^T = [1 | inputs]^T dz, then dW
      // written out row-major; db_ih = db_hh, the column sums of dz, come out of the product as the
      // first row (each sums over the depth in order: 1 dz is dz exactly). The rows of W_hh skip
      // step 0 (h_{-1} = 0). With a full batch the steps' rows lie back to back: one product of
      // depth steps * batch for the bias and input rows and one of (steps - 1) * batch for the
      // recurrent rows, so each sum stays in registers over every step instead of going through
      // memory once per step.
      float* grad = gradients + layer_offsets[l];
      float* grad_t = at(cache.weight_grad_t);
      const float* inputs = at(cache.inputs);
      const float* dz_all = at(cache.gates);
      if (count == batch_) {
        gemm(GemmOperand{inputs, stride, true}, 1 + in, dz_all, rows, steps * count, rows, grad_t, rows, false);
        gemm(GemmOperand{inputs + count * stride + 1 + in, stride, true}, hidden, dz_all + count * rows, rows,
             (steps - 1) * count, rows, grad_t + (1 + in) * rows, rows, false);
      } else {
        fill(grad_t, stride * rows, 0.0f);
        for (std::size_t t = 0; t < steps; ++t) {
          gemm(GemmOperand{inputs + t * batch_ * stride, stride, true}, t == 0 ? 1 + in : stride, dz_all + t * batch_ * rows,
               rows, count, rows, grad_t, rows, true);
        }
      }
      float* grad_hh = grad + rows * in;
      transpose(grad_t + rows, rows, in, rows, grad, in);
      transpose(grad_t + (1 + in) * rows, rows, hidden, rows, grad_hh, hidden);
      float* grad_bias_ih = grad_hh + rows * hidden;
      float* grad_bias_hh = grad_bias_ih + rows;
      copy(grad_t, rows, grad_bias_ih);
      copy(grad_bias_ih, rows, grad_bias_hh);
    }
  }

  // The cell update of `count` windows: lstm_cell_finish of each (gates 4H apart; c_prev, c_out and
  // tanh_c_out H apart; h_out, the h part of the next step's inputs, h_stride apart). With AVX-512
  // the units left over a multiple of 16 go several windows to a vector.
  static void cell_finish(std::size_t hidden, std::size_t count, float* gates, const float* c_prev, float* c_out,
                          float* tanh_c_out, float* h_out, std::size_t h_stride) {
    const std::size_t rows = 4 * hidden;
#if EDGELSTM_HAVE_AVX512F
    const std::size_t whole = hidden / 16 * 16;
    if (hidden - whole <= 8) {
      for (std::size_t b = 0; b < count; ++b) {
        detail::lstm_cell_finish_lanes<detail::Avx512Lanes>(hidden, gates + b * rows, c_prev + b * hidden, c_out + b * hidden,
                                                            tanh_c_out + b * hidden, h_out + b * h_stride, whole);
      }
      detail::lstm_cell_finish_leftovers_avx512(hidden, count, gates, rows, c_prev, c_out, tanh_c_out, h_out, h_stride);
      return;
    }
#endif
    for (std::size_t b = 0; b < count; ++b) {
      lstm_cell_finish(hidden, gates + b * rows, c_prev + b * hidden, c_out + b * hidden, tanh_c_out + b * hidden,
                       h_out + b * h_stride);
    }
  }

  // dh = dz W_hh for `count` windows (dz: count x 4H, W_hh: 4H x H, dh: count x H). With AVX-512,
  // when H leaves a few units over a multiple of 16 (H = 100: 96 + 4), those units' columns are
  // dot products of dz's rows with the columns of W_hh, which the transposed copy (w_hh_t: H x 4H)
  // holds as rows: the products' kernel would spend a whole vector on them.
  static void dz_times_w_hh(const float* dz, std::size_t count, const float* w_hh, const float* w_hh_t, std::size_t hidden,
                            float* dh) {
    const std::size_t rows = 4 * hidden, full = EDGELSTM_HAVE_AVX512F ? hidden / 16 * 16 : hidden;
    if (full == hidden || full == 0 || hidden - full > 8) {
      gemm(GemmOperand{dz, rows, false}, count, w_hh, hidden, rows, hidden, dh, hidden, false);
      return;
    }
    gemm(GemmOperand{dz, rows, false}, count, w_hh, hidden, rows, full, dh, hidden, false);
    gemm_dots(dz, rows, count, w_hh_t + full * rows, rows, hidden - full, rows, dh + full, hidden);
  }

  Network* network_ = nullptr;
  std::size_t batch_ = 0;
  detail::BatchPlan plan_{};
  float* base_ = nullptr;
};

}  // namespace edgelstm
