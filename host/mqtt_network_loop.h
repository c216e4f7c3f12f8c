// One network thread for many MQTT clients (a fleet of meters in one process). By default every
// MqttClient has libmosquitto's own thread, whose loop uses select(): it cannot watch a socket
// numbered 1024 or more, so a process with a few hundred clients (three descriptors each) cannot
// connect more. This loop watches every registered client's socket with poll() instead, calls
// libmosquitto's read, write and housekeeping functions for it, and reconnects a client whose
// connection dropped (as libmosquitto's own loop does), once a second.
#pragma once

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

struct mosquitto;

namespace edgelstm::host {

class MqttClient;

class MqttNetworkLoop {
 public:
  MqttNetworkLoop();
  ~MqttNetworkLoop();  // stops the thread (remove every client first)
  MqttNetworkLoop(const MqttNetworkLoop&) = delete;
  MqttNetworkLoop& operator=(const MqttNetworkLoop&) = delete;

  // Called by MqttClient: watch this client's connection / stop (returns once the thread no longer
  // touches it) / something to send (wakes the thread).
  void add(mosquitto* handle);
  void remove(mosquitto* handle);
  void wake();
  // Whether the loop should reconnect `handle` when its connection drops (false after a
  // deliberate disconnect).
  void set_reconnect(mosquitto* handle, bool reconnect);

 private:
  struct Entry {
    mosquitto* handle;
    bool reconnect;
    double next_attempt;
  };
  void run();

  std::mutex mutex_;
  std::vector<Entry> clients_;
  int wake_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace edgelstm::host
