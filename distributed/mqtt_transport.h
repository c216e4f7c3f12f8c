// Frames over MQTT through a real Mosquitto broker: one topic per directed link,
//   <prefix>/<from>/<to>     prefix = edgelstm/<model id, 8 hex digits>/<partition id, 4 hex digits>
// QoS 1, a persistent session per node (the broker queues a node's frames while it reconnects, and
// keeps them across its own restart with persistence on), per-node credentials and an ACL that
// lets node k publish only under <prefix>/k/ and read only <prefix>/j/k of its linked nodes j.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "distributed/transport.h"
#include "edgelstm/partition.h"
#include "host/mosquitto_broker.h"
#include "host/mqtt_client.h"

namespace edgelstm::distributed {

std::string topic_prefix(std::uint32_t model_id, std::uint16_t partition_id);
std::string link_topic(const std::string& prefix, std::size_t from, std::size_t to);
std::string node_user(std::size_t index);  // "node<k>"

// The broker's users for a partition: node<k> with passwords[k], and the ACL above.
std::vector<host::BrokerUser> cluster_users(const std::string& prefix, const Partition& partition,
                                            const std::vector<std::string>& passwords);

struct MqttLinkOptions {
  std::string host = "127.0.0.1";
  int port = 1883;
  std::string username, password;
  std::string ca_file;  // TLS when set
  std::string prefix;
  std::size_t index = 0;
  Partition partition{};
  double connect_timeout_seconds = 10;
};

class MqttTransport : public Transport {
 public:
  // Connects and subscribes to the node's inbound links; throws host::InputError naming the
  // broker's refusal (wrong credentials: CONNACK 134/135; a subscription the ACL refuses).
  explicit MqttTransport(const MqttLinkOptions& options);
  void send(std::size_t peer, Span<const std::uint8_t> frame) override;
  std::size_t receive(int timeout_ms, const std::function<void(Span<const std::uint8_t>)>& on_frame) override;
  std::string describe() const override;
  std::vector<std::string> take_alerts() override;
  host::MqttClient& client() { return *client_; }

  // Frames published, by the broker's answer (PUBACK reason codes < 128 accepted, >= 128 refused:
  // 135 when the ACL does not let this node publish on the link's topic). A refused frame is not
  // delivered: the session's link retransmits it and, refused again, loses the peer.
  struct PublishCounts {
    std::uint64_t accepted = 0, refused = 0;
    std::uint64_t unsent = 0;        // not connected and not queued by the client
    std::uint64_t unconfirmed = 0;   // given up waiting for an answer (more than kMaxUnconfirmed waiting)
  };
  const PublishCounts& publish_counts() const { return counts_; }

 private:
  bool subscribe_inbound();
  void check_acknowledgements();

  MqttLinkOptions options_;
  std::unique_ptr<host::MqttClient> client_;
  std::vector<std::string> outbound_;  // topic per peer (empty when not linked)
  std::uint64_t connects_ = 0;         // connections seen: a new one subscribes again
  struct Unconfirmed {
    int mid;
    std::size_t peer;
  };
  static constexpr std::size_t kMaxUnconfirmed = 4096;
  std::deque<Unconfirmed> unconfirmed_;  // QoS 1 publishes waiting for their PUBACK
  PublishCounts counts_;
  std::vector<std::string> alerts_;
  std::vector<std::uint64_t> refused_per_peer_;
};

}  // namespace edgelstm::distributed
