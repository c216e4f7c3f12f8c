#include "host/mqtt_network_loop.h"

#include <mosquitto.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>

#include "host/csv_reader.h"

namespace edgelstm::host {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

MqttNetworkLoop::MqttNetworkLoop() {
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) throw InputError("mqtt: cannot create the network loop's event descriptor");
  thread_ = std::thread([this] { run(); });
}

MqttNetworkLoop::~MqttNetworkLoop() {
  stop_.store(true);
  wake();
  thread_.join();
  ::close(wake_fd_);
}

void MqttNetworkLoop::wake() {
  const std::uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
}

void MqttNetworkLoop::add(mosquitto* handle) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    clients_.push_back({handle, true, 0});
  }
  wake();
}

void MqttNetworkLoop::remove(mosquitto* handle) {
  std::lock_guard<std::mutex> lock(mutex_);  // the thread holds it while it touches clients
  for (std::size_t k = 0; k < clients_.size(); ++k) {
    if (clients_[k].handle == handle) {
      clients_.erase(clients_.begin() + static_cast<std::ptrdiff_t>(k));
      return;
    }
  }
}

void MqttNetworkLoop::set_reconnect(mosquitto* handle, bool reconnect) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (Entry& e : clients_) {
    if (e.handle == handle) e.reconnect = reconnect;
  }
}

void MqttNetworkLoop::run() {
  std::vector<pollfd> fds;
  std::vector<mosquitto*> owners;
  double next_misc = 0;
  while (!stop_.load()) {
    fds.assign(1, pollfd{wake_fd_, POLLIN, 0});
    owners.assign(1, nullptr);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (const Entry& e : clients_) {
        const int socket = mosquitto_socket(e.handle);
        if (socket < 0) continue;
        fds.push_back(pollfd{socket, static_cast<short>(POLLIN | (mosquitto_want_write(e.handle) ? POLLOUT : 0)), 0});
        owners.push_back(e.handle);
      }
    }
    ::poll(fds.data(), fds.size(), 100);
    if (fds[0].revents & POLLIN) {
      std::uint64_t count = 0;
      (void)!::read(wake_fd_, &count, sizeof count);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    for (std::size_t k = 1; k < fds.size(); ++k) {
      bool present = false;  // removed meanwhile: not to be touched
      for (const Entry& e : clients_) present = present || e.handle == owners[k];
      if (!present || mosquitto_socket(owners[k]) != fds[k].fd) continue;
      if (fds[k].revents & (POLLIN | POLLHUP | POLLERR)) (void)mosquitto_loop_read(owners[k], 64);
      if (mosquitto_socket(owners[k]) >= 0 && (fds[k].revents & POLLOUT)) (void)mosquitto_loop_write(owners[k], 64);
    }
    // A publish queued by another thread since the poll began: send it now rather than in 100 ms.
    for (const Entry& e : clients_) {
      if (mosquitto_socket(e.handle) >= 0 && mosquitto_want_write(e.handle)) (void)mosquitto_loop_write(e.handle, 64);
    }
    const double now = now_seconds();
    if (now < next_misc) continue;
    next_misc = now + 0.25;
    for (Entry& e : clients_) {
      if (mosquitto_socket(e.handle) >= 0) {
        (void)mosquitto_loop_misc(e.handle);  // keepalive PINGs, retries
      } else if (e.reconnect && now >= e.next_attempt) {
        e.next_attempt = now + 1.0;  // as libmosquitto's own loop: a try a second
        (void)mosquitto_reconnect(e.handle);
      }
    }
  }
}

}  // namespace edgelstm::host
