// How a node's frames travel on the host: one small interface, three transports behind it
// (in-process for tests, UDP datagrams on loopback standing for ESP-NOW, MQTT through a real
// Mosquitto broker) and a wrapper that loses, duplicates and reorders frames on purpose. The node
// session (include/edgelstm/node_session.h) keeps its links reliable over any of them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "edgelstm/random.h"
#include "edgelstm/span.h"

namespace edgelstm::distributed {

class Transport {
 public:
  virtual ~Transport() = default;
  // Sends one frame (at most 250 bytes) to node `peer`. Best effort: a frame may be lost.
  virtual void send(std::size_t peer, Span<const std::uint8_t> frame) = 0;
  // Waits up to `timeout_ms` for frames and gives each to on_frame; returns how many arrived.
  virtual std::size_t receive(int timeout_ms, const std::function<void(Span<const std::uint8_t>)>& on_frame) = 0;
  // For logs: what and where ("udp 127.0.0.1:40001", "mqtt 127.0.0.1:1883 as node1").
  virtual std::string describe() const = 0;
  // Lines for the operator since the last call: what the transport found wrong that the frames
  // cannot say (a broker refusing a publish). None by default.
  virtual std::vector<std::string> take_alerts() { return {}; }
};

// Loses, duplicates and reorders the frames a node sends, drawn from a seeded generator (the
// test's own fault injection, in place of netem).
struct LinkFaults {
  double loss = 0.0;         // probability a frame is dropped
  double duplication = 0.0;  // probability it is sent twice
  double reordering = 0.0;   // probability it is held back and sent after the next frame
  std::uint64_t seed = 1;
  bool any() const { return loss > 0 || duplication > 0 || reordering > 0; }
};

class FaultyTransport : public Transport {
 public:
  FaultyTransport(Transport& inner, const LinkFaults& faults) : inner_(inner), faults_(faults), random_(faults.seed) {}
  void send(std::size_t peer, Span<const std::uint8_t> frame) override;
  std::size_t receive(int timeout_ms, const std::function<void(Span<const std::uint8_t>)>& on_frame) override;
  std::string describe() const override;
  std::vector<std::string> take_alerts() override { return inner_.take_alerts(); }

  struct Counts {
    std::uint64_t sent = 0, dropped = 0, duplicated = 0, reordered = 0;
  };
  const Counts& counts() const { return counts_; }

 private:
  bool chance(double probability);
  void release_held();

  Transport& inner_;
  LinkFaults faults_;
  Random random_;
  bool holding_ = false;
  std::size_t held_peer_ = 0;
  std::vector<std::uint8_t> held_;
  Counts counts_;
};

}  // namespace edgelstm::distributed
