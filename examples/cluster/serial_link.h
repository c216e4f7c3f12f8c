// Frames over one of the board's serial lines: the core's COBS framing (edgelstm/cobs_framing.h)
// on top of board.h. Sending encodes straight into the UART (no second buffer); receiving feeds the
// bytes the UART interrupt collected to a decoder until a frame is complete. What a frame contains,
// and whether it is intact, is for the caller's protocol (and its CRC).
#pragma once

#include <cstddef>
#include <cstdint>

#include "board.h"
#include "edgelstm/cobs_framing.h"
#include "edgelstm/span.h"

namespace cluster {

template <std::size_t kMaxFrameBytes>
class SerialLink {
 public:
  explicit SerialLink(std::size_t port = 0)
      : port_(port), decoder_(edgelstm::Span<std::uint8_t>(frame_, kMaxFrameBytes)) {}
  SerialLink(const SerialLink&) = delete;  // the decoder points into this object
  SerialLink& operator=(const SerialLink&) = delete;

  std::size_t port() const { return port_; }
  void attach(std::size_t port) { port_ = port; }  // before any frame goes either way

  void send(edgelstm::Span<const std::uint8_t> frame) {
    // Bytes go to the UART in small batches so a busy transmitter is waited for once per batch.
    std::uint8_t batch[32];
    std::size_t count = 0;
    bytes_sent_ += edgelstm::write_cobs_frame(frame, [&](std::uint8_t byte) {
      batch[count++] = byte;
      if (count == sizeof batch) {
        board::serial_write(port_, batch, count);
        count = 0;
      }
    });
    board::serial_write(port_, batch, count);
    ++frames_sent_;
  }

  // The next well-formed frame among the bytes received so far, without waiting; an empty span
  // when there is none yet (an empty frame counts as none). The span is valid until the next call.
  edgelstm::Span<const std::uint8_t> poll() {
    for (;;) {
      while (pending_ < pending_count_) {
        if (decoder_.push(pending_bytes_[pending_++]) == edgelstm::CobsEvent::kFrame) return decoder_.frame();
      }
      pending_ = 0;
      pending_count_ = board::serial_read(port_, pending_bytes_, sizeof pending_bytes_);
      bytes_received_ += pending_count_;
      if (pending_count_ == 0) return {};
    }
  }

  std::uint32_t frames_sent() const { return frames_sent_; }
  std::uint32_t bytes_sent() const { return bytes_sent_; }
  std::uint32_t bytes_received() const { return bytes_received_; }
  // Frames the framing itself refused (truncated by a lost or corrupted byte, or too long).
  std::uint32_t frames_refused() const { return decoder_.refused_truncated() + decoder_.refused_too_long(); }

 private:
  std::size_t port_;
  std::uint8_t frame_[kMaxFrameBytes];
  edgelstm::CobsDecoder decoder_;
  std::uint8_t pending_bytes_[64];
  std::size_t pending_ = 0, pending_count_ = 0;
  std::uint32_t frames_sent_ = 0, bytes_sent_ = 0, bytes_received_ = 0;
};

// A frame from any of `links` (the first that has one, starting after the link that delivered
// last, so that no line starves the others), waiting asleep until `deadline_ms` at the latest.
// Returns the link's index in `links`, or -1 (and an empty frame) at the deadline.
template <typename Link, std::size_t kCount>
int receive_any(Link (&links)[kCount], std::size_t count, std::uint32_t deadline_ms,
                edgelstm::Span<const std::uint8_t>* frame, std::size_t* next_first) {
  for (;;) {
    for (std::size_t k = 0; k < count; ++k) {
      const std::size_t index = (*next_first + k) % count;
      *frame = links[index].poll();
      if (!frame->empty()) {
        *next_first = (index + 1) % count;
        return static_cast<int>(index);
      }
    }
    if (static_cast<std::int32_t>(board::milliseconds() - deadline_ms) >= 0) return -1;
    board::wait_for_frame(deadline_ms);
  }
}

}  // namespace cluster
