#include "host/mqtt_client.h"

#include <linux/tcp.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstddef>

#include "host/csv_reader.h"
#include "host/mqtt_network_loop.h"

namespace edgelstm::host {
namespace {

struct LibraryInit {
  LibraryInit() { mosquitto_lib_init(); }
};

void init_library_once() { static LibraryInit init; }

std::chrono::steady_clock::time_point deadline_after(double seconds) {
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(seconds));
}

std::size_t varint_bytes(std::size_t value) {
  std::size_t bytes = 1;
  while (value >= 128) {
    value /= 128;
    ++bytes;
  }
  return bytes;
}

}  // namespace

std::size_t mqtt_publish_packet_bytes(std::size_t topic_bytes, std::size_t payload_bytes, int qos) {
  const std::size_t remaining = 2 + topic_bytes + (qos > 0 ? 2 : 0) + 1 + payload_bytes;
  return 1 + varint_bytes(remaining) + remaining;
}

MqttClient::MqttClient(MqttOptions options) : options_(std::move(options)) {
  init_library_once();
  handle_ = mosquitto_new(options_.client_id.empty() ? nullptr : options_.client_id.c_str(), options_.clean_start, this);
  if (handle_ == nullptr) throw InputError("mqtt: cannot create a client for '" + options_.client_id + "'");
  mosquitto_int_option(handle_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
  // Small messages go out at once: with Nagle's algorithm and the peer's delayed acknowledgements
  // each exchange of a node step waited ~40 ms.
  mosquitto_int_option(handle_, MOSQ_OPT_TCP_NODELAY, 1);
  mosquitto_max_inflight_messages_set(handle_, options_.max_inflight);
  mosquitto_int_option(handle_, MOSQ_OPT_RECEIVE_MAXIMUM, static_cast<int>(options_.receive_maximum));
  // With a shared loop another thread drives the connection: libmosquitto must lock for that.
  if (options_.network_loop != nullptr) mosquitto_threaded_set(handle_, true);
  mosquitto_reconnect_delay_set(handle_, 1, 2, false);
  if (!options_.username.empty() &&
      mosquitto_username_pw_set(handle_, options_.username.c_str(), options_.password.c_str()) != MOSQ_ERR_SUCCESS) {
    throw InputError("mqtt: bad user name or password for '" + options_.client_id + "'");
  }
  if (!options_.ca_file.empty() &&
      mosquitto_tls_set(handle_, options_.ca_file.c_str(), nullptr, nullptr, nullptr, nullptr) != MOSQ_ERR_SUCCESS) {
    throw InputError("mqtt: cannot use the CA file " + options_.ca_file);
  }
  mosquitto_connect_v5_callback_set(handle_, &MqttClient::on_connect);
  mosquitto_disconnect_v5_callback_set(handle_, &MqttClient::on_disconnect);
  mosquitto_publish_v5_callback_set(handle_, &MqttClient::on_publish);
  mosquitto_subscribe_v5_callback_set(handle_, &MqttClient::on_subscribe);
  mosquitto_message_v5_callback_set(handle_, &MqttClient::on_message);
}

MqttClient::~MqttClient() {
  disconnect();  // sends DISCONNECT (and counts it) while the network thread still runs
  stop_network_thread();
  mosquitto_destroy(handle_);
}

void MqttClient::stop_network_thread() {
  if (!loop_started_) return;
  if (options_.network_loop != nullptr) {
    // The shared loop stops retrying, and once remove() returns it no longer touches this client.
    options_.network_loop->set_reconnect(handle_, false);
    mosquitto_disconnect_v5(handle_, 0, nullptr);
    options_.network_loop->remove(handle_);
  } else {
    // After DISCONNECT the network thread ends by itself (it also stops retrying a lost broker);
    // joining it, rather than cancelling it, never interrupts a handler halfway.
    mosquitto_disconnect_v5(handle_, 0, nullptr);
    mosquitto_loop_stop(handle_, false);
  }
  loop_started_ = false;
  std::lock_guard<std::mutex> lock(mutex_);
  connected_ = false;
}

int MqttClient::connect(double timeout_seconds) {
  stop_network_thread();  // a second connect() must not close the socket a running thread uses
  {
    std::lock_guard<std::mutex> lock(mutex_);
    connack_ = -1;
  }
  mosquitto_property* properties = nullptr;
  if (!options_.clean_start && options_.session_expiry_seconds > 0) {
    mosquitto_property_add_int32(&properties, MQTT_PROP_SESSION_EXPIRY_INTERVAL, options_.session_expiry_seconds);
  }
  const int rc = mosquitto_connect_bind_v5(handle_, options_.host.c_str(), options_.port, options_.keepalive_seconds,
                                           nullptr, properties);
  mosquitto_property_free_all(&properties);
  if (rc != MOSQ_ERR_SUCCESS) return -1;
  if (options_.network_loop != nullptr) {
    options_.network_loop->add(handle_);
    options_.network_loop->set_reconnect(handle_, true);
    options_.network_loop->wake();
  } else if (mosquitto_loop_start(handle_) != MOSQ_ERR_SUCCESS) {
    return -1;
  }
  loop_started_ = true;
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait_until(lock, deadline_after(timeout_seconds), [this] { return connack_ >= 0; });
  return connack_;
}

void MqttClient::disconnect() {
  if (handle_ == nullptr) return;
  const bool was_connected = connected();
  if (was_connected) {
    wire_counters();
    std::lock_guard<std::mutex> lock(mutex_);
    wire_last_.bytes_sent += 2;  // the DISCONNECT packet (MQTT 5, reason 0, no properties)
  }
  if (options_.network_loop != nullptr && loop_started_) options_.network_loop->set_reconnect(handle_, false);
  mosquitto_disconnect_v5(handle_, 0, nullptr);
  if (options_.network_loop != nullptr && loop_started_) options_.network_loop->wake();
  if (was_connected && loop_started_) {
    // Until the network thread has sent the DISCONNECT and closed: stopping the thread sooner
    // would drop it, and the broker would see a lost connection instead.
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait_until(lock, deadline_after(2.0), [this] { return !connected_; });
  }
}

bool MqttClient::connected() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return connected_;
}

