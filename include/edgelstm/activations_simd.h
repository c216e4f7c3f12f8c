// The LSTM cell's activations and update on AVX2 and AVX-512 hosts, 8 or 16 units at a time in one
// pass over the units (the four gates, the cell, tanh of the cell and h), the tails masked so any
// H works. AVX2: Math<float>'s range reduction and polynomial for e^x (activations.h); AVX-512: a
// table of 2^(j/16) and a shorter polynomial (sigmoid_avx512, tanh_avx512). Both: the clamps as
// min/max instead of a branch (which keeps a compiler from vectorizing the scalar loops), tanh as
// one branch-free formula; 1/d from the reciprocal estimate and a Newton step on AVX-512. The
// results differ from Math<float>'s by up to 4 ulp (tested against double precision in
// tests/initialization_test.cpp). At H = 16 this pass is most of a step's cost. Included by
// lstm_cell.h. Also the minibatch trainer's backward cell pass (lstm_cell_backward_batch_lanes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "activations.h"
#include "kernels.h"
#include "simd.h"

#if EDGELSTM_HAVE_AVX2_FMA
#include <immintrin.h>

// GCC 12 warns that the AVX-512 min/max/shift intrinsics read an uninitialized value: their
// headers pass _mm512_undefined_ps() as the (unused) merge source. A false positive.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

namespace edgelstm {
namespace detail {

#if EDGELSTM_HAVE_AVX512F
struct Avx512Lanes {
  using V = __m512;
  using I = __m512i;
  using Mask = __mmask16;
  static constexpr std::size_t kWidth = 16;
  static Mask mask(std::size_t n) { return n >= 16 ? static_cast<Mask>(0xFFFF) : static_cast<Mask>((1u << n) - 1u); }
  static V load(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
  static void store(float* p, Mask m, V v) { _mm512_mask_storeu_ps(p, m, v); }
  static V set1(float v) { return _mm512_set1_ps(v); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  // 1 / d: the 14-bit estimate and one Newton step (about 1 ulp; VDIVPS is several times slower).
  static V reciprocal(V d) {
    const V estimate = _mm512_rcp14_ps(d);
    return _mm512_fmadd_ps(estimate, _mm512_fnmadd_ps(d, estimate, _mm512_set1_ps(1.0f)), estimate);
  }
  static V fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V fnmadd(V a, V b, V c) { return _mm512_fnmadd_ps(a, b, c); }
  static V min(V a, V b) { return _mm512_min_ps(a, b); }
  static V abs(V a) { return _mm512_abs_ps(a); }
  static V max(V a, V b) { return _mm512_max_ps(a, b); }
  static I bits(V v) { return _mm512_castps_si512(v); }
  static V from_bits(I i) { return _mm512_castsi512_ps(i); }
  static V and_bits(V a, V b) { return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(a), _mm512_castps_si512(b))); }
  static V or_bits(V a, V b) { return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(a), _mm512_castps_si512(b))); }
};
#endif

struct Avx2Lanes {
  using V = __m256;
  using I = __m256i;
  using Mask = __m256i;
  static constexpr std::size_t kWidth = 8;
  static Mask mask(std::size_t n) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kAvx2MaskSource + 8 - (n >= 8 ? 8 : n)));
  }
  static V load(const float* p, Mask m) { return _mm256_maskload_ps(p, m); }
  static void store(float* p, Mask m, V v) { _mm256_maskstore_ps(p, m, v); }
  static V set1(float v) { return _mm256_set1_ps(v); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  // 1 / d (VRCPPS's 12 bits would need two Newton steps to match).
  static V reciprocal(V d) { return _mm256_div_ps(_mm256_set1_ps(1.0f), d); }
  static V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V fnmadd(V a, V b, V c) { return _mm256_fnmadd_ps(a, b, c); }
  static V min(V a, V b) { return _mm256_min_ps(a, b); }
  static V abs(V a) { return _mm256_and_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF))); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }
  static I bits(V v) { return _mm256_castps_si256(v); }
  static V from_bits(I i) { return _mm256_castsi256_ps(i); }
  // 2^n: n sits in the low bits of `shifted` (its mantissa is 2^22 + n); shifted into the exponent
  // field and biased.
  static V two_to(V, V shifted) {
    return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_slli_epi32(_mm256_castps_si256(shifted), 23), _mm256_set1_epi32(127 << 23)));
  }
  static V and_bits(V a, V b) { return _mm256_and_ps(a, b); }
  static V or_bits(V a, V b) { return _mm256_or_ps(a, b); }
};

