// SessionLinks: the transport-facing half of a node's session (node_session.h holds the rounds):
// frames in and out, one reliable link per linked peer, reassembly of vectors, greetings,
// heartbeats and timeouts, the commit control registers, events and counters. It does not know
// its transport (as Pigweed's pw_rpc, a channel is an output function): frames leave through
// `output(context, peer, bytes)` and arrive through receive(); time is the caller's millisecond
// clock. Heap-free: its buffers are carved from the memory given to NodeSession::bind.
//
// Liveness. A node greets each linked peer (kHello: its incarnation, which changes at every
// restart, the peer's incarnation as it knows it, its committed training windows and round, and a
// digest of its training options and encodings, which node 0 checks) until
// the peer's greeting echoes its incarnation (joined). A link quiet for heartbeat_ms carries a
// heartbeat. A peer not heard from for peer_timeout_ms, or whose link ran out of retransmissions,
// is lost; a greeting with a new incarnation means the peer restarted (its links start over).
// Either way the round in flight is abandoned and node 0 resets the cluster once every peer is
// back (node_session.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "frame.h"
#include "partition.h"
#include "reliable_link.h"
#include "session_plan.h"
#include "span.h"
#include "status.h"
#include "vector_inbox.h"

namespace edgelstm {

using FrameOutput = void (*)(void* context, std::size_t peer, Span<const std::uint8_t> frame);

struct SessionConfig {
  std::uint32_t model_id = 0;        // the model file's CRC-32, the same on every node
  std::uint32_t incarnation = 1;     // different after every restart (a boot counter, a random number)
  LinkTimers link{};
  std::uint32_t hello_ms = 200;          // greet a peer that has not answered yet
  std::uint32_t heartbeat_ms = 250;      // send a heartbeat on a link quiet for this long
  std::uint32_t peer_timeout_ms = 2000;  // a peer not heard from for this long is lost
  PayloadEncoding activations = PayloadEncoding::kFloat32;  // float nodes: kFloat32, or kQ15 (lossy)
  std::uint32_t committed_windows = 0;   // training: windows committed before (from a checkpoint)
};

enum class SessionEventKind : std::uint8_t {
  kNone = 0,
  kPeerJoined,        // a peer answered our greeting
  kPeerLost,          // a peer timed out, or its link ran out of retransmissions (peer, round)
  kPeerBack,          // a lost peer is heard from again (same incarnation)
  kPeerRestarted,     // a peer came back as another incarnation (its links start over)
  kStepDone,          // an inference step ended on this node (node 0: outputs() holds y)
  kWindowDone,        // a training window ended: status kOk (committed) or kNonFinite (refused)
  kRoundAborted,      // the round in flight was abandoned on this node (nothing committed)
  kReset,             // the cluster restarted from the zero state; `round` is the first round after it
  kPeerInconsistent,  // a peer joined with other training options, encodings or committed windows than
                      // node 0's (another configuration, a stale checkpoint): node 0 stops
  kProtocolError,     // a peer sent a vector the protocol does not allow here (dropped, round reset)
};

constexpr const char* session_event_name(SessionEventKind kind) {
  switch (kind) {
    case SessionEventKind::kNone: return "none";
    case SessionEventKind::kPeerJoined: return "joined";
    case SessionEventKind::kPeerLost: return "timed out";
    case SessionEventKind::kPeerBack: return "back";
    case SessionEventKind::kPeerRestarted: return "restarted";
    case SessionEventKind::kStepDone: return "step done";
    case SessionEventKind::kWindowDone: return "window done";
    case SessionEventKind::kRoundAborted: return "round aborted";
    case SessionEventKind::kReset: return "reset";
    case SessionEventKind::kPeerInconsistent: return "inconsistent";
    case SessionEventKind::kProtocolError: return "protocol error";
  }
  return "unknown";
}

struct SessionEvent {
  SessionEventKind kind = SessionEventKind::kNone;
  std::uint8_t peer = 0;
  std::uint32_t round = 0;
  Status status = Status::kOk;
  float loss = 0.0f;           // kWindowDone
  float gradient_norm = 0.0f;  // kWindowDone: the global norm before clipping
  bool warm_up = false;        // kStepDone: within `window` steps of a reset
};

// Frames a node sent to one peer, by purpose (retransmissions counted apart).
struct PeerTraffic {
  std::uint32_t data_frames = 0;
  std::uint32_t data_payload_bytes = 0;
  std::uint32_t data_wire_bytes = 0;
  std::uint32_t control_frames = 0;  // commit control, reset requests and resets
  std::uint32_t ack_frames = 0;
  std::uint32_t link_frames = 0;     // greetings and heartbeats
  std::uint32_t wire_bytes = 0;      // every frame above, as first sent
  std::uint32_t retransmitted_frames = 0;
};

// Frames a node received and what became of them.
struct ReceiveCounters {
  std::uint32_t frames = 0;        // every frame given to receive()
  std::uint32_t delivered = 0;     // taken into the protocol
  std::uint32_t truncated = 0;
  std::uint32_t malformed = 0;     // bad magic, version, length or field
  std::uint32_t bad_checksum = 0;
  std::uint32_t foreign = 0;       // another model, partition or receiver, or an unlinked sender
  std::uint32_t duplicate = 0;     // a sequence number already delivered
  std::uint32_t reordered = 0;     // ahead of a missing frame
  std::uint32_t stale = 0;         // of a round already over
  std::uint32_t no_room = 0;       // inbox full: not acknowledged, comes again
  std::uint32_t out_of_order = 0;  // a fragment that does not continue its vector
  std::uint32_t incomplete = 0;    // vectors left incomplete (their rest stale or never sent), dropped
  std::uint32_t unexpected = 0;    // not what the protocol expects here
};

// Session is the derived NodeSession: it provides abandon_round() and on_reset(round).
template <typename Session>
class SessionLinks {
 public:
  std::uint32_t round() const { return round_; }
  const ReceiveCounters& received() const { return received_; }
  // A peer's traffic (all zero for a node outside the partition or not linked).
  const PeerTraffic& sent_to(std::size_t peer) const {
    static constexpr PeerTraffic kNone{};
    return peer < partition_.nodes && linked(peer) ? peers_[peer].traffic : kNone;
  }
  bool peer_lost(std::size_t peer) const { return peer < partition_.nodes && peers_[peer].lost; }
  bool peer_joined(std::size_t peer) const { return peer < partition_.nodes && peers_[peer].joined; }
  std::size_t node_index() const { return me_; }

