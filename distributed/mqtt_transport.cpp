#include "distributed/mqtt_transport.h"

#include <cstdio>

#include "host/csv_reader.h"

namespace edgelstm::distributed {

std::string topic_prefix(std::uint32_t model_id, std::uint16_t partition_id) {
  char text[64];
  std::snprintf(text, sizeof text, "edgelstm/%08x/%04x", static_cast<unsigned>(model_id), static_cast<unsigned>(partition_id));
  return text;
}

std::string link_topic(const std::string& prefix, std::size_t from, std::size_t to) {
  return prefix + "/" + std::to_string(from) + "/" + std::to_string(to);
}

std::string node_user(std::size_t index) { return "node" + std::to_string(index); }

std::vector<host::BrokerUser> cluster_users(const std::string& prefix, const Partition& partition,
                                            const std::vector<std::string>& passwords) {
  std::vector<host::BrokerUser> users;
  for (std::size_t k = 0; k < partition.nodes; ++k) {
    host::BrokerUser user{node_user(k), passwords.at(k), {{"write", prefix + "/" + std::to_string(k) + "/+"}}};
    for (std::size_t j = 0; j < partition.nodes; ++j) {
      if (nodes_linked(partition, j, k)) user.topics.push_back({"read", link_topic(prefix, j, k)});
    }
    users.push_back(user);
  }
  return users;
}

MqttTransport::MqttTransport(const MqttLinkOptions& options) : options_(options) {
  host::MqttOptions mqtt;
  mqtt.host = options.host;
  mqtt.port = options.port;
  mqtt.client_id = options.prefix + "/" + node_user(options.index);
  mqtt.username = options.username;
  mqtt.password = options.password;
  mqtt.ca_file = options.ca_file;
  mqtt.clean_start = false;            // a persistent session: frames wait for a reconnecting node
  mqtt.session_expiry_seconds = 3600;
  mqtt.keepalive_seconds = 5;
  mqtt.max_inflight = 100;
  client_ = std::make_unique<host::MqttClient>(mqtt);
  const int connack = client_->connect(options.connect_timeout_seconds);
  if (connack != 0) {
    throw host::InputError("mqtt: " + options.host + ":" + std::to_string(options.port) + " refused " +
                           options.username + (connack == 134 || connack == 135 ? ": bad user name or password"
                                               : connack < 0                    ? ": no answer"
                                                                                : "") +
                           " (CONNACK " + std::to_string(connack) + ")");
  }
  outbound_.resize(options.partition.nodes);
  for (std::size_t j = 0; j < options.partition.nodes; ++j) {
    if (nodes_linked(options.partition, options.index, j)) outbound_[j] = link_topic(options.prefix, options.index, j);
  }
  if (!subscribe_inbound()) throw host::InputError("mqtt: " + options.username + ": a subscription was refused or not answered");
}

// The broker keeps a persistent session's subscriptions, but not when it lost its state (a crash
// before it saved): after every reconnection the node subscribes again (harmless when kept).
bool MqttTransport::subscribe_inbound() {
  const std::uint64_t connects = client_->counters().connects;
  for (std::size_t j = 0; j < options_.partition.nodes; ++j) {
    if (!nodes_linked(options_.partition, options_.index, j)) continue;
    if (client_->subscribe(link_topic(options_.prefix, j, options_.index), 1, options_.connect_timeout_seconds) != 1) {
      return false;  // tried again at the next receive
    }
  }
  connects_ = connects;
  return true;
}

void MqttTransport::send(std::size_t peer, Span<const std::uint8_t> frame) {
  if (peer >= outbound_.size() || outbound_[peer].empty()) return;
  const int mid = client_->publish(outbound_[peer], frame.data(), frame.size(), 1);
  if (mid <= 0) {
    ++counts_.unsent;  // lost like a dropped datagram: the link retransmits it
    return;
  }
  if (unconfirmed_.size() == kMaxUnconfirmed) {  // message ids are reused after 65,535
    unconfirmed_.pop_front();
    ++counts_.unconfirmed;
  }
  unconfirmed_.push_back({mid, peer});
}

// Reads the broker's answers to the publishes so far: a refusal is counted and reported once per
// link (and again every 1,000 refusals), never taken for a delivery.
void MqttTransport::check_acknowledgements() {
  for (auto it = unconfirmed_.begin(); it != unconfirmed_.end();) {
    const int reason = client_->publish_result(it->mid);
    if (reason < 0) {
      ++it;
      continue;
    }
    if (reason < 128) {
      ++counts_.accepted;
    } else {
      ++counts_.refused;
      if (refused_per_peer_.size() < outbound_.size()) refused_per_peer_.resize(outbound_.size());
      if (refused_per_peer_[it->peer]++ % 1000 == 0) {
        alerts_.push_back("node " + std::to_string(options_.index) + ": the broker refused " +
                          std::to_string(refused_per_peer_[it->peer]) + " frame(s) to node " + std::to_string(it->peer) +
                          " on " + outbound_[it->peer] + " (PUBACK " + std::to_string(reason) +
                          (reason == 135 ? ": not authorized, check the ACL" : "") + ")");
      }
    }
    it = unconfirmed_.erase(it);
  }
}

std::vector<std::string> MqttTransport::take_alerts() {
  check_acknowledgements();
  std::vector<std::string> alerts;
  alerts.swap(alerts_);
  return alerts;
}

std::size_t MqttTransport::receive(int timeout_ms, const std::function<void(Span<const std::uint8_t>)>& on_frame) {
  check_acknowledgements();
  if (client_->connected() && client_->counters().connects != connects_) (void)subscribe_inbound();
  std::size_t count = 0;
  host::MqttMessage message;
  double wait = timeout_ms / 1000.0;
  while (client_->next_message(&message, wait)) {
    on_frame(Span<const std::uint8_t>(message.payload.data(), message.payload.size()));
    ++count;
    wait = 0;  // then whatever else is queued, without waiting
  }
  return count;
}

std::string MqttTransport::describe() const {
  return "mqtt " + options_.host + ":" + std::to_string(options_.port) + " as " + options_.username;
}

}  // namespace edgelstm::distributed
