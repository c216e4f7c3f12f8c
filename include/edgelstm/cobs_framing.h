// Byte framing for serial lines: Consistent Overhead Byte Stuffing (COBS, Cheshire and Baker,
// IEEE/ACM Transactions on Networking 7(2), 1999) with 0x00 as the frame delimiter.
//
// A UART carries bytes, not frames. COBS rewrites a frame so that it contains no 0x00 byte, and
// 0x00 then marks frame boundaries: on the line a frame is
//
//   0x00  code d d d ... code d d ...  0x00
//
// where each code byte k (1..255) says that k - 1 data bytes follow, then (for k < 255, unless the
// frame ends there) a zero that was removed. Because no encoded byte is 0x00, payload data can never
// look like a boundary; after line noise, a lost byte or a corrupted byte the decoder loses at most
// the frames the damage touched and is back in step at the next delimiter. A corrupted byte that
// becomes 0x00 cuts a frame in two, a corrupted code byte moves a zero: both pieces decode to
// garbage that the frame's own check refuses. Unlike HDLC/SLIP byte stuffing (which can double a
// frame full of flag bytes), COBS adds at most one byte per 254 whatever the data, so the line
// buffers are sized exactly at compile time (cobs_frame_bytes_max).
//
// The framing adds no check of its own: what it carries (the distributed wire frames) carries a
// CRC-32 over its header and payload, and a second CRC here would cost 4 bytes a frame and catch
// nothing more. The decoder refuses what it can see is broken (a code byte announcing more data
// than arrived before the delimiter, a frame longer than its buffer) and counts it; everything else
// is for the payload's CRC to judge.
//
// Encoding streams to a byte sink (a UART's write function) without a second buffer; decoding is a
// byte-at-a-time state machine writing into a caller-owned buffer. No heap, no allocation.
#pragma once

#include <cstddef>
#include <cstdint>

#include "span.h"
#include "status.h"

namespace edgelstm {

inline constexpr std::uint8_t kCobsDelimiter = 0x00;

// The most bytes COBS turns `frame_bytes` bytes into, delimiters not included: one code byte per
// 254 data bytes, plus one. Reached by 254 n nonzero bytes followed by a zero.
constexpr std::size_t cobs_encoded_bytes_max(std::size_t frame_bytes) {
  return frame_bytes + frame_bytes / 254 + 1;
}

// The most bytes a frame takes on the line: encoded, with a delimiter before and after. The leading
// delimiter ends whatever a receiver had half-read (noise at start-up, a cut frame), so that garbage
// is refused alone and never glued to the front of this frame.
constexpr std::size_t cobs_frame_bytes_max(std::size_t frame_bytes) {
  return cobs_encoded_bytes_max(frame_bytes) + 2;
}

// Writes `frame` COBS-encoded, between two delimiters, through `put(std::uint8_t)`. Returns the
// number of bytes written (at most cobs_frame_bytes_max(frame.size())). Each group of up to 254
// nonzero bytes is scanned once to find its length (the code byte that precedes it), then written.
template <typename ByteSink>
std::size_t write_cobs_frame(Span<const std::uint8_t> frame, ByteSink&& put) {
  put(kCobsDelimiter);
  std::size_t written = 1;
  const std::size_t size = frame.size();
  std::size_t start = 0;
  for (;;) {
    // The group: the nonzero bytes from `start` up to a zero, the frame's end, or 254 of them.
    std::size_t length = 0;
    while (length < 254 && start + length < size && frame[start + length] != 0) ++length;
    put(static_cast<std::uint8_t>(length + 1));
    for (std::size_t k = 0; k < length; ++k) put(frame[start + k]);
    written += length + 1;
    start += length;
    if (start == size) break;       // the frame ends with this group
    if (length < 254) ++start;      // the zero this group's code stands for (a full group, code
                                    // 255, stands for none); a zero at the very end leaves an
                                    // empty last group, code 1
  }
  put(kCobsDelimiter);
  return written + 1;
}

// COBS-encodes `frame` with its two delimiters into `out`. kBufferTooSmall (nothing written past
// out's end; out's contents unspecified) unless out.size() >= the bytes needed, which is at most
// cobs_frame_bytes_max(frame.size()); on kOk `*written` is the byte count.
[[nodiscard]] inline Status encode_cobs_frame(Span<const std::uint8_t> frame, Span<std::uint8_t> out,
                                              std::size_t* written) {
  if (out.size() < cobs_frame_bytes_max(frame.size())) {
    // Exact need: the count the sink would write. Measured first so a short buffer is never overrun.
    std::size_t needed = 0;
    (void)write_cobs_frame(frame, [&needed](std::uint8_t) { ++needed; });
    if (out.size() < needed) return Status::kBufferTooSmall;
  }
  std::size_t position = 0;
  *written = write_cobs_frame(frame, [&out, &position](std::uint8_t byte) { out[position++] = byte; });
  return Status::kOk;
}

// What feeding one byte to a CobsDecoder produced.
enum class [[nodiscard]] CobsEvent : std::uint8_t {
  kNone,     // nothing yet (inside a frame, or an idle delimiter)
  kFrame,    // a delimiter ended a well-formed frame: frame() holds it until the next push
  kRefused,  // a delimiter ended a frame that was broken (truncated group) or too long: dropped
};

// Decodes a byte stream into frames, one byte at a time, into a caller-owned buffer; frames longer
// than the buffer are refused (and the rest of them skipped up to the next delimiter). A frame is
// "well-formed" when its COBS structure is: whether it is intact is for its own check to say.
class CobsDecoder {
 public:
  explicit CobsDecoder(Span<std::uint8_t> buffer) : buffer_(buffer) {}

