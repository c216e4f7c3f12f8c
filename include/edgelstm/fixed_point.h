// Fixed-point arithmetic of the full-integer path (integer_network.h): rounding shifts, the
// requantizing multiply, and table sigmoid/tanh. Every function is pure integer arithmetic with
// one defined result, so the host and every target compute the same bits (tested against an
// independent reference, tests/parity/integer_reference.py).
//
// Formats: gate pre-activations are Q.12 in an int32 (value = z / 2^12); gate outputs, hidden
// state and tanh(c) are Q15 in an int16 (value = q / 2^15, |q| <= 32767).
//
// Right shifts of negative values are arithmetic (floor), as GCC and Clang define them on every
// target edgelstm supports (and as C++20 requires).
#pragma once

#include <cstdint>

#include "fixed_point_tables.h"
#include "simd.h"

namespace edgelstm {

inline constexpr int kGateFractionBits = 12;  // pre-activations: Q.12
inline constexpr int kStateFractionBits = 15;  // gates, h, tanh(c): Q15
inline constexpr std::int32_t kQ15Max = 32767;

// round(x / 2^shift), halves rounded up (towards +inf); shift >= 1. (x + 2^(shift-1) must not
// overflow: every caller's x is below 2^30.)
constexpr std::int32_t rounding_shift_right(std::int32_t x, int shift) {
  return (x + (std::int32_t{1} << (shift - 1))) >> shift;
}

// round(acc * multiplier / 2^shift): an integer sum times a real factor M = multiplier / 2^shift,
// with multiplier in [2^30, 2^31) and shift in [1, 62] (see quantize_multiplier). The product is
// exact in 64 bits.
constexpr std::int32_t requantize(std::int32_t acc, std::int32_t multiplier, int shift) {
  return static_cast<std::int32_t>(
      (static_cast<std::int64_t>(acc) * multiplier + (std::int64_t{1} << (shift - 1))) >> shift);
}

// The gate rows' cheaper form, for factors M < 1/4 (multiplier in [0, 2^31), shift in [33, 62]):
// the high word of the product rounded (one SMMULR on the Cortex-M4), then a rounding shift by
// shift - 32. Two roundings, so it can differ from requantize by one; |result| <= 2^29.
inline std::int32_t requantize_gate(std::int32_t acc, std::int32_t multiplier, int shift) {
#if EDGELSTM_HAVE_ARMV7EM_DSP
  std::int32_t high;
  __asm__("smmulr %0, %1, %2" : "=r"(high) : "r"(acc), "r"(multiplier));
#else
  const auto high = static_cast<std::int32_t>((static_cast<std::int64_t>(acc) * multiplier + (std::int64_t{1} << 31)) >> 32);
#endif
  return rounding_shift_right(high, shift - 32);
}
inline constexpr int kMinGateShift = 33;

constexpr std::int16_t saturate_q15(std::int32_t x) {
  return static_cast<std::int16_t>(x > kQ15Max ? kQ15Max : x < -kQ15Max ? -kQ15Max : x);
}

namespace detail {
// clamp(u, 0, 2^bits - 1): one USAT on ARMv7E-M (GCC does not find it for the two compares).
template <int kBits>
inline std::int32_t clamp_unsigned(std::int32_t u) {
#if EDGELSTM_HAVE_ARMV7EM_DSP
  std::int32_t r;
  __asm__("usat %0, %1, %2" : "=r"(r) : "i"(kBits), "r"(u));
  return r;
#else
  constexpr std::int32_t kMax = (std::int32_t{1} << kBits) - 1;
  return u < 0 ? 0 : u > kMax ? kMax : u;
#endif
}
}  // namespace detail

// sigmoid(z / 2^12) in Q15: table over [-8, 8], step 1/16, linear interpolation.
inline std::int16_t sigmoid_q15(std::int32_t z) {
  const std::int32_t u = detail::clamp_unsigned<16>(z + 32768);
  const std::int32_t index = u >> 8, fraction = u & 255;
  const std::int32_t a = detail::kSigmoidQ15[index], b = detail::kSigmoidQ15[index + 1];
  return static_cast<std::int16_t>(a + (((b - a) * fraction + 128) >> 8));
}

// tanh(z / 2^12) in Q15: table over [-4, 4], step 1/32, linear interpolation.
inline std::int16_t tanh_q15(std::int32_t z) {
  const std::int32_t u = detail::clamp_unsigned<15>(z + 16384);
  const std::int32_t index = u >> 7, fraction = u & 127;
  const std::int32_t a = detail::kTanhQ15[index], b = detail::kTanhQ15[index + 1];
  return static_cast<std::int16_t>(a + (((b - a) * fraction + 64) >> 7));
}

// A Q.`fraction_bits` value converted to Q.12 (exact when fraction_bits <= 12, rounded otherwise).
constexpr std::int32_t to_gate_format(std::int32_t x, int fraction_bits) {
  return fraction_bits > kGateFractionBits ? rounding_shift_right(x, fraction_bits - kGateFractionBits)
                                           : x * (std::int32_t{1} << (kGateFractionBits - fraction_bits));
}

}  // namespace edgelstm