  // Takes one frame from the transport. Returns the parse result (kOk: the frame was well formed;
  // it may still have been dropped, as counted in received()).
  FrameError receive(Span<const std::uint8_t> bytes, std::uint32_t now_ms) {
    now_ms_ = now_ms;
    ++received_.frames;
    FrameHeader header;
    Span<const std::uint8_t> payload;
    const FrameError error = parse_frame(bytes, &header, &payload);
    if (error != FrameError::kOk) {
      if (error == FrameError::kTruncated) {
        ++received_.truncated;
      } else if (error == FrameError::kBadChecksum) {
        ++received_.bad_checksum;
      } else {
        ++received_.malformed;
      }
      return error;
    }
    if (header.model_id != config_.model_id || header.partition_id != partition_id_ || header.receiver != me_ ||
        header.sender >= partition_.nodes || !linked(header.sender)) {
      ++received_.foreign;
      return FrameError::kOk;
    }
    const std::size_t p = header.sender;
    PeerState& peer = peers_[p];
    peer.last_heard_ms = now_ms;
    if (peer.lost) {
      peer.lost = false;
      peer.sender.revive();
      push_event(SessionEventKind::kPeerBack, p);
    }
    if (header.kind == FrameKind::kAck || header.kind == FrameKind::kHeartbeat || header.kind == FrameKind::kHello) {
      if (header.kind == FrameKind::kAck) peer.sender.acknowledge(header.sequence, now_ms);
      if (header.kind == FrameKind::kHello) handle_hello(p, payload);
      ++received_.delivered;
      return FrameError::kOk;
    }
    const LinkOrder order = peer.receiver.classify(header.sequence);
    if (order != LinkOrder::kNext) {
      ++(order == LinkOrder::kDuplicate ? received_.duplicate : received_.reordered);
      return FrameError::kOk;
    }
    if (header.round < live_floor() && header.kind != FrameKind::kReset) {
      peer.receiver.accept();
      ++received_.stale;
      // The rest of a vector whose first fragments were taken: that vector cannot complete now.
      if (header.fragment > 0 && peer.inbox.discard_incomplete()) ++received_.incomplete;
      return FrameError::kOk;
    }
    if (is_control(header.kind)) {
      peer.receiver.accept();
      handle_control(p, header, payload);
      return FrameError::kOk;
    }
    const InboxResult result = peer.inbox.can_take(header);
    if (result == InboxResult::kNoRoom) {
      ++received_.no_room;  // not accepted: the sender sends it again
      return FrameError::kOk;
    }
    peer.receiver.accept();
    if (result == InboxResult::kOutOfOrder) {
      ++received_.out_of_order;
      return FrameError::kOk;
    }
    bool discarded = false;
    (void)peer.inbox.take(header, payload, &discarded);
    if (discarded) ++received_.incomplete;
    ++received_.delivered;
    return FrameError::kOk;
  }

