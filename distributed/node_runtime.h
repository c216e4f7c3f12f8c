// One node of a partitioned network as a host process runs it: the node's slice of a model file
// (float: PartitionNode, inference and training; an integer model: IntegerPartitionNode), its
// session (include/edgelstm/node_session.h) and a transport, driven by an event loop on the
// monotonic clock. In training, after every committed window the node writes a checkpoint of its
// slice (parameters, optimizer state, committed windows) atomically, and a restarted node starts
// from it: the cluster resumes where it was (node_session.h's state policy).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "distributed/transport.h"
#include "edgelstm/edgelstm.h"

namespace edgelstm::distributed {

struct NodeOptions {
  std::string model_path;
  Partition partition{};
  std::size_t index = 0;
  bool training = false;
  TrainConfig train{};
  SessionConfig session{};      // timers, activation encoding (model_id and incarnation are set here)
  std::string checkpoint_path;  // training: where the node keeps its slice after each commit
  std::uint32_t checkpoint_every = 1;  // windows between checkpoints (a restarted node resumes only
                                       // from a checkpoint of the last committed window)
};

class NodeRuntime {
 public:
  // Loads the node's slice of the model file and binds its session; throws host::InputError for a
  // bad model, partition or checkpoint.
  NodeRuntime(const NodeOptions& options, Transport& transport);
  ~NodeRuntime();
  NodeRuntime(const NodeRuntime&) = delete;
  NodeRuntime& operator=(const NodeRuntime&) = delete;

  // Frames in for up to `timeout_ms`, timers, frames out; each event goes to on_event.
  void pump(int timeout_ms, const std::function<void(const SessionEvent&)>& on_event);
  // The transport's lines for the operator since the last call (a broker refusing this node's
  // publishes: Transport::take_alerts).
  std::vector<std::string> take_alerts() { return transport_.take_alerts(); }

  // Node 0: rounds. Inputs and outputs are float (an integer node quantizes the inputs with the
  // model's input scale and returns its Q16 outputs as floats).
  bool ready() const;
  bool busy() const;
  bool inconsistent() const;
  Status submit_step(Span<const float> x);
  Status submit_window(Span<const float> x, Span<const float> targets, WindowStart start);
  std::vector<float> outputs() const;

  const LstmSpec& spec() const { return spec_; }
  const NodeShare& share() const { return share_; }
  bool integer() const { return integer_; }
  std::uint32_t model_id() const { return model_id_; }
  std::size_t index() const { return options_.index; }
  std::size_t arena_bytes() const;   // compute arena + link buffers (the constexpr plan)
  std::uint32_t committed_windows() const;
  const ReceiveCounters& received() const;
  const PeerTraffic& sent_to(std::size_t peer) const;
  std::string describe() const;      // "node 1 of split:2: layer 0 units 16-31 of 32, 25,088 bytes, udp ..."

  // Milliseconds on this process's monotonic clock (the session's time base).
  std::uint32_t now_ms() const;

  struct Engine;

 private:
  void write_checkpoint();
  void read_checkpoint();

  NodeOptions options_;
  Transport& transport_;
  std::vector<std::uint8_t> model_bytes_;  // 4-byte aligned copy of the file
  LstmSpec spec_{};
  NodeShare share_{};
  bool integer_ = false;
  std::uint32_t model_id_ = 0;
  std::unique_ptr<Engine> engine_;
  std::uint32_t checkpoint_committed_ = 0;
  std::chrono::steady_clock::time_point start_;
};

// A model file's identity on the wire: the CRC-32 of its bytes (every node must run the same file).
std::uint32_t model_file_id(const std::string& path);

// A boot-unique incarnation number (time and process id), as a device's boot counter would be.
std::uint32_t fresh_incarnation();

}  // namespace edgelstm::distributed
