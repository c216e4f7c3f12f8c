// The training rounds of NodeSession (included by node_session.h; not a header of its own).
//
// A window, per node (pipeline: node k holds layers, k + 1 after it; split: every node holds a
// slice of every layer, node 0 runs the head):
//   begin      node 0 takes the submitted window (split: sends x to every node; pipeline: sends the
//              targets to the head node); the others take x (split) or the window of h of the
//              node before (pipeline)
//   forward    pipeline: every step of every held layer, then the window of the top h goes on;
//              split: step by step, layer by layer, each slice of h all-gathered
//   loss       on the head node; non-finite: straight to the report (no backward)
//   backward   the top layer's dL/dh from the head (split: node 0 sends each node its units) or
//              from the node after (pipeline); per layer, last step first; split: the partial
//              sums of dL/dh_{t-1} are exchanged and added in node order each step, and those of
//              dL/dx of a layer above 0 once per layer; pipeline: dL/dx of the first held layer
//              goes back to the node before
//   commit     report -> scale -> vote -> decision (see node_session.h)
#pragma once

#include <limits>

namespace edgelstm {

template <typename Node>
bool NodeSession<Node>::advance_training() {
  if (abort_decided()) return true;
  switch (phase_) {
    case Phase::kTrainBegin:
    case Phase::kTrainForward:
    case Phase::kTrainGather:
    case Phase::kTrainTop: return training_forward();
    case Phase::kTrainAwaitTopGradient:
    case Phase::kTrainLoss:
    case Phase::kTrainAwaitHeadGradient:
    case Phase::kTrainBackward:
    case Phase::kTrainBackwardStep:
    case Phase::kTrainReduce:
    case Phase::kTrainLayerEnd:
    case Phase::kTrainReduceBelow:
    case Phase::kTrainSendInputGradient: return training_backward();
    default: return training_commit();
  }
}

// A refusal decided while this node still works on the window ends it here: node 0 decides at
// once when the head node reports a non-finite loss; the others follow node 0's decision.
template <typename Node>
bool NodeSession<Node>::abort_decided() {
  if (this->me_ != 0) {
    if (this->decision_round_ != this->round_ || this->decision_commit_) return false;
    finish_window(Status::kNonFinite, this->decision_loss_, this->decision_norm_);
    return true;
  }
  const std::size_t head = share_.head_node;
  const auto& report = this->peers_[head];
  if (head == 0 || phase_ >= Phase::kTrainAwaitReports || report.report_round != this->round_ ||
      Math<float>::is_finite(report.report_loss)) {
    return false;
  }
  if (!this->room_all(1)) return false;
  send_decision(false, report.report_loss, 0.0f);
  finish_window(Status::kNonFinite, report.report_loss, 0.0f);
  return true;
}

// The window's last output step (output_size values) into outputs().
template <typename Node>
void NodeSession<Node>::store_window_outputs() {
  const Span<const float> outputs = node_->window_outputs();
  const std::size_t size = spec().output_size;
  std::memcpy(outputs_ptr(), outputs.data() + outputs.size() - size, size * sizeof(float));
}

template <typename Node>
void NodeSession<Node>::send_decision(bool commit, float loss, float norm) {
  std::uint8_t payload[9];
  payload[0] = commit ? 1 : 0;
  this->put_float(payload + 1, loss);
  this->put_float(payload + 5, norm);
  for (std::size_t p = 1; p < this->partition_.nodes; ++p) {
    if (this->linked(p)) this->send_control(p, FrameKind::kDecision, Span<const std::uint8_t>(payload, 9));
  }
}

template <typename Node>
bool NodeSession<Node>::training_forward() {
  const LstmSpec& spec = this->spec_;
  const std::size_t me = this->me_, window = spec.window, count = share_.layer_count;
  switch (phase_) {
    case Phase::kTrainBegin: {
      const std::size_t width = share_.input_width(), values = window * width;
      Span<float> input = node_->window_input();
      const std::uint8_t flags = carry_ ? kFlagCarryState : 0;
      if (me == 0) {
        if (split() && !this->room_all(fragment_count(PayloadEncoding::kFloat32, values))) return false;
        std::memcpy(input.data(), pending_float(), values * sizeof(float));
        for (std::size_t p = 1; split() && p < this->partition_.nodes; ++p) {
          this->send_block(p, FrameKind::kInput, index(detail::kPartWindow, 0, 0), PayloadEncoding::kFloat32, flags,
                           input.data(), 1, values, values);
        }
      } else {
        const std::size_t from = split() ? 0 : me - 1;
        const FrameKind kind = split() ? FrameKind::kInput : FrameKind::kActivation;
        const std::size_t layer = split() ? 0 : share_.first_layer - 1;
        if (this->expect(from, kind, index(detail::kPartWindow, layer, 0)) == nullptr) return false;
        if (!this->take_block(from, input.data(), window, width, width)) return true;
      }
      (void)node_->begin_window(carry_ ? WindowStart::kCarryState : WindowStart::kZeroState);
      layer_ = step_ = 0;
      phase_ = Phase::kTrainForward;
      return true;
    }
    case Phase::kTrainForward: {
      if (!split()) {
        for (std::size_t k = 0; k < count; ++k) {
          for (std::size_t t = 0; t < window; ++t) node_->forward_train_step(k, t);
        }
        phase_ = Phase::kTrainTop;
        return true;
      }
      const NodeLayer& layer = share_.layers[layer_];
      if (!this->room_all(fragment_count(value_encoding_, layer.units))) return false;
      node_->forward_train_step(layer_, step_);
      const float* own = node_->cached_hidden(layer_, step_ + 1).data() + layer.first_unit;
      for (std::size_t p = 0; p < this->partition_.nodes; ++p) {
        if (!this->linked(p)) continue;
        this->send_block(p, FrameKind::kActivation, index(detail::kPartWindow, layer.layer, step_), value_encoding_, 0, own,
                         1, layer.units, layer.units);
      }
      phase_ = Phase::kTrainGather;
      return true;
    }
    case Phase::kTrainGather: {
      const NodeLayer& layer = share_.layers[layer_];
      if (!this->expect_all(FrameKind::kActivation, index(detail::kPartWindow, layer.layer, step_))) return false;
      float* h = node_->cached_hidden(layer_, step_ + 1).data();
      for (std::size_t p = 0; p < this->partition_.nodes; ++p) {
        if (!this->linked(p)) continue;
        const std::size_t units = units_of(p, layer.layer);
        if (!this->take_block(p, h + first_unit_of(p, layer.layer), 1, units, units)) return true;
      }
      if (++layer_ == count) {
        layer_ = 0;
        ++step_;
      }
      phase_ = step_ == window ? Phase::kTrainTop : Phase::kTrainForward;
      return true;
    }
    case Phase::kTrainTop: {
      if (share_.head) {
        phase_ = Phase::kTrainLoss;
        return true;
      }
      if (split()) {
        phase_ = Phase::kTrainAwaitHeadGradient;
        return true;
      }
      // Node 0 sends the head node its targets after the window of h (on one link when the head
      // node is node 1: it takes the window first).
      const NodeLayer& top = share_.top();
      const std::size_t head = share_.head_node, targets = spec.output_steps() * spec.output_size;
      const std::size_t target_frames = fragment_count(PayloadEncoding::kFloat32, targets);
      const std::size_t frames = fragment_count(value_encoding_, window * top.hidden);
      if (!this->room(me + 1, frames + (me == 0 && head == 1 ? target_frames : 0))) return false;
      if (me == 0 && head != 1 && !this->room(head, target_frames)) return false;
      this->send_block(me + 1, FrameKind::kActivation, index(detail::kPartWindow, top.layer, 0), value_encoding_,
                       carry_ ? kFlagCarryState : 0, node_->cached_hidden(count - 1, 1).data(), window, top.hidden,
                       top.hidden);
      if (me == 0) {
        this->send_block(head, FrameKind::kTarget, index(detail::kPartTarget, 0, 0), PayloadEncoding::kFloat32, 0,
                         targets_ptr(), 1, targets, targets);
      }
      phase_ = Phase::kTrainAwaitTopGradient;
      return true;
    }
    default:
      return false;
  }
}

template <typename Node>
bool NodeSession<Node>::reduce_from_peers(FrameKind kind, std::uint16_t index, const float* own, std::size_t rows,
                                          std::size_t cols, std::size_t own_stride, float* out) {
  if (!this->expect_all(kind, index)) return false;
  const std::size_t nodes = this->partition_.nodes;
  for (std::size_t p = 0; p < nodes; ++p) {
    if (!this->linked(p)) continue;
    const InboxEntry& entry = *this->peers_[p].inbox.front();
    if (entry.values() != rows * cols || entry.encoding != PayloadEncoding::kFloat32) {
      this->protocol_error(p);
      return true;
    }
  }
  // The sum over nodes, in node order (the order a single-node reference must use to match bit
  // for bit; see partition_node.h).
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      float sum = 0.0f;
      for (std::size_t n = 0; n < nodes; ++n) {
        float value;
        if (n == this->me_) {
          value = own[r * own_stride + c];
        } else {
          decode_values(PayloadEncoding::kFloat32, this->peers_[n].inbox.front_bytes() + 4 * (r * cols + c), 1, &value);
        }
        sum += value;
      }
      out[r * cols + c] = sum;
    }
  }
  for (std::size_t p = 0; p < nodes; ++p) {
    if (this->linked(p)) this->peers_[p].inbox.pop();
  }
  return true;
}