 protected:
  struct PeerState {
    LinkSender sender;
    LinkReceiver receiver;
    VectorInbox inbox;
    PeerTraffic traffic;
    std::uint32_t incarnation = 0;  // 0: not heard yet
    bool joined = false;            // its greeting echoed our incarnation
    bool lost = false;
    bool hello_sent = false;
    std::uint32_t last_heard_ms = 0;
    std::uint32_t last_sent_ms = 0;
    std::uint32_t last_hello_ms = 0;
    std::uint32_t committed = 0;    // windows it said it has committed
    // Commit control of a training round (node 0: from every node; others: none).
    std::uint32_t report_round = 0;
    float report_loss = 0.0f;
    float report_square_sum = 0.0f;
    bool report_has_loss = false;
    std::uint32_t vote_round = 0;
    bool vote_ok = false;
  };

  void bind_links(const LstmSpec& spec, const Partition& partition, std::size_t index, const SessionConfig& config,
                  std::uint32_t digest, const detail::SessionPlan& plan, std::uint8_t* base, FrameOutput output,
                  void* context) {
    spec_ = spec;
    digest_ = digest;
    partition_ = partition;
    partition_id_ = edgelstm::partition_id(partition);
    me_ = index;
    config_ = config;
    output_ = output;
    context_ = context;
    frame_ = base + plan.frame;
    for (std::size_t p = 0; p < kMaxNodes; ++p) peers_[p] = PeerState{};
    for (std::size_t p = 0; p < partition.nodes; ++p) {
      if (!linked(p)) continue;
      peers_[p].sender.bind(Span<std::uint8_t>(base + plan.send_ring[p], plan.send_slots[p] * kLinkSlotBytes));
      peers_[p].inbox.bind(Span<std::uint8_t>(base + plan.inbox[p], plan.inbox_bytes[p]));
    }
    received_ = ReceiveCounters{};
    events_head_ = events_count_ = 0;
    started_ = false;
    round_ = 0;
    next_round_ = 1;
    busy_ = false;
    recovering_ = false;
    inconsistent_ = false;
    committed_ = config.committed_windows;
    scale_round_ = decision_round_ = 0;
  }

  Session& self() { return static_cast<Session&>(*this); }

  bool linked(std::size_t p) const { return nodes_linked(partition_, me_, p); }
  // Frames of rounds before this one are stale.
  std::uint32_t live_floor() const { return busy_ ? round_ : next_round_; }
  static bool is_control(FrameKind kind) {
    return kind == FrameKind::kReport || kind == FrameKind::kScale || kind == FrameKind::kVote ||
           kind == FrameKind::kDecision || kind == FrameKind::kReset;
  }

