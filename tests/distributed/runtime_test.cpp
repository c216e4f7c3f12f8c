// The distributed runtime on the host: one node per NodeRuntime, nodes 1..N-1 in threads, over
// each transport. Streams of the Taylor series equal one device's (bit for bit: the pipeline, and
// the split's inference); UDP with losses, duplicates and reordering changes nothing; the MQTT
// broker refuses wrong credentials and a node's publication on another node's topic; a broker
// restart (graceful or a crash) loses no step and applies none twice.
#include <gtest/gtest.h>

#include <cstdio>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>

#include "distributed/in_process_transport.h"
#include "distributed/mqtt_transport.h"
#include "distributed/partition_text.h"
#include "distributed/udp_transport.h"
#include "host/csv_reader.h"
#include "host/mosquitto_broker.h"
#include "tests/distributed/cluster_fixture.h"

namespace edgelstm::distributed {
namespace {

using testing::HelperNodes;

NodeOptions options_for(const std::string& model, const Partition& partition, std::size_t index, bool learn) {
  NodeOptions options;
  options.model_path = model;
  options.partition = partition;
  options.index = index;
  options.training = learn;
  options.train.learning_rate = 0.003f;  // Adam, no clipping: the pipeline stays bit for bit
  options.session.peer_timeout_ms = 5000;
  options.session.link.retransmit_ms = 30;
  return options;
}

std::vector<double> forecasts_of(const std::vector<StepRecord>& records) {
  std::vector<double> forecasts;
  for (const StepRecord& r : records) forecasts.push_back(r.forecast);
  return forecasts;
}

// Lets the helpers take node 0's last decision (node 0 keeps running: it may have to resend it).
void settle(HelperNodes& helpers, NodeRuntime& node0, std::uint32_t windows) {
  std::atomic<bool> settled{false};
  std::thread node0_pump([&] {
    while (!settled) node0.pump(10, [](const SessionEvent&) {});
  });
  EXPECT_TRUE(helpers.stop_when([&](NodeRuntime& node) { return node.committed_windows() == windows; }, 10));
  settled = true;
  node0_pump.join();
}

std::vector<StepRecord> stream(NodeRuntime& node0, const host::ModelFile& model, std::size_t steps, bool learn) {
  StreamOptions options;
  options.steps = steps;
  options.learn = learn;
  options.round_timeout_seconds = 30;
  return stream_series(node0, model, testing::taylor_series(), options, [](const StepRecord&) {},
                       [](const SessionEvent&) {});
}

TEST(DistributedRuntime, InProcessStreamsEqualOneDevice) {
  const std::string directory = testing::scratch_directory("in_process");
  const std::string path = testing::write_forecaster(directory, 16, 2, 3);
  const host::ModelFile model = host::load_model(path);
  for (const char* text : {"split:3", "pipeline:2"}) {
    for (bool learn : {false, true}) {
      const Partition partition = parse_partition(text, model.spec);
      InProcessNetwork network(partition.nodes);
      HelperNodes helpers;
      for (std::size_t k = 1; k < partition.nodes; ++k) {
        helpers.add(std::make_unique<InProcessTransport>(network, k), options_for(path, partition, k, learn));
      }
      InProcessTransport transport(network, 0);
      NodeRuntime node0(options_for(path, partition, 0, learn), transport);
      helpers.start();
      const std::vector<double> cluster = forecasts_of(stream(node0, model, 24, learn));
      helpers.stop();
      const std::vector<double> single = testing::single_device(model, testing::taylor_series(), 24, learn,
                                                                options_for(path, partition, 0, learn).train);
      ASSERT_EQ(cluster.size(), single.size());
      if (learn && partition.kind == PartitionKind::kHiddenSplit) {
        for (std::size_t k = 0; k < single.size(); ++k) EXPECT_NEAR(cluster[k], single[k], 1e-4 * std::fabs(single[k]));
      } else {
        EXPECT_EQ(0, std::memcmp(cluster.data(), single.data(), single.size() * sizeof(double))) << text;
      }
    }
  }
}

// `edgelstm train`'s default forecaster corrects double seasonal Holt-Winters: node 0 builds its
// inputs with the base's forecasts, starts at its first target (after Holt-Winters' two weeks of
// start-up) and adds the network's correction to the base, as one device does; its forecasts are
// then within a percent or so of the readings (a plain network's output taken as the value, with
// this model's stretched random weights, would be thousands of MW off).
TEST(DistributedRuntime, HybridForecasterStreamsAsOneDevice) {
  const std::string directory = testing::scratch_directory("hybrid");
  const std::string path = testing::write_forecaster(directory, 16, 2, 5, true);
  const host::ModelFile model = host::load_model(path);
  host::DataOptions data;
  data.path = std::string(EDGELSTM_SOURCE_DIR) + "/data/taylor_england_wales_halfhourly_demand_2000.csv";
  const host::Series series = host::load_model_series(data, model);
  for (bool learn : {false, true}) {
    const Partition partition = parse_partition("pipeline:2", model.spec);
    InProcessNetwork network(partition.nodes);
    HelperNodes helpers;
    helpers.add(std::make_unique<InProcessTransport>(network, 1), options_for(path, partition, 1, learn));
    InProcessTransport transport(network, 0);
    NodeRuntime node0(options_for(path, partition, 0, learn), transport);
    helpers.start();
    StreamOptions options;
    options.steps = 24;
    options.learn = learn;
    options.round_timeout_seconds = 30;
    const std::vector<StepRecord> records =
        stream_series(node0, model, series, options, [](const StepRecord&) {}, [](const SessionEvent&) {});
    helpers.stop();
    const std::vector<double> single =
        testing::single_device(model, series, 24, learn, options_for(path, partition, 0, learn).train);
    ASSERT_EQ(records.size(), single.size());
    EXPECT_EQ(records.front().t, 2u * 7 * 48);  // Holt-Winters' start-up: two weeks
    EXPECT_EQ(0, std::memcmp(forecasts_of(records).data(), single.data(), single.size() * sizeof(double)));
    for (const StepRecord& r : records) {
      EXPECT_NEAR(r.forecast, r.actual, 0.03 * r.actual) << "reading " << r.t << (learn ? " (learning)" : "");
    }
  }
}

TEST(DistributedRuntime, UdpWithLossDuplicationAndReorderingEqualsOneDevice) {
  const std::string directory = testing::scratch_directory("udp");
  const std::string path = testing::write_forecaster(directory, 16, 2, 5);
  const host::ModelFile model = host::load_model(path);
  const Partition partition = parse_partition("pipeline:2", model.spec);
  const int base = free_udp_base_port(2);
  const LinkFaults faults{0.1, 0.05, 0.05, 17};
  UdpTransport udp1(1, base);
  auto faulty_transport1 = std::make_unique<FaultyTransport>(udp1, LinkFaults{0.1, 0.05, 0.05, 18});
  const FaultyTransport& faulty1 = *faulty_transport1;
  HelperNodes helpers;
  helpers.add(std::move(faulty_transport1), options_for(path, partition, 1, true));
  UdpTransport udp0(0, base);
  FaultyTransport faulty0(udp0, faults);
  NodeRuntime node0(options_for(path, partition, 0, true), faulty0);
  helpers.start();
  const std::vector<double> cluster = forecasts_of(stream(node0, model, 30, true));
  settle(helpers, node0, 30);
  const std::vector<double> single = testing::single_device(model, testing::taylor_series(), 30, true,
                                                            options_for(path, partition, 0, true).train);
  EXPECT_EQ(0, std::memcmp(cluster.data(), single.data(), single.size() * sizeof(double)));
  EXPECT_GT(faulty0.counts().dropped + faulty1.counts().dropped, 0u);
  EXPECT_GT(node0.sent_to(1).retransmitted_frames + helpers.node(0).sent_to(0).retransmitted_frames, 0u);
  EXPECT_GT(node0.received().duplicate + helpers.node(0).received().duplicate, 0u);
  EXPECT_EQ(node0.committed_windows(), 30u);
  EXPECT_EQ(helpers.node(0).committed_windows(), 30u);
}

// A broker with the cluster's users and ACL.
std::unique_ptr<host::MosquittoBroker> cluster_broker(const std::string& directory, const std::string& prefix,
                                                      const Partition& partition) {
  host::BrokerOptions options;
  options.directory = directory + "/broker";
  std::vector<std::string> passwords;
  for (std::size_t k = 0; k < partition.nodes; ++k) passwords.push_back("secret-" + std::to_string(k));
  options.users = cluster_users(prefix, partition, passwords);
  return std::make_unique<host::MosquittoBroker>(options);
}

MqttLinkOptions mqtt_for(const host::MosquittoBroker& broker, const std::string& prefix, const Partition& partition,
                         std::size_t index) {
  MqttLinkOptions options;
  options.port = broker.port();
  options.username = node_user(index);
  options.password = "secret-" + std::to_string(index);
  options.prefix = prefix;
  options.index = index;
  options.partition = partition;
  return options;
}

TEST(DistributedRuntime, MqttStreamEqualsOneDeviceAndTheAclHolds) {
  const std::string directory = testing::scratch_directory("mqtt");
  const std::string path = testing::write_forecaster(directory, 16, 1, 7);
  const host::ModelFile model = host::load_model(path);
  const Partition partition = parse_partition("split:3", model.spec);
  const std::string prefix = topic_prefix(model_file_id(path), partition_id(partition));
  const auto broker = cluster_broker(directory, prefix, partition);

  // A wrong password is refused at connection, by name.
  MqttLinkOptions wrong = mqtt_for(*broker, prefix, partition, 1);
  wrong.password = "guess";
  try {
    MqttTransport refused(wrong);
    ADD_FAILURE() << "a wrong password connected";
  } catch (const host::InputError& error) {
    EXPECT_NE(std::string(error.what()).find("bad user name or password"), std::string::npos) << error.what();
  }

  HelperNodes helpers;
  for (std::size_t k = 1; k < 3; ++k) {
    helpers.add(std::make_unique<MqttTransport>(mqtt_for(*broker, prefix, partition, k)), options_for(path, partition, k, false));
  }
  MqttTransport transport0(mqtt_for(*broker, prefix, partition, 0));
  NodeRuntime node0(options_for(path, partition, 0, false), transport0);
  helpers.start();
  const std::vector<double> cluster = forecasts_of(stream(node0, model, 20, false));
  helpers.stop();
  const std::vector<double> single = testing::single_device(model, testing::taylor_series(), 20, false, TrainConfig{});
  EXPECT_EQ(0, std::memcmp(cluster.data(), single.data(), single.size() * sizeof(double)));

  // Node 1 may publish only on its own links and read only what its neighbours send it: on node
  // 2's link from node 0 its publication is refused (PUBACK 135) and reaches nobody.
  host::MqttOptions as_node1;
  as_node1.port = broker->port();
  as_node1.client_id = "intruder";
  as_node1.username = node_user(1);
  as_node1.password = "secret-1";
  host::MqttClient intruder(as_node1);
  ASSERT_EQ(intruder.connect(10), 0);
  host::MqttOptions as_node2 = as_node1;
  as_node2.client_id = "listener";
  as_node2.username = node_user(2);
  as_node2.password = "secret-2";
  host::MqttClient listener(as_node2);
  ASSERT_EQ(listener.connect(10), 0);
  ASSERT_EQ(listener.subscribe(link_topic(prefix, 0, 2), 1, 10), 1);
  const int refused_mid = intruder.publish(link_topic(prefix, 0, 2), std::string("forged"), 1);
  const int own_mid = intruder.publish(link_topic(prefix, 1, 2), std::string("allowed"), 1);
  ASSERT_TRUE(intruder.wait_published(10));
  EXPECT_EQ(intruder.publish_result(refused_mid), 135);
  EXPECT_LT(intruder.publish_result(own_mid), 128);  // accepted (0, or 16: nobody subscribed here now)
  host::MqttMessage message;
  EXPECT_FALSE(listener.next_message(&message, 1.0));
  // Reading another link is not delivered either (granted or refused, nothing arrives).
  ASSERT_GE(intruder.subscribe(link_topic(prefix, 0, 2), 1, 10), 0);
  host::MqttOptions as_node0 = as_node1;
  as_node0.client_id = "source";
  as_node0.username = node_user(0);
  as_node0.password = "secret-0";
  host::MqttClient source(as_node0);
  ASSERT_EQ(source.connect(10), 0);
  (void)source.publish(link_topic(prefix, 0, 2), std::string("for node 2 only"), 1);
  ASSERT_TRUE(source.wait_published(10));
  EXPECT_TRUE(listener.next_message(&message, 5.0));
  EXPECT_FALSE(intruder.next_message(&message, 1.0));
}

// A publish the broker refuses (PUBACK 135: the ACL) is counted as refused and reported, not
// taken for a delivery; an allowed one is counted accepted.
TEST(DistributedRuntime, MqttTransportReportsAPublishTheBrokerRefuses) {
  const std::string directory = testing::scratch_directory("mqtt-refused");
  const Partition partition = parse_partition("split:2", edgelstm::make_spec(2, 8, 1, 1, 4));
  const std::string prefix = topic_prefix(0x1234u, partition_id(partition));
  host::BrokerOptions options;
  options.directory = directory + "/broker";
  options.users = cluster_users(prefix, partition, {"secret-0", "secret-1"});
  options.users[1].topics[0].pattern = prefix + "/1/9";  // node 1 may not write its link to node 0
  host::MosquittoBroker broker(options);
  MqttTransport node0(mqtt_for(broker, prefix, partition, 0));
  MqttTransport node1(mqtt_for(broker, prefix, partition, 1));
  const std::uint8_t frame[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  node0.send(1, Span<const std::uint8_t>(frame, sizeof frame));
  node1.send(0, Span<const std::uint8_t>(frame, sizeof frame));
  std::vector<std::string> alerts;
  std::size_t to_node1 = 0;
  for (int k = 0; k < 100 && (alerts.empty() || to_node1 == 0 || node0.publish_counts().accepted == 0); ++k) {
    to_node1 += node1.receive(50, [](Span<const std::uint8_t>) {});
    for (const std::string& alert : node1.take_alerts()) alerts.push_back(alert);
    (void)node0.take_alerts();
  }
  EXPECT_EQ(node1.publish_counts().refused, 1u);
  EXPECT_EQ(node1.publish_counts().accepted, 0u);
  EXPECT_EQ(node0.publish_counts().accepted, 1u);
  EXPECT_EQ(node0.publish_counts().refused, 0u);
  EXPECT_EQ(to_node1, 1u);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_NE(alerts[0].find("PUBACK 135"), std::string::npos) << alerts[0];
  EXPECT_NE(alerts[0].find(link_topic(prefix, 1, 0)), std::string::npos) << alerts[0];
  // Nothing reached node 0.
  EXPECT_EQ(node0.receive(500, [](Span<const std::uint8_t>) {}), 0u);
}

// The broker goes away in the middle of a learning stream, once stopped cleanly and once killed:
// the nodes reconnect (persistent sessions, QoS 1; after a crash the links resend what was lost)
// and the stream's forecasts and every node's committed windows are those of an uninterrupted run.
TEST(DistributedRuntime, BrokerRestartLosesNoStepAndAppliesNoneTwice) {
  const std::string directory = testing::scratch_directory("broker_restart");
  const std::string path = testing::write_forecaster(directory, 16, 2, 9);
  const host::ModelFile model = host::load_model(path);
  const Partition partition = parse_partition("pipeline:2", model.spec);
  const std::string prefix = topic_prefix(model_file_id(path), partition_id(partition));
  const auto broker = cluster_broker(directory, prefix, partition);
  HelperNodes helpers;
  helpers.add(std::make_unique<MqttTransport>(mqtt_for(*broker, prefix, partition, 1)), options_for(path, partition, 1, true));
  MqttTransport transport0(mqtt_for(*broker, prefix, partition, 0));
  NodeRuntime node0(options_for(path, partition, 0, true), transport0);
  helpers.start();
  const host::Series series = testing::taylor_series();
  const std::size_t first = 12 - 1 + 336;  // the model's first forecast
  std::vector<double> cluster;
  int losses = 0;
  for (int segment = 0; segment < 3; ++segment) {
    StreamOptions options;
    options.learn = true;
    options.first = first + 10 * static_cast<std::size_t>(segment);
    options.steps = 10;
    options.round_timeout_seconds = 60;
    for (const StepRecord& r : stream_series(node0, model, series, options, [](const StepRecord&) {},
                                             [&](const SessionEvent& e) { losses += e.kind == SessionEventKind::kPeerLost; })) {
      cluster.push_back(r.forecast);
    }
    if (segment == 0) {  // a clean restart: the broker saves its sessions and queued messages
      broker->stop();
      broker->start();
    } else if (segment == 1) {  // a crash: what it had not saved is gone
      broker->kill();
      broker->start();
    }
  }
  settle(helpers, node0, 30);
  const std::vector<double> single = testing::single_device(model, series, 30, true, options_for(path, partition, 0, true).train);
  ASSERT_EQ(cluster.size(), 30u);
  EXPECT_EQ(0, std::memcmp(cluster.data(), single.data(), single.size() * sizeof(double)));
  // Exactly 30 windows committed on both nodes: none lost, none applied twice.
  EXPECT_EQ(node0.committed_windows(), 30u);
  EXPECT_EQ(helpers.node(0).committed_windows(), 30u);
  EXPECT_GE(transport0.client().counters().connects, 3u);  // reconnected after each restart
  std::printf("broker restarts: %d peer losses reported, %u + %u frames retransmitted, %u duplicates dropped\n", losses,
              node0.sent_to(1).retransmitted_frames, helpers.node(0).sent_to(0).retransmitted_frames,
              node0.received().duplicate + helpers.node(0).received().duplicate);
}

}  // namespace
}  // namespace edgelstm::distributed
