#include "distributed/node_runtime.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "distributed/partition_text.h"
#include "host/csv_reader.h"
#include "host/forecast.h"
#include "host/input_file.h"
#include "host/model_io.h"
#include "host/output_file.h"

namespace edgelstm::distributed {

// The node and its session, of either node type, behind one face.
struct NodeRuntime::Engine {
  virtual ~Engine() = default;
  virtual FrameError receive(Span<const std::uint8_t> frame, std::uint32_t now) = 0;
  virtual SessionEvent poll(std::uint32_t now) = 0;
  virtual bool ready() const = 0;
  virtual bool busy() const = 0;
  virtual bool inconsistent() const = 0;
  virtual Status submit_step(Span<const float> x) = 0;
  virtual Status submit_window(Span<const float> x, Span<const float> targets, WindowStart start) = 0;
  virtual std::vector<float> outputs() const = 0;
  virtual std::size_t arena_bytes() const = 0;
  virtual std::uint32_t committed() const = 0;
  virtual const ReceiveCounters& received() const = 0;
  virtual const PeerTraffic& sent_to(std::size_t peer) const = 0;
  virtual PartitionNode* float_node() { return nullptr; }
};

namespace {

void transport_output(void* context, std::size_t peer, Span<const std::uint8_t> frame) {
  static_cast<Transport*>(context)->send(peer, frame);
}

Span<std::uint8_t> aligned(std::vector<std::uint8_t>& storage, std::size_t bytes) {
  return host::aligned_arena(storage, bytes);
}

template <typename Node>
struct EngineOf : NodeRuntime::Engine {
  Node node;
  NodeSession<Node> session;
  std::vector<std::uint8_t> compute_storage, link_storage;
  std::size_t bytes = 0;

