#include "distributed/in_process_transport.h"

#include <chrono>

namespace edgelstm::distributed {

void InProcessNetwork::deliver(std::size_t to, Span<const std::uint8_t> frame) {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (to >= mailboxes_.size()) return;
    mailboxes_[to].frames.emplace_back(frame.begin(), frame.end());
  }
  arrived_.notify_all();
}

std::size_t InProcessNetwork::take(std::size_t node, int timeout_ms,
                                   const std::function<void(Span<const std::uint8_t>)>& on_frame) {
  std::deque<std::vector<std::uint8_t>> frames;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    arrived_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return !mailboxes_[node].frames.empty(); });
    frames.swap(mailboxes_[node].frames);
  }
  for (const auto& frame : frames) on_frame(Span<const std::uint8_t>(frame.data(), frame.size()));
  return frames.size();
}

}  // namespace edgelstm::distributed
