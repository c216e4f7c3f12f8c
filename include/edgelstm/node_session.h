// NodeSession<Node>: runs one node of a partitioned network (Node: PartitionNode for float
// inference and training, IntegerPartitionNode for the full-integer path) over links to the other
// nodes: the rounds below on top of SessionLinks (session_links.h: frames, reliable links,
// liveness). Heap-free; its memory is one caller-owned span of session_bytes().
//
// Rounds. Node 0 is the source: the application submits each inference step (submit_step) or
// training window (submit_window) there; rounds are numbered 1, 2, ... and one is in flight at a
// time. Every node reports the end of a round from poll() (kStepDone, kWindowDone); node 0's
// outputs() then holds the head's outputs. The vectors of a round and their order are listed in
// session_plan.h. Training commits like a two-phase commit: every node reports its gradient square
// sum (the head its loss) to node 0; node 0 sends the clipping scale of the global norm; every node
// votes whether its update stays finite; node 0 decides. A non-finite loss, norm or update refuses
// the window on every node, leaving parameters, optimizer and recurrent state as they were (as
// Network::train_step on one device).
//
// Recovery and state policy. When a peer is lost or restarts, the round in flight is abandoned on
// every node (nothing is committed; a node that has already voted waits for node 0's decision,
// which its link delivers before any reset) and node 0, once every peer is back, resets the cluster: every
// node's recurrent state goes to zero from a new round on (kReset) and node 0 runs the abandoned
// step or window again. The network thus restarts from the zero state; node 0 flags the next
// `window` steps as warm-up (kStepDone.warm_up). Weights are untouched by inference; in training a
// restarted node must come back with the weights of the last committed window (from a checkpoint):
// its greeting says how many windows it committed, and node 0 reports kPeerInconsistent and
// refuses to go on when that differs from its own count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "activations.h"
#include "frame.h"
#include "network.h"
#include "optimizer.h"
#include "partition.h"
#include "session_links.h"
#include "session_plan.h"
#include "span.h"
#include "status.h"

namespace edgelstm {

namespace detail {
enum FramePart : std::uint8_t {
  kPartStep = 0,       // inference: x, h, the head's outputs
  kPartWindow = 1,     // training forward: the window of x or h, the slices of h per step
  kPartHead = 2,       // training: dL/dh of the top layer from the head
  kPartRecurrent = 3,  // training: partial sums of dL/dh_{t-1}
  kPartBelow = 4,      // training: dL/dx of a layer (partial sums in a split)
  kPartTarget = 5,     // training: the targets, to the head node
};
constexpr std::size_t frame_part(std::uint16_t index) { return index >> 12; }
}  // namespace detail

// A CRC-32 of what every node must agree on: the activations' encoding, whether the cluster
// trains, and then every training option (the same optimizer, rates and clipping everywhere).
inline std::uint32_t session_digest(PayloadEncoding activations, bool training, const TrainConfig& config) {
  std::uint8_t bytes[64] = {};
  std::size_t n = 0;
  const auto put = [&](const void* value, std::size_t size) {
    std::memcpy(bytes + n, value, size);
    n += size;
  };
  bytes[n++] = static_cast<std::uint8_t>(activations);
  bytes[n++] = training ? 1 : 0;
  if (training) {
    bytes[n++] = static_cast<std::uint8_t>(config.optimizer);
    bytes[n++] = static_cast<std::uint8_t>(config.loss);
    put(&config.learning_rate, 4);
    put(&config.momentum, 4);
    put(&config.beta1, 8);
    put(&config.beta2, 8);
    put(&config.epsilon, 4);
    put(&config.weight_decay, 4);
    put(&config.clip_norm, 4);
    put(&config.huber_delta, 4);
  }
  return crc32_update(0, bytes, n);
}

template <typename Node>
class NodeSession : public SessionLinks<NodeSession<Node>> {
  using Links = SessionLinks<NodeSession<Node>>;
  friend Links;

 public:
  using Value = typename Node::Value;
  using Output = typename Node::Output;

