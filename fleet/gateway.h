// The classical platform's centre (`edgelstm gateway`): an MQTT client with a persistent session
// that receives every meter's readings (QoS 1), stores them in SQLite (fleet/reading_store.h),
// trains the central model every night (fleet/central_model.h), and answers each readings message
// with a forecast frame: the acknowledgement of the readings it has just committed and the
// forecast of the meter's next reading. The acknowledgement goes out only after the commit, so a
// meter keeps a reading until it is really stored. It also stores the self-learning meters' daily
// summaries and acknowledges them.
//
// Several gateways share the meters through an MQTT 5 shared subscription (shared_group): the
// broker gives each message to one of them; they write the same SQLite file (its locks serialize
// the commits) and one of them (train) trains and writes the model file the others reload.
//
// Messages are taken in batches (everything that arrived within batch_seconds, up to max_batch),
// stored in one transaction, then answered. CPU time is measured per activity (this thread's
// clock): ingest (decode, store, commit, forecast, answer) and training.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "fleet/central_model.h"

namespace edgelstm::fleet {

struct GatewayOptions {
  std::string host = "127.0.0.1";
  int port = 1883;
  std::string ca_file;           // TLS when set
  std::string user, password;
  std::string client_id = "gateway-1";
  std::string shared_group;      // empty: a plain subscription
  std::string database;          // SQLite file
  std::string model_file;        // the central model (written by the training gateway)
  std::string stats_file;        // written after each training and at exit
  std::string ready_file;        // written once connected and subscribed (for whoever started it)
  bool train = true;
  CentralModelOptions model;
  int first_training_days = 1;   // the first training after this many days of readings
  std::uint32_t session_expiry_seconds = 86400;
  double batch_seconds = 0.005;
  std::size_t max_batch = 5000;
};

struct TrainingRecord {
  std::int64_t until = 0;
  std::size_t examples = 0, meters = 0;
  double cpu_seconds = 0, wall_seconds = 0;
  std::int64_t readings_stored = 0, database_bytes = 0;
};

struct GatewayStats {
  std::uint64_t messages = 0, readings_received = 0, readings_inserted = 0, duplicates = 0, conflicts = 0;
  std::uint64_t summaries = 0, bad_messages = 0, forecasts = 0, acknowledgements = 0, batches = 0;
  double ingest_cpu_seconds = 0, train_cpu_seconds = 0, process_cpu_seconds = 0;
  std::int64_t max_rss_kb = 0, database_bytes = 0, readings_stored = 0;
  // MQTT traffic at the gateway (its client's counters and TCP bytes).
  std::uint64_t messages_in = 0, payload_bytes_in = 0, messages_out = 0, payload_bytes_out = 0;
  std::uint64_t wire_bytes_in = 0, wire_bytes_out = 0;
  std::vector<TrainingRecord> trainings;
};

// "key value" lines and one "training ..." line per training; read_gateway_stats throws
// host::InputError naming the file and line for anything else.
void write_gateway_stats(const GatewayStats& stats, const std::string& path);
GatewayStats read_gateway_stats(const std::string& path);

class Gateway {
 public:
  explicit Gateway(const GatewayOptions& options);
  // Connects (throws host::InputError when refused) and serves until `stop` becomes true; then
  // disconnects and writes the stats file.
  void run(const std::atomic<bool>& stop);
  const GatewayStats& stats() const { return stats_; }

 private:
  GatewayOptions options_;
  GatewayStats stats_;
};

}  // namespace edgelstm::fleet
