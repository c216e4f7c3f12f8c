// An in-process transport for the distributed tests, heap-free so the same tests run on the
// emulated microcontrollers: every node's session in one program, frames queued in a fixed ring,
// a simulated millisecond clock, and optional faults (loss, duplication, reordering, corruption)
// drawn from a seeded generator. A node can be taken down (its frames are lost, it is not polled)
// and replaced by a fresh session, as a device that crashed and rebooted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "edgelstm/frame.h"
#include "edgelstm/partition.h"
#include "edgelstm/random.h"
#include "edgelstm/session_links.h"
#include "edgelstm/span.h"

namespace edgelstm::test {

struct BusFaults {
  std::uint32_t drop_per_mille = 0;       // frames lost
  std::uint32_t duplicate_per_mille = 0;  // frames delivered twice
  std::uint32_t reorder_per_mille = 0;    // frames held back behind the next one
  std::uint32_t corrupt_per_mille = 0;    // one byte of the frame flipped (the CRC catches it)
  std::uint64_t seed = 1;
};

// Holds any NodeSession type (float and integer nodes share one bus; tests run one cluster at a
// time).
class InProcessBus {
 public:
  struct Counts {
    std::uint32_t sent = 0, delivered = 0, dropped = 0, duplicated = 0, reordered = 0, corrupted = 0, to_dead = 0;
    std::uint32_t overflowed = 0;
  };

  static constexpr std::size_t kNodes = kMaxNodes;
  static constexpr std::size_t kCapacity = 256;

  explicit InProcessBus(BusFaults faults = BusFaults{}) : faults_(faults), random_(faults.seed) { reset(faults); }

  // Detaches every node and empties the queue (in place: the bus is too large for a stack).
  void reset(BusFaults faults = BusFaults{}) {
    faults_ = faults;
    random_ = Random(faults.seed);
    for (std::size_t k = 0; k < kNodes; ++k) {
      endpoints_[k] = Endpoint{this, k};
      sessions_[k] = Attached{};
      alive_[k] = false;
    }
    head_ = count_ = 0;
    now_ = 0;
    counts_ = Counts{};
  }

  // The output function and context a session of node `node` binds with.
  static void output(void* context, std::size_t peer, Span<const std::uint8_t> frame) {
    auto* endpoint = static_cast<Endpoint*>(context);
    endpoint->bus->enqueue(endpoint->node, peer, frame);
  }
  void* context(std::size_t node) { return &endpoints_[node]; }

  template <typename Session>
  void attach(std::size_t node, Session* session) {
    sessions_[node].session = session;
    sessions_[node].receive = [](void* s, Span<const std::uint8_t> frame, std::uint32_t now) {
      (void)static_cast<Session*>(s)->receive(frame, now);
    };
    sessions_[node].poll = [](void* s, std::uint32_t now) { return static_cast<Session*>(s)->poll(now); };
    alive_[node] = true;
  }
  // The node stops: frames to it are lost and it is not polled until attached again.
  void take_down(std::size_t node) { alive_[node] = false; }
  bool alive(std::size_t node) const { return alive_[node]; }
  void set_faults(const BusFaults& faults) { faults_ = faults; }
  std::uint32_t now() const { return now_; }
  const Counts& counts() const { return counts_; }

  // Delivers what is queued and polls every live session (draining its events into
  // on_event(node, event)); when nothing moved, the clock advances by one millisecond. Repeats
  // until done() or `limit_ms` of simulated time passed. Returns whether done() became true.
  template <typename Done, typename OnEvent>
  bool run(Done&& done, OnEvent&& on_event, std::uint32_t limit_ms = 20000) {
    const std::uint32_t end = now_ + limit_ms;
    while (now_ < end) {
      if (done()) return true;
      const bool moved = deliver_all();
      for (std::size_t k = 0; k < kNodes; ++k) {
        Attached& a = sessions_[k];
        if (a.session == nullptr || !alive_[k]) continue;
        for (SessionEvent event = a.poll(a.session, now_); event.kind != SessionEventKind::kNone;
             event = a.poll(a.session, now_)) {
          on_event(k, event);
        }
      }
      if (!moved && count_ == 0) ++now_;
    }
    return done();
  }

 private:
  struct Endpoint {
    InProcessBus* bus = nullptr;
    std::size_t node = 0;
  };
  struct Attached {
    void* session = nullptr;
    void (*receive)(void*, Span<const std::uint8_t>, std::uint32_t) = nullptr;
    SessionEvent (*poll)(void*, std::uint32_t) = nullptr;
  };
  struct Queued {
    std::uint8_t from = 0, to = 0;
    std::uint16_t size = 0;
    std::uint8_t bytes[kMaxFrameBytes];
  };

  bool chance(std::uint32_t per_mille) { return per_mille != 0 && random_.next_u32() % 1000 < per_mille; }

  void enqueue(std::size_t from, std::size_t to, Span<const std::uint8_t> frame) {
    ++counts_.sent;
    if (chance(faults_.drop_per_mille)) {
      ++counts_.dropped;
      return;
    }
    const int copies = chance(faults_.duplicate_per_mille) ? 2 : 1;
    if (copies == 2) ++counts_.duplicated;
    for (int c = 0; c < copies; ++c) {
      if (count_ == kCapacity) {  // a full queue loses the frame, as a full radio buffer would
        ++counts_.overflowed;
        continue;
      }
      Queued& q = queue_[(head_ + count_++) % kCapacity];
      q.from = static_cast<std::uint8_t>(from);
      q.to = static_cast<std::uint8_t>(to);
      q.size = static_cast<std::uint16_t>(frame.size());
      std::memcpy(q.bytes, frame.data(), frame.size());
      if (chance(faults_.corrupt_per_mille) && q.size > 0) {
        q.bytes[random_.next_u32() % q.size] ^= static_cast<std::uint8_t>(1u << (random_.next_u32() % 8));
        ++counts_.corrupted;
      }
    }
    // Held back: swap with the frame queued before it, so the two arrive in the other order.
    if (count_ >= 2 && chance(faults_.reorder_per_mille)) {
      Queued& last = queue_[(head_ + count_ - 1) % kCapacity];
      Queued& before = queue_[(head_ + count_ - 2) % kCapacity];
      Queued swap = last;
      last = before;
      before = swap;
      ++counts_.reordered;
    }
  }

  bool deliver_all() {
    const std::size_t n = count_;
    for (std::size_t k = 0; k < n; ++k) {
      const Queued frame = queue_[head_];
      head_ = (head_ + 1) % kCapacity;
      --count_;
      const Attached& a = sessions_[frame.to];
      if (a.session == nullptr || !alive_[frame.to]) {
        ++counts_.to_dead;
        continue;
      }
      ++counts_.delivered;
      a.receive(a.session, Span<const std::uint8_t>(frame.bytes, frame.size), now_);
    }
    return n != 0;
  }

  BusFaults faults_;
  Random random_;
  Endpoint endpoints_[kNodes];
  Attached sessions_[kNodes];
  bool alive_[kNodes] = {};
  Queued queue_[kCapacity];
  std::size_t head_ = 0, count_ = 0;
  std::uint32_t now_ = 0;
  Counts counts_{};
};

}  // namespace edgelstm::test