  // Greetings, retransmissions, timeouts and heartbeats of every link.
  void run_links() {
    if (!started_) {
      started_ = true;
      for (std::size_t p = 0; p < partition_.nodes; ++p) peers_[p].last_heard_ms = now_ms_;
    }
    for (std::size_t p = 0; p < partition_.nodes; ++p) {
      if (!linked(p)) continue;
      PeerState& peer = peers_[p];
      if (!peer.joined && (!peer.hello_sent || now_ms_ - peer.last_hello_ms >= config_.hello_ms)) send_hello(p);
      const LinkState state = peer.sender.poll(now_ms_, config_.link, [&](Span<const std::uint8_t> frame) {
        ++peer.traffic.retransmitted_frames;
        peer.last_sent_ms = now_ms_;
        output_(context_, p, frame);
      });
      const bool silent = peer.incarnation != 0 && now_ms_ - peer.last_heard_ms > config_.peer_timeout_ms;
      if (!peer.lost && (state == LinkState::kFailed || silent)) lose_peer(p);
      if (now_ms_ - peer.last_sent_ms >= config_.heartbeat_ms) send_unsequenced(p, FrameKind::kHeartbeat, 0, {});
    }
  }

  void flush_acks() {
    for (std::size_t p = 0; p < partition_.nodes; ++p) {
      if (!linked(p) || !peers_[p].receiver.ack_due()) continue;
      send_unsequenced(p, FrameKind::kAck, peers_[p].receiver.acknowledged(), {});
      peers_[p].receiver.ack_sent();
    }
  }

  // ---- Sending -------------------------------------------------------------------------------

  FrameHeader header_for(std::size_t p, FrameKind kind) const {
    FrameHeader header;
    header.kind = kind;
    header.model_id = config_.model_id;
    header.partition_id = partition_id_;
    header.sender = static_cast<std::uint8_t>(me_);
    header.receiver = static_cast<std::uint8_t>(p);
    header.round = round_;
    return header;
  }

  void transmit(std::size_t p, Span<const std::uint8_t> frame) {
    peers_[p].last_sent_ms = now_ms_;
    peers_[p].traffic.wire_bytes += static_cast<std::uint32_t>(frame.size());
    output_(context_, p, frame);
  }

  // A frame outside the link's sequence (greeting, heartbeat, acknowledgement).
  void send_unsequenced(std::size_t p, FrameKind kind, std::uint32_t sequence, Span<const std::uint8_t> payload) {
    FrameHeader header = header_for(p, kind);
    header.sequence = sequence;
    const std::size_t size = encode_frame(header, payload, Span<std::uint8_t>(frame_, kMaxFrameBytes));
    ++(kind == FrameKind::kAck ? peers_[p].traffic.ack_frames : peers_[p].traffic.link_frames);
    transmit(p, Span<const std::uint8_t>(frame_, size));
  }

  // A sequenced frame: kept for retransmission, then sent. The caller checked room().
  void send_sequenced(std::size_t p, FrameHeader header, Span<const std::uint8_t> payload, bool data) {
    PeerState& peer = peers_[p];
    header.sequence = peer.sender.next_sequence();
    const std::size_t size = encode_frame(header, payload, Span<std::uint8_t>(frame_, kMaxFrameBytes));
    const Span<const std::uint8_t> frame(frame_, size);
    if (!peer.sender.store(frame, now_ms_)) return;  // a lost peer's link: the round is being abandoned
    if (data) {
      ++peer.traffic.data_frames;
      peer.traffic.data_payload_bytes += static_cast<std::uint32_t>(payload.size());
      peer.traffic.data_wire_bytes += static_cast<std::uint32_t>(size);
    } else {
      ++peer.traffic.control_frames;
    }
    transmit(p, frame);
  }

  // A commit-control frame with up to 9 bytes of payload.
  void send_control(std::size_t p, FrameKind kind, Span<const std::uint8_t> payload) {
    send_sequenced(p, header_for(p, kind), payload, false);
  }

