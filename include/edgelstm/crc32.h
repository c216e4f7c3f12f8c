// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, as zlib's crc32), bitwise: no table, so it
// costs no flash; model files are checked once, at load.
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgelstm {

// Continues a CRC over `size` more bytes; start with crc = 0.
constexpr std::uint32_t crc32_update(std::uint32_t crc, const std::uint8_t* bytes, std::size_t size) {
  crc = ~crc;
  for (std::size_t k = 0; k < size; ++k) {
    crc ^= bytes[k];
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

}  // namespace edgelstm