  // Binds to a bound and loaded node. `memory` holds session_bytes(spec, partition, index,
  // training) bytes on a kArenaAlignment boundary; `training` says whether windows will be
  // trained (the node must then be bound for training: an inference node's arena has no room for
  // a window). The partition must be the one the node was bound with. kInvalidSpec when a vector
  // of a round would need more than kMaxVectorFragments frames (a long training window).
  Status bind(Node* node, const Partition& partition, const SessionConfig& config, bool training,
              Span<std::uint8_t> memory, FrameOutput output, void* context) {
    if (node == nullptr || output == nullptr) return Status::kInvalidArgument;
    if (!node->bound()) return Status::kNotBound;
    if (training && !node->bound_for_training()) return Status::kNotBound;
    if (!same_partition(partition, node->partition())) return Status::kInvalidArgument;
    const LstmSpec& spec = node->spec();
    EDGELSTM_TRY(validate_partition(spec, partition));
    const std::size_t index = node->share().index;
    if (training && spec.task != Task::kRegression) return Status::kInvalidArgument;
    if (spec.window > 1023) return Status::kInvalidSpec;  // frame_index keeps 10 bits of time step
    if (!detail::vectors_fit_frames(spec, partition, training)) return Status::kInvalidSpec;
    constexpr bool float_values = std::is_same_v<Value, float>;
    if (config.activations != PayloadEncoding::kFloat32 &&
        (!float_values || config.activations != PayloadEncoding::kQ15)) {
      return Status::kInvalidArgument;
    }
    const detail::SessionPlan plan = detail::plan_session(spec, partition, index, training);
    EDGELSTM_TRY(detail::check_arena(memory, plan.total_bytes));
    node_ = node;
    share_ = node->share();
    training_ = training;
    base_ = memory.data();
    plan_ = plan;
    value_encoding_ = float_values ? config.activations : PayloadEncoding::kInt16;
    input_encoding_ = float_values ? PayloadEncoding::kFloat32 : PayloadEncoding::kInt16;
    output_encoding_ = float_values ? PayloadEncoding::kFloat32 : PayloadEncoding::kInt32;
    TrainConfig train_config{};
    if constexpr (Node::kTrains) train_config = node->train_config();
    this->bind_links(spec, partition, index, config, session_digest(config.activations, training, train_config), plan,
                     base_, output, context);
    phase_ = Phase::kIdle;
    pending_ = false;
    warm_up_left_ = 0;
    return Status::kOk;
  }

  // ---- The application's side (node 0) ------------------------------------------------------

  // Whether node 0 can take a round: every peer joined and alive, nothing in flight or pending.
  bool ready() const { return this->me_ == 0 && !this->busy_ && !pending_ && !this->recovering_ && !this->inconsistent_ && all_back(); }
  bool busy() const { return this->busy_ || pending_; }
  // Node 0 cannot go on (a restarted peer lost committed training windows).
  bool inconsistent() const { return this->inconsistent_; }
  std::uint32_t committed_windows() const { return this->committed_; }

  // Submits an inference step with input x (input_size values). kNotBound when not ready(),
  // kNonFinite for a NaN or Inf input (nothing starts).
  Status submit_step(Span<const Value> x) {
    if (!ready()) return Status::kNotBound;
    if (x.size() != this->spec_.input_size) return Status::kInvalidArgument;
    if constexpr (std::is_same_v<Value, float>) {
      if (!all_finite(x.data(), x.size())) return Status::kNonFinite;
    }
    std::memcpy(pending(), x.data(), x.size() * sizeof(Value));
    pending_training_ = false;
    pending_ = true;
    return Status::kOk;
  }

  // Submits a training window: x holds window x input_size values, targets output_steps x
  // output_size (regression).
  Status submit_window(Span<const float> x, Span<const float> targets, WindowStart start) {
    if (!training_ || !ready()) return Status::kNotBound;
    const LstmSpec& spec = this->spec_;
    if (x.size() != spec.window * spec.input_size || targets.size() != spec.output_steps() * spec.output_size) {
      return Status::kInvalidArgument;
    }
    if (!all_finite(x.data(), x.size()) || !all_finite(targets.data(), targets.size())) return Status::kNonFinite;
    std::memcpy(pending_float(), x.data(), x.size() * sizeof(float));
    std::memcpy(pending_float() + x.size(), targets.data(), targets.size() * sizeof(float));
    pending_training_ = true;
    pending_carry_ = start == WindowStart::kCarryState;
    pending_ = true;
    return Status::kOk;
  }

  // The head's outputs of the last finished round (node 0, and the head node; output_size values):
  // the step's, or the last output step's of a training window (computed before its update).
  Span<const Output> outputs() const { return Span<const Output>(outputs_ptr(), this->spec_.output_size); }

