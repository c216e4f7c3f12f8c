// Every matrix-vector variant this build contains (the one dispatch picks, the portable scalar
// and lanes loops, and the SIMD/assembly variant where present) against a double-precision
// reference, over shapes that hit every block size and tail: all variants are tested on every
// target, whichever one the network uses there.
#include <cstdint>
#include <cstring>

#include "edgelstm/edgelstm.h"
#include "support/micro_test.h"
#include "support/test_util.h"

namespace {

float g_w[112 * 112], g_x[112], g_y[112], g_expected_base[112];
double g_reference[112];

using Kernel = void (*)(const float*, std::size_t, std::size_t, const float*, float*);

void dispatch(const float* w, std::size_t r, std::size_t c, const float* x, float* y) { edgelstm::matvec_accumulate(w, r, c, x, y); }
void scalar(const float* w, std::size_t r, std::size_t c, const float* x, float* y) { edgelstm::matvec_accumulate_scalar(w, r, c, x, y); }
void lanes(const float* w, std::size_t r, std::size_t c, const float* x, float* y) { edgelstm::matvec_accumulate_lanes(w, r, c, x, y); }
#if EDGELSTM_HAVE_AVX2_FMA
void avx2(const float* w, std::size_t r, std::size_t c, const float* x, float* y) { edgelstm::matvec_accumulate_avx2(w, r, c, x, y); }
#endif

double worst_error(Kernel kernel, std::size_t rows, std::size_t cols) {
  edgelstm::test::fill_uniform(g_w, rows * cols, rows * 131 + cols, 1.0f);
  edgelstm::test::fill_uniform(g_x, cols, cols + 7, 1.0f);
  edgelstm::test::fill_uniform(g_expected_base, rows, rows + 11, 1.0f);
  double worst = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    double sum = g_expected_base[r], magnitude = std::fabs(static_cast<double>(g_expected_base[r]));
    for (std::size_t k = 0; k < cols; ++k) {
      sum += static_cast<double>(g_w[r * cols + k]) * g_x[k];
      magnitude += std::fabs(static_cast<double>(g_w[r * cols + k]) * g_x[k]);
    }
    g_reference[r] = sum;
    g_y[r] = g_expected_base[r];
    // Error relative to the sum of magnitudes: the scale float rounding works on.
    g_expected_base[r] = static_cast<float>(magnitude);
  }
  kernel(g_w, rows, cols, g_x, g_y);
  for (std::size_t r = 0; r < rows; ++r) {
    worst = std::fmax(worst, std::fabs(g_y[r] - g_reference[r]) / g_expected_base[r]);
  }
  return worst;
}

void check_kernel(Kernel kernel, const char* name) {
  // {7, 27}, {13, 54}, {6, 61}: row tails past the last four rows against whole blocks of 27 columns
  // (the RV32F kernel's full-width passes), with and without a block of the columns left over.
  const std::size_t shapes[][2] = {{1, 1},   {3, 1},   {4, 2},   {5, 7},    {8, 8},     {9, 15},   {12, 16},
                                   {13, 17}, {16, 24}, {17, 25}, {40, 33},  {64, 48},   {100, 100}, {112, 101},
                                   {7, 27},  {13, 54}, {6, 61}};
  for (const auto& shape : shapes) {
    const double error = worst_error(kernel, shape[0], shape[1]);
    if (!(error <= 1e-6)) {  // name the failing shape
      std::printf("%s: rows %zu cols %zu relative error %.3g\n", name, shape[0], shape[1], error);
    }
    EXPECT_LE(error, 1e-6);
  }
}

EDGELSTM_TEST(Kernels, EveryMatvecVariantMatchesDoubleReference) {
  std::printf("kernel family of this build: %s\n", edgelstm::kernel_variant());
  check_kernel(dispatch, "dispatch");
  check_kernel(scalar, "scalar");
  check_kernel(lanes, "lanes");
#if EDGELSTM_HAVE_AVX2_FMA
  check_kernel(avx2, "avx2");
#endif
#if EDGELSTM_HAVE_ARMV7EM_FPU_ASM
  check_kernel(edgelstm::matvec_accumulate_armv7em, "armv7em");
#endif
}

