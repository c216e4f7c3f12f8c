// The window loop every network type shares (Network, PackedNetwork, HybridNetwork,
// IntegerNetwork): a window of `steps` time steps run one step at a time on the carried state.
#pragma once

#include <cstddef>
#include <type_traits>

#include "activations.h"
#include "span.h"
#include "spec.h"
#include "status.h"

namespace edgelstm::detail {

// x holds steps * input_size values (step-major); y receives the head output of the last step
// (OutputMode::kLastStep: output_size values) or of every step (kEveryStep: steps * output_size).
// Wrong lengths are refused (kInvalidArgument), then a float window with a NaN or Inf anywhere
// (kNonFinite), both before the first step, so a refused window leaves the state as it was.
// `step(x_t, y_t)` runs one time step and returns its status.
template <typename In, typename Out, typename Step>
inline Status forward_window(const LstmSpec& spec, Span<const In> x, Span<Out> y, Step&& step) {
  const std::size_t in = spec.input_size, out = spec.output_size;
  if (x.empty() || x.size() % in != 0) return Status::kInvalidArgument;
  const std::size_t steps = x.size() / in;
  const bool every = spec.output_mode == OutputMode::kEveryStep;
  if (y.size() != (every ? steps * out : out)) return Status::kInvalidArgument;
  if constexpr (std::is_floating_point_v<In>) {
    if (!all_finite(x.data(), x.size())) return Status::kNonFinite;
  }
  for (std::size_t t = 0; t < steps; ++t) {
    EDGELSTM_TRY(step(x.subspan(t * in, in), Span<Out>(every ? y.data() + t * out : y.data(), out)));
  }
  return Status::kOk;
}

}  // namespace edgelstm::detail