  // Runs timers (greetings, heartbeats, acknowledgements, retransmissions, timeouts), node 0's
  // coordination and the round as far as the frames received allow. Returns one event (kNone when
  // there is none); call again until kNone.
  SessionEvent poll(std::uint32_t now_ms) {
    this->now_ms_ = now_ms;
    this->run_links();
    if (this->me_ == 0) coordinate();
    for (int progress = 0; progress < 100000 && advance(); ++progress) {
    }
    this->flush_acks();
    return this->pop_event();
  }

 private:
  enum class Phase : std::uint8_t {
    kIdle,
    kInferInput, kInferLayer, kInferGather, kInferTop, kInferAwaitOutput,
    kTrainBegin, kTrainForward, kTrainGather, kTrainTop, kTrainAwaitTopGradient, kTrainLoss,
    kTrainAwaitHeadGradient, kTrainBackward, kTrainBackwardStep, kTrainReduce, kTrainLayerEnd,
    kTrainReduceBelow, kTrainSendInputGradient, kTrainReport, kTrainAwaitReports, kTrainAwaitScale,
    kTrainAwaitVotes, kTrainAwaitDecision,
  };

  bool split() const { return share_.kind == PartitionKind::kHiddenSplit; }
  bool all_back() const {
    for (std::size_t p = 0; p < this->partition_.nodes; ++p) {
      if (this->linked(p) && (!this->peers_[p].joined || this->peers_[p].lost)) return false;
    }
    return true;
  }
  std::size_t units_of(std::size_t node, std::size_t layer) const {
    return detail::units_of(this->spec_, this->partition_, layer, node);
  }
  std::size_t first_unit_of(std::size_t node, std::size_t layer) const {
    return split() ? this->partition_.first_unit[layer][node] : 0;
  }
  static constexpr std::uint16_t index(std::size_t part, std::size_t layer, std::size_t step) {
    return frame_index(part, layer, step);
  }

  // ---- Node 0: starting rounds, resetting the cluster --------------------------------------

  void coordinate() {
    if (this->recovering_ && !this->inconsistent_ && all_back()) reset_cluster();
    if (!this->busy_ && pending_ && !this->recovering_ && !this->inconsistent_ && all_back()) {
      this->round_ = this->next_round_;
      this->busy_ = true;
      round_training_ = pending_training_;
      carry_ = pending_carry_;
      phase_ = round_training_ ? Phase::kTrainBegin : Phase::kInferInput;
      layer_ = step_ = 0;
    }
  }

  void reset_cluster() {
    if (!this->room_all(1)) return;
    // Skip a round number: a node that finished the abandoned round expects round_ + 1 and must
    // not start the next round before it has reset.
    const std::uint32_t first = this->round_ + 2;
    for (std::size_t p = 1; p < this->partition_.nodes; ++p) {
      if (!this->linked(p)) continue;
      FrameHeader header = this->header_for(p, FrameKind::kReset);
      header.round = first;
      this->send_sequenced(p, header, {}, false);
    }
    restart_from(first);
    this->recovering_ = false;
  }

  // Every node: zero state from round `first` on.
  void restart_from(std::uint32_t first) {
    node_->reset_state();
    for (std::size_t p = 0; p < this->partition_.nodes; ++p) {
      if (this->linked(p)) this->received_.stale += static_cast<std::uint32_t>(this->peers_[p].inbox.drop_before(first));
    }
    this->next_round_ = first;
    warm_up_left_ = this->spec_.window;
    const std::uint32_t last = this->round_;
    this->round_ = first;
    this->push_event(SessionEventKind::kReset);
    this->round_ = last;
  }

  // Called by SessionLinks.
  // A node that has voted never gives its round up on its own: node 0 may have committed it, and
  // its decision comes (the link delivers it, before any later reset). Called by SessionLinks.
  void abandon_round() {
    if (phase_ == Phase::kTrainAwaitDecision) return;
    give_up_round();
  }
  void give_up_round() {
    if (!this->busy_) return;
    this->busy_ = false;
    phase_ = Phase::kIdle;
    if (this->me_ != 0) this->next_round_ = this->round_ + 1;
    this->push_event(SessionEventKind::kRoundAborted);
  }
  // A reset from node 0: a decision that arrived with it (just before it, on the same link) is
  // applied first; a round node 0 never decided is given up.
  void on_reset(std::uint32_t first) {
    if constexpr (Node::kTrains) {
      if (phase_ == Phase::kTrainAwaitDecision && this->decision_round_ == this->round_) (void)advance_training();
    }
    give_up_round();
    restart_from(first);
  }

