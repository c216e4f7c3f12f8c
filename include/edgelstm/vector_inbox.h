// VectorInbox: the vectors one peer has sent a node and the node has not used yet, reassembled
// from their fragments, first in first out, in a caller-owned byte buffer (no heap).
//
// The link delivers a peer's frames in order, so a vector's fragments arrive one after another:
// fragment 0 opens an entry (reserving room for every fragment), the next ones fill it, the last
// completes it. A peer can be at most a few vectors ahead of what the node is waiting for (the
// protocol bounds it; see node_session.h), so a small FIFO of entries suffices. A fragment that
// does not continue the open entry, or that does not fit, is refused and counted; nothing already
// held changes. A vector left incomplete (its last fragments were dropped as stale, or its sender
// restarted) can never be completed, since the link delivers in order: the next vector's first
// fragment discards it (counted by the caller) instead of waiting for it forever.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "frame.h"
#include "span.h"

namespace edgelstm {

inline constexpr std::size_t kInboxEntries = 4;

// Bytes a vector of `fragments` fragments of `encoding` reserves in an inbox (whole fragments: the
// last one's length is not known when the first arrives).
constexpr std::size_t reserved_bytes(PayloadEncoding encoding, std::size_t fragments) {
  return fragments * values_per_fragment(encoding) * encoded_value_bytes(encoding);
}

// Bytes an inbox needs to hold kInboxEntries vectors of up to `values` values in any encoding: the
// most fragments (4-byte values) times the most bytes a fragment reserves (2-byte values: 109 x 2
// = 218 bytes, where 54 floats take 216; sized for floats alone, an inbox held 3 Q15 vectors).
constexpr std::size_t inbox_bytes(std::size_t values) {
  std::size_t per_fragment = 0;
  for (std::uint8_t e = 0; e <= kLastPayloadEncoding; ++e) {
    const std::size_t bytes = reserved_bytes(static_cast<PayloadEncoding>(e), 1);
    per_fragment = bytes > per_fragment ? bytes : per_fragment;
  }
  return kInboxEntries * fragment_count(PayloadEncoding::kFloat32, values) * per_fragment;
}

struct InboxEntry {
  FrameKind kind = FrameKind::kInput;
  std::uint32_t round = 0;
  std::uint16_t index = 0;
  PayloadEncoding encoding = PayloadEncoding::kFloat32;
  std::uint8_t flags = 0;
  std::uint8_t fragments = 0;
  std::uint8_t next_fragment = 0;
  std::size_t offset = 0;    // in the buffer
  std::size_t reserved = 0;  // bytes reserved for all fragments
  std::size_t bytes = 0;     // bytes received so far
  bool complete() const { return next_fragment == fragments; }
  std::size_t values() const { return bytes / encoded_value_bytes(encoding); }
};

enum class [[nodiscard]] InboxResult : std::uint8_t {
  kTaken,
  kNoRoom,      // every entry is used, or the buffer has no contiguous room for the vector
  kOutOfOrder,  // not the next fragment of the open vector, or a continuation with none open
};

class VectorInbox {
 public:
  void bind(Span<std::uint8_t> buffer) {
    buffer_ = buffer.data();
    capacity_ = buffer.size();
    clear();
  }
  void clear() {
    count_ = 0;
    first_ = 0;
  }

  // Whether `header`'s fragment would be taken (checked before the link accepts the frame, so a
  // refused frame is not acknowledged and comes again).
  // (A first fragment is judged as if an incomplete newest vector were already discarded.)
  InboxResult can_take(const FrameHeader& header) const {
    if (header.fragment == 0) {
      const std::size_t kept = count_ - (open_incomplete() ? 1u : 0u);
      if (kept == kInboxEntries) return InboxResult::kNoRoom;
      std::size_t offset = 0;
      return find_room(reserve_for(header), kept, &offset) ? InboxResult::kTaken : InboxResult::kNoRoom;
    }
    if (count_ == 0) return InboxResult::kOutOfOrder;
    const InboxEntry& open = entry(count_ - 1);
    if (open.complete() || open.kind != header.kind || open.round != header.round || open.index != header.index ||
        open.encoding != header.encoding || open.fragments != header.fragments || open.next_fragment != header.fragment ||
        open.bytes + header.payload_bytes > open.reserved) {
      return InboxResult::kOutOfOrder;
    }
    return InboxResult::kTaken;
  }

