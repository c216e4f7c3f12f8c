// Stack high-water mark of a piece of code on a bare-metal target: paint the stack below the
// current frame with a pattern, run the code, and find the deepest word that changed.
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgelstm::bench {

inline constexpr std::size_t kProbeBytes = 32 * 1024;
inline constexpr std::uint32_t kPaint = 0xC0FFEE11u;
inline constexpr std::uintptr_t kHeadroom = 64;  // left unpainted below this probe's own frame

// Paints kProbeBytes below the caller's frame, kHeadroom bytes below this function's local.
__attribute__((noinline)) inline std::uintptr_t paint_stack() {
  volatile std::uint32_t marker = 0;
  const std::uintptr_t top = (reinterpret_cast<std::uintptr_t>(&marker) - kHeadroom) & ~std::uintptr_t{3};
  auto* word = reinterpret_cast<volatile std::uint32_t*>(top - kProbeBytes);
  for (std::size_t k = 0; k < kProbeBytes / 4; ++k) word[k] = kPaint;
  return top;
}

// Stack bytes used below the caller's frame since paint_stack() returned `top`: an upper bound,
// as it includes the headroom and this probe's own small frame.
__attribute__((noinline)) inline std::size_t stack_used(std::uintptr_t top) {
  const auto* word = reinterpret_cast<const volatile std::uint32_t*>(top - kProbeBytes);
  std::size_t untouched = 0;
  while (untouched < kProbeBytes / 4 && word[untouched] == kPaint) ++untouched;
  return kProbeBytes - untouched * 4 + kHeadroom;
}

}  // namespace edgelstm::bench
