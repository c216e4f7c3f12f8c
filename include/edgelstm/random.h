// A seeded, deterministic pseudo-random generator for weight initialization.
//
// xoshiro128** (Blackman & Vigna) uses only 32-bit integer operations, so it is fast on 32-bit MCUs
// without a 64-bit multiplier and produces the same sequence on every target. Floats are built from
// the top 24 bits, and a uniform draw in [-bound, bound) is (2u - 1) * bound: 2u - 1 is exact in
// float, so the only rounding is one multiplication, which no compiler can contract or reorder.
// The same seed therefore gives bit-identical weights on the host, Cortex-M and RISC-V.
#pragma once

#include <cstdint>

namespace edgelstm {

class Random {
 public:
  explicit constexpr Random(std::uint64_t seed) {
    // SplitMix32-style mixing spreads any seed (0 included) over the four state words.
    std::uint32_t mix = static_cast<std::uint32_t>(seed) ^ static_cast<std::uint32_t>(seed >> 32);
    for (std::uint32_t& word : state_) {
      mix += 0x9E3779B9u;
      std::uint32_t z = mix;
      z = (z ^ (z >> 16)) * 0x85EBCA6Bu;
      z = (z ^ (z >> 13)) * 0xC2B2AE35u;
      word = z ^ (z >> 16) ^ static_cast<std::uint32_t>(seed >> 32);
    }
    if ((state_[0] | state_[1] | state_[2] | state_[3]) == 0) state_[0] = 1;
  }

  constexpr std::uint32_t next_u32() {
    const std::uint32_t result = rotl(state_[1] * 5u, 7) * 9u;
    const std::uint32_t t = state_[1] << 9;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 11);
    return result;
  }

  // Uniform in [0, 1), a multiple of 2^-24.
  float next_unit() { return static_cast<float>(next_u32() >> 8) * (1.0f / 16777216.0f); }

  // Uniform in [-bound, bound).
  float uniform_symmetric(float bound) {
    const float unit = next_unit();
    return (unit + unit - 1.0f) * bound;
  }

 private:
  static constexpr std::uint32_t rotl(std::uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }
  std::uint32_t state_[4] = {};
};

}  // namespace edgelstm