  // Takes the fragment; *discarded (when given) says whether an incomplete vector was dropped
  // for it.
  InboxResult take(const FrameHeader& header, Span<const std::uint8_t> payload, bool* discarded = nullptr) {
    const InboxResult result = can_take(header);
    if (discarded != nullptr) *discarded = false;
    if (result != InboxResult::kTaken) return result;
    if (header.fragment == 0) {
      if (discard_incomplete() && discarded != nullptr) *discarded = true;
      InboxEntry& e = slots_[(first_ + count_) % kInboxEntries];
      e.kind = header.kind;
      e.round = header.round;
      e.index = header.index;
      e.encoding = header.encoding;
      e.flags = header.flags;
      e.fragments = header.fragments;
      e.next_fragment = 0;
      e.reserved = reserve_for(header);
      (void)find_room(e.reserved, count_, &e.offset);
      e.bytes = 0;
      ++count_;
    }
    InboxEntry& open = slots_[(first_ + count_ - 1) % kInboxEntries];
    if (!payload.empty()) std::memcpy(buffer_ + open.offset + open.bytes, payload.data(), payload.size());
    open.bytes += payload.size();
    ++open.next_fragment;
    return InboxResult::kTaken;
  }

  // The oldest vector, if any (it may still be incomplete).
  const InboxEntry* front() const { return count_ == 0 ? nullptr : &entry(0); }
  const std::uint8_t* front_bytes() const { return buffer_ + entry(0).offset; }
  void pop() {
    if (count_ == 0) return;
    first_ = (first_ + 1) % kInboxEntries;
    --count_;
  }
  // Drops every vector of a round before `round` (after a reset). Later fragments of a dropped
  // incomplete vector are then refused as out of order.
  std::size_t drop_before(std::uint32_t round) {
    std::size_t dropped = 0;
    InboxEntry kept[kInboxEntries];
    std::size_t kept_count = 0;
    for (std::size_t k = 0; k < count_; ++k) {
      const InboxEntry& e = entry(k);
      if (e.round < round) {
        ++dropped;
      } else {
        kept[kept_count++] = e;
      }
    }
    first_ = 0;
    count_ = kept_count;
    for (std::size_t k = 0; k < kept_count; ++k) slots_[k] = kept[k];
    return dropped;
  }
  std::size_t size() const { return count_; }

  // Drops the newest vector if it is still incomplete; whether it did.
  bool discard_incomplete() {
    if (!open_incomplete()) return false;
    --count_;
    return true;
  }

 private:
  bool open_incomplete() const { return count_ > 0 && !entry(count_ - 1).complete(); }
  static std::size_t reserve_for(const FrameHeader& header) { return reserved_bytes(header.encoding, header.fragments); }
  const InboxEntry& entry(std::size_t k) const { return slots_[(first_ + k) % kInboxEntries]; }
  // Contiguous room after the newest of the first `count` entries, or (wrapping) before the oldest.
  bool find_room(std::size_t bytes, std::size_t count, std::size_t* offset) const {
    if (count == 0) {
      *offset = 0;
      return bytes <= capacity_;
    }
    const InboxEntry& oldest = entry(0);
    const InboxEntry& newest = entry(count - 1);
    const std::size_t end = newest.offset + newest.reserved;
    if (newest.offset >= oldest.offset) {  // entries run from oldest.offset to end
      if (capacity_ - end >= bytes) {
        *offset = end;
        return true;
      }
      if (oldest.offset >= bytes) {  // wrap to the start
        *offset = 0;
        return true;
      }
      return false;
    }
    if (oldest.offset - end >= bytes) {  // wrapped: room between the newest's end and the oldest
      *offset = end;
      return true;
    }
    return false;
  }

  std::uint8_t* buffer_ = nullptr;
  std::size_t capacity_ = 0;
  InboxEntry slots_[kInboxEntries];
  std::size_t first_ = 0;
  std::size_t count_ = 0;
};

}  // namespace edgelstm