// The pieces of Math<float>::exp on a vector, for x clamped by the caller to [-87, 88] (a NaN
// passes through): e^x = two_to_n (1 + e_r_minus_1), from the same reduction and polynomial.
template <typename L>
struct ExpParts {
  typename L::V two_to_n, e_r_minus_1;
};
template <typename L>
inline ExpParts<L> exp_parts(typename L::V x) {
  const typename L::V magic = L::set1(12582912.0f);
  const typename L::V shifted = L::fmadd(x, L::set1(1.44269504088896341f), magic);
  const typename L::V n = L::sub(shifted, magic);
  typename L::V r = L::fnmadd(n, L::set1(0.693359375f), x);
  r = L::fnmadd(n, L::set1(-2.12194440e-4f), r);
  typename L::V p = L::set1(1.9875691500e-4f);
  p = L::fmadd(p, r, L::set1(1.3981999507e-3f));
  p = L::fmadd(p, r, L::set1(8.3334519073e-3f));
  p = L::fmadd(p, r, L::set1(4.1665795894e-2f));
  p = L::fmadd(p, r, L::set1(1.6666665459e-1f));
  p = L::fmadd(p, r, L::set1(5.0000001201e-1f));
  return {L::two_to(n, shifted), L::fmadd(p, L::mul(r, r), r)};
}

#if EDGELSTM_HAVE_AVX512F
// AVX-512: e^x = 2^k 2^(j/16) e^r, n = 16k + j = round(16 x / ln 2), |r| <= ln 2 / 32, with 2^(j/16)
// from a table of 16 (one VPERMPS: the index is n's low 4 bits, read from the same rounding's
// bits), 2^k added to its exponent as an integer, and e^r - 1 a polynomial of degree 3 (the sigmoid:
// its error, r^4 / 24 < 1e-8, is far below a float's rounding at 1 + e^-x) or 4 (tanh, whose
// e^{2|x|} - 1 needs it relative to itself). Against the 2^n reduction's degree-7 polynomial, four
// fewer multiplies and multiply-adds per sigmoid and two per tanh (the FMA pipes bound these
// activations): five activations of 16 units 22.7 -> 19.6 ns on a Zen 4 core. The tables are the
// values rounded to float: 2^(j/16), and 2^(j/16) - 1, which keeps tanh's e^{2|x|} - 1 accurate to
// its last bits for small |x|.
alignas(64) inline constexpr float kTwoToSixteenths[16] = {
    0x1p+0f, 0x1.0b5586p+0f, 0x1.172b84p+0f, 0x1.2387a6p+0f, 0x1.306fep+0f, 0x1.3dea64p+0f, 0x1.4bfdaep+0f, 0x1.5ab07ep+0f,
    0x1.6a09e6p+0f, 0x1.7a1148p+0f, 0x1.8ace54p+0f, 0x1.9c4918p+0f, 0x1.ae89fap+0f, 0x1.c199bep+0f, 0x1.d5818ep+0f, 0x1.ea4afap+0f};
alignas(64) inline constexpr float kTwoToSixteenthsMinusOne[16] = {
    0.0f, 0x1.6ab0dap-5f, 0x1.72b83cp-4f, 0x1.1c3d38p-3f, 0x1.837f06p-3f, 0x1.ef5326p-3f, 0x1.2ff6b6p-2f, 0x1.6ac1f8p-2f,
    0x1.a8279ap-2f, 0x1.e8451cp-2f, 0x1.159ca8p-1f, 0x1.38923p-1f, 0x1.5d13f4p-1f, 0x1.83337cp-1f, 0x1.ab031cp-1f, 0x1.d495f4p-1f};

// The reduction of x (clamped by the caller to [-87, 88]; a NaN passes through to r): r, and the
// bits of the rounding whose low 4 bits are j and whose bits from the 5th up hold k (n sits in the
// mantissa of 1.5 * 2^23 + n).
struct Sixteenths {
  __m512 r;
  __m512i bits;
};
inline Sixteenths reduce_sixteenths(__m512 x) {
  const __m512 magic = _mm512_set1_ps(12582912.0f);
  const __m512 shifted = _mm512_fmadd_ps(x, _mm512_set1_ps(16.0f * 1.44269504088896341f), magic);
  const __m512 n = _mm512_sub_ps(shifted, magic);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f / 16.0f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f / 16.0f), r);
  return {r, _mm512_castps_si512(shifted)};
}
// k << 23, the exponent field's increment for 2^k.
inline __m512i exponent_increment(__m512i bits) { return _mm512_slli_epi32(_mm512_srai_epi32(bits, 4), 23); }

