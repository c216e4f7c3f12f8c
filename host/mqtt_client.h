// An MQTT 5 client over libmosquitto (Debian's libmosquitto-dev) for the host tools: a node of a
// distributed network, a meter, a gateway. Username/password, TLS with a CA file, QoS 1 with the
// broker's acknowledgements (and their reason codes: a publish the ACL refuses is reported, not
// lost silently), persistent sessions, automatic reconnection. Messages arrive on libmosquitto's
// network thread and wait in a queue (or go to a handler).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

struct mosquitto;
struct mosquitto_message;
struct mqtt5__property;

namespace edgelstm::host {

class MqttNetworkLoop;

struct MqttOptions {
  std::string host = "127.0.0.1";
  int port = 1883;
  std::string client_id;  // unique per client; the broker's session key
  std::string username, password;
  std::string ca_file;  // non-empty: TLS, the server certificate checked against this CA
  // false: a persistent session — the broker keeps the subscriptions and queues QoS 1 messages
  // while the client is away (for session_expiry_seconds).
  bool clean_start = true;
  std::uint32_t session_expiry_seconds = 0;
  int keepalive_seconds = 10;
  unsigned max_inflight = 20;  // QoS 1 messages in flight before publish() queues them locally
  // MQTT 5 Receive Maximum: QoS 1 messages the broker may have in flight to this client before it
  // waits for the PUBACKs (libmosquitto's default, 20). A client that takes many publishers'
  // messages (a gateway) needs more: with 20, its intake is 20 per round trip.
  unsigned receive_maximum = 20;
  // Null: the client has libmosquitto's own network thread. Otherwise this shared loop serves it
  // (host/mqtt_network_loop.h: one thread and poll() for hundreds of clients); it must outlive it.
  MqttNetworkLoop* network_loop = nullptr;
};

struct MqttMessage {
  std::string topic;
  std::vector<std::uint8_t> payload;
  int qos = 0;
  bool retain = false;
};

class MqttClient {
 public:
  explicit MqttClient(MqttOptions options);
  ~MqttClient();
  MqttClient(const MqttClient&) = delete;
  MqttClient& operator=(const MqttClient&) = delete;

  // Connects and waits for the broker's answer. Returns the CONNACK reason code: 0 accepted, e.g.
  // 134 bad user name or password, 135 not authorized; -1 when no answer came within the timeout
  // (or the TCP/TLS connection failed). After success the network thread reconnects by itself; a
  // second connect() (after disconnect(), say) first stops that thread.
  int connect(double timeout_seconds);
  void disconnect();
  bool connected() const;

  // Publishes; returns the message id (0 for QoS 0), -1 when the client is not connected and did
  // not queue the message (the caller keeps it), or throws InputError for a bad topic or payload.
  // With QoS 1 the broker's PUBACK reason code becomes available (publish_result).
  int publish(const std::string& topic, const void* data, std::size_t size, int qos, bool retain = false);
  int publish(const std::string& topic, const std::string& text, int qos, bool retain = false) {
    return publish(topic, text.data(), text.size(), qos, retain);
  }
  // The PUBACK reason code of QoS 1 message `mid` (0 success, 16 no matching subscribers, 135 not
  // authorized, ...), or -1 while unacknowledged.
  int publish_result(int mid) const;
  // Waits until every QoS 1 message published so far has been acknowledged; false on timeout.
  bool wait_published(double timeout_seconds);

  // Subscribes and waits for the SUBACK: returns the granted QoS (0..2) or the refusal reason code
  // (>= 128, e.g. 135 not authorized), or -1 on timeout. The subscription is remembered: when the
  // client reconnects and the broker has no session for it any more (a broker that crashed before
  // saving it, an expired session), it is made again.
  int subscribe(const std::string& pattern, int qos, double timeout_seconds);
  // Reconnections on which the broker had lost this client's session (and the subscriptions were renewed).
  std::uint64_t sessions_renewed() const;

  // Messages go to `handler` (called on the network thread) instead of the queue.
  void set_handler(std::function<void(const MqttMessage&)> handler);
  // The next queued message; false when none arrived within the timeout.
  bool next_message(MqttMessage* message, double timeout_seconds);

  // Counters at this client. *_packet_bytes: the whole MQTT PUBLISH packets (fixed header, topic,
  // packet id, properties, payload), computed from what was sent or received.
  struct Counters {
    std::uint64_t published = 0, published_payload_bytes = 0;
    std::uint64_t received = 0, received_payload_bytes = 0;
    std::uint64_t connects = 0, disconnects = 0;
    std::uint64_t published_packet_bytes = 0, received_packet_bytes = 0;
  };
  Counters counters() const;

  // Bytes this client's TCP connections carried (the kernel's TCP_INFO: every MQTT packet, or the
  // TLS records around them), summed over its connections. Sampled on each call and by
  // disconnect() (which adds the 2-byte DISCONNECT it sends): a connection the network thread lost
  // and replaced contributes what the last sample saw of it.
  struct WireCounters {
    std::uint64_t bytes_sent = 0, bytes_received = 0;  // TCP payload bytes sent (not counting retransmissions) / received
    std::uint64_t segments_sent = 0, segments_received = 0;
    std::uint64_t closed_connections = 0;
  };
  WireCounters wire_counters();

 private:
  static void on_connect(mosquitto*, void* self, int rc, int flags, const ::mqtt5__property* props);
  static void on_disconnect(mosquitto*, void* self, int rc, const ::mqtt5__property* props);
  static void on_publish(mosquitto*, void* self, int mid, int reason, const ::mqtt5__property* props);
  static void on_subscribe(mosquitto*, void* self, int mid, int count, const int* granted, const ::mqtt5__property* props);
  static void on_message(mosquitto*, void* self, const ::mosquitto_message* message, const ::mqtt5__property* props);

  MqttOptions options_;
  mosquitto* handle_ = nullptr;
  bool loop_started_ = false;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  void stop_network_thread();

  int connack_ = -1;
  bool connected_ = false;
  int pending_ = 0;                // QoS 1 messages not yet acknowledged
  std::map<int, int> puback_;      // mid -> reason code, -1 pending (the last use of each mid)
  std::map<int, int> suback_;      // mid -> granted QoS / reason, -1 pending
  std::vector<std::pair<std::string, int>> subscriptions_;  // pattern, QoS
  std::uint64_t sessions_renewed_ = 0;
  std::deque<MqttMessage> inbox_;
  std::function<void(const MqttMessage&)> handler_;
  Counters counters_;
  // TCP_INFO bookkeeping: totals of closed connections, and the last sample of the open one.
  WireCounters wire_closed_, wire_last_;
  int wire_socket_ = -1;
};

// Bytes of an MQTT 5 PUBLISH packet with no properties: fixed header, remaining length, topic,
// packet identifier (QoS > 0), property length, payload.
std::size_t mqtt_publish_packet_bytes(std::size_t topic_bytes, std::size_t payload_bytes, int qos);

}  // namespace edgelstm::host
