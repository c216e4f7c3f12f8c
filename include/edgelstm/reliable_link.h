// A reliable, ordered link over a transport that may lose, duplicate or reorder frames (UDP,
// ESP-NOW, a noisy UART): sequence numbers, cumulative acknowledgements and bounded go-back-N
// retransmission, heap-free, with time supplied by the caller's clock (milliseconds; wrap-safe).
//
// The sender numbers its sequenced frames 1, 2, ... and keeps each one (in caller memory) until the
// receiver acknowledges it. The receiver delivers only the next number in order: a lower number is
// a duplicate, a higher one arrived ahead of a lost frame; both are dropped and counted, and both
// make it acknowledge again what it has. When the oldest unacknowledged frame has waited
// `retransmit_ms`, the sender sends every held frame again, in order; after `max_retransmits` such
// rounds without any progress the link reports failure (and stops retransmitting) instead of
// trying forever. Over MQTT the broker already delivers in order; the same link then only removes
// the duplicates a reconnect can cause.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "frame.h"
#include "span.h"

namespace edgelstm {

struct LinkTimers {
  std::uint32_t retransmit_ms = 100;   // wait for an acknowledgement before sending again
  std::uint32_t max_retransmits = 20;  // rounds without progress before the link is declared failed
};

// One held frame: its length, then its bytes.
inline constexpr std::size_t kLinkSlotBytes = 2 + kMaxFrameBytes;

// Sequence numbers run 1 .. 2^32 - 1 and then start at 1 again (0 marks frames outside the
// sequence). Comparisons are serial-number arithmetic (as RFC 1982): a number within 2^31 - 1
// after another is later, so a link that wraps keeps its order.
constexpr std::uint32_t next_sequence_after(std::uint32_t sequence) { return sequence == 0xFFFFFFFFu ? 1u : sequence + 1u; }
// Steps from sequence `from` forward to `to` (both non-zero) in the cycle 1 .. 2^32 - 1.
constexpr std::uint32_t sequence_distance(std::uint32_t from, std::uint32_t to) {
  return to >= from ? to - from : to - from - 1u;
}
inline constexpr std::uint32_t kSequenceHalfRange = 0x7FFFFFFFu;

enum class [[nodiscard]] LinkState : std::uint8_t { kOk, kFailed };

class LinkSender {
 public:
  // `storage` holds capacity x kLinkSlotBytes bytes (capacity frames may be unacknowledged).
  void bind(Span<std::uint8_t> storage) {
    storage_ = storage.data();
    capacity_ = storage.size() / kLinkSlotBytes;
    reset();
  }
  // Forgets everything held and numbers from `first` again (the peer restarted; tests start near
  // the wrap).
  void reset(std::uint32_t first = 1) {
    next_ = first == 0 ? 1 : first;
    held_ = 0;
    first_slot_ = 0;
    rounds_ = 0;
    failed_ = false;
  }

  // The peer is heard from again after being given up: retransmit what is held.
  void revive() {
    failed_ = false;
    rounds_ = 0;
  }

  std::uint32_t next_sequence() const { return next_; }
  std::size_t free_slots() const { return failed_ ? 0 : capacity_ - held_; }
  std::size_t held() const { return held_; }
  bool failed() const { return failed_; }
  std::uint32_t retransmitted_frames() const { return retransmitted_; }

  // Keeps `frame`, encoded with sequence next_sequence(), until it is acknowledged; the caller
  // sends it. False (nothing kept) when no slot is free or the frame is too long.
  bool store(Span<const std::uint8_t> frame, std::uint32_t now_ms) {
    if (held_ == capacity_ || failed_ || frame.size() > kMaxFrameBytes) return false;
    std::uint8_t* slot = slot_at(held_);
    slot[0] = static_cast<std::uint8_t>(frame.size());
    slot[1] = static_cast<std::uint8_t>(frame.size() >> 8);
    std::memcpy(slot + 2, frame.data(), frame.size());
    if (held_ == 0) {
      sent_ms_ = now_ms;  // the retransmit clock runs for the oldest frame
      first_ = next_;
    }
    ++held_;
    next_ = next_sequence_after(next_);
    return true;
  }