inline __m512 sigmoid_avx512(__m512 x) {
  const __m512 negated = _mm512_min_ps(_mm512_set1_ps(88.0f), _mm512_max_ps(_mm512_set1_ps(-87.0f), _mm512_sub_ps(_mm512_setzero_ps(), x)));
  const Sixteenths s = reduce_sixteenths(negated);
  const __m512 e_r_minus_1 = _mm512_fmadd_ps(_mm512_fmadd_ps(_mm512_set1_ps(1.0f / 6.0f), s.r, _mm512_set1_ps(0.5f)),
                                             _mm512_mul_ps(s.r, s.r), s.r);
  const __m512 table = _mm512_permutexvar_ps(s.bits, _mm512_load_ps(kTwoToSixteenths));
  const __m512 two_to_n = _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(table), exponent_increment(s.bits)));
  // 1 + e^-x = 2^(n/16) e_r_minus_1 + (2^(n/16) + 1).
  return Avx512Lanes::reciprocal(_mm512_fmadd_ps(two_to_n, e_r_minus_1, _mm512_add_ps(two_to_n, _mm512_set1_ps(1.0f))));
}

inline __m512 tanh_avx512(__m512 x) {
  const __m512 magnitude = _mm512_abs_ps(x);
  const __m512 twice = _mm512_min_ps(_mm512_set1_ps(40.0f), _mm512_add_ps(magnitude, magnitude));
  const Sixteenths s = reduce_sixteenths(twice);
  __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(1.0f / 24.0f), s.r, _mm512_set1_ps(1.0f / 6.0f));
  p = _mm512_fmadd_ps(p, s.r, _mm512_set1_ps(0.5f));
  const __m512 e_r_minus_1 = _mm512_fmadd_ps(p, _mm512_mul_ps(s.r, s.r), s.r);
  // 2^(n/16) - 1 = 2^k (2^(j/16) - 1) + (2^k - 1): for k = 0 the table's value itself.
  const __m512 table_minus_1 = _mm512_permutexvar_ps(s.bits, _mm512_load_ps(kTwoToSixteenthsMinusOne));
  const __m512 two_to_k =
      _mm512_castsi512_ps(_mm512_add_epi32(exponent_increment(s.bits), _mm512_set1_epi32(127 << 23)));
  const __m512 two_to_n_minus_1 = _mm512_fmadd_ps(two_to_k, table_minus_1, _mm512_sub_ps(two_to_k, _mm512_set1_ps(1.0f)));
  // e^{2|x|} - 1 = 2^(n/16) e_r_minus_1 + (2^(n/16) - 1); tanh |x| = that / (that + 2).
  const __m512 expm1 = _mm512_fmadd_ps(_mm512_add_ps(two_to_n_minus_1, _mm512_set1_ps(1.0f)), e_r_minus_1, two_to_n_minus_1);
  const __m512 result = _mm512_mul_ps(expm1, Avx512Lanes::reciprocal(_mm512_add_ps(expm1, _mm512_set1_ps(2.0f))));
  return Avx512Lanes::or_bits(result, Avx512Lanes::and_bits(x, _mm512_set1_ps(-0.0f)));
}
#endif

// 1 / (1 + e^-x), the clamps as min/max (MINPS/MAXPS return their second operand when one is a
// NaN, so a NaN stays one) and 1 + e^-x as 2^n e_r_minus_1 + (2^n + 1).
template <typename L>
inline typename L::V sigmoid_lanes(typename L::V x) {
#if EDGELSTM_HAVE_AVX512F
  if constexpr (std::is_same_v<L, Avx512Lanes>) {
    return sigmoid_avx512(x);
  } else
#endif
  {
    const typename L::V negated = L::min(L::set1(88.0f), L::max(L::set1(-87.0f), L::sub(L::set1(0.0f), x)));
    const ExpParts<L> e = exp_parts<L>(negated);
    return L::reciprocal(L::fmadd(e.two_to_n, e.e_r_minus_1, L::add(e.two_to_n, L::set1(1.0f))));
  }
}

