#include "fleet/broker_counters.h"

#include <chrono>

#include "host/csv_reader.h"

namespace edgelstm::fleet {

BrokerCounters read_broker_counters(const host::MqttOptions& monitor, double timeout_seconds) {
  BrokerCounters c;
  std::map<std::string, std::uint64_t*> wanted = {
      {"$SYS/broker/publish/messages/received", &c.publish_messages_received},
      {"$SYS/broker/publish/messages/sent", &c.publish_messages_sent},
      {"$SYS/broker/publish/bytes/received", &c.publish_bytes_received},
      {"$SYS/broker/publish/bytes/sent", &c.publish_bytes_sent},
      {"$SYS/broker/bytes/received", &c.bytes_received},
      {"$SYS/broker/bytes/sent", &c.bytes_sent},
      {"$SYS/broker/messages/received", &c.messages_received},
      {"$SYS/broker/messages/sent", &c.messages_sent}};
  host::MqttClient client(monitor);
  if (client.connect(timeout_seconds) != 0) throw host::InputError("monitor: the broker refused the $SYS reader");
  const host::MqttClient::WireCounters connect_bytes = client.wire_counters();
  std::map<std::string, bool> seen;
  for (const auto& [topic, value] : wanted) {
    if (client.subscribe(topic, 0, timeout_seconds) != 0) throw host::InputError("monitor: cannot subscribe to " + topic);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
  while (seen.size() < wanted.size() && std::chrono::steady_clock::now() < deadline) {
    host::MqttMessage m;
    if (!client.next_message(&m, 0.2) || seen.count(m.topic)) continue;  // the first (retained) value of each
    const auto it = wanted.find(m.topic);
    if (it == wanted.end()) continue;
    *it->second = std::stoull(std::string(m.payload.begin(), m.payload.end()));
    seen[m.topic] = true;
  }
  client.disconnect();
  c.complete = seen.size() == wanted.size();
  c.monitor_connect_bytes_sent = connect_bytes.bytes_sent;
  c.monitor_connect_bytes_received = connect_bytes.bytes_received;
  return c;
}

bool broker_bytes_agree(std::uint64_t broker_bytes, std::uint64_t client_bytes, std::uint64_t monitor_bytes) {
  return broker_bytes == client_bytes || broker_bytes == client_bytes + monitor_bytes;
}

}  // namespace edgelstm::fleet
