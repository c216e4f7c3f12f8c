// Optimizers with static state: SGD, SGD with momentum and Adam, following torch.optim exactly
// (weight decay is the L2 form added to the gradient, momentum without dampening, Adam with bias
// correction as in torch 1.13), plus the global gradient-norm clipping of
// torch.nn.utils.clip_grad_norm_.
#pragma once

#include <cstddef>
#include <cstdint>

#include "edgelstm/activations.h"
#include "edgelstm/loss.h"
#include "edgelstm/memory_plan.h"

namespace edgelstm {

struct TrainConfig {
  OptimizerKind optimizer = OptimizerKind::kSgd;
  LossKind loss = LossKind::kMse;
  float learning_rate = 0.01f;
  float momentum = 0.9f;       // kMomentum only, in [0, 1)
  float beta1 = 0.9f;          // kAdam only, in [0, 1)
  float beta2 = 0.999f;        // kAdam only, in [0, 1)
  float epsilon = 1e-8f;       // kAdam only, > 0
  float weight_decay = 0.0f;   // L2 penalty added to the gradient, >= 0
  float clip_norm = 0.0f;      // global gradient-norm limit; 0 disables clipping
  float huber_delta = 1.0f;    // kHuber only, > 0
};

// kOk when every field is in range (finite, and within the limits noted above).
inline Status validate_train_config(const TrainConfig& config) {
  const auto finite = [](float value) { return Math<float>::is_finite(value); };
  const auto unit_interval = [&](float value) { return finite(value) && value >= 0.0f && value < 1.0f; };
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

// The L2 norm of a gradient vector. Overflow gives +Inf, which the caller treats as non-finite.
template <typename T>
inline T gradient_norm(const T* gradients, std::size_t count) {
  T sum = 0;
  for (std::size_t k = 0; k < count; ++k) sum += gradients[k] * gradients[k];
  return Math<T>::sqrt(sum);
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
// bias correction; the caller keeps them as running products so an update costs O(count)).
// With kCommit = false nothing is written: the call only reports whether every updated value
// (parameter and optimizer state) would be finite. The network runs it before the committing call,
// so an update that would overflow is refused and leaves no trace.
template <bool kCommit, typename T>
inline bool optimizer_update(const TrainConfig& config, T grad_scale, T beta1_power, T beta2_power,
                             std::size_t count, const T* gradients, T* state, T* parameters) {
  const T lr = static_cast<T>(config.learning_rate);
  const T decay = static_cast<T>(config.weight_decay);
  bool finite = true;
  switch (config.optimizer) {
    case OptimizerKind::kSgd:
      for (std::size_t k = 0; k < count; ++k) {
        const T g = grad_scale * gradients[k] + decay * parameters[k];
        const T updated = parameters[k] - lr * g;
        finite = finite && Math<T>::is_finite(updated);
        if (kCommit) parameters[k] = updated;
      }
      break;
    case OptimizerKind::kMomentum: {
      const T mu = static_cast<T>(config.momentum);
      for (std::size_t k = 0; k < count; ++k) {
        const T g = grad_scale * gradients[k] + decay * parameters[k];
        // torch initialises the buffer to the first gradient: buf = mu * 0 + g is the same.
        const T velocity = mu * state[k] + g;
        const T updated = parameters[k] - lr * velocity;
        finite = finite && Math<T>::is_finite(updated) && Math<T>::is_finite(velocity);
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
      const T step_size = lr / (T(1) - beta1_power);
      const T correction2_sqrt = Math<T>::sqrt(T(1) - beta2_power);
      const T eps = static_cast<T>(config.epsilon);
      T* m = state;
      T* v = state + count;
      for (std::size_t k = 0; k < count; ++k) {
        const T g = grad_scale * gradients[k] + decay * parameters[k];
        const T m_new = beta1 * m[k] + (T(1) - beta1) * g;
        const T v_new = beta2 * v[k] + (T(1) - beta2) * g * g;
        const T denominator = Math<T>::sqrt(v_new) / correction2_sqrt + eps;
        const T updated = parameters[k] - step_size * m_new / denominator;
        finite = finite && Math<T>::is_finite(updated) && Math<T>::is_finite(v_new);
        if (kCommit) {
          m[k] = m_new;
          v[k] = v_new;
          parameters[k] = updated;
        }
      }
      break;
    }
  }
  return finite;
}

}  // namespace edgelstm
