#include "distributed/udp_transport.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "edgelstm/frame.h"
#include "host/csv_reader.h"

namespace edgelstm::distributed {
namespace {

sockaddr_in loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

}  // namespace

UdpTransport::UdpTransport(std::size_t index, int base_port) : index_(index), base_port_(base_port) {
  socket_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (socket_ < 0) throw host::InputError(std::string("udp: cannot open a socket: ") + std::strerror(errno));
  const sockaddr_in address = loopback(base_port + static_cast<int>(index));
  if (::bind(socket_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const std::string reason = std::strerror(errno);
    ::close(socket_);
    throw host::InputError("udp: cannot bind 127.0.0.1:" + std::to_string(base_port + static_cast<int>(index)) + ": " +
                           reason);
  }
}

UdpTransport::~UdpTransport() {
  if (socket_ >= 0) ::close(socket_);
}

void UdpTransport::send(std::size_t peer, Span<const std::uint8_t> frame) {
  if (frame.size() > kMaxFrameBytes) {  // never: the session builds ESP-NOW sized frames
    ++send_errors_;
    return;
  }
  const sockaddr_in address = loopback(base_port_ + static_cast<int>(peer));
  // A full socket buffer or a peer that is down loses the datagram, as a radio would.
  if (::sendto(socket_, frame.data(), frame.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&address),
               sizeof address) < 0) {
    ++send_errors_;
  }
}

std::size_t UdpTransport::receive(int timeout_ms, const std::function<void(Span<const std::uint8_t>)>& on_frame) {
  pollfd ready{socket_, POLLIN, 0};
  if (::poll(&ready, 1, timeout_ms) <= 0) return 0;
  std::size_t count = 0;
  std::uint8_t buffer[2048];
  for (;;) {  // everything queued now, without waiting again
    const ssize_t size = ::recv(socket_, buffer, sizeof buffer, MSG_DONTWAIT);
    if (size < 0) break;
    on_frame(Span<const std::uint8_t>(buffer, static_cast<std::size_t>(size)));
    ++count;
  }
  return count;
}

std::string UdpTransport::describe() const {
  return "udp 127.0.0.1:" + std::to_string(base_port_ + static_cast<int>(index_));
}

int free_udp_base_port(std::size_t nodes) {
  std::random_device device;
  std::mt19937 generator(device());
  std::uniform_int_distribution<int> pick(20000, 60000);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int base = pick(generator);
    bool free = true;
    for (std::size_t k = 0; k < nodes && free; ++k) {
      const int probe = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      const sockaddr_in address = loopback(base + static_cast<int>(k));
      free = probe >= 0 && ::bind(probe, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
      if (probe >= 0) ::close(probe);
    }
    if (free) return base;
  }
  throw host::InputError("udp: no free range of loopback ports found");
}

}  // namespace edgelstm::distributed
