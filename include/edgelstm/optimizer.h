// Optimizers with static state: SGD, SGD with momentum and Adam, following torch.optim exactly
// (weight decay is the L2 form added to the gradient, momentum without dampening, Adam with bias
// correction as in torch 1.13), plus the global gradient-norm clipping of
// torch.nn.utils.clip_grad_norm_.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

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

namespace detail {

// The bits of a value, sign included.
inline std::uint32_t raw_bits(float x) {
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits;
}
inline std::uint64_t raw_bits(double x) {
  std::uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits;
}
// The magnitude bits of a value (its sign cleared), for magnitude bounds: the bits of non-negative
// floats order as integers do, so the OR of several values' magnitude bits, read back as a float,
// is at least the largest of them (and Inf or NaN when any of them is; see magnitude_bound_bits).
inline std::uint32_t magnitude_bits(float x) { return raw_bits(x) & 0x7FFFFFFFu; }
inline std::uint64_t magnitude_bits(double x) { return raw_bits(x) & 0x7FFFFFFFFFFFFFFFull; }
// The OR of the bits of count values (four at a time: an in-order core pays its loop once per
// four); the caller clears the sign bit once at the end. Each value is loaded as a T and its bits
// copied from there: a memcpy straight from the array is, to GCC, a copy from a pointer of unknown
// alignment, which RV32 builds did byte by byte (ten instructions a value instead of two).
template <typename T>
inline decltype(magnitude_bits(T())) or_of_bits(const T* x, std::size_t count) {
  using Bits = decltype(magnitude_bits(T()));
  Bits a = 0, b = 0, c = 0, d = 0;
  std::size_t k = 0;
  for (; k + 4 <= count; k += 4) {
    a |= raw_bits(x[k]);
    b |= raw_bits(x[k + 1]);
    c |= raw_bits(x[k + 2]);
    d |= raw_bits(x[k + 3]);
  }
  for (; k < count; ++k) a |= raw_bits(x[k]);
  return a | b | c | d;
}
// The largest magnitude bits of count values. As unsigned integers the magnitude bits order as the
// magnitudes do, Inf above every finite value and NaN above Inf: read back, the largest magnitude
// itself, Inf or NaN when any value is one.
template <typename T>
inline decltype(magnitude_bits(T())) max_magnitude_bits(const T* x, std::size_t count) {
  using Bits = decltype(magnitude_bits(T()));
  Bits a = 0, b = 0;
  std::size_t k = 0;
  for (; k + 2 <= count; k += 2) {
    const Bits w0 = magnitude_bits(x[k]), w1 = magnitude_bits(x[k + 1]);
    a = w0 > a ? w0 : a;
    b = w1 > b ? w1 : b;
  }
  if (k < count) {
    const Bits w = magnitude_bits(x[k]);
    a = w > a ? w : a;
  }
  return a > b ? a : b;
}
// Magnitude bits that bound count values (`or_bits`: the OR of all their bits, or_of_bits): the
// OR with its sign cleared, which as an integer is at least every value's magnitude bits, and so
// read back at least the largest magnitude. A microcontroller forms it with one instruction per
// value (a maximum takes three). Where the values' exponents OR to all ones or one below (1.5 and
// 2.5 give a NaN, 0.75 and 2.5 a bound above 2^127), that bound is beyond half the float range and
// would send every optimizer update through the guard's checking pass (update_is_surely_finite):
// then a second pass takes the exact largest (Inf or NaN only when a value is).
template <typename T>
inline decltype(magnitude_bits(T())) magnitude_bound_bits(const T* x, std::size_t count,
                                                          decltype(magnitude_bits(T())) or_bits) {
  using Bits = decltype(magnitude_bits(T()));
  const Bits exponent = magnitude_bits(std::numeric_limits<T>::infinity());
  const Bits lowest_exponent_bit = exponent & static_cast<Bits>(~exponent + 1);
  const Bits bits = or_bits & static_cast<Bits>(~Bits(0) >> 1);
  return (bits & exponent) >= exponent - lowest_exponent_bit ? max_magnitude_bits(x, count) : bits;
}
template <typename T>
inline T bound_from_bits(decltype(magnitude_bits(T())) bits) {
  T value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

// The sum of squares of the gradients, and (when `values` is not null) a bound of the magnitudes
// of `values` (see magnitude_bound_bits) into *bound, in the same pass. Overflow gives +Inf, which the
// caller treats as non-finite. The norm scales every clipped gradient, so its rounding error shows
// in the weights (Adam normalizes the gradient, and with weight decay a clipped gradient can nearly
// cancel the decay term). Hence a blocked sum: sixteen interleaved partial sums over blocks of 256
// values, each block reduced pairwise and added to a running total. Each value then passes through
// about 16 + count / 256 additions instead of count, and the inner loop vectorizes.
template <typename T>
inline T gradient_square_sum_and_bound(const T* gradients, const T* values, std::size_t count, T* bound) {
  constexpr std::size_t kLanes = 16;
  constexpr std::size_t kBlock = 256;
  T total = 0;
  decltype(magnitude_bits(T())) bits = 0;
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
    if (values != nullptr) bits |= or_of_bits(values + start, length);
  }
  if (values != nullptr) *bound = bound_from_bits<T>(magnitude_bound_bits(values, count, bits));
  return total;
}

}  // namespace detail

