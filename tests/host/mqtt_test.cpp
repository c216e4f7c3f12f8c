// The broker the tools start (host/mosquitto_broker.h) and the MQTT client (host/mqtt_client.h),
// against a real Mosquitto on a free loopback port: credentials, the ACL (a client can neither
// read nor write another's topics), TLS, persistent sessions across a broker restart, and no
// process left behind.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "host/mosquitto_broker.h"
#include "host/mqtt_client.h"
#include "host/mqtt_network_loop.h"

namespace {

using namespace edgelstm::host;

constexpr double kWait = 10.0;  // seconds: generous for a loaded 2-core machine

std::string scratch_directory(const std::string& name) {
  std::string path = ::testing::TempDir() + "edgelstm_mqtt_" + name + "_" + std::to_string(::getpid());
  std::system(("rm -rf '" + path + "'").c_str());
  return path;
}

BrokerOptions two_meters(const std::string& name, bool tls = false) {
  BrokerOptions options;
  options.directory = scratch_directory(name);
  options.tls = tls;
  options.users = {
      {"meter-a", "secret-a", {{"write", "meters/meter-a/readings"}, {"read", "meters/meter-a/model"}}},
      {"meter-b", "secret-b", {{"write", "meters/meter-b/readings"}, {"read", "meters/meter-b/model"}}},
      {"gateway", "secret-g", {{"read", "meters/+/readings"}, {"write", "meters/+/model"}}},
  };
  return options;
}

MqttOptions client(const MosquittoBroker& broker, const std::string& user, const std::string& password) {
  MqttOptions options;
  options.port = broker.port();
  options.client_id = user;
  options.username = user;
  options.password = password;
  return options;
}

TEST(Mqtt, RightCredentialsConnectAndAWrongPasswordIsRefused) {
  MosquittoBroker broker(two_meters("credentials"));
  MqttClient good(client(broker, "meter-a", "secret-a"));
  EXPECT_EQ(good.connect(kWait), 0);
  MqttClient bad(client(broker, "meter-b", "not-the-password"));
  // MQTT 5 refusals: 134 bad user name or password, 135 not authorized (what Mosquitto 2.0 says).
  const int wrong_password = bad.connect(kWait);
  EXPECT_TRUE(wrong_password == 134 || wrong_password == 135) << wrong_password;
  EXPECT_FALSE(bad.connected());
  MqttClient stranger(client(broker, "nobody", "x"));
  const int unknown_user = stranger.connect(kWait);
  EXPECT_TRUE(unknown_user == 134 || unknown_user == 135) << unknown_user;
}

TEST(Mqtt, AMeterCanNeitherReadNorWriteAnotherMetersTopics) {
  MosquittoBroker broker(two_meters("acl"));
  MqttClient a(client(broker, "meter-a", "secret-a")), b(client(broker, "meter-b", "secret-b")),
      gateway(client(broker, "gateway", "secret-g"));
  ASSERT_EQ(a.connect(kWait), 0);
  ASSERT_EQ(b.connect(kWait), 0);
  ASSERT_EQ(gateway.connect(kWait), 0);
  ASSERT_EQ(gateway.subscribe("meters/+/readings", 1, kWait), 1);
  ASSERT_EQ(b.subscribe("meters/meter-b/model", 1, kWait), 1);

  // Reading: Mosquitto grants a's subscriptions to b's topics but, by the ACL, delivers nothing of
  // them (a refusal in the SUBACK, >= 128, would do as well).
  const int sub_model = a.subscribe("meters/meter-b/model", 1, kWait);
  const int sub_readings = a.subscribe("meters/meter-b/readings", 1, kWait);
  ASSERT_GE(sub_model, 0);
  ASSERT_GE(sub_readings, 0);

  // Writing: a's publish on b's topics is refused (PUBACK 135) and nobody receives it; a's own
  // reading reaches the gateway.
  const int forged = a.publish("meters/meter-b/readings", "forged", 1);
  const int forged_model = a.publish("meters/meter-b/model", "forged model", 1);
  const int own = a.publish("meters/meter-a/readings", "0.42", 1);
  ASSERT_TRUE(a.wait_published(kWait));
  EXPECT_EQ(a.publish_result(forged), 135);
  EXPECT_EQ(a.publish_result(forged_model), 135);
  EXPECT_EQ(a.publish_result(own), 0);
  MqttMessage m;
  ASSERT_TRUE(gateway.next_message(&m, kWait));
  EXPECT_EQ(m.topic, "meters/meter-a/readings");
  EXPECT_EQ(std::string(m.payload.begin(), m.payload.end()), "0.42");

  // b's own reading and the gateway's model for b reach their readers, never a.
  b.publish("meters/meter-b/readings", "0.7", 1);
  gateway.publish("meters/meter-b/model", "model for b", 1);
  ASSERT_TRUE(b.wait_published(kWait));
  ASSERT_TRUE(gateway.wait_published(kWait));
  ASSERT_TRUE(gateway.next_message(&m, kWait));
  EXPECT_EQ(m.topic, "meters/meter-b/readings");
  ASSERT_TRUE(b.next_message(&m, kWait));
  EXPECT_EQ(std::string(m.payload.begin(), m.payload.end()), "model for b");
  EXPECT_FALSE(a.next_message(&m, 1.0)) << "meter-a received " << m.topic;
  EXPECT_FALSE(gateway.next_message(&m, 0.5)) << "received " << m.topic;
  EXPECT_FALSE(b.next_message(&m, 0.5)) << "received " << m.topic;
}

TEST(Mqtt, TlsConnectsWithTheRunsCaAndNotWithoutIt) {
  MosquittoBroker broker(two_meters("tls", /*tls=*/true));
  ASSERT_GT(broker.tls_port(), 0);
  MqttOptions options = client(broker, "meter-a", "secret-a");
  options.port = broker.tls_port();
  options.ca_file = broker.ca_file();
  MqttClient secure(options);
  ASSERT_EQ(secure.connect(kWait), 0);
  const int mid = secure.publish("meters/meter-a/readings", "1.5", 1);
  ASSERT_TRUE(secure.wait_published(kWait));
  EXPECT_EQ(secure.publish_result(mid), 16);  // accepted; no subscriber yet

  // Plain MQTT to the TLS port gets no CONNACK; TLS checked against another CA fails.
  MqttOptions plain = client(broker, "meter-b", "secret-b");
  plain.port = broker.tls_port();
  MqttClient cleartext(plain);
  EXPECT_NE(cleartext.connect(2.0), 0);
  BrokerOptions other = two_meters("tls_other", true);
  MosquittoBroker second(other);
  MqttOptions wrong_ca = options;
  wrong_ca.client_id = "meter-a-2";
  wrong_ca.ca_file = second.ca_file();
  MqttClient untrusted(wrong_ca);
  EXPECT_NE(untrusted.connect(2.0), 0);
}

// What a broker's directory holds of secrets: the password file (hashed, no password in clear),
// the ACL and the TLS keys, none readable by anyone but their owner.
TEST(Mqtt, TheBrokersSecretsAreHashedAndReadableByTheirOwnerOnly) {
  // Under the usual umask 022 (under 077 every file would be owner-only, whatever the broker asks).
  const mode_t saved_umask = ::umask(022);
  MosquittoBroker broker(two_meters("secrets", /*tls=*/true));
  ::umask(saved_umask);
  for (const char* name : {"passwords", "acl", "server.key", "ca.key"}) {
    struct stat file {};
    const std::string path = broker.directory() + "/" + name;
    ASSERT_EQ(::stat(path.c_str(), &file), 0) << path;
    EXPECT_EQ(file.st_mode & 077, 0u) << path << " has mode " << std::oct << (file.st_mode & 0777);
  }
  std::ifstream in(broker.directory() + "/passwords");
  const std::string passwords((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(passwords.find("meter-a:$"), std::string::npos) << passwords;  // name:$id$salt$hash
  for (const char* password : {"secret-a", "secret-b", "secret-g"}) EXPECT_EQ(passwords.find(password), std::string::npos);
}

TEST(Mqtt, QueuedMessagesOfAPersistentSessionSurviveABrokerRestart) {
  MosquittoBroker broker(two_meters("persistence"));
  MqttOptions gateway_options = client(broker, "gateway", "secret-g");
  gateway_options.clean_start = false;
  gateway_options.session_expiry_seconds = 3600;
  {
    MqttClient gateway(gateway_options);
    ASSERT_EQ(gateway.connect(kWait), 0);
    ASSERT_EQ(gateway.subscribe("meters/+/readings", 1, kWait), 1);
    gateway.disconnect();
  }
  {
    MqttClient a(client(broker, "meter-a", "secret-a"));
    ASSERT_EQ(a.connect(kWait), 0);
    for (int k = 0; k < 5; ++k) a.publish("meters/meter-a/readings", std::to_string(k), 1);
    ASSERT_TRUE(a.wait_published(kWait));
  }
  broker.stop();  // saves the session and its 5 queued messages
  EXPECT_FALSE(broker.running());
  broker.start();
  MqttClient gateway(gateway_options);
  ASSERT_EQ(gateway.connect(kWait), 0);
  for (int k = 0; k < 5; ++k) {
    MqttMessage m;
    ASSERT_TRUE(gateway.next_message(&m, kWait)) << "message " << k;
    EXPECT_EQ(std::string(m.payload.begin(), m.payload.end()), std::to_string(k));
  }
}

TEST(Mqtt, ClientsOnASharedNetworkLoopWorkWithDescriptorsPast1024) {
  // libmosquitto's own loop watches its socket with select(), which stops at descriptor 1024: a
  // process with hundreds of clients needs the shared poll() loop. Use up the low descriptors first.
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_max < 1200) GTEST_SKIP() << "the hard limit of open files is " << limit.rlim_max;
  const rlimit saved = limit;
  limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 4096);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &limit), 0);
  MosquittoBroker broker(two_meters("many_descriptors"));
  std::vector<int> filler;
  while (filler.empty() || filler.back() < 1100) filler.push_back(::open("/dev/null", O_RDONLY));
  {
    MqttNetworkLoop loop;
    MqttOptions a_options = client(broker, "meter-a", "secret-a"), g_options = client(broker, "gateway", "secret-g");
    a_options.network_loop = g_options.network_loop = &loop;
    MqttClient a(a_options), gateway(g_options);
    ASSERT_EQ(a.connect(kWait), 0);
    ASSERT_EQ(gateway.connect(kWait), 0);
    ASSERT_EQ(gateway.subscribe("meters/+/readings", 1, kWait), 1);
    ASSERT_EQ(a.subscribe("meters/meter-a/model", 1, kWait), 1);
    for (int k = 0; k < 20; ++k) a.publish("meters/meter-a/readings", std::to_string(k), 1);
    ASSERT_TRUE(a.wait_published(kWait));
    gateway.publish("meters/meter-a/model", "model", 1);
    for (int k = 0; k < 20; ++k) {
      MqttMessage m;
      ASSERT_TRUE(gateway.next_message(&m, kWait)) << "message " << k;
      EXPECT_EQ(std::string(m.payload.begin(), m.payload.end()), std::to_string(k));
    }
    MqttMessage m;
    ASSERT_TRUE(a.next_message(&m, kWait));
    EXPECT_EQ(std::string(m.payload.begin(), m.payload.end()), "model");
    EXPECT_GT(a.wire_counters().bytes_sent, 0u);
  }
  for (int fd : filler) ::close(fd);
  ::setrlimit(RLIMIT_NOFILE, &saved);
}

TEST(Mqtt, TheBrokerStopsWithItsObject) {
  pid_t pid = 0;
  {
    MosquittoBroker broker(two_meters("lifetime"));
    pid = broker.pid();
    ASSERT_GT(pid, 0);
    EXPECT_EQ(::kill(pid, 0), 0);
  }
  EXPECT_NE(::kill(pid, 0), 0);  // gone (and reaped)
}

}  // namespace