  bool room(std::size_t p, std::size_t frames) const { return peers_[p].sender.free_slots() >= frames; }
  bool room_all(std::size_t frames) const {
    for (std::size_t p = 0; p < partition_.nodes; ++p) {
      if (linked(p) && !room(p, frames)) return false;
    }
    return true;
  }

  // Sends rows x cols values of type V (row r at base + r * stride) as one vector of `encoding`.
  template <typename V>
  void send_block(std::size_t p, FrameKind kind, std::uint16_t index, PayloadEncoding encoding, std::uint8_t flags,
                  const V* base, std::size_t rows, std::size_t cols, std::size_t stride) {
    const std::size_t count = rows * cols, per = values_per_fragment(encoding);
    const std::size_t fragments = fragment_count(encoding, count), value_bytes = encoded_value_bytes(encoding);
    std::uint8_t payload[kMaxFramePayloadBytes];
    for (std::size_t f = 0; f < fragments; ++f) {
      const std::size_t first = f * per, n = count - first < per ? count - first : per;
      for (std::size_t e = 0; e < n; ++e) {
        const std::size_t flat = first + e;
        encode_values(encoding, base + (flat / cols) * stride + flat % cols, 1, payload + e * value_bytes);
      }
      FrameHeader header = header_for(p, kind);
      header.index = index;
      header.encoding = encoding;
      header.fragment = static_cast<std::uint8_t>(f);
      header.fragments = static_cast<std::uint8_t>(fragments);
      header.flags = flags;
      send_sequenced(p, header, Span<const std::uint8_t>(payload, n * value_bytes), true);
    }
  }

  // ---- Receiving vectors ---------------------------------------------------------------------

  // The oldest vector from p if it is the one expected (kind, index, this round); stale vectors
  // are dropped on the way, any other vector is a protocol error.
  const InboxEntry* expect(std::size_t p, FrameKind kind, std::uint16_t index) {
    VectorInbox& inbox = peers_[p].inbox;
    while (const InboxEntry* front = inbox.front()) {
      if (front->round < round_) {
        if (!front->complete()) return nullptr;
        inbox.pop();
        ++received_.stale;
        continue;
      }
      if (!front->complete() || front->round != round_) return nullptr;
      if (front->kind != kind || front->index != index) {
        protocol_error(p);
        return nullptr;
      }
      return front;
    }
    return nullptr;
  }
  bool expect_all(FrameKind kind, std::uint16_t index) {
    for (std::size_t p = 0; p < partition_.nodes; ++p) {
      if (linked(p) && expect(p, kind, index) == nullptr) return false;
    }
    return true;
  }

  // Decodes the front vector of p into rows x cols values at base (row stride `stride`) and drops
  // it from the inbox; false (a protocol error) when its size or encoding does not fit.
  template <typename V>
  bool take_block(std::size_t p, V* base, std::size_t rows, std::size_t cols, std::size_t stride) {
    VectorInbox& inbox = peers_[p].inbox;
    const InboxEntry& entry = *inbox.front();
    if (entry.values() != rows * cols || !decodes_to<V>(entry.encoding)) {
      protocol_error(p);
      return false;
    }
    const std::uint8_t* bytes = inbox.front_bytes();
    const std::size_t value_bytes = encoded_value_bytes(entry.encoding);
    for (std::size_t flat = 0; flat < rows * cols; ++flat) {
      decode_values(entry.encoding, bytes + flat * value_bytes, 1, base + (flat / cols) * stride + flat % cols);
    }
    inbox.pop();
    return true;
  }
  template <typename V>
  static bool decodes_to(PayloadEncoding encoding) {
    if constexpr (std::is_same_v<V, float>) {
      return encoding == PayloadEncoding::kFloat32 || encoding == PayloadEncoding::kQ15;
    } else if constexpr (std::is_same_v<V, std::int16_t>) {
      return encoding == PayloadEncoding::kInt16;
    } else {
      return std::is_same_v<V, std::int32_t> && encoding == PayloadEncoding::kInt32;
    }
  }

  // ---- Greetings, losses, control --------------------------------------------------------------