template <typename Node>
bool NodeSession<Node>::training_backward() {
  const LstmSpec& spec = this->spec_;
  const std::size_t me = this->me_, window = spec.window, top = share_.layer_count - 1;
  const std::size_t nodes = this->partition_.nodes;
  switch (phase_) {
    case Phase::kTrainAwaitTopGradient: {
      const std::size_t from = me + 1;
      if (this->expect(from, FrameKind::kGradient, index(detail::kPartBelow, share_.top().layer + 1, 0)) == nullptr) {
        return false;
      }
      const std::size_t hidden = share_.top().hidden;
      if (!this->take_block(from, node_->hidden_gradient(top).data(), window, hidden, hidden)) return true;
      layer_ = top;
      phase_ = Phase::kTrainBackward;
      return true;
    }
    case Phase::kTrainLoss: {
      const std::size_t targets = spec.output_steps() * spec.output_size;
      if (me != 0) {
        if (this->expect(0, FrameKind::kTarget, index(detail::kPartTarget, 0, 0)) == nullptr) return false;
        if (!this->take_block(0, targets_ptr(), 1, targets, targets)) return true;
      }
      const NodeLayer& layer = share_.top();
      const std::size_t steps = spec.output_steps(), first = window - steps;
      if (me == 0) {  // room for the head's gradient slices, or for refusing the window at once
        std::size_t widest = 0;
        for (std::size_t p = 1; split() && p < nodes; ++p) {
          widest = units_of(p, layer.layer) > widest ? units_of(p, layer.layer) : widest;
        }
        if (!this->room_all(fragment_count(PayloadEncoding::kFloat32, steps * widest))) return false;
      }
      node_->head_outputs();
      float loss = 0.0f;
      loss_ok_ = node_->compute_loss(Span<const float>(targets_ptr(), targets), &loss) == Status::kOk;
      loss_ = loss;
      if (!loss_ok_) {
        if (me == 0) {  // node 0 decides: nobody runs a backward
          send_decision(false, loss, 0.0f);
          finish_window(Status::kNonFinite, loss, 0.0f);
        } else {        // tell node 0, which decides
          phase_ = Phase::kTrainReport;
        }
        return true;
      }
      node_->head_backward();
      const float* dh = node_->head_hidden_gradient().data();
      float* own = node_->hidden_gradient(top).data();
      for (std::size_t p = 1; split() && p < nodes; ++p) {
        this->send_block(p, FrameKind::kGradient, index(detail::kPartHead, layer.layer, 0), PayloadEncoding::kFloat32, 0,
                         dh + first * layer.hidden + first_unit_of(p, layer.layer), steps, units_of(p, layer.layer),
                         layer.hidden);
      }
      for (std::size_t t = 0; t < window; ++t) {
        std::memcpy(own + t * layer.units, dh + t * layer.hidden + layer.first_unit, layer.units * sizeof(float));
      }
      layer_ = top;
      phase_ = Phase::kTrainBackward;
      return true;
    }
    case Phase::kTrainAwaitHeadGradient: {
      const NodeLayer& layer = share_.top();
      if (this->expect(0, FrameKind::kGradient, index(detail::kPartHead, layer.layer, 0)) == nullptr) return false;
      float* own = node_->hidden_gradient(top).data();
      const std::size_t steps = spec.output_steps();
      fill(own, window * layer.units, 0.0f);
      if (!this->take_block(0, own + (window - steps) * layer.units, steps, layer.units, layer.units)) return true;
      layer_ = top;
      phase_ = Phase::kTrainBackward;
      return true;
    }
    case Phase::kTrainBackward:
      node_->backward_layer_begin(layer_);
      step_ = window - 1;
      phase_ = Phase::kTrainBackwardStep;
      return true;
    case Phase::kTrainBackwardStep: {
      const NodeLayer& layer = share_.layers[layer_];
      const bool exchange = split() && step_ > 0;
      if (exchange) {
        std::size_t widest = 0;
        for (std::size_t p = 0; p < nodes; ++p) {
          if (this->linked(p)) widest = units_of(p, layer.layer) > widest ? units_of(p, layer.layer) : widest;
        }
        if (!this->room_all(fragment_count(PayloadEncoding::kFloat32, widest))) return false;
      }
      node_->backward_layer_step(layer_, step_);
      if (step_ == 0) {
        phase_ = Phase::kTrainLayerEnd;
        return true;
      }
      const float* partial = node_->recurrent_gradient(layer_).data();
      if (!exchange) {
        std::memcpy(node_->recurrent_gradient_own(layer_).data(), partial, layer.units * sizeof(float));
        --step_;
        return true;
      }
      for (std::size_t p = 0; p < nodes; ++p) {
        if (!this->linked(p)) continue;
        const std::size_t units = units_of(p, layer.layer);
        this->send_block(p, FrameKind::kGradient, index(detail::kPartRecurrent, layer.layer, step_),
                         PayloadEncoding::kFloat32, 0, partial + first_unit_of(p, layer.layer), 1, units, units);
      }
      phase_ = Phase::kTrainReduce;
      return true;
    }
    case Phase::kTrainReduce: {
      const NodeLayer& layer = share_.layers[layer_];
      if (!reduce_from_peers(FrameKind::kGradient, index(detail::kPartRecurrent, layer.layer, step_),
                             node_->recurrent_gradient(layer_).data() + layer.first_unit, 1, layer.units, layer.units,
                             node_->recurrent_gradient_own(layer_).data())) {
        return false;
      }
      if (phase_ != Phase::kTrainReduce) return true;  // a protocol error abandoned the round
      --step_;
      phase_ = Phase::kTrainBackwardStep;
      return true;
    }
    case Phase::kTrainLayerEnd: {
      const NodeLayer& layer = share_.layers[layer_];
      if (layer_ > 0 && split()) {
        std::size_t widest = 0;
        for (std::size_t p = 0; p < nodes; ++p) {
          if (this->linked(p)) widest = units_of(p, layer.layer - 1) > widest ? units_of(p, layer.layer - 1) : widest;
        }
        if (!this->room_all(fragment_count(PayloadEncoding::kFloat32, window * widest))) return false;
      }
      node_->backward_layer_end(layer_);
      if (layer_ == 0) {
        phase_ = !split() && me > 0 ? Phase::kTrainSendInputGradient : Phase::kTrainReport;
        return true;
      }
      const float* below = node_->input_gradient(layer_).data();
      if (!split()) {
        std::memcpy(node_->hidden_gradient(layer_ - 1).data(), below, window * layer.input * sizeof(float));
        --layer_;
        phase_ = Phase::kTrainBackward;
        return true;
      }
      for (std::size_t p = 0; p < nodes; ++p) {
        if (!this->linked(p)) continue;
        this->send_block(p, FrameKind::kGradient, index(detail::kPartBelow, layer.layer, 0), PayloadEncoding::kFloat32, 0,
                         below + first_unit_of(p, layer.layer - 1), window, units_of(p, layer.layer - 1), layer.input);
      }
      phase_ = Phase::kTrainReduceBelow;
      return true;
    }
    case Phase::kTrainReduceBelow: {
      const NodeLayer& layer = share_.layers[layer_];
      const NodeLayer& lower = share_.layers[layer_ - 1];
      if (!reduce_from_peers(FrameKind::kGradient, index(detail::kPartBelow, layer.layer, 0),
                             node_->input_gradient(layer_).data() + lower.first_unit, window, lower.units, layer.input,
                             node_->hidden_gradient(layer_ - 1).data())) {
        return false;
      }
      if (phase_ != Phase::kTrainReduceBelow) return true;
      --layer_;
      phase_ = Phase::kTrainBackward;
      return true;
    }
    case Phase::kTrainSendInputGradient: {
      const std::size_t width = share_.input_width();
      if (!this->room(me - 1, fragment_count(PayloadEncoding::kFloat32, window * width))) return false;
      this->send_block(me - 1, FrameKind::kGradient, index(detail::kPartBelow, share_.first_layer, 0),
                       PayloadEncoding::kFloat32, 0, node_->input_gradient(0).data(), window, width, width);
      phase_ = Phase::kTrainReport;
      return true;
    }
    default:
      return false;
  }
}

