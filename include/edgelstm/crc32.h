// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, as zlib's crc32). crc32_update works
// bitwise: no table, so it costs no flash; model files are checked once, at load.
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

namespace detail {
struct Crc32Table {
  std::uint32_t entries[256];
};
constexpr Crc32Table make_crc32_table() {
  Crc32Table table{};
  for (std::uint32_t byte = 0; byte < 256; ++byte) {
    std::uint32_t crc = byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    table.entries[byte] = crc;
  }
  return table;
}
inline constexpr Crc32Table kCrc32Table = make_crc32_table();
}  // namespace detail

// The same CRC a byte at a time through a 1 KB table (in flash): about 5 instructions per byte
// instead of 40, for the frames between the nodes of a partitioned network, which a node checks
// and computes for every frame it receives and sends.
constexpr std::uint32_t crc32_update_table(std::uint32_t crc, const std::uint8_t* bytes, std::size_t size) {
  crc = ~crc;
  for (std::size_t k = 0; k < size; ++k) crc = (crc >> 8) ^ detail::kCrc32Table.entries[(crc ^ bytes[k]) & 0xFFu];
  return ~crc;
}

}  // namespace edgelstm
