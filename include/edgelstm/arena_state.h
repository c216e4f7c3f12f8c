// The recurrent-state accessors of the host inference networks that keep each layer's float h and
// c in their own arena (PackedNetwork, PackedInt8Network), their forward over a window and their
// dense head, written once. A CRTP base: no virtual calls, no extra data; every accessor compiles
// to what each class wrote by hand.
//
// Derived provides bound(), spec(), step(x, y), and float* state_h(layer) / state_c(layer) (which
// may be private: Derived then names ArenaLstmState<Derived> a friend).
#pragma once

#include <cstddef>

#include "activations.h"
#include "kernels.h"
#include "span.h"
#include "spec.h"
#include "status.h"
#include "window.h"

namespace edgelstm {
namespace detail {

template <typename Derived>
class ArenaLstmState {
 public:
  // h = c = 0 in every layer.
  void reset_state() {
    if (!self().bound()) return;
    for (std::size_t layer = 0; layer < self().spec().num_layers; ++layer) {
      fill(self().state_h(layer), self().spec().hidden(layer), 0.0f);
      fill(self().state_c(layer), self().spec().hidden(layer), 0.0f);
    }
  }
  // h and c of `layer`; empty for a layer the spec does not have (or an unbound network).
  Span<const float> hidden_state(std::size_t layer) const {
    return has_layer(layer) ? Span<const float>(self().state_h(layer), self().spec().hidden(layer)) : Span<const float>();
  }
  Span<const float> cell_state(std::size_t layer) const {
    return has_layer(layer) ? Span<const float>(self().state_c(layer), self().spec().hidden(layer)) : Span<const float>();
  }
  // Sets h and c of `layer` (e.g. to a float network's, to continue its stream).
  Status set_state(std::size_t layer, Span<const float> h, Span<const float> c) {
    if (!self().bound()) return Status::kNotBound;
    if (!has_layer(layer)) return Status::kInvalidArgument;
    const std::size_t hidden = self().spec().hidden(layer);
    if (h.size() != hidden || c.size() != hidden) return Status::kInvalidArgument;
    copy(h.data(), h.size(), self().state_h(layer));
    copy(c.data(), c.size(), self().state_c(layer));
    return Status::kOk;
  }

  // A whole window (x holds steps * input_size values), as Network::forward: y receives the last
  // step's output, or every step's for OutputMode::kEveryStep.
  Status forward(Span<const float> x, Span<float> y) {
    if (!self().bound()) return Status::kNotBound;
    return forward_window(self().spec(), x, y, [this](Span<const float> x_t, Span<float> y_t) { return self().step(x_t, y_t); });
  }

 protected:
  // A step's arguments: kNotBound, kInvalidArgument for sizes other than the spec's, kNonFinite
  // for a NaN or Inf input (refused before it reaches the state), else kOk.
  Status check_step(Span<const float> x, Span<float> y) const {
    if (!self().bound()) return Status::kNotBound;
    if (x.size() != self().spec().input_size || y.size() != self().spec().output_size) return Status::kInvalidArgument;
    return all_finite(x.data(), x.size()) ? Status::kOk : Status::kNonFinite;
  }
  // y = bias + W h_top of the dense head stored as O x H_top weights, then O biases.
  static void dense_head(const float* head, std::size_t out, std::size_t top, const float* h_top, float* y) {
    copy(head + out * top, out, y);
    matvec_accumulate(head, out, top, h_top, y);
  }
  bool has_layer(std::size_t layer) const {
    return self().bound() && layer < self().spec().num_layers && layer < kMaxLayers;
  }

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
  const Derived& self() const { return static_cast<const Derived&>(*this); }
};

}  // namespace detail
}  // namespace edgelstm