  // A greeting: our incarnation, the peer's as we know it, our committed windows and round, and
  // whether the peer has already echoed our incarnation to us (joined).
  void send_hello(std::size_t p) {
    std::uint8_t payload[kHelloBytes];
    detail::frame_put32(payload, config_.incarnation);
    detail::frame_put32(payload + 4, peers_[p].incarnation);
    detail::frame_put32(payload + 8, committed_);
    detail::frame_put32(payload + 12, round_);
    payload[16] = peers_[p].joined ? 1 : 0;
    detail::frame_put32(payload + 17, digest_);
    peers_[p].hello_sent = true;
    peers_[p].last_hello_ms = now_ms_;
    send_unsequenced(p, FrameKind::kHello, 0, Span<const std::uint8_t>(payload, kHelloBytes));
  }

  void handle_hello(std::size_t p, Span<const std::uint8_t> payload) {
    if (payload.size() != kHelloBytes) {
      ++received_.unexpected;
      return;
    }
    PeerState& peer = peers_[p];
    const std::uint32_t incarnation = detail::frame_get32(payload.data());
    const std::uint32_t echo = detail::frame_get32(payload.data() + 4);
    const bool it_joined_us = payload[16] != 0;
    peer.committed = detail::frame_get32(payload.data() + 8);
    // Node 0 checks every node that joins (first, or after a restart): the same training options
    // and encodings, and as many committed training windows (a node restarted from a stale
    // checkpoint would otherwise train on with other weights). It refuses to go on otherwise.
    if (me_ == 0 && incarnation != peer.incarnation &&
        (peer.committed != committed_ || detail::frame_get32(payload.data() + 17) != digest_)) {
      inconsistent_ = true;
      push_event(SessionEventKind::kPeerInconsistent, p);
    }
    if (peer.incarnation != 0 && incarnation != peer.incarnation) {
      // The peer restarted: both directions of the link start over, its vectors are gone.
      peer.sender.reset();
      peer.receiver.reset();
      peer.inbox.clear();
      peer.joined = false;
      push_event(SessionEventKind::kPeerRestarted, p);
      self().abandon_round();
      if (me_ == 0) {
        recovering_ = true;
      } else {
        request_reset();
      }
    }
    peer.incarnation = incarnation;
    if (echo == config_.incarnation && !peer.joined) {
      peer.joined = true;
      push_event(SessionEventKind::kPeerJoined, p);
    }
    // Answer a peer that does not know us (yet, or any more), or has not had our echo yet.
    if (echo != config_.incarnation || !it_joined_us) send_hello(p);
  }

  void lose_peer(std::size_t p) {
    peers_[p].lost = true;
    push_event(SessionEventKind::kPeerLost, p);
    self().abandon_round();
    if (me_ == 0) recovering_ = true;
  }

  // A node other than 0 that gave up a round asks node 0 to reset the cluster (node 0 may not have
  // seen the cause).
  void request_reset() {
    if (me_ == 0 || !linked(0) || !room(0, 1)) return;
    send_control(0, FrameKind::kReset, {});
  }

  void protocol_error(std::size_t p) {
    ++received_.unexpected;
    peers_[p].inbox.pop();
    push_event(SessionEventKind::kProtocolError, p);
    self().abandon_round();
    if (me_ == 0) {
      recovering_ = true;
    } else {
      request_reset();
    }
  }

  static float get_float(const std::uint8_t* p) {
    const std::uint32_t bits = detail::frame_get32(p);
    float value;
    std::memcpy(&value, &bits, 4);
    return value;
  }
  static void put_float(std::uint8_t* p, float value) {
    std::uint32_t bits;
    std::memcpy(&bits, &value, 4);
    detail::frame_put32(p, bits);
  }

