// Optimizers with static state: SGD, SGD with momentum and Adam, following torch.optim exactly
// (weight decay is the L2 form added to the gradient, momentum without dampening, Adam with bias
// correction as in torch 1.13), plus the global gradient-norm clipping of
// torch.nn.utils.clip_grad_norm_.
#pragma once

#include <cstddef>
#include <cstdint>

#include "activations.h"
#include "kernels.h"
#include "loss.h"
#include "memory_plan.h"

namespace edgelstm {

struct TrainConfig {
  OptimizerKind optimizer = OptimizerKind::kSgd;
  LossKind loss = LossKind::kMse;
  float learning_rate = 0.01f;
  float momentum = 0.9f;       // kMomentum only, in [0, 1)
  // Adam's betas are double: what matters numerically is 1 - beta, and 1 - 0.999f is 4.7e-5 away
  // from 0.001, enough to move weights visibly within a few steps. They enter the per-parameter
  // loop as floats (1 - beta computed in double first), so the cost on an FPU-less core is a few
  // scalar double operations per step, not per parameter.
  double beta1 = 0.9;          // kAdam only, in [0, 1)
  double beta2 = 0.999;        // kAdam only, in [0, 1)
  float epsilon = 1e-8f;       // kAdam only, > 0
  float weight_decay = 0.0f;   // L2 penalty added to the gradient, >= 0
  float clip_norm = 0.0f;      // global gradient-norm limit; 0 disables clipping
  float huber_delta = 1.0f;    // kHuber only, > 0
};

// kOk when every field is in range (finite, and within the limits noted above).
inline Status validate_train_config(const TrainConfig& config) {
  const auto finite = [](float value) { return Math<float>::is_finite(value); };
  const auto unit_interval = [](double value) { return value >= 0.0 && value < 1.0; };  // false for NaN
  if (!finite(config.learning_rate) || config.learning_rate <= 0.0f) return Status::kInvalidArgument;
  if (!unit_interval(config.momentum) || !unit_interval(config.beta1) ||
      !unit_interval(config.beta2)) {
    return Status::kInvalidArgument;
  }
  if (!finite(config.epsilon) || config.epsilon <= 0.0f) return Status::kInvalidArgument;
  if (!finite(config.weight_decay) || config.weight_decay < 0.0f) return Status::kInvalidArgument;
  if (!finite(config.clip_norm) || config.clip_norm < 0.0f) return Status::kInvalidArgument;
  if (!finite(config.huber_delta) || config.huber_delta <= 0.0f) return Status::kInvalidArgument;
  if (config.optimizer != OptimizerKind::kSgd && config.optimizer != OptimizerKind::kMomentum &&
      config.optimizer != OptimizerKind::kAdam) {
    return Status::kInvalidArgument;
  }
  return Status::kOk;
}

// The sum of squares of a gradient vector (gradient_norm's square before the root; a node of a
// partitioned network reports it so the global norm can be formed across nodes). Overflow gives
// +Inf, which the caller treats as non-finite.
// This norm scales every clipped gradient, so its rounding error shows in the weights (Adam
// normalizes the gradient, and with weight decay a clipped gradient can nearly cancel the decay
// term). Hence a blocked sum: sixteen interleaved partial sums over blocks of 256 values, each
// block reduced pairwise and added to a running total. Each value then passes through about
// 16 + count / 256 additions instead of count, and the inner loop vectorizes.
template <typename T>
inline T gradient_square_sum(const T* gradients, std::size_t count) {
  constexpr std::size_t kLanes = 16;
  constexpr std::size_t kBlock = 256;
  T total = 0;
  for (std::size_t start = 0; start < count; start += kBlock) {
    const std::size_t length = count - start < kBlock ? count - start : kBlock;
    const T* block = gradients + start;
    T lanes[kLanes] = {};
    const std::size_t blocked = length / kLanes * kLanes;
    for (std::size_t k = 0; k < blocked; k += kLanes) {
      for (std::size_t lane = 0; lane < kLanes; ++lane) lanes[lane] += block[k + lane] * block[k + lane];
    }
    for (std::size_t k = blocked; k < length; ++k) lanes[k - blocked] += block[k] * block[k];
    for (std::size_t width = kLanes / 2; width > 0; width /= 2) {
      for (std::size_t lane = 0; lane < width; ++lane) lanes[lane] += lanes[lane + width];
    }
    total += lanes[0];
  }
  return total;
}

// The L2 norm of a gradient vector (see gradient_square_sum for the order of the sum).
template <typename T>
inline T gradient_norm(const T* gradients, std::size_t count) {
  return Math<T>::sqrt(gradient_square_sum(gradients, count));
}

// The factor clip_grad_norm_ multiplies every gradient by: min(1, limit / (norm + 1e-6)).
template <typename T>
inline T clip_scale(T norm, T limit) {
  if (limit <= T(0)) return T(1);
  const T scale = limit / (norm + T(1e-6));
  return scale < T(1) ? scale : T(1);
}

// One optimizer update of `count` parameters with gradient g = grad_scale * gradients.
// `state` holds optimizer_state_slots(kind) * count values (velocity; or m then v for Adam);
// beta1_power and beta2_power are beta1^t and beta2^t for this update's 1-based number t (Adam's
// bias correction, in double as in torch; the caller keeps them as running products so an update
// costs O(count)).
// With kCommit = false nothing is written: the call only reports whether every updated value
// (parameter and optimizer state) would be finite. The network runs it before the committing call,
// so an update that would overflow is refused and leaves no trace.
template <bool kCommit, typename T>
inline bool optimizer_update(const TrainConfig& config, T grad_scale, double beta1_power, double beta2_power,
                             std::size_t count, const T* EDGELSTM_RESTRICT gradients,
                             T* EDGELSTM_RESTRICT state, T* EDGELSTM_RESTRICT parameters) {
  const T lr = static_cast<T>(config.learning_rate);
  const T decay = static_cast<T>(config.weight_decay);
  std::uint32_t any_bad = 0;  // OR of detail::non_finite_bit over every updated value
  switch (config.optimizer) {
    case OptimizerKind::kSgd:
      for (std::size_t k = 0; k < count; ++k) {
        const T g = grad_scale * gradients[k] + decay * parameters[k];
        const T updated = parameters[k] - lr * g;
        if (kCommit) {
          parameters[k] = updated;
        } else {
          any_bad |= detail::non_finite_bit(updated);
        }
      }
      break;
    case OptimizerKind::kMomentum: {
      const T mu = static_cast<T>(config.momentum);
      for (std::size_t k = 0; k < count; ++k) {
        const T g = grad_scale * gradients[k] + decay * parameters[k];
        // torch initialises the buffer to the first gradient: buf = mu * 0 + g is the same.
        const T velocity = mu * state[k] + g;
        const T updated = parameters[k] - lr * velocity;
        if (!kCommit) any_bad |= detail::non_finite_bit(updated) | detail::non_finite_bit(velocity);
        if (kCommit) {
          state[k] = velocity;
          parameters[k] = updated;
        }
      }
      break;
    }
    case OptimizerKind::kAdam: {
      const T beta1 = static_cast<T>(config.beta1);
      const T beta2 = static_cast<T>(config.beta2);
      const T one_minus_beta1 = static_cast<T>(1.0 - config.beta1);
      const T one_minus_beta2 = static_cast<T>(1.0 - config.beta2);
      const T step_size = static_cast<T>(static_cast<double>(config.learning_rate) / (1.0 - beta1_power));
      const T correction2_sqrt = static_cast<T>(Math<double>::sqrt(1.0 - beta2_power));
      const T eps = static_cast<T>(config.epsilon);
      T* m = state;
      T* v = state + count;
      for (std::size_t k = 0; k < count; ++k) {
        const T g = grad_scale * gradients[k] + decay * parameters[k];
        const T m_new = beta1 * m[k] + one_minus_beta1 * g;
        const T v_new = beta2 * v[k] + one_minus_beta2 * g * g;
        const T denominator = Math<T>::sqrt(v_new) / correction2_sqrt + eps;
        const T updated = parameters[k] - step_size * m_new / denominator;
        if (!kCommit) any_bad |= detail::non_finite_bit(updated) | detail::non_finite_bit(v_new);
        if (kCommit) {
          m[k] = m_new;
          v[k] = v_new;
          parameters[k] = updated;
        }
      }
      break;
    }
  }
  return any_bad == 0;
}

}  // namespace edgelstm