int MqttClient::publish(const std::string& topic, const void* data, std::size_t size, int qos, bool retain) {
  int mid = 0;
  std::lock_guard<std::mutex> lock(mutex_);  // held so on_publish cannot run before the mid is recorded
  const int rc = mosquitto_publish_v5(handle_, &mid, topic.c_str(), static_cast<int>(size), data, qos, retain, nullptr);
  if (rc == MOSQ_ERR_NO_CONN) return -1;  // not connected and not queued: the caller keeps the message
  if (rc != MOSQ_ERR_SUCCESS) throw InputError("mqtt: cannot publish on '" + topic + "': " + mosquitto_strerror(rc));
  if (qos > 0) {
    // Message ids wrap after 65,535: a reused id starts pending again (the map holds at most that many).
    int& reason = puback_[mid];
    reason = -1;
    ++pending_;
  }
  if (options_.network_loop != nullptr) options_.network_loop->wake();
  ++counters_.published;
  counters_.published_payload_bytes += size;
  counters_.published_packet_bytes += mqtt_publish_packet_bytes(topic.size(), size, qos);
  return qos > 0 ? mid : 0;
}

int MqttClient::publish_result(int mid) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = puback_.find(mid);
  return it == puback_.end() ? -1 : it->second;
}

bool MqttClient::wait_published(double timeout_seconds) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_until(lock, deadline_after(timeout_seconds), [this] { return pending_ == 0; });
}

int MqttClient::subscribe(const std::string& pattern, int qos, double timeout_seconds) {
  int mid = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const int rc = mosquitto_subscribe_v5(handle_, &mid, pattern.c_str(), qos, 0, nullptr);
    if (rc != MOSQ_ERR_SUCCESS) throw InputError("mqtt: cannot subscribe to '" + pattern + "': " + mosquitto_strerror(rc));
    suback_[mid] = -1;
    subscriptions_.emplace_back(pattern, qos);
    if (options_.network_loop != nullptr) options_.network_loop->wake();
  }
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait_until(lock, deadline_after(timeout_seconds), [&] { return suback_[mid] >= 0; });
  return suback_[mid];
}

void MqttClient::set_handler(std::function<void(const MqttMessage&)> handler) {
  std::lock_guard<std::mutex> lock(mutex_);
  handler_ = std::move(handler);
}

bool MqttClient::next_message(MqttMessage* message, double timeout_seconds) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!changed_.wait_until(lock, deadline_after(timeout_seconds), [this] { return !inbox_.empty(); })) return false;
  *message = std::move(inbox_.front());
  inbox_.pop_front();
  return true;
}

MqttClient::Counters MqttClient::counters() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return counters_;
}