  // Commit control and resets are small and handled on arrival (registers keyed by round).
  void handle_control(std::size_t p, const FrameHeader& header, Span<const std::uint8_t> payload) {
    PeerState& peer = peers_[p];
    const std::size_t size = payload.size();
    const std::uint8_t* bytes = payload.data();
    const bool from_zero = p == 0;
    switch (header.kind) {
      case FrameKind::kReport:
        if (me_ != 0 || size != 9) break;
        peer.report_round = header.round;
        peer.report_loss = get_float(bytes);
        peer.report_square_sum = get_float(bytes + 4);
        peer.report_has_loss = bytes[8] != 0;
        ++received_.delivered;
        return;
      case FrameKind::kVote:
        if (me_ != 0 || size != 1) break;
        peer.vote_round = header.round;
        peer.vote_ok = bytes[0] != 0;
        ++received_.delivered;
        return;
      case FrameKind::kScale:
        if (!from_zero || size != 8) break;
        scale_round_ = header.round;
        scale_ = get_float(bytes);
        norm_ = get_float(bytes + 4);
        ++received_.delivered;
        return;
      case FrameKind::kDecision:
        if (!from_zero || size != 9) break;
        decision_round_ = header.round;
        decision_commit_ = bytes[0] != 0;
        decision_loss_ = get_float(bytes + 1);
        decision_norm_ = get_float(bytes + 5);
        ++received_.delivered;
        return;
      case FrameKind::kReset:
        if (size != 0) break;
        ++received_.delivered;
        if (me_ == 0) {  // a peer gave up the round: reset the cluster
          self().abandon_round();
          recovering_ = true;
        } else if (from_zero) {
          self().on_reset(header.round);
        }
        return;
      default:
        break;
    }
    ++received_.unexpected;
  }

  // ---- Events ---------------------------------------------------------------------------------

  void push_event(SessionEventKind kind, std::size_t peer = 0, Status status = Status::kOk, float loss = 0.0f,
                  float norm = 0.0f, bool warm_up = false) {
    SessionEvent event;
    event.kind = kind;
    event.peer = static_cast<std::uint8_t>(peer);
    event.round = round_;
    event.status = status;
    event.loss = loss;
    event.gradient_norm = norm;
    event.warm_up = warm_up;
    if (events_count_ == kEventCapacity) {  // keep the newest
      events_head_ = (events_head_ + 1) % kEventCapacity;
      --events_count_;
    }
    events_[(events_head_ + events_count_) % kEventCapacity] = event;
    ++events_count_;
  }
  SessionEvent pop_event() {
    if (events_count_ == 0) return SessionEvent{};
    const SessionEvent event = events_[events_head_];
    events_head_ = (events_head_ + 1) % kEventCapacity;
    --events_count_;
    return event;
  }

  static constexpr std::size_t kEventCapacity = 16;
  static constexpr std::size_t kHelloBytes = 21;

  LstmSpec spec_{};
  Partition partition_{};
  std::uint16_t partition_id_ = 0;
  std::uint32_t digest_ = 0;  // training options and encodings (session_digest)
  std::size_t me_ = 0;
  SessionConfig config_{};
  FrameOutput output_ = nullptr;
  void* context_ = nullptr;
  std::uint8_t* frame_ = nullptr;
  PeerState peers_[kMaxNodes];
  ReceiveCounters received_{};
  std::uint32_t now_ms_ = 0;
  bool started_ = false;

  std::uint32_t round_ = 0;       // the round in flight, or the last one
  std::uint32_t next_round_ = 1;  // the round a node other than 0 starts next (node 0's resets set it)
  bool busy_ = false;
  bool recovering_ = false;       // node 0: reset the cluster once every peer is back
  bool inconsistent_ = false;     // node 0: a restarted peer lost committed windows
  std::uint32_t committed_ = 0;   // training windows committed

  // Commit control received by a node other than 0.
  std::uint32_t scale_round_ = 0;
  float scale_ = 1.0f;
  float norm_ = 0.0f;
  std::uint32_t decision_round_ = 0;
  bool decision_commit_ = false;
  float decision_loss_ = 0.0f;
  float decision_norm_ = 0.0f;

  SessionEvent events_[kEventCapacity];
  std::size_t events_head_ = 0;
  std::size_t events_count_ = 0;
};

}  // namespace edgelstm