  // ---- The rounds ----------------------------------------------------------------------------

  // One move of the round; false when it must wait for frames or for room on a link.
  bool advance() {
    switch (phase_) {
      case Phase::kIdle: return this->me_ == 0 ? false : try_start_round();
      case Phase::kInferInput:
      case Phase::kInferLayer:
      case Phase::kInferGather:
      case Phase::kInferTop:
      case Phase::kInferAwaitOutput: return advance_inference();
      default:
        if constexpr (Node::kTrains) {
          return advance_training();
        } else {
          return false;
        }
    }
  }

  // A node other than 0 starts round next_round_ when its first vector is there.
  bool try_start_round() {
    const std::size_t starter = split() ? 0 : this->me_ - 1;
    VectorInbox& inbox = this->peers_[starter].inbox;
    const InboxEntry* front = inbox.front();
    if (front == nullptr || !front->complete()) return false;
    if (front->round < this->next_round_) {
      inbox.pop();
      ++this->received_.stale;
      return true;
    }
    if (front->round != this->next_round_) return false;  // a reset from node 0 comes first
    const bool training = detail::frame_part(front->index) == detail::kPartWindow;
    const FrameKind expected = split() ? FrameKind::kInput : FrameKind::kActivation;
    this->round_ = this->next_round_;
    this->busy_ = true;
    if (front->kind != expected || (training && !training_)) {
      this->protocol_error(starter);
      return true;
    }
    round_training_ = training;
    carry_ = (front->flags & kFlagCarryState) != 0;
    phase_ = training ? Phase::kTrainBegin : Phase::kInferInput;
    layer_ = step_ = 0;
    return true;
  }

  bool advance_inference() {
    const LstmSpec& spec = this->spec_;
    const std::size_t me = this->me_, in = spec.input_size, count = share_.layer_count;
    switch (phase_) {
      case Phase::kInferInput:
        if (me == 0) {
          if (split()) {
            if (!this->room_all(fragment_count(input_encoding_, in))) return false;
            for (std::size_t p = 1; p < this->partition_.nodes; ++p) {
              this->send_block(p, FrameKind::kInput, index(detail::kPartStep, 0, 0), input_encoding_, 0, pending(), 1, in, in);
            }
          }
          input_ = pending();
        } else {
          const std::size_t from = split() ? 0 : me - 1;
          const FrameKind kind = split() ? FrameKind::kInput : FrameKind::kActivation;
          const std::size_t layer = split() ? 0 : share_.first_layer - 1;
          if (this->expect(from, kind, index(detail::kPartStep, layer, 0)) == nullptr) return false;
          const std::size_t width = share_.input_width();
          if (!this->take_block(from, step_input(), 1, width, width)) return true;
          input_ = step_input();
        }
        layer_ = 0;
        phase_ = Phase::kInferLayer;
        return true;
      case Phase::kInferLayer: {
        const NodeLayer& layer = share_.layers[layer_];
        if (split() && !this->room_all(fragment_count(value_encoding_, layer.units))) return false;
        node_->forward_layer(layer_, layer_ == 0 ? input_ : node_->hidden_state(layer_ - 1).data());
        if (split()) {
          const Value* own = node_->hidden_state(layer_).data() + layer.first_unit;
          for (std::size_t p = 0; p < this->partition_.nodes; ++p) {
            if (!this->linked(p)) continue;
            this->send_block(p, FrameKind::kActivation, index(detail::kPartStep, layer.layer, 0), value_encoding_, 0, own, 1,
                             layer.units, layer.units);
          }
          phase_ = Phase::kInferGather;
        } else if (++layer_ == count) {
          phase_ = Phase::kInferTop;
        }
        return true;
      }
      case Phase::kInferGather: {
        const NodeLayer& layer = share_.layers[layer_];
        if (!this->expect_all(FrameKind::kActivation, index(detail::kPartStep, layer.layer, 0))) return false;
        Value* h = node_->hidden_state(layer_).data();
        for (std::size_t p = 0; p < this->partition_.nodes; ++p) {
          if (!this->linked(p)) continue;
          const std::size_t units = units_of(p, layer.layer);
          if (!this->take_block(p, h + first_unit_of(p, layer.layer), 1, units, units)) return true;
        }
        phase_ = ++layer_ == count ? Phase::kInferTop : Phase::kInferLayer;
        return true;
      }
      case Phase::kInferTop: {
        const std::size_t outputs = spec.output_size;
        if (share_.head) {
          if (me != 0 && !this->room(0, fragment_count(output_encoding_, outputs))) return false;
          node_->head_forward(outputs_ptr());
          if (me != 0) {
            this->send_block(0, FrameKind::kOutput, index(detail::kPartStep, 0, 0), output_encoding_, 0, outputs_ptr(), 1,
                             outputs, outputs);
          }
          finish_step();
          return true;
        }
        if (split()) {  // the head runs on node 0
          finish_step();
          return true;
        }
        const NodeLayer& top = share_.top();
        if (!this->room(me + 1, fragment_count(value_encoding_, top.hidden))) return false;
        this->send_block(me + 1, FrameKind::kActivation, index(detail::kPartStep, top.layer, 0), value_encoding_, 0,
                         node_->hidden_state(count - 1).data(), 1, top.hidden, top.hidden);
        if (me == 0) {
          phase_ = Phase::kInferAwaitOutput;
        } else {
          finish_step();
        }
        return true;
      }
      case Phase::kInferAwaitOutput: {
        const std::size_t head = share_.head_node, outputs = spec.output_size;
        if (this->expect(head, FrameKind::kOutput, index(detail::kPartStep, 0, 0)) == nullptr) return false;
        if (this->take_block(head, outputs_ptr(), 1, outputs, outputs)) finish_step();
        return true;
      }
      default:
        return false;
    }
  }