// The sum of squares of a gradient vector (gradient_norm's square before the root; a node of a
// partitioned network reports it so the global norm can be formed across nodes); see
// detail::gradient_square_sum_and_bound for the order of the sum.
template <typename T>
inline T gradient_square_sum(const T* gradients, std::size_t count) {
  return detail::gradient_square_sum_and_bound<T>(gradients, nullptr, count, nullptr);
}

// The L2 norm of a gradient vector.
template <typename T>
inline T gradient_norm(const T* gradients, std::size_t count) {
  return Math<T>::sqrt(gradient_square_sum(gradients, count));
}

// A bound of |x_k| over count values (0 for none): at least the largest magnitude (see
// detail::magnitude_bound_bits: the OR of the magnitudes' bits, or the largest itself where that
// OR says nothing); Inf or NaN only when a value is not finite.
template <typename T>
inline T magnitude_bound(const T* x, std::size_t count) {
  return detail::bound_from_bits<T>(detail::magnitude_bound_bits(x, count, detail::or_of_bits(x, count)));
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
      if (kCommit && grad_scale == T(1) && decay == T(0)) {
        // No clipping, no weight decay (TrainConfig's defaults): the same values as below, from
        // one multiply-add per parameter, four at a time.
        std::size_t k = 0;
        for (; k + 4 <= count; k += 4) {
          parameters[k] -= lr * gradients[k];
          parameters[k + 1] -= lr * gradients[k + 1];
          parameters[k + 2] -= lr * gradients[k + 2];
          parameters[k + 3] -= lr * gradients[k + 3];
        }
        for (; k < count; ++k) parameters[k] -= lr * gradients[k];
        break;
      }
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

// True when one optimizer update (optimizer_update's arithmetic, gradient = grad_scale * gradients)
// cannot produce a non-finite parameter or optimizer state, from bounds alone: `norm` the
// gradients' L2 norm (so every |g_k| <= norm), parameter_bound and state_bounds[0..1] bounds of
// the magnitudes of the parameters and of the optimizer state's slots (magnitude_bound). Every
// bound is carried in double with a factor 2 of room for the few float roundings of one update.
// Then the update needs no checking pass before it is committed; when this is false the caller
// checks every updated value (optimizer_update<false>) as before.
template <typename T>
inline bool update_is_surely_finite(const TrainConfig& config, T grad_scale, double beta1_power, T norm,
                                    T parameter_bound, const T* state_bounds) {
  const double limit = static_cast<double>(std::numeric_limits<T>::max()) / 2.0;
  const double g = 2.0 * static_cast<double>(norm), p = static_cast<double>(parameter_bound);
  const auto fits = [limit](double value) { return value < limit; };  // false for NaN and Inf
  if (!fits(g) || !fits(p)) return false;
  const double lr = config.learning_rate, decay = config.weight_decay;
  const double effective = static_cast<double>(grad_scale) * g + decay * p;  // |scaled g + decay p|
  switch (config.optimizer) {
    case OptimizerKind::kSgd:
      return fits(effective) && fits(p + lr * effective);
    case OptimizerKind::kMomentum: {
      const double velocity = config.momentum * static_cast<double>(state_bounds[0]) + effective;
      return fits(effective) && fits(velocity) && fits(p + lr * velocity);
    }
    case OptimizerKind::kAdam: {
      const double m = config.beta1 * static_cast<double>(state_bounds[0]) + (1.0 - config.beta1) * effective;
      const double v = config.beta2 * static_cast<double>(state_bounds[1]) + (1.0 - config.beta2) * effective * effective;
      const double step_size = lr / (1.0 - beta1_power);
      // |m / (sqrt(v) / c + eps)| <= |m| / eps.
      return fits(effective) && fits(effective * effective) && fits(m) && fits(v) &&
             fits(p + step_size * m / static_cast<double>(config.epsilon));
    }
  }
  return false;
}

}  // namespace edgelstm
