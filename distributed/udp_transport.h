// UDP datagrams on loopback, standing for ESP-NOW: one datagram per frame (at most 250 bytes, as
// an ESP-NOW frame), no connection, no delivery guarantee (the node session's links add sequence
// numbers, acknowledgements and bounded retransmission). Node k of a cluster at base port P
// listens on 127.0.0.1:P+k.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "distributed/transport.h"

namespace edgelstm::distributed {

class UdpTransport : public Transport {
 public:
  // Binds 127.0.0.1:base_port+index; throws host::InputError when it cannot (port in use).
  UdpTransport(std::size_t index, int base_port);
  ~UdpTransport() override;
  UdpTransport(const UdpTransport&) = delete;
  UdpTransport& operator=(const UdpTransport&) = delete;

  void send(std::size_t peer, Span<const std::uint8_t> frame) override;
  std::size_t receive(int timeout_ms, const std::function<void(Span<const std::uint8_t>)>& on_frame) override;
  std::string describe() const override;

  std::uint64_t send_errors() const { return send_errors_; }

 private:
  std::size_t index_;
  int base_port_;
  int socket_ = -1;
  std::uint64_t send_errors_ = 0;
};

// A base port P such that P .. P+nodes-1 are free UDP ports on loopback right now.
int free_udp_base_port(std::size_t nodes);

}  // namespace edgelstm::distributed
