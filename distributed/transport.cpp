#include "distributed/transport.h"

#include <cstdio>

namespace edgelstm::distributed {

bool FaultyTransport::chance(double probability) {
  return probability > 0 && static_cast<double>(random_.next_u32()) / 4294967296.0 < probability;
}

void FaultyTransport::send(std::size_t peer, Span<const std::uint8_t> frame) {
  ++counts_.sent;
  if (chance(faults_.loss)) {
    ++counts_.dropped;
    return;
  }
  if (!holding_ && chance(faults_.reordering)) {  // overtaken by the next frame
    holding_ = true;
    held_peer_ = peer;
    held_.assign(frame.begin(), frame.end());
    ++counts_.reordered;
    return;
  }
  inner_.send(peer, frame);
  if (chance(faults_.duplication)) {
    ++counts_.duplicated;
    inner_.send(peer, frame);
  }
  release_held();
}

void FaultyTransport::release_held() {
  if (!holding_) return;
  holding_ = false;
  inner_.send(held_peer_, Span<const std::uint8_t>(held_.data(), held_.size()));
}

std::size_t FaultyTransport::receive(int timeout_ms, const std::function<void(Span<const std::uint8_t>)>& on_frame) {
  // A frame held back while nothing else was sent goes out now (late, not lost).
  release_held();
  return inner_.receive(timeout_ms, on_frame);
}

std::string FaultyTransport::describe() const {
  char text[160];
  std::snprintf(text, sizeof text, " with faults (loss %.3g, duplication %.3g, reordering %.3g)", faults_.loss,
                faults_.duplication, faults_.reordering);
  return inner_.describe() + text;
}

}  // namespace edgelstm::distributed
