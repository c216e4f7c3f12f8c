// The distributed runtime's command-line values: partitions and transport URLs, refused with a
// message that names the option, quotes at most a bounded excerpt of the value, and never echoes a
// password.
#include <string>

#include <gtest/gtest.h>

#include "distributed/partition_text.h"
#include "distributed/transport_url.h"
#include "support/input_error_testing.h"

namespace {

using edgelstm::distributed::parse_partition;
using edgelstm::distributed::parse_transport_url;
using edgelstm::distributed::partition_text;
using edgelstm::test::error_of;

TEST(DistributedCommandLine, PartitionsParseStrictlyAndRoundTrip) {
  auto spec = edgelstm::make_spec(1, 32, 3, 1, 4);
  for (const char* text : {"pipeline:1", "pipeline:3", "pipeline:0,2", "pipeline:0,1,2", "split:1", "split:4"}) {
    const std::string normal = partition_text(parse_partition(text, spec));
    EXPECT_EQ(partition_text(parse_partition(normal, spec)), normal) << text;
  }
  EXPECT_EQ(partition_text(parse_partition("pipeline:0,2", spec)), "pipeline:0,2");
  EXPECT_EQ(partition_text(parse_partition("pipeline:3", spec)), "pipeline:0,1,2");
  // What strtol alone would take: spaces, a sign, trailing bytes; and numbers past a long.
  // An empty item, the last one too ("pipeline:0,2," was once taken for "pipeline:0,2"; found by the
  // distributed_arguments fuzz target).
  for (const char* text : {"pipeline: 2", "pipeline:+2", "pipeline:2 ", "split:-1", "pipeline:0,,2", "pipeline:0,2,",
                           "split:2,", "pipeline:,0,2", "pipeline:99999999999999999999999", "split:2x"}) {
    EXPECT_NE(error_of([&] { (void)parse_partition(text, spec); }).find("expected non-negative integers"), std::string::npos)
        << text;
  }
  EXPECT_EQ(error_of([&] { (void)parse_partition("pipeline:0,7", spec); }),
            "--partition 'pipeline:0,7': first layer 7: the network has 3 layer(s)");
  EXPECT_NE(error_of([&] { (void)parse_partition("split:33", spec); }), "");
  // A megabyte of value: the message quotes a bounded excerpt of it.
  const std::string huge = "pipeline:" + std::string(1 << 20, '1');
  const std::string message = error_of([&] { (void)parse_partition(huge, spec); });
  EXPECT_NE(message, "");
  EXPECT_LT(message.size(), 400u) << message.substr(0, 200);
}

TEST(DistributedCommandLine, TransportUrlsParseStrictlyAndNeverEchoAPassword) {
  const auto udp = parse_transport_url("udp://127.0.0.1:40000");
  EXPECT_EQ(udp.port, 40000);
  EXPECT_EQ(udp.text, "udp://127.0.0.1:40000");
  const auto mqtt = parse_transport_url("mqtt://node0:s3cret@localhost:1883");
  EXPECT_EQ(mqtt.user, "node0");
  EXPECT_EQ(mqtt.password, "s3cret");
  EXPECT_EQ(mqtt.text, "mqtt://node0:***@127.0.0.1:1883");
  for (const char* text : {"udp://127.0.0.1: 80", "udp://127.0.0.1:+80", "udp://127.0.0.1:80 ", "udp://127.0.0.1:0",
                           "udp://127.0.0.1:65536", "udp://127.0.0.1:999999999999999999999"}) {
    EXPECT_NE(error_of([&] { (void)parse_transport_url(text); }).find("expected a port 1..65535"), std::string::npos)
        << text;
  }
  // Every refusal of a URL with a password, whatever is wrong with it, hides the password.
  for (const char* text : {"mqtt://node0:s3cret@localhost:0", "mqtt://node0:s3cret@example.org:1883",
                           "mqtts://node0:s3cret@localhost:1883", "mqtt://node0:s3cret@localhost:1883?ca=ca.pem",
                           "mqtt://node0:s3cret@localhost"}) {
    const std::string message = error_of([&] { (void)parse_transport_url(text); });
    EXPECT_NE(message, "") << text;
    EXPECT_EQ(message.find("s3cret"), std::string::npos) << message;
    EXPECT_NE(message.find("node0:***@"), std::string::npos) << message;
  }
  // A password with a ':' in a udp:// URL: cut at its last ':', HOST:PORT once quoted the password's
  // tail as the port (found by the distributed_arguments fuzz target).
  EXPECT_EQ(error_of([] { (void)parse_transport_url("udp://node0:s3:cret@127.0.0.1"); }),
            "--transport 'udp://node0:***@127.0.0.1': udp:// takes no USER:PASSWORD@");
  // An empty ?ca= was taken for no query at all (plain MQTT): a TLS link asked for, silently dropped.
  EXPECT_EQ(error_of([] { (void)parse_transport_url("mqtt://node0:s3cret@127.0.0.1:1883?ca="); }),
            "--transport 'mqtt://node0:***@127.0.0.1:1883?ca=': ?ca= names no file (expected ?ca=FILE, the CA that "
            "signed the broker's certificate)");
  EXPECT_EQ(error_of([] { (void)parse_transport_url("tcp://127.0.0.1:1883"); }),
            "--transport 'tcp://127.0.0.1:1883': unknown scheme 'tcp' (udp, mqtt or mqtts)");
  const std::string huge = "udp://127.0.0.1:" + std::string(1 << 20, '7');
  const std::string message = error_of([&] { (void)parse_transport_url(huge); });
  EXPECT_NE(message, "");
  EXPECT_LT(message.size(), 400u) << message.substr(0, 200);
}

}  // namespace