// tanh |x| = (e^{2|x|} - 1) / (e^{2|x|} + 1), 2|x| clamped at 40 (tanh is 1 in float from |x| = 9.01
// on; with the clamp at 88 the reciprocal of e^{2|x|} + 1 fell below the normal range: from |x| =
// 44 on the quotient came out an ulp under 1, and just below 44 an ulp over it), with e^{2|x|} - 1
// formed as 2^n e_r_minus_1 + (2^n - 1):
// for small |x| (n = 0) that is e_r_minus_1 itself, accurate to its last bits, so one branch-free
// formula keeps the relative accuracy of Math<float>::tanh's two branches. The sign is copied back.
template <typename L>
inline typename L::V tanh_lanes(typename L::V x) {
#if EDGELSTM_HAVE_AVX512F
  if constexpr (std::is_same_v<L, Avx512Lanes>) {
    return tanh_avx512(x);
  } else
#endif
  {
    const typename L::V magnitude = L::abs(x);
    const typename L::V twice = L::min(L::set1(40.0f), L::add(magnitude, magnitude));
    const ExpParts<L> e = exp_parts<L>(twice);
    const typename L::V expm1 = L::fmadd(e.two_to_n, e.e_r_minus_1, L::sub(e.two_to_n, L::set1(1.0f)));
    const typename L::V result = L::mul(expm1, L::reciprocal(L::add(expm1, L::set1(2.0f))));
    return L::or_bits(result, L::and_bits(x, L::from_bits(L::bits(L::set1(-0.0f)))));
  }
}

// Units [j, j + width) of the cell update (masked by m).
template <typename L>
inline void cell_block(std::size_t hidden, std::size_t j, typename L::Mask m, float* gates, const float* c_prev,
                       float* c_out, float* tanh_c_out, float* h_out) {
  float* i = gates + j;
  float* f = gates + hidden + j;
  float* g = gates + 2 * hidden + j;
  float* o = gates + 3 * hidden + j;
  const typename L::V ij = sigmoid_lanes<L>(L::load(i, m));
  const typename L::V fj = sigmoid_lanes<L>(L::load(f, m));
  const typename L::V gj = tanh_lanes<L>(L::load(g, m));
  const typename L::V oj = sigmoid_lanes<L>(L::load(o, m));
  L::store(i, m, ij);
  L::store(f, m, fj);
  L::store(g, m, gj);
  L::store(o, m, oj);
  const typename L::V cj = L::fmadd(fj, L::load(c_prev + j, m), L::mul(ij, gj));
  L::store(c_out + j, m, cj);
  const typename L::V tanh_c = tanh_lanes<L>(cj);
  L::store(tanh_c_out + j, m, tanh_c);
  L::store(h_out + j, m, L::mul(oj, tanh_c));
}

#if EDGELSTM_HAVE_AVX512F
// The units a multiple of 16 leaves over (hidden % 16 of them, the same units of every window) of
// `count` windows of a minibatch, whose gates lie gate_stride floats apart, c_prev, c_out and
// tanh_c_out `hidden` apart and h_out h_stride apart: as many windows' leftovers share one vector
// as fit (H = 100: four windows' units 96..99), each window's lanes loaded and stored under its
// own mask, so the activations run on whole vectors instead of one mostly masked vector per
// window. Each lane computes what cell_block computes for it, bit for bit.
inline void lstm_cell_finish_leftovers_avx512(std::size_t hidden, std::size_t count, float* gates, std::size_t gate_stride,
                                              const float* c_prev, float* c_out, float* tanh_c_out, float* h_out,
                                              std::size_t h_stride) {
  using L = Avx512Lanes;
  const std::size_t first = hidden / 16 * 16, left = hidden - first;
  if (left == 0) return;
  const std::size_t per_vector = 16 / left;
  for (std::size_t b0 = 0; b0 < count; b0 += per_vector) {
    const std::size_t windows = count - b0 < per_vector ? count - b0 : per_vector;
    // Lanes [q * left, (q + 1) * left) belong to window b0 + q, units first..hidden - 1: the
    // pointer for window q's loads and stores is shifted back by q * left lanes.
    L::Mask masks[16];
    std::ptrdiff_t shift[16];
    for (std::size_t q = 0; q < windows; ++q) {
      masks[q] = static_cast<L::Mask>(((1u << left) - 1u) << (q * left));
      shift[q] = static_cast<std::ptrdiff_t>(first) - static_cast<std::ptrdiff_t>(q * left);
    }
    const auto load = [&](const float* base, std::size_t stride) {
      __m512 v = _mm512_setzero_ps();
      for (std::size_t q = 0; q < windows; ++q) v = _mm512_mask_loadu_ps(v, masks[q], base + (b0 + q) * stride + shift[q]);
      return v;
    };
    const auto store = [&](float* base, std::size_t stride, __m512 v) {
      for (std::size_t q = 0; q < windows; ++q) _mm512_mask_storeu_ps(base + (b0 + q) * stride + shift[q], masks[q], v);
    };
    const __m512 ij = sigmoid_lanes<L>(load(gates, gate_stride));
    const __m512 fj = sigmoid_lanes<L>(load(gates + hidden, gate_stride));
    const __m512 gj = tanh_lanes<L>(load(gates + 2 * hidden, gate_stride));
    const __m512 oj = sigmoid_lanes<L>(load(gates + 3 * hidden, gate_stride));
    store(gates, gate_stride, ij);
    store(gates + hidden, gate_stride, fj);
    store(gates + 2 * hidden, gate_stride, gj);
    store(gates + 3 * hidden, gate_stride, oj);
    const __m512 cj = L::fmadd(fj, load(c_prev, hidden), L::mul(ij, gj));
    store(c_out, hidden, cj);
    const __m512 tanh_c = tanh_lanes<L>(cj);
    store(tanh_c_out, hidden, tanh_c);
    store(h_out, h_stride, L::mul(oj, tanh_c));
  }
}
#endif