  // The receiver has every frame up to `sequence`: frees them. Progress restarts the clock.
  void acknowledge(std::uint32_t sequence, std::uint32_t now_ms) {
    // Nothing new (0: nothing delivered yet; a number before the oldest held or not yet sent).
    if (held_ == 0 || sequence == 0 || sequence_distance(first_, sequence) >= held_) return;
    const std::size_t freed = sequence_distance(first_, sequence) + 1u;
    for (std::size_t k = 0; k < freed; ++k) first_ = next_sequence_after(first_);
    first_slot_ = (first_slot_ + freed) % capacity_;
    held_ -= freed;
    rounds_ = 0;
    sent_ms_ = now_ms;
  }

  // Sends every held frame again (oldest first) through send(Span<const uint8_t>) when the oldest
  // has waited retransmit_ms; kFailed once max_retransmits rounds brought no acknowledgement.
  template <typename Send>
  LinkState poll(std::uint32_t now_ms, const LinkTimers& timers, Send&& send) {
    if (failed_) return LinkState::kFailed;
    if (held_ == 0 || now_ms - sent_ms_ < timers.retransmit_ms) return LinkState::kOk;
    if (rounds_ >= timers.max_retransmits) {
      failed_ = true;
      return LinkState::kFailed;
    }
    ++rounds_;
    sent_ms_ = now_ms;
    for (std::size_t k = 0; k < held_; ++k) {
      const std::uint8_t* slot = slot_at(k);
      send(Span<const std::uint8_t>(slot + 2, static_cast<std::size_t>(slot[0] | (slot[1] << 8))));
      ++retransmitted_;
    }
    return LinkState::kOk;
  }

 private:
  std::uint8_t* slot_at(std::size_t k) const { return storage_ + ((first_slot_ + k) % capacity_) * kLinkSlotBytes; }

  std::uint8_t* storage_ = nullptr;
  std::size_t capacity_ = 0;
  std::uint32_t next_ = 1;
  std::uint32_t first_ = 1;  // the oldest held frame's number (when held_ > 0)
  std::size_t held_ = 0;
  std::size_t first_slot_ = 0;
  std::uint32_t sent_ms_ = 0;
  std::uint32_t rounds_ = 0;
  std::uint32_t retransmitted_ = 0;
  bool failed_ = false;
};

enum class [[nodiscard]] LinkOrder : std::uint8_t {
  kNext,       // the number expected: deliver it, then call accept()
  kDuplicate,  // already delivered (or 0, which no sequenced frame carries)
  kAhead,      // a frame before it is missing (lost or overtaken): dropped, the sender resends
};

class LinkReceiver {
 public:
  // Expects `first` next (the sender's reset(first)).
  void reset(std::uint32_t first = 1) {
    expected_ = first == 0 ? 1 : first;
    delivered_ = 0;
    ack_due_ = false;
  }
  LinkOrder classify(std::uint32_t sequence) {
    if (sequence == expected_) return LinkOrder::kNext;
    ack_due_ = true;  // tell the sender where we are
    if (sequence == 0) return LinkOrder::kDuplicate;
    return sequence_distance(expected_, sequence) <= kSequenceHalfRange ? LinkOrder::kAhead : LinkOrder::kDuplicate;
  }
  void accept() {
    delivered_ = expected_;
    expected_ = next_sequence_after(expected_);
    ack_due_ = true;
  }
  // The acknowledgement to send (every frame up to it was delivered; 0: none yet), and whether
  // one is due.
  std::uint32_t acknowledged() const { return delivered_; }
  bool ack_due() const { return ack_due_; }
  void ack_sent() { ack_due_ = false; }

 private:
  std::uint32_t expected_ = 1;
  std::uint32_t delivered_ = 0;
  bool ack_due_ = false;
};

}  // namespace edgelstm