template <typename Node>
bool NodeSession<Node>::training_commit() {
  const std::size_t me = this->me_, nodes = this->partition_.nodes;
  switch (phase_) {
    case Phase::kTrainReport: {
      // A head node whose loss was not finite ran no backward: its square sum is NaN, which
      // refuses the window.
      const float square_sum = share_.head && !loss_ok_ ? std::numeric_limits<float>::quiet_NaN()
                                                        : node_->gradient_square_sum();
      if (me == 0) {
        own_square_sum_ = square_sum;
        if (share_.head) store_window_outputs();
        phase_ = Phase::kTrainAwaitReports;
        return true;
      }
      // A pipeline's head node returns the window's last outputs (node 0's outputs()) before its
      // report.
      const std::size_t outputs = spec().output_size;
      const std::size_t output_frames = share_.head ? fragment_count(PayloadEncoding::kFloat32, outputs) : 0;
      if (!this->room(0, 1 + output_frames)) return false;
      if (share_.head) {
        store_window_outputs();
        this->send_block(0, FrameKind::kOutput, index(detail::kPartWindow, 0, 0), PayloadEncoding::kFloat32, 0,
                         outputs_ptr(), 1, outputs, outputs);
      }
      std::uint8_t payload[9];
      this->put_float(payload, share_.head ? loss_ : 0.0f);
      this->put_float(payload + 4, square_sum);
      payload[8] = share_.head ? 1 : 0;
      this->send_control(0, FrameKind::kReport, Span<const std::uint8_t>(payload, 9));
      phase_ = Phase::kTrainAwaitScale;
      return true;
    }
    case Phase::kTrainAwaitReports: {
      for (std::size_t p = 1; p < nodes; ++p) {
        if (this->peers_[p].report_round != this->round_) return false;
      }
      if (!this->room_all(1)) return false;
      const std::size_t head = share_.head_node, outputs = spec().output_size;
      if (head != 0) {  // the head node's outputs came before its report
        if (this->expect(head, FrameKind::kOutput, index(detail::kPartWindow, 0, 0)) == nullptr) return false;
        if (!this->take_block(head, outputs_ptr(), 1, outputs, outputs)) return true;
      }
      float total = 0.0f;
      for (std::size_t n = 0; n < nodes; ++n) total += n == 0 ? own_square_sum_ : this->peers_[n].report_square_sum;
      const float norm = Math<float>::sqrt(total);
      const float loss = share_.head_node == 0 ? loss_ : this->peers_[share_.head_node].report_loss;
      decided_loss_ = loss;
      decided_norm_ = norm;
      if (!Math<float>::is_finite(loss) || !Math<float>::is_finite(norm)) {
        send_decision(false, loss, norm);
        finish_window(Status::kNonFinite, loss, norm);
        return true;
      }
      this->scale_ = clip_scale(norm, node_->train_config().clip_norm);
      std::uint8_t payload[8];
      this->put_float(payload, this->scale_);
      this->put_float(payload + 4, norm);
      for (std::size_t p = 1; p < nodes; ++p) {
        if (this->linked(p)) this->send_control(p, FrameKind::kScale, Span<const std::uint8_t>(payload, 8));
      }
      own_vote_ = node_->update_is_finite(this->scale_);
      phase_ = Phase::kTrainAwaitVotes;
      return true;
    }
    case Phase::kTrainAwaitScale: {
      if (this->scale_round_ != this->round_) return false;
      if (!this->room(0, 1)) return false;
      const std::uint8_t vote = node_->update_is_finite(this->scale_) ? 1 : 0;
      this->send_control(0, FrameKind::kVote, Span<const std::uint8_t>(&vote, 1));
      phase_ = Phase::kTrainAwaitDecision;
      return true;
    }
    case Phase::kTrainAwaitVotes: {
      bool commit = own_vote_;
      for (std::size_t p = 1; p < nodes; ++p) {
        if (this->peers_[p].vote_round != this->round_) return false;
        commit = commit && this->peers_[p].vote_ok;
      }
      if (!this->room_all(1)) return false;
      send_decision(commit, decided_loss_, decided_norm_);
      if (commit) {
        node_->apply_update(this->scale_);
        node_->commit_state();
        ++this->committed_;
      }
      finish_window(commit ? Status::kOk : Status::kNonFinite, decided_loss_, decided_norm_);
      return true;
    }
    case Phase::kTrainAwaitDecision: {
      if (this->decision_round_ != this->round_) return false;
      // (A refusal was handled by abort_decided.)
      node_->apply_update(this->scale_);
      node_->commit_state();
      ++this->committed_;
      finish_window(Status::kOk, this->decision_loss_, this->decision_norm_);
      return true;
    }
    default:
      return false;
  }
}

}  // namespace edgelstm