  FrameError receive(Span<const std::uint8_t> frame, std::uint32_t now) override { return session.receive(frame, now); }
  SessionEvent poll(std::uint32_t now) override { return session.poll(now); }
  bool ready() const override { return session.ready(); }
  bool busy() const override { return session.busy(); }
  bool inconsistent() const override { return session.inconsistent(); }
  std::size_t arena_bytes() const override { return bytes; }
  std::uint32_t committed() const override { return session.committed_windows(); }
  const ReceiveCounters& received() const override { return session.received(); }
  const PeerTraffic& sent_to(std::size_t peer) const override { return session.sent_to(peer); }
};

struct FloatEngine : EngineOf<PartitionNode> {
  Status submit_step(Span<const float> x) override { return session.submit_step(x); }
  Status submit_window(Span<const float> x, Span<const float> targets, WindowStart start) override {
    return session.submit_window(x, targets, start);
  }
  std::vector<float> outputs() const override {
    const Span<const float> y = session.outputs();
    return std::vector<float>(y.begin(), y.end());
  }
  PartitionNode* float_node() override { return &node; }
};

struct IntegerEngine : EngineOf<IntegerPartitionNode> {
  Status submit_step(Span<const float> x) override {
    std::vector<std::int16_t> q(x.size());
    const float scale = node.input_scale();
    for (std::size_t k = 0; k < x.size(); ++k) {  // as IntegerNetwork::quantize_input
      if (!std::isfinite(x[k])) return Status::kNonFinite;
      const float v = std::nearbyint(x[k] / scale);
      q[k] = static_cast<std::int16_t>(v > 32767.0f ? 32767 : v < -32767.0f ? -32767 : static_cast<int>(v));
    }
    return session.submit_step(Span<const std::int16_t>(q.data(), q.size()));
  }
  Status submit_window(Span<const float>, Span<const float>, WindowStart) override { return Status::kNotBound; }
  std::vector<float> outputs() const override {
    std::vector<float> y;
    for (std::int32_t v : session.outputs()) y.push_back(IntegerNetwork::output_value(v));
    return y;
  }
};

// A regular file only (a FIFO would block, a device never end), at most a model file's size.
std::vector<std::uint8_t> read_file(const std::string& path, const char* what) {
  const std::string bytes = host::read_input_file(path, host::kMaxModelBytes, what);
  return std::vector<std::uint8_t>(bytes.begin(), bytes.end());
}

void check(Status status, const std::string& what) {
  if (status != Status::kOk) throw host::InputError(what + ": " + status_name(status));
}

// Checkpoint file: "ELSTMCKP", u32 version 1, u32 model id, u16 partition id, u16 node, u32
// committed windows, f64 beta1^t, f64 beta2^t, u32 parameter count, u32 optimizer values, the
// floats, u32 CRC-32 of everything before it.
constexpr char kCheckpointMagic[8] = {'E', 'L', 'S', 'T', 'M', 'C', 'K', 'P'};

}  // namespace

std::uint32_t model_file_id(const std::string& path) {
  const std::vector<std::uint8_t> bytes = read_file(path, "model file");
  return crc32_update(0, bytes.data(), bytes.size());
}

std::uint32_t fresh_incarnation() {
  const auto ticks = std::chrono::system_clock::now().time_since_epoch().count();
  const std::uint32_t mixed = static_cast<std::uint32_t>(ticks) ^ static_cast<std::uint32_t>(ticks >> 32) ^
                              (static_cast<std::uint32_t>(::getpid()) << 16);
  return mixed == 0 ? 1 : mixed;
}

NodeRuntime::NodeRuntime(const NodeOptions& options, Transport& transport)
    : options_(options), transport_(transport), start_(std::chrono::steady_clock::now()) {
  const std::vector<std::uint8_t> file = read_file(options.model_path, "model file");
  model_bytes_.assign(file.size() + 4, 0);
  std::uint8_t* bytes = host::aligned_arena(model_bytes_, file.size()).data();
  std::memcpy(bytes, file.data(), file.size());
  ModelView view;
  check(read_model(Span<const std::uint8_t>(bytes, file.size()), &view), options.model_path);
  spec_ = view.spec();
  check(validate_partition(spec_, options.partition), "partition " + partition_text(options.partition));
  if (options.index >= options.partition.nodes) {
    throw host::InputError("--index " + std::to_string(options.index) + ": the partition has " +
                           std::to_string(options.partition.nodes) + " nodes (0.." +
                           std::to_string(options.partition.nodes - 1) + ")");
  }
  share_ = node_share(spec_, options.partition, options.index);
  model_id_ = crc32_update(0, bytes, file.size());
  ModelTensor int_config;
  integer_ = view.weight_format() == WeightFormat::kInt8 && view.tensor("int.config", &int_config) == Status::kOk;
  if (view.weight_format() != WeightFormat::kFloat32 && !integer_) {
    throw host::InputError(options.model_path + ": a weight-only quantized model; nodes run float models and integer "
                           "models (edgelstm quantize --integer)");
  }
  if (integer_ && options.training) throw host::InputError(options.model_path + ": the integer path does not train");
  SessionConfig session = options.session;
  session.model_id = model_id_;
  session.incarnation = fresh_incarnation();
  const std::size_t index = options.index;
  if (integer_) {
    auto engine = std::make_unique<IntegerEngine>();
    const std::size_t compute = integer_node_bytes(spec_, options.partition, index);
    check(engine->node.bind(spec_, options.partition, index, aligned(engine->compute_storage, compute)), "node");
    check(engine->node.load(view), options.model_path);
    const std::size_t links = session_bytes(spec_, options.partition, index, false);
    check(engine->session.bind(&engine->node, options.partition, session, false, aligned(engine->link_storage, links),
                               &transport_output, &transport_),
          "session");
    engine->bytes = integer_node_inference_bytes(spec_, options.partition, index);
    engine_ = std::move(engine);
    return;
  }
  auto engine = std::make_unique<FloatEngine>();
  const Purpose purpose = options.training ? Purpose::kTraining : Purpose::kInference;
  const std::size_t compute = node_compute_bytes(spec_, options.partition, index, purpose, options.train.optimizer);
  const Span<std::uint8_t> arena = aligned(engine->compute_storage, compute);
  check(options.training ? engine->node.bind_training(spec_, options.partition, index, options.train, arena)
                         : engine->node.bind_inference(spec_, options.partition, index, arena),
        "node");
  check(engine->node.load(view), options.model_path);
  engine_ = std::move(engine);
  if (options.training && !options.checkpoint_path.empty()) read_checkpoint();
  session.committed_windows = checkpoint_committed_;
  auto* float_engine = static_cast<FloatEngine*>(engine_.get());
  const std::size_t links = session_bytes(spec_, options.partition, index, options.training);
  check(float_engine->session.bind(&float_engine->node, options.partition, session, options.training,
                                   aligned(float_engine->link_storage, links), &transport_output, &transport_),
        "session");
  float_engine->bytes = options.training ? node_train_bytes(spec_, options.partition, index, options.train.optimizer)
                                         : node_inference_bytes(spec_, options.partition, index);
}

NodeRuntime::~NodeRuntime() = default;

std::uint32_t NodeRuntime::now_ms() const {
  return static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start_).count());
}

void NodeRuntime::pump(int timeout_ms, const std::function<void(const SessionEvent&)>& on_event) {
  const auto drain = [&] {
    bool any = false;
    for (SessionEvent event = engine_->poll(now_ms()); event.kind != SessionEventKind::kNone;
         event = engine_->poll(now_ms())) {
      if (event.kind == SessionEventKind::kWindowDone && event.status == Status::kOk && !options_.checkpoint_path.empty() &&
          options_.checkpoint_every != 0 && engine_->committed() % options_.checkpoint_every == 0) {
        write_checkpoint();
      }
      on_event(event);
      any = true;
    }
    return any;
  };
  // What is due now (a submitted round starts, timers) goes out before waiting; after an event
  // (a round that ended without frames, on one node) the caller gets control back at once.
  const bool events = drain();
  transport_.receive(events ? 0 : timeout_ms,
                     [&](Span<const std::uint8_t> frame) { (void)engine_->receive(frame, now_ms()); });
  drain();
}