MqttClient::WireCounters MqttClient::wire_counters() {
  std::lock_guard<std::mutex> lock(mutex_);
  const int socket = mosquitto_socket(handle_);
  tcp_info info{};
  socklen_t length = sizeof info;
  const bool sampled = socket >= 0 && ::getsockopt(socket, IPPROTO_TCP, TCP_INFO, &info, &length) == 0;
  WireCounters now;
  if (sampled) {
    // Bytes handed to the network (less retransmissions) when the kernel reports them (4.19 and
    // later); bytes the peer has acknowledged otherwise (the last few may not be yet).
    const bool has_sent = length >= offsetof(tcp_info, tcpi_bytes_retrans) + sizeof info.tcpi_bytes_retrans;
    now.bytes_sent = has_sent ? info.tcpi_bytes_sent - info.tcpi_bytes_retrans : info.tcpi_bytes_acked;
    now.bytes_received = info.tcpi_bytes_received;
    now.segments_sent = info.tcpi_segs_out;
    now.segments_received = info.tcpi_segs_in;
  }
  // A new connection (another descriptor, or counts that went back): the old one is closed.
  if (socket != wire_socket_ || (sampled && now.bytes_received < wire_last_.bytes_received) ||
      (sampled && now.bytes_sent < wire_last_.bytes_sent)) {
    if (wire_socket_ >= 0) {
      wire_closed_.bytes_sent += wire_last_.bytes_sent;
      wire_closed_.bytes_received += wire_last_.bytes_received;
      wire_closed_.segments_sent += wire_last_.segments_sent;
      wire_closed_.segments_received += wire_last_.segments_received;
      ++wire_closed_.closed_connections;
    }
    wire_last_ = WireCounters{};
    wire_socket_ = socket;
  }
  if (sampled) wire_last_ = now;
  WireCounters total = wire_closed_;
  total.bytes_sent += wire_last_.bytes_sent;
  total.bytes_received += wire_last_.bytes_received;
  total.segments_sent += wire_last_.segments_sent;
  total.segments_received += wire_last_.segments_received;
  return total;
}

void MqttClient::on_connect(mosquitto* handle, void* self, int rc, int flags, const mqtt5__property*) {
  auto* client = static_cast<MqttClient*>(self);
  std::lock_guard<std::mutex> lock(client->mutex_);
  client->connack_ = rc;
  client->connected_ = rc == 0;
  if (rc == 0) ++client->counters_.connects;
  // Session present is bit 0 of the CONNACK flags. Without it the broker forgot the subscriptions.
  if (rc == 0 && (flags & 1) == 0 && !client->subscriptions_.empty() && client->counters_.connects > 1) {
    for (const auto& [pattern, qos] : client->subscriptions_) {
      (void)mosquitto_subscribe_v5(handle, nullptr, pattern.c_str(), qos, 0, nullptr);
    }
    ++client->sessions_renewed_;
  }
  client->changed_.notify_all();
}

std::uint64_t MqttClient::sessions_renewed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return sessions_renewed_;
}

void MqttClient::on_disconnect(mosquitto*, void* self, int, const mqtt5__property*) {
  auto* client = static_cast<MqttClient*>(self);
  std::lock_guard<std::mutex> lock(client->mutex_);
  if (client->connected_) ++client->counters_.disconnects;
  client->connected_ = false;
  client->changed_.notify_all();
}

void MqttClient::on_publish(mosquitto*, void* self, int mid, int reason, const mqtt5__property*) {
  auto* client = static_cast<MqttClient*>(self);
  std::lock_guard<std::mutex> lock(client->mutex_);
  const auto it = client->puback_.find(mid);
  if (it != client->puback_.end() && it->second < 0) {
    it->second = reason;
    --client->pending_;
  }
  client->changed_.notify_all();
}

void MqttClient::on_subscribe(mosquitto*, void* self, int mid, int count, const int* granted, const mqtt5__property*) {
  auto* client = static_cast<MqttClient*>(self);
  std::lock_guard<std::mutex> lock(client->mutex_);
  client->suback_[mid] = count > 0 ? granted[0] : 128;
  client->changed_.notify_all();
}

void MqttClient::on_message(mosquitto*, void* self, const mosquitto_message* m, const mqtt5__property*) {
  auto* client = static_cast<MqttClient*>(self);
  MqttMessage message;
  message.topic = m->topic;
  const auto* bytes = static_cast<const std::uint8_t*>(m->payload);
  message.payload.assign(bytes, bytes + m->payloadlen);
  message.qos = m->qos;
  message.retain = m->retain;
  std::function<void(const MqttMessage&)> handler;
  {
    std::lock_guard<std::mutex> lock(client->mutex_);
    ++client->counters_.received;
    client->counters_.received_payload_bytes += message.payload.size();
    client->counters_.received_packet_bytes +=
        mqtt_publish_packet_bytes(message.topic.size(), message.payload.size(), message.qos);
    handler = client->handler_;
    if (!handler) {
      client->inbox_.push_back(std::move(message));
      client->changed_.notify_all();
      return;
    }
  }
  handler(message);
}

}  // namespace edgelstm::host
