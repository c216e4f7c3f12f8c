// Loss functions with their gradients, matching torch.nn.MSELoss, torch.nn.HuberLoss and
// torch.nn.CrossEntropyLoss with reduction='mean'.
#pragma once

#include <cstddef>
#include <cstdint>

#include "activations.h"
#include "simd.h"
#include "span.h"
#include "status.h"

// A product kept rounded before it is added to a sum. GCC fuses `sum += a * b` into one
// multiply-add wherever it can, and where it can depends on the call site: a loop it vectorizes in
// part fuses only its scalar tail. So on x86 hosts with FMA the same loss of the same outputs came
// out an ulp apart at two call sites (a distributed split's head node and the reference of
// tests/distributed_reference_test.cpp). __builtin_assoc_barrier exists from GCC 12 (Debian 12's)
// on; clang fuses only within one expression, the same at every call site. Microcontroller builds,
// whose instruction counts are measured and pinned, keep the compiler's choice.
#if EDGELSTM_HAVE_AVX2_FMA && defined(__has_builtin)
#if __has_builtin(__builtin_assoc_barrier)
#define EDGELSTM_ROUNDED_PRODUCT(x) __builtin_assoc_barrier(x)
#endif
#endif
#ifndef EDGELSTM_ROUNDED_PRODUCT
#define EDGELSTM_ROUNDED_PRODUCT(x) (x)
#endif

namespace edgelstm {

enum class LossKind : std::uint8_t {
  kMse,           // mean of (y - target)^2
  kHuber,         // mean of 0.5 d^2 if |d| < delta, else delta (|d| - 0.5 delta)
  kCrossEntropy,  // mean over rows of -log softmax(logits)[label]
};

// Returns the mean squared error of n values; dy (may be null) receives dLoss/dy.
template <typename T>
inline T mse_loss(const T* y, const T* target, std::size_t n, T* dy) {
  T sum = 0;
  const T scale = T(2) / static_cast<T>(n);
  for (std::size_t k = 0; k < n; ++k) {
    const T d = y[k] - target[k];
    sum += EDGELSTM_ROUNDED_PRODUCT(d * d);
    if (dy != nullptr) dy[k] = scale * d;
  }
  return sum / static_cast<T>(n);
}

// Returns the mean Huber loss with threshold delta > 0; dy (may be null) receives dLoss/dy.
template <typename T>
inline T huber_loss(const T* y, const T* target, std::size_t n, T delta, T* dy) {
  T sum = 0;
  const T inverse_n = T(1) / static_cast<T>(n);
  for (std::size_t k = 0; k < n; ++k) {
    const T d = y[k] - target[k];
    const T magnitude = d < 0 ? -d : d;
    if (magnitude < delta) {
      sum += EDGELSTM_ROUNDED_PRODUCT(T(0.5) * d * d);
      if (dy != nullptr) dy[k] = d * inverse_n;
    } else {
      sum += EDGELSTM_ROUNDED_PRODUCT(delta * (magnitude - T(0.5) * delta));
      if (dy != nullptr) dy[k] = (d < 0 ? -delta : delta) * inverse_n;
    }
  }
  return sum * inverse_n;
}

// Softmax cross-entropy of one row of logits against `label`, computed stably as
// log(sum exp(z - max)) + max - z[label]. dlogits (may be null) receives
// scale * (softmax(z) - onehot(label)); pass scale = 1 / rows for a mean over rows.
template <typename T>
inline T softmax_cross_entropy(const T* logits, std::size_t classes, std::size_t label, T scale,
                               T* dlogits) {
  T largest = logits[0];
  for (std::size_t k = 1; k < classes; ++k) largest = logits[k] > largest ? logits[k] : largest;
  T sum = 0;
  for (std::size_t k = 0; k < classes; ++k) sum += Math<T>::exp(logits[k] - largest);
  if (dlogits != nullptr) {
    const T inverse_sum = T(1) / sum;
    for (std::size_t k = 0; k < classes; ++k) {
      const T probability = Math<T>::exp(logits[k] - largest) * inverse_sum;
      dlogits[k] = scale * (probability - (k == label ? T(1) : T(0)));
    }
  }
  return Math<T>::log(sum) + largest - logits[label];
}

// The mean regression loss of n outputs y against their targets (MSE or Huber), dy receiving
// dLoss/dy: kNonFinite for a non-finite target or loss. Network and the nodes of a partitioned
// network share it.
template <typename T>
inline Status regression_loss(LossKind kind, T huber_delta, const T* y, const T* targets, std::size_t n, T* dy,
                              T* loss) {
  if (!all_finite(targets, n)) return Status::kNonFinite;
  *loss = kind == LossKind::kHuber ? huber_loss(y, targets, n, huber_delta, dy) : mse_loss(y, targets, n, dy);
  return Math<T>::is_finite(*loss) ? Status::kOk : Status::kNonFinite;
}

// The mean softmax cross-entropy of `rows` rows of logits against class labels, dlogits receiving
// dLoss/dlogits: kInvalidArgument for a wrong number of labels, kLabelOutOfRange for a label >=
// classes, kNonFinite for a non-finite loss.
template <typename T>
inline Status classification_loss(const T* logits, std::size_t rows, std::size_t classes,
                                  Span<const std::uint16_t> labels, T* dlogits, T* loss) {
  if (labels.size() != rows) return Status::kInvalidArgument;
  for (std::uint16_t label : labels) {
    if (label >= classes) return Status::kLabelOutOfRange;
  }
  T sum = 0;
  const T scale = T(1) / static_cast<T>(rows);
  for (std::size_t s = 0; s < rows; ++s) {
    sum += softmax_cross_entropy(logits + s * classes, classes, labels[s], scale, dlogits + s * classes);
  }
  *loss = sum * scale;
  return Math<T>::is_finite(*loss) ? Status::kOk : Status::kNonFinite;
}

}  // namespace edgelstm
