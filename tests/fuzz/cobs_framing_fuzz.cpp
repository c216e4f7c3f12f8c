// libFuzzer target: the COBS decoder (edgelstm/cobs_framing.h) on arbitrary line bytes, as a UART
// delivers them after noise, loss and cut frames. It must never write outside its buffer (an
// exact-size heap buffer, so AddressSanitizer sees a write past it), and every frame it reports must
// be one an encoder could have sent: encoding it again and decoding that gives it back unchanged.
// The input itself, sent as one frame, must come back unchanged too (the encoder's side).
#include <cstdint>
#include <cstring>
#include <vector>

#include "edgelstm/cobs_framing.h"

namespace {

// Encodes `frame` and decodes the line with a fresh decoder: exactly one frame, equal to it.
void check_round_trip(edgelstm::Span<const std::uint8_t> frame) {
  std::vector<std::uint8_t> line(edgelstm::cobs_frame_bytes_max(frame.size()));
  std::size_t written = 0;
  if (edgelstm::encode_cobs_frame(frame, edgelstm::Span<std::uint8_t>(line.data(), line.size()), &written) !=
      edgelstm::Status::kOk) {
    __builtin_trap();
  }
  for (std::size_t k = 1; k + 1 < written; ++k) {
    if (line[k] == edgelstm::kCobsDelimiter) __builtin_trap();  // a delimiter inside the frame
  }
  std::vector<std::uint8_t> decoded(frame.size() + 1);  // + 1: a zero-length frame still gets a buffer
  edgelstm::CobsDecoder decoder(edgelstm::Span<std::uint8_t>(decoded.data(), frame.size()));
  std::size_t frames = 0;
  for (std::size_t k = 0; k < written; ++k) {
    const edgelstm::CobsEvent event = decoder.push(line[k]);
    if (event == edgelstm::CobsEvent::kRefused) __builtin_trap();
    if (event != edgelstm::CobsEvent::kFrame) continue;
    ++frames;
    if (decoder.frame().size() != frame.size() ||
        (frame.size() != 0 && std::memcmp(decoder.frame().data(), frame.data(), frame.size()) != 0)) {
      __builtin_trap();
    }
  }
  if (frames != 1) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The first byte chooses the decoder's buffer size (1..256 bytes), the rest is the line.
  if (size == 0) return 0;
  const std::size_t capacity = static_cast<std::size_t>(data[0]) + 1;
  std::vector<std::uint8_t> buffer(capacity);  // exact size: a write past it is a heap overflow
  edgelstm::CobsDecoder decoder(edgelstm::Span<std::uint8_t>(buffer.data(), buffer.size()));
  std::uint32_t frames = 0, refused = 0;
  for (std::size_t k = 1; k < size; ++k) {
    const edgelstm::CobsEvent event = decoder.push(data[k]);
    if (event == edgelstm::CobsEvent::kRefused) ++refused;
    if (event != edgelstm::CobsEvent::kFrame) continue;
    ++frames;
    const edgelstm::Span<const std::uint8_t> frame = decoder.frame();
    if (frame.size() > capacity) __builtin_trap();
    const std::vector<std::uint8_t> copy(frame.begin(), frame.end());
    check_round_trip(edgelstm::Span<const std::uint8_t>(copy.data(), copy.size()));
  }
  if (frames != decoder.frames() || refused != decoder.refused_truncated() + decoder.refused_too_long()) {
    __builtin_trap();
  }
  check_round_trip(edgelstm::Span<const std::uint8_t>(data + 1, size - 1));
  return 0;
}