// Shapes that reach every path: rows not a multiple of the 4- or 8-row blocks, column tails,
// no tail, narrow matrices (cols < 8: the narrow AVX2 kernel or the portable loops), cols 8..15
// (AVX2 but not AVX-512), windows longer than the outer product's blocks of steps, no steps at all
// (zeros), row strides wider than the rows (the cached window's layout), and more than 128 columns
// (the AVX-512 W^T v kernel's blocks of 8 vectors, then a remainder).
EDGELSTM_TEST(Kernels, TransposedAndOuterProductMatchDoubleReference) {
  struct Shape {
    std::size_t rows, cols, steps, a_stride, b_stride;
  };
  const Shape shapes[] = {{37, 29, 5, 37, 29},  {37, 29, 13, 40, 34}, {16, 16, 8, 16, 16}, {21, 7, 17, 21, 7},
                          {19, 1, 6, 19, 1},    {19, 1, 6, 23, 4},    {9, 103, 9, 9, 103}, {11, 12, 7, 14, 17},
                          {13, 3, 4, 16, 8},    {37, 29, 0, 37, 29},  {21, 7, 0, 21, 7},   {9, 3, 0, 9, 3},
                          {3, 140, 2, 3, 140}};
  static float w[37 * 103], v[37], y[140], a[17 * 40], b[17 * 103], g[37 * 103 + 1];
  for (const Shape& shape : shapes) {
    const std::size_t rows = shape.rows, cols = shape.cols, steps = shape.steps;
    edgelstm::test::fill_uniform(w, rows * cols, 1, 1.0f);
    edgelstm::test::fill_uniform(v, rows, 2, 1.0f);
    edgelstm::test::fill_uniform(a, sizeof a / sizeof a[0], 3, 1.0f);
    edgelstm::test::fill_uniform(b, sizeof b / sizeof b[0], 4, 1.0f);
    for (float& value : y) value = 0.5f;
    for (float& value : g) value = 1e9f;  // overwritten, not accumulated into
    edgelstm::matvec_transposed_accumulate(w, rows, cols, v, y);
    edgelstm::outer_product_sum(a, shape.a_stride, b, shape.b_stride, steps, rows, cols, g);
    double worst = 0;
    for (std::size_t k = 0; k < cols; ++k) {
      double sum = 0.5;
      for (std::size_t r = 0; r < rows; ++r) sum += static_cast<double>(w[r * cols + k]) * v[r];
      worst = std::fmax(worst, std::fabs(y[k] - sum) / (1.0 + std::fabs(sum)));
    }
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t k = 0; k < cols; ++k) {
        double sum = 0;
        for (std::size_t s = 0; s < steps; ++s) {
          sum += static_cast<double>(a[s * shape.a_stride + r]) * b[s * shape.b_stride + k];
        }
        worst = std::fmax(worst, std::fabs(g[r * cols + k] - sum) / (1.0 + std::fabs(sum)));
      }
    }
    // Past the written rows g keeps its value.
    EXPECT_TRUE(g[rows * cols] == 1e9f);
    if (!(worst <= 1e-6)) std::printf("rows %zu cols %zu steps %zu: error %.3g\n", rows, cols, steps, worst);
    EXPECT_LE(worst, 1e-6);
  }
}

#if EDGELSTM_HAVE_AVX512F
// The training step's last pass over W_hh: y += W^T v, the weight gradient g, its sum of squares and
// the weights' largest magnitude in one pass. y and g must be bit for bit what the separate kernels
// give (matvec_transposed_accumulate, outer_product_sum), for one block of columns or several (200:
// 128 + 72), whole vectors or a tail, windows of 0 to 13 steps (past the outer product's blocks of 6).
EDGELSTM_TEST(Kernels, FusedLastPassMatchesTheSeparateKernelsBitForBit) {
  struct Shape {
    std::size_t hidden, steps, a_stride, b_stride;
  };
  const Shape shapes[] = {{16, 5, 64, 16}, {20, 6, 80, 20}, {32, 5, 128, 32}, {100, 5, 400, 100}, {100, 13, 404, 103},
                          {128, 1, 512, 128}, {200, 7, 800, 200}, {17, 0, 68, 17}};
  static float w[800 * 200], v[800], y_fused[201], y_separate[201], a[13 * 800], b[13 * 200];
  static float g_fused[800 * 200 + 1], g_separate[800 * 200 + 1];
  for (const Shape& shape : shapes) {
    const std::size_t hidden = shape.hidden, rows = 4 * hidden;
    edgelstm::test::fill_uniform(w, rows * hidden, static_cast<std::uint32_t>(hidden), 1.0f);
    w[rows * hidden / 2 + 3] = -3.25f;  // the largest magnitude, negative
    edgelstm::test::fill_uniform(v, rows, 5, 1.0f);
    edgelstm::test::fill_uniform(a, sizeof a / sizeof a[0], 6, 1.0f);
    edgelstm::test::fill_uniform(b, sizeof b / sizeof b[0], 7, 1.0f);
    for (std::size_t k = 0; k <= hidden; ++k) y_fused[k] = y_separate[k] = 0.25f * static_cast<float>(k);
    for (std::size_t k = 0; k <= rows * hidden; ++k) g_fused[k] = g_separate[k] = 1e9f;
    const edgelstm::FusedWeightPass pass = edgelstm::matvec_transposed_with_gradient_avx512(
        w, rows, hidden, v, y_fused, a, shape.a_stride, b, shape.b_stride, shape.steps, g_fused);
    edgelstm::matvec_transposed_accumulate(w, rows, hidden, v, y_separate);
    edgelstm::outer_product_sum(a, shape.a_stride, b, shape.b_stride, shape.steps, rows, hidden, g_separate);
    std::size_t y_mismatches = 0, g_mismatches = 0;
    for (std::size_t k = 0; k <= hidden; ++k) y_mismatches += std::memcmp(&y_fused[k], &y_separate[k], sizeof(float)) != 0;
    EXPECT_TRUE(y_fused[hidden] == 0.25f * static_cast<float>(hidden));  // past y: untouched
    for (std::size_t k = 0; k <= rows * hidden; ++k) g_mismatches += std::memcmp(&g_fused[k], &g_separate[k], sizeof(float)) != 0;
    if (y_mismatches + g_mismatches != 0) {
      std::printf("hidden %zu steps %zu: %zu of y and %zu of g differ\n", hidden, shape.steps, y_mismatches, g_mismatches);
    }
    EXPECT_TRUE(y_mismatches == 0 && g_mismatches == 0);
    EXPECT_TRUE(pass.done);
    double squares = 0;
    for (std::size_t k = 0; k < rows * hidden; ++k) squares += static_cast<double>(g_separate[k]) * g_separate[k];
    EXPECT_LE(std::fabs(pass.square_sum - squares), 1e-6 * squares);
    if (shape.steps == 0) EXPECT_TRUE(pass.square_sum == 0.0);
    EXPECT_TRUE(edgelstm::detail::bound_from_bits<float>(pass.weight_bits) == 3.25f);
  }
}
#endif

}  // namespace
