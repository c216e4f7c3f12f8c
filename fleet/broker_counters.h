// The broker's own count of what it carried: Mosquitto's $SYS counters, read by a monitor client
// (user "monitor", read access to $SYS/# only) as an independent check of what the clients say
// they sent and received.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "host/mqtt_client.h"

namespace edgelstm::fleet {

struct BrokerCounters {
  std::uint64_t publish_messages_received = 0, publish_messages_sent = 0;  // PUBLISH packets
  std::uint64_t publish_bytes_received = 0, publish_bytes_sent = 0;        // their payload bytes
  std::uint64_t bytes_received = 0, bytes_sent = 0;                        // every MQTT packet
  std::uint64_t messages_received = 0, messages_sent = 0;                  // every MQTT packet
  bool complete = false;                // every counter above was read
  // The monitor's own CONNECT and CONNACK: the broker may have computed the values just before or
  // just after it connected, so bytes_received / bytes_sent hold them or not (exactly these bytes
  // and one packet each way).
  std::uint64_t monitor_connect_bytes_sent = 0, monitor_connect_bytes_received = 0;
};

// Whether the broker's total `broker_bytes` equals the clients' `client_bytes`, or that plus the
// monitor's connect packet (`monitor_bytes`).
bool broker_bytes_agree(std::uint64_t broker_bytes, std::uint64_t client_bytes, std::uint64_t monitor_bytes);

// Connects as the monitor, takes the retained $SYS values and disconnects. Call it when the other
// clients are quiet (or gone) and at least two $SYS intervals have passed, so the values are final.
BrokerCounters read_broker_counters(const host::MqttOptions& monitor, double timeout_seconds);

}  // namespace edgelstm::fleet
