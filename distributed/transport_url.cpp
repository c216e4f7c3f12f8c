#include "distributed/transport_url.h"

#include <cstdlib>

#include "distributed/mqtt_transport.h"
#include "distributed/udp_transport.h"
#include "host/input_error.h"

namespace edgelstm::distributed {
namespace {

// The URL as a message may quote it: the password of USER:PASSWORD@ replaced by ***, at most
// host::kExcerptBytes of it (a command line can hold megabytes).
std::string shown(const std::string& text) {
  std::string masked = text;
  const std::size_t scheme_end = masked.find("://"), at = masked.rfind('@');
  if (scheme_end != std::string::npos && at != std::string::npos && at > scheme_end) {
    const std::size_t colon = masked.find(':', scheme_end + 3);
    if (colon != std::string::npos && colon < at) masked.replace(colon + 1, at - colon - 1, "***");
  }
  return host::excerpt(masked);
}

[[noreturn]] void refuse(const std::string& text, const std::string& why) {
  throw host::InputError("--transport " + shown(text) + ": " + why);
}

int parse_port(const std::string& text, const std::string& port) {
  const long value = host::is_decimal(port, 5) ? std::strtol(port.c_str(), nullptr, 10) : 0;
  if (value < 1 || value > 65535) refuse(text, "expected a port 1..65535, found " + host::excerpt(port));
  return static_cast<int>(value);
}

}  // namespace

TransportUrl parse_transport_url(const std::string& text) {
  TransportUrl url;
  const std::size_t scheme_end = text.find("://");
  if (scheme_end == std::string::npos) refuse(text, "expected udp://HOST:PORT or mqtt://USER:PASSWORD@HOST:PORT");
  const std::string scheme = text.substr(0, scheme_end);
  std::string rest = text.substr(scheme_end + 3);
  if (scheme == "udp") {
    url.kind = TransportUrl::Kind::kUdp;
    // Refused before HOST:PORT is cut at its last ':', which could fall inside a password
    // ("udp://node0:s3:cret@...") and quote the password's tail as the port.
    if (rest.find('@') != std::string::npos) refuse(text, "udp:// takes no USER:PASSWORD@");
  } else if (scheme == "mqtt" || scheme == "mqtts") {
    url.kind = TransportUrl::Kind::kMqtt;
    const std::size_t at = rest.rfind('@');
    if (at == std::string::npos) refuse(text, "expected USER:PASSWORD@ before the host");
    const std::string credentials = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const std::size_t colon = credentials.find(':');
    if (colon == std::string::npos || colon == 0) refuse(text, "expected USER:PASSWORD@");
    url.user = credentials.substr(0, colon);
    url.password = credentials.substr(colon + 1);
    const std::size_t query = rest.find("?ca=");
    if (query != std::string::npos) {
      url.ca_file = rest.substr(query + 4);
      rest = rest.substr(0, query);
      if (url.ca_file.empty()) refuse(text, "?ca= names no file (expected ?ca=FILE, the CA that signed the broker's certificate)");
    }
    if ((scheme == "mqtts") != !url.ca_file.empty()) refuse(text, "mqtts:// needs ?ca=FILE (and mqtt:// takes none)");
  } else {
    refuse(text, "unknown scheme " + host::excerpt(scheme) + " (udp, mqtt or mqtts)");
  }
  const std::size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) refuse(text, "expected HOST:PORT");
  url.host = rest.substr(0, colon);
  url.port = parse_port(text, rest.substr(colon + 1));
  if (url.host != "127.0.0.1" && url.host != "localhost") refuse(text, "nodes talk over loopback only (127.0.0.1)");
  url.host = "127.0.0.1";
  url.text = scheme + "://" + (url.user.empty() ? "" : url.user + ":***@") + url.host + ":" + std::to_string(url.port);
  return url;
}

std::unique_ptr<Transport> make_transport(const TransportUrl& url, std::size_t index, const Partition& partition,
                                          const std::string& prefix) {
  if (url.kind == TransportUrl::Kind::kUdp) return std::make_unique<UdpTransport>(index, url.port);
  MqttLinkOptions options;
  options.host = url.host;
  options.port = url.port;
  options.username = url.user;
  options.password = url.password;
  options.ca_file = url.ca_file;
  options.prefix = prefix;
  options.index = index;
  options.partition = partition;
  return std::make_unique<MqttTransport>(options);
}

}  // namespace edgelstm::distributed