  CobsEvent push(std::uint8_t byte) {
    if (byte == kCobsDelimiter) return end_of_frame();
    if (state_ == State::kSkipping) return CobsEvent::kNone;
    if (group_remaining_ == 0) {
      // A code byte. The group before it, if shorter than 254, stood for a zero: now that the frame
      // goes on, that zero is data.
      if (zero_pending_ && !append(0)) return CobsEvent::kNone;
      group_remaining_ = static_cast<std::uint8_t>(byte - 1);
      zero_pending_ = byte != 0xFF;
      state_ = State::kInFrame;
      return CobsEvent::kNone;
    }
    --group_remaining_;
    (void)append(byte);
    return CobsEvent::kNone;
  }

  // The frame the last kFrame event announced (valid until the next push).
  Span<const std::uint8_t> frame() const { return Span<const std::uint8_t>(buffer_.data(), frame_size_); }

  // Counters since construction, for a link's statistics: one per kFrame or kRefused event.
  std::uint32_t frames() const { return frames_; }
  std::uint32_t refused_truncated() const { return refused_truncated_; }
  std::uint32_t refused_too_long() const { return refused_too_long_; }

  // Forgets a half-received frame (e.g. after a link reset); the counters stay.
  void reset() {
    state_ = State::kIdle;
    length_ = 0;
    group_remaining_ = 0;
    zero_pending_ = false;
  }

 private:
  enum class State : std::uint8_t { kIdle, kInFrame, kSkipping };

  bool append(std::uint8_t byte) {
    if (length_ == buffer_.size()) {
      state_ = State::kSkipping;  // the rest of it is skipped; refused at its delimiter
      return false;
    }
    buffer_[length_++] = byte;
    return true;
  }

  CobsEvent end_of_frame() {
    const State state = state_;
    const bool complete = group_remaining_ == 0;
    const std::size_t length = length_;
    reset();
    switch (state) {
      case State::kIdle:
        return CobsEvent::kNone;  // back-to-back delimiters: an idle line, not an empty frame
      case State::kSkipping:
        ++refused_too_long_;
        return CobsEvent::kRefused;
      case State::kInFrame:
        break;
    }
    if (!complete) {
      ++refused_truncated_;
      return CobsEvent::kRefused;
    }
    frame_size_ = length;
    ++frames_;
    return CobsEvent::kFrame;
  }

  Span<std::uint8_t> buffer_;
  std::size_t length_ = 0;
  std::size_t frame_size_ = 0;
  State state_ = State::kIdle;
  std::uint8_t group_remaining_ = 0;  // data bytes still to come in the current group
  bool zero_pending_ = false;         // the current group stands for a zero if the frame goes on
  std::uint32_t frames_ = 0;
  std::uint32_t refused_truncated_ = 0;
  std::uint32_t refused_too_long_ = 0;
};

}  // namespace edgelstm