bool NodeRuntime::ready() const { return engine_->ready(); }
bool NodeRuntime::busy() const { return engine_->busy(); }
bool NodeRuntime::inconsistent() const { return engine_->inconsistent(); }
Status NodeRuntime::submit_step(Span<const float> x) { return engine_->submit_step(x); }
Status NodeRuntime::submit_window(Span<const float> x, Span<const float> targets, WindowStart start) {
  return engine_->submit_window(x, targets, start);
}
std::vector<float> NodeRuntime::outputs() const { return engine_->outputs(); }
std::size_t NodeRuntime::arena_bytes() const { return engine_->arena_bytes(); }
std::uint32_t NodeRuntime::committed_windows() const { return engine_->committed(); }
const ReceiveCounters& NodeRuntime::received() const { return engine_->received(); }
const PeerTraffic& NodeRuntime::sent_to(std::size_t peer) const { return engine_->sent_to(peer); }

std::string NodeRuntime::describe() const {
  char bytes[32];
  std::snprintf(bytes, sizeof bytes, "%zu", arena_bytes());
  return "node " + std::to_string(options_.index) + " of " + partition_text(options_.partition) + ": " +
         describe_share(share_) + (integer_ ? ", full-integer" : "") + ", " + bytes + " bytes, " + transport_.describe();
}

namespace {
void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int k = 0; k < 4; ++k) out.push_back(static_cast<std::uint8_t>(v >> (8 * k)));
}
template <typename T>
void put_raw(std::vector<std::uint8_t>& out, const T* values, std::size_t count) {
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(values);
  out.insert(out.end(), bytes, bytes + count * sizeof(T));
}
std::uint32_t get32(const std::uint8_t* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<std::uint32_t>(p[3]) << 24); }
}  // namespace

void NodeRuntime::write_checkpoint() {
  PartitionNode& node = *engine_->float_node();
  std::vector<std::uint8_t> out(kCheckpointMagic, kCheckpointMagic + 8);
  put32(out, 1);
  put32(out, model_id_);
  put32(out, partition_id(options_.partition) | (static_cast<std::uint32_t>(options_.index) << 16));
  put32(out, engine_->committed());
  const double powers[2] = {node.beta1_power(), node.beta2_power()};
  put_raw(out, powers, 2);
  const Span<const float> parameters = static_cast<const PartitionNode&>(node).parameters();
  const Span<float> state = node.optimizer_state();
  put32(out, static_cast<std::uint32_t>(parameters.size()));
  put32(out, static_cast<std::uint32_t>(state.size()));
  put_raw(out, parameters.data(), parameters.size());
  put_raw(out, state.data(), state.size());
  put32(out, crc32_update(0, out.data(), out.size()));
  host::write_file_atomically(options_.checkpoint_path,
                              std::string_view(reinterpret_cast<const char*>(out.data()), out.size()));
}

void NodeRuntime::read_checkpoint() {
  struct stat status {};
  if (::stat(options_.checkpoint_path.c_str(), &status) != 0 && errno == ENOENT) {
    return;  // none yet: the model file's weights, nothing committed
  }
  const std::vector<std::uint8_t> in = read_file(options_.checkpoint_path, "checkpoint");
  const std::string& path = options_.checkpoint_path;
  PartitionNode& node = *engine_->float_node();
  const Span<float> parameters = node.parameters();
  const Span<float> state = node.optimizer_state();
  const std::size_t expected = 8 + 4 * 4 + 16 + 8 + 4 * (parameters.size() + state.size()) + 4;
  if (in.size() != expected || std::memcmp(in.data(), kCheckpointMagic, 8) != 0 || get32(in.data() + 8) != 1) {
    throw host::InputError(path + ": not a checkpoint of this node (size or magic)");
  }
  if (crc32_update(0, in.data(), in.size() - 4) != get32(in.data() + in.size() - 4)) {
    throw host::InputError(path + ": checkpoint checksum mismatch (corrupt)");
  }
  const std::uint32_t owner = partition_id(options_.partition) | (static_cast<std::uint32_t>(options_.index) << 16);
  if (get32(in.data() + 12) != model_id_ || get32(in.data() + 16) != owner) {
    throw host::InputError(path + ": a checkpoint of another model, partition or node");
  }
  checkpoint_committed_ = get32(in.data() + 20);
  double powers[2];
  std::memcpy(powers, in.data() + 24, 16);
  if (!std::isfinite(powers[0]) || !std::isfinite(powers[1])) {
    throw host::InputError(path + ": the checkpoint's Adam step powers are NaN or Inf");
  }
  node.set_beta_powers(powers[0], powers[1]);
  if (get32(in.data() + 40) != parameters.size() || get32(in.data() + 44) != state.size()) {
    throw host::InputError(path + ": checkpoint sizes differ from the node's");
  }
  // A valid CRC says the bytes arrived, not that they make sense: no NaN or Inf is trained on.
  std::vector<float> values(parameters.size() + state.size());
  std::memcpy(values.data(), in.data() + 48, values.size() * 4);
  for (float value : values) {
    if (!std::isfinite(value)) throw host::InputError(path + ": the checkpoint holds a NaN or Inf weight or optimizer value");
  }
  std::memcpy(parameters.data(), values.data(), parameters.size() * 4);
  std::memcpy(state.data(), values.data() + parameters.size(), state.size() * 4);
}

}  // namespace edgelstm::distributed
