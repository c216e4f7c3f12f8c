// Who may say what on the fleet's broker: the meters' and the gateway's MQTT identities, topics and
// the ACL the broker enforces (docs/fleet.md, "Topics and access").
//
//   meters/<id>/readings  meter <id> writes (its readings), the gateway reads
//   meters/<id>/summary   meter <id> writes (its daily summary), the gateway reads
//   meters/<id>/forecast  the gateway writes (acknowledgements and forecasts), meter <id> reads
//   $SYS/#                the monitor reads (the broker's counters)
// Every meter is its own MQTT user (meter-<id>) with its own random password; nothing else is
// allowed, so a meter can neither read nor write another meter's topics.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "host/mosquitto_broker.h"

namespace edgelstm::fleet {

inline constexpr const char* kGatewayUser = "gateway";
inline constexpr const char* kMonitorUser = "monitor";

struct MeterIdentity {
  std::int64_t id = 0;   // the meter's number (SGSC customer id for the bundled data)
  std::string password;  // random, per run
};

std::string meter_user(std::int64_t meter_id);
std::string readings_topic(std::int64_t meter_id);
std::string summary_topic(std::int64_t meter_id);
std::string forecast_topic(std::int64_t meter_id);

// What a gateway subscribes to: every meter's readings and summaries, through the MQTT 5 shared
// subscription $share/<group>/... when `shared_group` is not empty (several gateways share the
// meters, each message going to one of them).
std::vector<std::string> gateway_subscriptions(const std::string& shared_group);

// Parses "meters/<id>/<kind>"; false for any other topic.
bool parse_meter_topic(const std::string& topic, std::int64_t* meter_id, std::string* kind);

// The broker's users: each meter, the gateway, the monitor, with exactly the access above.
std::vector<host::BrokerUser> fleet_broker_users(const std::vector<MeterIdentity>& meters,
                                                 const std::string& gateway_password,
                                                 const std::string& monitor_password);

// A random password (24 characters from /dev/urandom).
std::string random_password();

// "user:password" credentials in a file only its owner can read (the gateway's, so that no
// password appears on a command line); read_credentials throws InputError naming the file.
void write_credentials(const std::string& path, const std::string& user, const std::string& password);
void read_credentials(const std::string& path, std::string* user, std::string* password);

}  // namespace edgelstm::fleet