  void finish_step() {
    const bool warm_up = warm_up_left_ > 0;
    if (warm_up) --warm_up_left_;
    finish_round();
    this->push_event(SessionEventKind::kStepDone, 0, Status::kOk, 0.0f, 0.0f, warm_up);
  }
  void finish_round() {
    this->busy_ = false;
    phase_ = Phase::kIdle;
    this->next_round_ = this->round_ + 1;
    if (this->me_ == 0) pending_ = false;
  }
  void finish_window(Status status, float loss, float norm) {
    finish_round();
    this->push_event(SessionEventKind::kWindowDone, 0, status, loss, norm);
  }

  // Training rounds (node_session_training.h).
  bool advance_training();
  bool training_forward();
  bool training_backward();
  bool training_commit();
  bool abort_decided();
  void send_decision(bool commit, float loss, float norm);
  void store_window_outputs();
  const LstmSpec& spec() const { return this->spec_; }
  bool reduce_from_peers(FrameKind kind, std::uint16_t index, const float* own, std::size_t rows, std::size_t cols,
                         std::size_t own_stride, float* out);

  // ---- Memory ------------------------------------------------------------------------------

  Value* pending() const { return reinterpret_cast<Value*>(base_ + plan_.pending); }
  float* pending_float() const { return reinterpret_cast<float*>(base_ + plan_.pending); }
  Value* step_input() const { return reinterpret_cast<Value*>(base_ + plan_.step_input); }
  Output* outputs_ptr() const { return reinterpret_cast<Output*>(base_ + plan_.outputs); }
  float* targets_ptr() const {
    return this->me_ == 0 ? pending_float() + this->spec_.window * this->spec_.input_size
                          : reinterpret_cast<float*>(base_ + plan_.targets);
  }

  Node* node_ = nullptr;
  NodeShare share_{};
  bool training_ = false;
  std::uint8_t* base_ = nullptr;
  detail::SessionPlan plan_{};
  PayloadEncoding value_encoding_ = PayloadEncoding::kFloat32;
  PayloadEncoding input_encoding_ = PayloadEncoding::kFloat32;
  PayloadEncoding output_encoding_ = PayloadEncoding::kFloat32;

  Phase phase_ = Phase::kIdle;
  bool round_training_ = false;
  bool carry_ = false;
  std::size_t layer_ = 0;  // held layer the phase is at
  std::size_t step_ = 0;   // time step the phase is at
  const Value* input_ = nullptr;
  std::uint32_t warm_up_left_ = 0;
  // Node 0: the submitted round, kept until it completes (it runs again after a reset).
  bool pending_ = false;
  bool pending_training_ = false;
  bool pending_carry_ = false;
  // Training: this node's contribution to the commit.
  float loss_ = 0.0f;
  bool loss_ok_ = true;
  float own_square_sum_ = 0.0f;
  bool own_vote_ = false;
  float decided_loss_ = 0.0f;
  float decided_norm_ = 0.0f;
};

}  // namespace edgelstm

#include "node_session_training.h"
