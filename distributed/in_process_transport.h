// Frames between nodes running as threads of one process (the host's unit tests): one mailbox per
// node, guarded by a mutex, woken by a condition variable.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "distributed/transport.h"

namespace edgelstm::distributed {

class InProcessNetwork {
 public:
  explicit InProcessNetwork(std::size_t nodes) : mailboxes_(nodes) {}
  void deliver(std::size_t to, Span<const std::uint8_t> frame);
  std::size_t take(std::size_t node, int timeout_ms, const std::function<void(Span<const std::uint8_t>)>& on_frame);

 private:
  struct Mailbox {
    std::deque<std::vector<std::uint8_t>> frames;
  };
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<Mailbox> mailboxes_;
};

class InProcessTransport : public Transport {
 public:
  InProcessTransport(InProcessNetwork& network, std::size_t index) : network_(network), index_(index) {}
  void send(std::size_t peer, Span<const std::uint8_t> frame) override { network_.deliver(peer, frame); }
  std::size_t receive(int timeout_ms, const std::function<void(Span<const std::uint8_t>)>& on_frame) override {
    return network_.take(index_, timeout_ms, on_frame);
  }
  std::string describe() const override { return "in-process"; }

 private:
  InProcessNetwork& network_;
  std::size_t index_;
};

}  // namespace edgelstm::distributed
