// Small fleets of real SGSC households on a real Mosquitto with the real `edgelstm gateway`
// process: the ACL between meters (over TLS), every reading stored exactly once with the broker's
// $SYS counters agreeing with the clients', and resilience: a gateway outage, a broker crash, a meter
// reboot (also in the middle of its checkpoint), two gateways sharing the meters with one killed.
// Each run is a few simulated days of a few meters (seconds each).
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <string>

#include "edgelstm/meter_forecaster.h"
#include "fleet/fleet_protocol.h"
#include "fleet/fleet_run.h"
#include "host/forecast.h"
#include "host/mosquitto_broker.h"
#include "host/mqtt_client.h"

namespace {

using namespace edgelstm;
using namespace edgelstm::fleet;

constexpr double kWait = 10.0;

const FleetData& sgsc() {
  static const FleetData data = load_fleet_data(EDGELSTM_SOURCE_DIR "/data/sgsc_50hh_30min_2013-04-02_2013-05-29.csv", 0);
  return data;
}

std::string scratch(const std::string& name) {
  const std::string path = ::testing::TempDir() + "edgelstm_fleet_" + name + "_" + std::to_string(::getpid());
  std::system(("rm -rf '" + path + "'").c_str());
  return path;
}

FleetOptions small_fleet(const std::string& name, Platform platform, std::size_t meters, std::size_t steps) {
  FleetOptions o;
  o.platform = platform;
  o.work_directory = scratch(name);
  o.gateway_program = EDGELSTM_CLI;
  o.meters = meters;
  o.steps = steps;
  o.central.hidden = 8;  // the gateway's model is not what these tests are about
  o.central.epochs = 1;
  o.step_timeout_seconds = 60;
  return o;
}

std::size_t forecasts_in(const MeterResult& m, std::size_t from, std::size_t to) {
  std::size_t n = 0;
  for (std::size_t s = from; s < to; ++s) n += std::isnan(m.forecasts[s]) ? 0 : 1;
  return n;
}

// Every reading the meters took is in the store, once, with its value, and nothing else is.
void expect_every_reading_stored_once(const FleetResult& r) {
  EXPECT_EQ(r.integrity, "ok");
  std::uint64_t logged = 0;
  for (const MeterResult& m : r.meters) {
    EXPECT_EQ(m.missing, 0u) << "meter " << m.id;
    EXPECT_EQ(m.stored, r.steps) << "meter " << m.id;
    logged += m.readings_logged;
  }
  EXPECT_EQ(static_cast<std::uint64_t>(r.stored_readings), logged);
  EXPECT_EQ(r.gateway.conflicts, 0u);
}

TEST(Fleet, MetersCanNeitherReadNorWriteEachOthersTopicsOverTls) {
  host::BrokerOptions options;
  options.directory = scratch("acl");
  options.tls = true;
  options.users = fleet_broker_users({{101, "pa"}, {102, "pb"}}, "pg", "pm");
  host::MosquittoBroker broker(options);
  auto client = [&](const std::string& user, const std::string& password, bool tls) {
    host::MqttOptions o;
    o.port = tls ? broker.tls_port() : broker.port();
    o.ca_file = tls ? broker.ca_file() : "";
    o.client_id = o.username = user;
    o.password = password;
    return o;
  };
  host::MqttClient a(client("meter-101", "pa", true)), b(client("meter-102", "pb", true));
  host::MqttClient gateway(client(kGatewayUser, "pg", false));
  ASSERT_EQ(a.connect(kWait), 0);
  ASSERT_EQ(b.connect(kWait), 0);
  ASSERT_EQ(gateway.connect(kWait), 0);
  ASSERT_EQ(gateway.subscribe("meters/+/readings", 1, kWait), 1);
  ASSERT_EQ(b.subscribe(forecast_topic(102), 1, kWait), 1);
  ASSERT_GE(a.subscribe(forecast_topic(102), 1, kWait), 0);  // granted by Mosquitto 2.0, never delivered
  const int forged_reading = a.publish(readings_topic(102), "forged", 1);
  const int forged_summary = a.publish(summary_topic(102), "forged", 1);
  const int forged_forecast = a.publish(forecast_topic(102), "forged", 1);
  const int own = a.publish(readings_topic(101), "own", 1);
  ASSERT_TRUE(a.wait_published(kWait));
  EXPECT_EQ(a.publish_result(forged_reading), 135);
  EXPECT_EQ(a.publish_result(forged_summary), 135);
  EXPECT_EQ(a.publish_result(forged_forecast), 135);
  EXPECT_EQ(a.publish_result(own), 0);
  host::MqttMessage m;
  ASSERT_TRUE(gateway.next_message(&m, kWait));
  EXPECT_EQ(m.topic, readings_topic(101));
  gateway.publish(forecast_topic(102), "for b", 1);
  ASSERT_TRUE(gateway.wait_published(kWait));
  ASSERT_TRUE(b.next_message(&m, kWait));
  EXPECT_EQ(std::string(m.payload.begin(), m.payload.end()), "for b");
  EXPECT_FALSE(a.next_message(&m, 1.0)) << "meter-101 read " << m.topic;
  EXPECT_FALSE(gateway.next_message(&m, 0.5)) << "the gateway received " << m.topic;
  // A wrong password and an unknown meter are refused, over TLS as in the clear.
  host::MqttClient wrong(client("meter-102", "pa", true)), stranger(client("meter-999", "x", false));
  const int refused = wrong.connect(kWait), unknown = stranger.connect(kWait);
  EXPECT_TRUE(refused == 134 || refused == 135) << refused;
  EXPECT_TRUE(unknown == 134 || unknown == 135) << unknown;
}

TEST(Fleet, GatewayPlatformStoresEveryReadingOnceAndTheBrokerAgrees) {
  const FleetResult r = run_fleet(sgsc(), small_fleet("gateway_platform", Platform::kGateway, 4, 3 * 48));
  expect_every_reading_stored_once(r);
  EXPECT_EQ(r.gateway.duplicates, 0u);
  EXPECT_EQ(r.late_steps, 0u);
  EXPECT_EQ(r.gateway.trainings.size(), 2u);  // after day 1 and day 2
  std::uint64_t up = 0, down = 0, payload_up = 0, payload_down = 0, bytes_up = 0, bytes_down = 0;
  for (const MeterResult& m : r.meters) {
    // No model on day 1; from day 2 a forecast of (nearly) every reading.
    EXPECT_EQ(forecasts_in(m, 0, 48), 0u);
    EXPECT_GE(forecasts_in(m, 49, 144), 90u) << "meter " << m.id;
    const MeterTraffic& t = m.traffic_by_day.back();
    up += t.messages_up;
    down += t.messages_down;
    payload_up += t.payload_bytes_up;
    payload_down += t.payload_bytes_down;
    bytes_up += t.wire_bytes_up;
    bytes_down += t.wire_bytes_down;
    EXPECT_EQ(t.messages_up, 144u);  // one readings frame per reading: nothing was resent
    EXPECT_EQ(t.payload_bytes_up, 144u * 16);
  }
  // What the clients counted is what the broker counted ($SYS), message for message, byte for byte.
  ASSERT_TRUE(r.broker.complete);
  EXPECT_EQ(r.broker.publish_messages_received, up + r.gateway.messages_out);
  EXPECT_EQ(r.broker.publish_messages_sent, down + r.gateway.messages_in);
  EXPECT_EQ(r.broker.publish_bytes_received, payload_up + r.gateway.payload_bytes_out);
  EXPECT_EQ(r.broker.publish_bytes_sent, payload_down + r.gateway.payload_bytes_in);
  EXPECT_TRUE(broker_bytes_agree(r.broker.bytes_received, bytes_up + r.gateway.wire_bytes_out,
                                 r.broker.monitor_connect_bytes_sent))
      << r.broker.bytes_received << " vs " << bytes_up + r.gateway.wire_bytes_out;
  EXPECT_TRUE(broker_bytes_agree(r.broker.bytes_sent, bytes_down + r.gateway.wire_bytes_in,
                                 r.broker.monitor_connect_bytes_received))
      << r.broker.bytes_sent << " vs " << bytes_down + r.gateway.wire_bytes_in;
}

TEST(Fleet, AGatewayOutageLosesNoReadingAndLeavesNoFreshForecasts) {
  FleetOptions o = small_fleet("outage", Platform::kGateway, 3, 2 * 48 + 24);
  o.outages.push_back({0, 60, 12, /*crash=*/true});  // six hours from 06:00 on day 2, killed
  const FleetResult r = run_fleet(sgsc(), o);
  expect_every_reading_stored_once(r);
  EXPECT_EQ(r.steps_without_gateway, 12u);
  for (const MeterResult& m : r.meters) {
    // Readings 60..71 went up while the gateway was down: no forecast of 61..71 came in time. (The
    // forecast of 72 may: the gateway is back, and answers the queued readings, before reading 72.)
    EXPECT_EQ(forecasts_in(m, 61, 72), 0u) << "meter " << m.id;
    EXPECT_GE(forecasts_in(m, 80, 120), 38u) << "meter " << m.id;
    EXPECT_GT(m.readings_resent, 0u);  // the unacknowledged readings went again (backoff)
  }
}

TEST(Fleet, SelfLearningMetersForecastThroughAnOutageAndTheirSummariesArrive) {
  FleetOptions o = small_fleet("self_learning_outage", Platform::kSelfLearning, 3, 3 * 48);
  o.tls = true;  // the meters on TLS, through the shared network loop
  o.outages.push_back({0, 40, 20, /*crash=*/false});  // over the end of day 1: its summary waits
  const FleetResult r = run_fleet(sgsc(), o);
  EXPECT_EQ(r.integrity, "ok");
  EXPECT_EQ(r.stored_readings, 0);  // readings stay on the meters
  EXPECT_EQ(r.stored_summaries, 3 * 3);
  for (const MeterResult& m : r.meters) {
    EXPECT_EQ(forecasts_in(m, 0, 144), 144u - 6u) << "meter " << m.id;  // every reading after the first window
    EXPECT_EQ(m.checkpoints, 3u);
    EXPECT_EQ(m.refused_steps, 0u);
    EXPECT_EQ(m.traffic_by_day.back().messages_up, m.summaries_sent);
  }
}

TEST(Fleet, ABrokerCrashAndAMeterRebootLoseNothing) {
  FleetOptions o = small_fleet("broker_crash", Platform::kGateway, 3, 2 * 48);
  o.broker_restarts.push_back({30, /*crash=*/true});
  o.reboots.push_back({1, 70, 0});
  const FleetResult r = run_fleet(sgsc(), o);
  expect_every_reading_stored_once(r);
  EXPECT_EQ(r.meters[1].boots, 2u);
  EXPECT_FALSE(r.broker_counters_comparable);
}

TEST(Fleet, AMeterRebootedInsideItsCheckpointResumesFromTheLastOne) {
  FleetOptions o = small_fleet("power_cut", Platform::kSelfLearning, 2, 3 * 48);
  // From step 50, meter 0's next checkpoint (after reading 95) dies 10,000 bytes into its flash writes.
  o.reboots.push_back({0, 50, 10000});
  const FleetResult r = run_fleet(sgsc(), o);
  const MeterResult& m = r.meters[0];
  EXPECT_EQ(m.checkpoint_failures, 1u);
  EXPECT_EQ(m.restores, 1u);
  EXPECT_EQ(m.boots, 2u);
  EXPECT_EQ(m.catch_up_readings, 48u);  // readings 48..95, after the checkpoint of day 1
  EXPECT_EQ(m.catch_up_mismatches, 0u);
  EXPECT_EQ(r.stored_summaries, 2 * 3);
  // Its forecasts are those of the same forecaster that never lost power, at every reading.
  std::vector<std::uint8_t> storage;
  MeterForecaster reference;
  ASSERT_EQ(reference.bind(o.meter.spec, o.meter.config,
                           host::aligned_arena(storage, meter_forecaster_bytes(o.meter.spec))),
            Status::kOk);
  std::size_t compared = 0;
  for (std::size_t s = 0; s < r.steps; ++s) {
    MeterObservation observation;
    ASSERT_EQ(reference.observe(sgsc().timestamps[s], sgsc().readings[0][s], &observation), Status::kOk);
    if (!observation.scored) continue;
    ASSERT_FALSE(std::isnan(m.forecasts[s])) << s;
    EXPECT_EQ(m.forecasts[s], observation.forecast_of_reading) << s;
    ++compared;
  }
  EXPECT_EQ(compared, r.steps - 6);
}

TEST(Fleet, TwoGatewaysShareTheMetersAndAKilledOnesShareMovesToTheOther) {
  FleetOptions o = small_fleet("shared", Platform::kGateway, 4, 2 * 48);
  o.gateways = 2;
  o.outages.push_back({1, 30, 0, /*crash=*/true});  // gateway-2 killed for good at step 30
  const FleetResult r = run_fleet(sgsc(), o);
  expect_every_reading_stored_once(r);
  ASSERT_EQ(r.gateway_runs.size(), 2u);
  // gateway-1's statistics come first: it stored its share before the kill and all of it after.
  EXPECT_GE(r.gateway_runs[0].readings_inserted, 4u * (96 - 30));
  EXPECT_GT(r.gateway_runs[1].readings_inserted, 0u);  // gateway-2 had its share (its last statistics)
  EXPECT_LT(r.gateway_runs[1].readings_inserted, 4u * 30);
  EXPECT_EQ(r.gateway_runs[0].trainings.size(), 1u);  // one trainer
}

}  // namespace
