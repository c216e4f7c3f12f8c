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

template <>
struct Math<float> {
  // e^x, max error below 1 ulp (mean 0.4 ulp), for x in [-87, 88] (clamped outside; NaN
  // propagates). x = n ln2 + r with |r| <= ln2/2; e^r by a degree-7 polynomial (Cephes expf
  // coefficients); 2^n assembled directly in the exponent bits. The rounding of x/ln2 to n uses the
  // 1.5*2^23 trick: the low bits of `shifted` hold n (its mantissa is 2^22 + n), so there is no
  // call to floor/round, and the same bits tell whether x is in range (one integer compare, almost
  // never true: an in-order core runs straight through with the constants in registers).
  static float exp(float x) {
    constexpr float magic = 12582912.0f, log2e = 1.44269504088896341f;  // magic: 1.5 * 2^23
    constexpr std::uint32_t lowest = 0x4B400000u - 125u, range = 125u + 126u, bias = 127u << 23;  // n in [-125, 126]
    float shifted = x * log2e + magic;
    if (EDGELSTM_UNLIKELY(static_cast<std::uint32_t>(detail::float_to_bits(shifted)) - lowest > range)) {
      x = x < -87.0f ? -87.0f : x > 88.0f ? 88.0f : x;  // |x| > 86.9 or NaN (which stays NaN)
      shifted = x * log2e + magic;
    }
    const float n = shifted - magic;
    float r = x - n * 0.693359375f;  // ln2 split in two so n * ln2_high is exact
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    // 2^n: shifting n (the low bits of `shifted`) into the exponent field and adding the bias.
    const std::uint32_t bits = static_cast<std::uint32_t>(detail::float_to_bits(shifted));
    return p * detail::bits_to_float((bits << 23) + bias);
  }

  // 1 / (1 + e^-x): no cancellation anywhere, relative error a few ulp.
  static float sigmoid(float x) { return 1.0f / (1.0f + exp(-x)); }

  // tanh without cancellation: an odd Taylor polynomial (to x^11, truncation < 1e-7 relative)
  // below |x| = 0.4, and 1 - 2 / (e^{2|x|} + 1) with the sign restored above. Written as a
  // choice between two pure expressions: an in-order core branches and evaluates one side; a
  // vectorizing compiler if-converts the loop and blends both.
  static float tanh(float x) {
    const float magnitude = std::fabs(x);
    if (magnitude < 0.4f) {
      const float x2 = x * x;
      float poly = -1382.0f / 155925.0f;
      poly = poly * x2 + 62.0f / 2835.0f;
      poly = poly * x2 - 17.0f / 315.0f;
      poly = poly * x2 + 2.0f / 15.0f;
      poly = poly * x2 - 1.0f / 3.0f;
      return x + x * x2 * poly;
    }
    return std::copysign(1.0f - 2.0f / (exp(2.0f * magnitude) + 1.0f), x);
  }

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
