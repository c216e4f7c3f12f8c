#include "fleet/fleet_protocol.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "host/csv_reader.h"

namespace edgelstm::fleet {

std::string meter_user(std::int64_t meter_id) { return "meter-" + std::to_string(meter_id); }
std::string readings_topic(std::int64_t meter_id) { return "meters/" + std::to_string(meter_id) + "/readings"; }
std::string summary_topic(std::int64_t meter_id) { return "meters/" + std::to_string(meter_id) + "/summary"; }
std::string forecast_topic(std::int64_t meter_id) { return "meters/" + std::to_string(meter_id) + "/forecast"; }

std::vector<std::string> gateway_subscriptions(const std::string& shared_group) {
  const std::string prefix = shared_group.empty() ? "" : "$share/" + shared_group + "/";
  return {prefix + "meters/+/readings", prefix + "meters/+/summary"};
}

bool parse_meter_topic(const std::string& topic, std::int64_t* meter_id, std::string* kind) {
  const std::string prefix = "meters/";
  if (topic.compare(0, prefix.size(), prefix) != 0) return false;
  const std::size_t slash = topic.find('/', prefix.size());
  // One level of digits, then one non-empty level: the kind (found by fuzzing: "meters/12/" passed).
  if (slash == std::string::npos || slash == prefix.size() || slash + 1 == topic.size() ||
      topic.find('/', slash + 1) != std::string::npos) {
    return false;
  }
  const std::string digits = topic.substr(prefix.size(), slash - prefix.size());
  if (!host::is_decimal(digits, 18)) return false;
  *meter_id = std::stoll(digits);
  *kind = topic.substr(slash + 1);
  return true;
}

std::vector<host::BrokerUser> fleet_broker_users(const std::vector<MeterIdentity>& meters,
                                                 const std::string& gateway_password,
                                                 const std::string& monitor_password) {
  std::vector<host::BrokerUser> users;
  users.reserve(meters.size() + 2);
  for (const MeterIdentity& meter : meters) {
    users.push_back({meter_user(meter.id),
                     meter.password,
                     {{"write", readings_topic(meter.id)},
                      {"write", summary_topic(meter.id)},
                      {"read", forecast_topic(meter.id)}}});
  }
  users.push_back({kGatewayUser,
                   gateway_password,
                   {{"read", "meters/+/readings"}, {"read", "meters/+/summary"}, {"write", "meters/+/forecast"}}});
  users.push_back({kMonitorUser, monitor_password, {{"read", "$SYS/#"}}});
  return users;
}

std::string random_password() {
  static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::ifstream random("/dev/urandom", std::ios::binary);
  std::string password;
  for (int k = 0; k < 24; ++k) {
    unsigned char byte = 0;
    random.read(reinterpret_cast<char*>(&byte), 1);
    if (!random) throw host::InputError("/dev/urandom: cannot read random bytes for a password");
    password += kAlphabet[byte % 62];
  }
  return password;
}

void write_credentials(const std::string& path, const std::string& user, const std::string& password) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  const std::string text = user + ":" + password + "\n";
  const bool ok = fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  if (fd >= 0) ::close(fd);
  if (!ok) throw host::InputError(path + ": cannot write the credentials");
}

void read_credentials(const std::string& path, std::string* user, std::string* password) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) throw host::InputError(path + ": cannot read credentials (expected user:password)");
  const std::size_t colon = line.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == line.size()) {
    throw host::InputError(path + ":1: expected user:password");
  }
  *user = line.substr(0, colon);
  *password = line.substr(colon + 1);
}

}  // namespace edgelstm::fleet
