// Activation maths as a policy type (as in RTNeural): Math<float> is a fast, vectorizable, branch-free
// implementation accurate to a few ulp; Math<double> uses the C library and serves as the
// high-precision reference in gradient checks. Layers call Math<T> and never libm directly, so an
// approximation can be swapped in without touching them.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

// The NaN/Inf guard needs IEEE semantics: with -ffinite-math-only (part of -ffast-math) the
// compiler may assume no value is ever NaN or Inf and delete every check.
#if defined(__FINITE_MATH_ONLY__) && __FINITE_MATH_ONLY__
#error "edgelstm must not be compiled with -ffinite-math-only / -ffast-math: its NaN/Inf guard would be optimized away"
#endif

#if defined(__GNUC__) || defined(__clang__)
#define EDGELSTM_UNLIKELY(condition) __builtin_expect(!!(condition), 0)
#else
#define EDGELSTM_UNLIKELY(condition) (condition)
#endif

namespace edgelstm {

namespace detail {

// 1 when x is Inf or NaN (all exponent bits set), else 0: an integer test, so that OR-reducing it
// over an array vectorizes (a floating-point reduction would not, without -ffast-math).
inline std::uint32_t non_finite_bit(float x) {
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return (bits & 0x7F800000u) == 0x7F800000u ? 1u : 0u;
}
inline std::uint32_t non_finite_bit(double x) {
  std::uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return (bits & 0x7FF0000000000000ull) == 0x7FF0000000000000ull ? 1u : 0u;
}

}  // namespace detail

// True when every one of `count` values is finite.
template <typename T>
inline bool all_finite(const T* values, std::size_t count) {
  std::uint32_t any_bad = 0;
  for (std::size_t k = 0; k < count; ++k) any_bad |= detail::non_finite_bit(values[k]);
  return any_bad == 0;
}

namespace detail {

inline float bits_to_float(std::uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

inline std::int32_t float_to_bits(float value) {
  std::int32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

}  // namespace detail

template <typename T>
struct Math;

namespace detail {

// Math<float>'s constants, one object: Math<float> passes a literal one (the compiler folds every
// member into the code), and a core that runs out of registers can pass one whose members it has
// placed in registers once before a loop (activations_rv32f.h), so that neither the compiler's
// constant reloads nor anything else changes what is computed.
struct FloatActivationConstants {
  float magic = 12582912.0f;  // 1.5 * 2^23
  float log2e = 1.44269504088896341f;
  float ln2_high = 0.693359375f;  // ln2 split in two so n * ln2_high is exact
  float ln2_low = -2.12194440e-4f;
  float exp_p0 = 1.9875691500e-4f, exp_p1 = 1.3981999507e-3f, exp_p2 = 8.3334519073e-3f;
  float exp_p3 = 4.1665795894e-2f, exp_p4 = 1.6666665459e-1f, exp_p5 = 5.0000001201e-1f;
  float one = 1.0f, two = 2.0f;
  float tanh_small = 0.4f;  // below: the odd Taylor polynomial
  float tanh_t0 = -1382.0f / 155925.0f, tanh_t1 = 62.0f / 2835.0f, tanh_t2 = 17.0f / 315.0f;
  float tanh_t3 = 2.0f / 15.0f, tanh_t4 = 1.0f / 3.0f;
  std::uint32_t lowest = 0x4B400000u - 125u, range = 125u + 126u;  // n in [-125, 126]
  std::uint32_t bias = 127u << 23;
};

// e^x, max error below 1 ulp (mean 0.4 ulp), for x in [-87, 88] (clamped outside; NaN
// propagates). x = n ln2 + r with |r| <= ln2/2; e^r by a degree-7 polynomial (Cephes expf
// coefficients); 2^n assembled directly in the exponent bits. The rounding of x/ln2 to n uses the
// 1.5*2^23 trick: the low bits of `shifted` hold n (its mantissa is 2^22 + n), so there is no
// call to floor/round, and the same bits tell whether x is in range (one integer compare, almost
// never true: an in-order core runs straight through with the constants in registers).
inline float exp_with(float x, const FloatActivationConstants& c) {
  float shifted = x * c.log2e + c.magic;
  if (EDGELSTM_UNLIKELY(static_cast<std::uint32_t>(float_to_bits(shifted)) - c.lowest > c.range)) {
    x = x < -87.0f ? -87.0f : x > 88.0f ? 88.0f : x;  // |x| > 86.9 or NaN (which stays NaN)
    shifted = x * c.log2e + c.magic;
  }
  const float n = shifted - c.magic;
  float r = x - n * c.ln2_high;
  r = r - n * c.ln2_low;
  float p = c.exp_p0;
  p = p * r + c.exp_p1;
  p = p * r + c.exp_p2;
  p = p * r + c.exp_p3;
  p = p * r + c.exp_p4;
  p = p * r + c.exp_p5;
  p = p * (r * r) + r + c.one;
  // 2^n: shifting n (the low bits of `shifted`) into the exponent field and adding the bias.
  const std::uint32_t bits = static_cast<std::uint32_t>(float_to_bits(shifted));
  return p * bits_to_float((bits << 23) + c.bias);
}

// 1 / (1 + e^-x): no cancellation anywhere, relative error a few ulp.
inline float sigmoid_with(float x, const FloatActivationConstants& c) { return c.one / (c.one + exp_with(-x, c)); }

// tanh without cancellation: an odd Taylor polynomial (to x^11, truncation < 1e-7 relative)
// below |x| = 0.4, and 1 - 2 / (e^{2|x|} + 1) with the sign restored above. Written as a
// choice between two pure expressions: an in-order core branches and evaluates one side; a
// vectorizing compiler if-converts the loop and blends both.
inline float tanh_with(float x, const FloatActivationConstants& c) {
  const float magnitude = std::fabs(x);
  if (magnitude < c.tanh_small) {
    const float x2 = x * x;
    float poly = c.tanh_t0;
    poly = poly * x2 + c.tanh_t1;
    poly = poly * x2 - c.tanh_t2;
    poly = poly * x2 + c.tanh_t3;
    poly = poly * x2 - c.tanh_t4;
    return x + x * x2 * poly;
  }
  return std::copysign(c.one - c.two / (exp_with(2.0f * magnitude, c) + c.one), x);
}

}  // namespace detail

template <>
struct Math<float> {
  static float exp(float x) { return detail::exp_with(x, detail::FloatActivationConstants{}); }
  static float sigmoid(float x) { return detail::sigmoid_with(x, detail::FloatActivationConstants{}); }
  static float tanh(float x) { return detail::tanh_with(x, detail::FloatActivationConstants{}); }
  static float log(float x) { return std::log(x); }
  static float sqrt(float x) { return std::sqrt(x); }
  static bool is_finite(float x) { return std::isfinite(x); }
};

template <>
struct Math<double> {
  static double exp(double x) { return std::exp(x); }
  static double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
  static double tanh(double x) { return std::tanh(x); }
  static double log(double x) { return std::log(x); }
  static double sqrt(double x) { return std::sqrt(x); }
  static bool is_finite(double x) { return std::isfinite(x); }
};

}  // namespace edgelstm
