// COBS framing for serial lines: the published encodings, round trips of every length and zero
// density, the size bound reached, and a decoder that stays in step after corrupted, lost and
// oversized bytes.
#include <cstdint>
#include <cstring>

#include "edgelstm/edgelstm.h"
#include "support/micro_test.h"

namespace {

using edgelstm::CobsDecoder;
using edgelstm::CobsEvent;
using Bytes = edgelstm::Span<const std::uint8_t>;

constexpr std::size_t kMaxFrame = 1100;
std::uint8_t g_frame[kMaxFrame];
std::uint8_t g_line[edgelstm::cobs_frame_bytes_max(kMaxFrame) * 3];
std::uint8_t g_decoded[kMaxFrame];

// Feeds `line` to `decoder`; copies each decoded frame to `frames` (concatenated), their sizes to
// `sizes`; returns the number of frames, and counts kRefused events in `*refused`.
std::size_t decode_all(CobsDecoder& decoder, Bytes line, std::uint8_t* frames, std::size_t* sizes,
                       std::size_t max_frames, std::size_t* refused) {
  std::size_t count = 0, offset = 0;
  *refused = 0;
  for (std::uint8_t byte : line) {
    const CobsEvent event = decoder.push(byte);
    if (event == CobsEvent::kRefused) ++*refused;
    if (event != CobsEvent::kFrame) continue;
    if (count < max_frames) {
      std::memcpy(frames + offset, decoder.frame().data(), decoder.frame().size());
      sizes[count] = decoder.frame().size();
      offset += decoder.frame().size();
    }
    ++count;
  }
  return count;
}

std::size_t encode(Bytes frame, std::uint8_t* out) {
  std::size_t position = 0;
  return edgelstm::write_cobs_frame(frame, [&](std::uint8_t byte) { out[position++] = byte; });
}

// The examples of Cheshire and Baker's paper as listed in the COBS literature (without delimiters).
struct Vector {
  const std::uint8_t* data;
  std::size_t size;
  const std::uint8_t* encoded;
  std::size_t encoded_size;
};

EDGELSTM_TEST(CobsFraming, EncodesThePublishedExamples) {
  static const std::uint8_t d1[] = {0x00}, e1[] = {0x01, 0x01};
  static const std::uint8_t d2[] = {0x00, 0x00}, e2[] = {0x01, 0x01, 0x01};
  static const std::uint8_t d3[] = {0x00, 0x11, 0x00}, e3[] = {0x01, 0x02, 0x11, 0x01};
  static const std::uint8_t d4[] = {0x11, 0x22, 0x00, 0x33}, e4[] = {0x03, 0x11, 0x22, 0x02, 0x33};
  static const std::uint8_t d5[] = {0x11, 0x22, 0x33, 0x44}, e5[] = {0x05, 0x11, 0x22, 0x33, 0x44};
  static const std::uint8_t d6[] = {0x11, 0x00, 0x00, 0x00}, e6[] = {0x02, 0x11, 0x01, 0x01, 0x01};
  static const std::uint8_t e_empty[] = {0x01};
  const Vector vectors[] = {{d1, 1, e1, 2}, {d2, 2, e2, 3}, {d3, 3, e3, 4}, {d4, 4, e4, 5},
                            {d5, 4, e5, 5}, {d6, 4, e6, 5}, {nullptr, 0, e_empty, 1}};
  for (const Vector& v : vectors) {
    const std::size_t written = encode(Bytes(v.data, v.size), g_line);
    ASSERT_EQ_INT(written, v.encoded_size + 2);
    EXPECT_EQ_INT(g_line[0], 0);
    EXPECT_EQ_INT(g_line[written - 1], 0);
    EXPECT_TRUE(std::memcmp(g_line + 1, v.encoded, v.encoded_size) == 0);
    CobsDecoder decoder(g_decoded);
    std::size_t sizes[1], refused = 0;
    ASSERT_EQ_INT(decode_all(decoder, Bytes(g_line, written), g_frame, sizes, 1, &refused), 1);
    ASSERT_EQ_INT(sizes[0], v.size);
    EXPECT_TRUE(v.size == 0 || std::memcmp(g_frame, v.data, v.size) == 0);
  }
  // The long examples: 254 nonzero bytes fill one group (code 0xFF, no zero implied); 255 need a
  // second group; 254 nonzero bytes and a zero end with an empty group.
  for (std::size_t k = 0; k < 255; ++k) g_frame[k] = static_cast<std::uint8_t>(k + 1);  // 01..FF
  std::size_t written = encode(Bytes(g_frame, 254), g_line);
  ASSERT_EQ_INT(written, 1 + 255 + 1);
  EXPECT_EQ_INT(g_line[1], 0xFF);
  EXPECT_EQ_INT(g_line[255], 0xFE);
  written = encode(Bytes(g_frame, 255), g_line);
  ASSERT_EQ_INT(written, 1 + 257 + 1);
  EXPECT_EQ_INT(g_line[1], 0xFF);
  EXPECT_EQ_INT(g_line[256], 0x02);
  EXPECT_EQ_INT(g_line[257], 0xFF);
  g_frame[254] = 0;
  written = encode(Bytes(g_frame, 255), g_line);
  ASSERT_EQ_INT(written, 1 + 257 + 1);
  EXPECT_EQ_INT(g_line[256], 0x01);
  EXPECT_EQ_INT(g_line[257], 0x01);
}

EDGELSTM_TEST(CobsFraming, RoundTripsEveryLengthAndZeroDensity) {
  edgelstm::Random random(1999);
  std::size_t frames = 0;
  for (std::size_t size = 0; size <= 700; size += (size < 520 ? 1 : 37)) {
    static const std::uint32_t kZeroOneIn[] = {2, 16, 256, 0};  // 0: no zeros at all
    for (std::uint32_t zero_in : kZeroOneIn) {
      for (std::size_t k = 0; k < size; ++k) {
        const std::uint32_t draw = random.next_u32();
        g_frame[k] = (zero_in != 0 && draw % zero_in == 0) ? 0 : static_cast<std::uint8_t>(1 + (draw >> 8) % 255);
      }
      const std::size_t written = encode(Bytes(g_frame, size), g_line);
      ASSERT_TRUE(written <= edgelstm::cobs_frame_bytes_max(size));
      for (std::size_t k = 1; k + 1 < written; ++k) ASSERT_TRUE(g_line[k] != 0);
      CobsDecoder decoder(g_decoded);
      std::size_t sizes[1], refused = 0;
      ASSERT_EQ_INT(decode_all(decoder, Bytes(g_line, written), g_decoded + 0, sizes, 0, &refused), 1);
      ASSERT_EQ_INT(decoder.frame().size(), size);
      ASSERT_TRUE(std::memcmp(decoder.frame().data(), g_frame, size) == 0);
      ++frames;
    }
  }
  EXPECT_TRUE(frames > 2000);
}

EDGELSTM_TEST(CobsFraming, SizeBoundIsReachedAndExact) {
  // 254 n nonzero bytes and a zero: n full groups, a group for the zero, then an empty one.
  for (std::size_t groups = 1; groups <= 4; ++groups) {
    const std::size_t size = 254 * groups + 1;
    for (std::size_t k = 0; k < size; ++k) g_frame[k] = static_cast<std::uint8_t>(1 + k % 255);
    g_frame[size - 1] = 0;
    const std::size_t written = encode(Bytes(g_frame, size), g_line);
    EXPECT_EQ_INT(written, edgelstm::cobs_frame_bytes_max(size));
  }
  // encode_cobs_frame into an exact buffer works, one byte less is refused without a write past it.
  for (std::size_t k = 0; k < 300; ++k) g_frame[k] = static_cast<std::uint8_t>(k % 7);
  const std::size_t needed = encode(Bytes(g_frame, 300), g_line);
  std::size_t written = 0;
  std::memset(g_line, 0xAB, sizeof g_line);
  ASSERT_OK(edgelstm::encode_cobs_frame(Bytes(g_frame, 300), edgelstm::Span<std::uint8_t>(g_line, needed), &written));
  EXPECT_EQ_INT(written, needed);
  EXPECT_EQ_INT(g_line[needed], 0xAB);
  std::memset(g_line, 0xAB, sizeof g_line);
  EXPECT_STATUS(edgelstm::encode_cobs_frame(Bytes(g_frame, 300), edgelstm::Span<std::uint8_t>(g_line, needed - 1), &written),
                edgelstm::Status::kBufferTooSmall);
  EXPECT_EQ_INT(g_line[needed - 1], 0xAB);
}

EDGELSTM_TEST(CobsFraming, BackToBackFramesAndIdleDelimiters) {
  std::size_t length = 0;
  g_line[length++] = 0;  // idle line: delimiters alone are no frames
  g_line[length++] = 0;
  const std::uint8_t a[] = {1, 0, 2}, b[] = {0}, c[] = {9, 9, 9, 9};
  length += encode(a, g_line + length);
  length += encode(Bytes(nullptr, 0), g_line + length);  // an empty frame is a frame
  length += encode(b, g_line + length);
  g_line[length++] = 0;
  length += encode(c, g_line + length);
  CobsDecoder decoder(g_decoded);
  std::size_t sizes[4], refused = 0;
  ASSERT_EQ_INT(decode_all(decoder, Bytes(g_line, length), g_frame, sizes, 4, &refused), 4);
  EXPECT_EQ_INT(refused, 0);
  EXPECT_EQ_INT(sizes[0], 3);
  EXPECT_EQ_INT(sizes[1], 0);
  EXPECT_EQ_INT(sizes[2], 1);
  EXPECT_EQ_INT(sizes[3], 4);
  const std::uint8_t expected[] = {1, 0, 2, 0, 9, 9, 9, 9};
  EXPECT_TRUE(std::memcmp(g_frame, expected, sizeof expected) == 0);
  EXPECT_EQ_INT(decoder.frames(), 4);
}

// Every single-byte corruption of a frame (every position, bits flipped and bytes turned into the
// delimiter): the damaged frame never decodes as the original, and the frame after it always does,
// exactly once.
EDGELSTM_TEST(CobsFraming, CorruptedByteNeverYieldsTheFrameAndTheNextFrameSurvives) {
  std::uint8_t original[300], next[40];
  for (std::size_t k = 0; k < sizeof original; ++k) original[k] = static_cast<std::uint8_t>((k * 37) % 11 == 0 ? 0 : k * 13 + 1);
  for (std::size_t k = 0; k < sizeof next; ++k) next[k] = static_cast<std::uint8_t>(k);
  std::uint8_t clean[edgelstm::cobs_frame_bytes_max(300) + edgelstm::cobs_frame_bytes_max(40)];
  std::size_t first = encode(original, clean);
  const std::size_t total = first + encode(next, clean + first);
  std::size_t cases = 0, refusals = 0;
  for (std::size_t position = 1; position + 1 < first; ++position) {  // inside the first frame
    static const std::uint8_t kFlips[] = {0x01, 0x80, 0x24, 0};  // 0: the byte becomes a delimiter
    for (std::uint8_t flip : kFlips) {
      std::memcpy(g_line, clean, total);
      g_line[position] = flip == 0 ? 0 : static_cast<std::uint8_t>(g_line[position] ^ flip);
      CobsDecoder decoder(g_decoded);
      std::size_t seen_original = 0, seen_next = 0;
      for (std::size_t k = 0; k < total; ++k) {
        const CobsEvent event = decoder.push(g_line[k]);
        if (event == CobsEvent::kRefused) ++refusals;
        if (event != CobsEvent::kFrame) continue;
        const Bytes frame = decoder.frame();
        if (frame.size() == sizeof original && std::memcmp(frame.data(), original, sizeof original) == 0) ++seen_original;
        if (frame.size() == sizeof next && std::memcmp(frame.data(), next, sizeof next) == 0) ++seen_next;
      }
      ASSERT_EQ_INT(seen_original, 0);
      ASSERT_EQ_INT(seen_next, 1);
      ++cases;
    }
  }
  EXPECT_TRUE(cases > 1000);
  EXPECT_TRUE(refusals > 0);  // a zero inside a group cuts it: the decoder sees a truncated group
}

EDGELSTM_TEST(CobsFraming, LostBytesAndOversizedFramesAreRefusedAndCounted) {
  std::uint8_t payload[64];
  for (std::size_t k = 0; k < sizeof payload; ++k) payload[k] = static_cast<std::uint8_t>(k % 5 == 0 ? 0 : k);
  // A byte lost from the middle of a group: the delimiter arrives while the group still expects data.
  std::size_t length = encode(payload, g_line);
  std::memmove(g_line + 10, g_line + 11, length - 11);
  --length;
  length += encode(payload, g_line + length);
  std::uint8_t small[33];  // 32 for the decoder and a guard byte that must stay untouched
  small[32] = 0x5A;
  CobsDecoder decoder(g_decoded);
  std::size_t sizes[2], refused = 0;
  // The cut frame either comes out refused (truncated group) or, if the lost byte was a code byte,
  // well-formed but not the payload; the intact one follows.
  const std::size_t frames = decode_all(decoder, Bytes(g_line, length), g_frame, sizes, 2, &refused);
  EXPECT_EQ_INT(frames + refused, 2);
  EXPECT_EQ_INT(decoder.frame().size(), sizeof payload);
  EXPECT_TRUE(std::memcmp(decoder.frame().data(), payload, sizeof payload) == 0);
  // A frame longer than the decoder's buffer is refused once and counted; the next short frame is fine.
  CobsDecoder short_decoder(edgelstm::Span<std::uint8_t>(small, 32));
  length = encode(payload, g_line);
  length += encode(Bytes(payload, 20), g_line + length);
  const std::size_t short_frames = decode_all(short_decoder, Bytes(g_line, length), g_frame, sizes, 2, &refused);
  EXPECT_EQ_INT(short_frames, 1);
  EXPECT_EQ_INT(refused, 1);
  EXPECT_EQ_INT(short_decoder.refused_too_long(), 1);
  EXPECT_EQ_INT(small[32], 0x5A);
  EXPECT_EQ_INT(sizes[0], 20);
  EXPECT_TRUE(std::memcmp(g_frame, payload, 20) == 0);
  // A buffer of exactly the frame's size is enough.
  CobsDecoder exact_decoder(edgelstm::Span<std::uint8_t>(small, 20));
  length = encode(Bytes(payload, 20), g_line);
  EXPECT_EQ_INT(decode_all(exact_decoder, Bytes(g_line, length), g_frame, sizes, 1, &refused), 1);
  EXPECT_EQ_INT(refused, 0);
}

}  // namespace
