// Where a node's frames go, as a URL on the command line:
//   udp://127.0.0.1:PORT              node k listens on 127.0.0.1:PORT+k (ESP-NOW stand-in)
//   mqtt://USER:PASSWORD@HOST:PORT    a Mosquitto broker, as user USER (node<k>)
//   mqtts://USER:PASSWORD@HOST:PORT?ca=FILE   the same over TLS, the server checked against FILE
#pragma once

#include <memory>
#include <string>

#include "distributed/transport.h"
#include "edgelstm/partition.h"

namespace edgelstm::distributed {

struct TransportUrl {
  enum class Kind { kUdp, kMqtt } kind = Kind::kUdp;
  std::string host = "127.0.0.1";
  int port = 0;
  std::string user, password, ca_file;
  std::string text;  // as given, without the password
};

// Throws host::InputError "--transport '...': <what is wrong>".
TransportUrl parse_transport_url(const std::string& text);

// The transport of node `index` (MQTT: topics under `prefix`).
std::unique_ptr<Transport> make_transport(const TransportUrl& url, std::size_t index, const Partition& partition,
                                          const std::string& prefix);

}  // namespace edgelstm::distributed