// lstm_cell_finish for float on the vector unit (see lstm_cell.h for the contract). Two blocks of
// units per iteration: each block's activations are long chains of dependent operations, and two
// independent ones side by side keep the vector units busier.
// `units` (default: all) limits the pass to the first whole vectors' units when the caller does the
// leftover units itself (lstm_cell_finish_leftovers_avx512).
template <typename L>
inline void lstm_cell_finish_lanes(std::size_t hidden, float* gates, const float* c_prev, float* c_out,
                                   float* tanh_c_out, float* h_out, std::size_t units = ~std::size_t{0}) {
  const typename L::Mask full = L::mask(L::kWidth);
  const std::size_t end = units < hidden ? units : hidden;
  std::size_t j = 0;
  for (; j + 2 * L::kWidth <= end; j += 2 * L::kWidth) {
    cell_block<L>(hidden, j, full, gates, c_prev, c_out, tanh_c_out, h_out);
    cell_block<L>(hidden, j + L::kWidth, full, gates, c_prev, c_out, tanh_c_out, h_out);
  }
  for (; j < end; j += L::kWidth) cell_block<L>(hidden, j, L::mask(end - j), gates, c_prev, c_out, tanh_c_out, h_out);
}

// The widest lanes the build has.
#if EDGELSTM_HAVE_AVX512F
using BestLanes = Avx512Lanes;
#else
using BestLanes = Avx2Lanes;
#endif

// lstm_cell_backward (lstm_cell.h) of `count` windows, with the gradient from the step after added
// in first: dh = dh_above + dh_next. Each window's gates lie gate_stride floats apart; dh_above,
// dh_next, dc, c_prev and tanh_c `hidden` apart. One call for the whole batch (the scalar loop,
// called once per window, spent a sixth of its time on the compiler's overlap checks between the
// four gates), dh formed in registers instead of written back. The same formulas and order of
// operations as the scalar loop's; where the compiler contracts them differently the results can
// differ in the last bit.
template <typename L>
inline void lstm_cell_backward_batch_lanes(std::size_t hidden, std::size_t count, const float* dh_above,
                                           const float* dh_next, float* dc, float* gates, std::size_t gate_stride,
                                           const float* c_prev, const float* tanh_c) {
  using V = typename L::V;
  const V one = L::set1(1.0f);
  for (std::size_t b = 0; b < count; ++b) {
    float* i = gates + b * gate_stride;
    float* f = i + hidden;
    float* g = f + hidden;
    float* o = g + hidden;
    const std::size_t k = b * hidden;
    for (std::size_t j = 0; j < hidden; j += L::kWidth) {
      const typename L::Mask m = L::mask(hidden - j);
      const V dh = L::add(L::load(dh_above + k + j, m), L::load(dh_next + k + j, m));
      const V ij = L::load(i + j, m), fj = L::load(f + j, m), gj = L::load(g + j, m), oj = L::load(o + j, m);
      const V tc = L::load(tanh_c + k + j, m);
      // c_t = f c_{t-1} + i g  and  h_t = o tanh(c_t).
      const V dc_total = L::fmadd(L::mul(dh, oj), L::fnmadd(tc, tc, one), L::load(dc + k + j, m));
      L::store(i + j, m, L::mul(L::mul(L::mul(dc_total, gj), ij), L::sub(one, ij)));
      L::store(f + j, m, L::mul(L::mul(L::mul(dc_total, L::load(c_prev + k + j, m)), fj), L::sub(one, fj)));
      L::store(g + j, m, L::mul(L::mul(dc_total, ij), L::fnmadd(gj, gj, one)));
      L::store(o + j, m, L::mul(L::mul(L::mul(dh, tc), oj), L::sub(one, oj)));
      L::store(dc + k + j, m, L::mul(dc_total, fj));
    }
  }
}

}  // namespace detail
}  // namespace edgelstm

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif  // EDGELSTM_HAVE_AVX2_FMA
