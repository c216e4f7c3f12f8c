// A node's session (edgelstm::NodeSession) on the board's serial lines: line p leads to node p, or
// to node p + 1 from p = this node on (run_cluster.py wires them so). Frames the session sends go
// out on the line to their peer; frames that arrive are handed to the session.
#pragma once

#include <cstddef>
#include <cstdint>

#include <cstdio>

#include "board.h"
#include "edgelstm/frame.h"
#include "edgelstm/partition.h"
#include "edgelstm/span.h"
#include "serial_link.h"

namespace cluster {

template <typename Session, std::size_t kLines>
class SessionLines {
 public:
  using Link = SerialLink<edgelstm::kMaxFrameBytes>;

  SessionLines(Session* session, std::size_t me) : session_(session), me_(me) {
    for (std::size_t line = 0; line < kLines; ++line) lines_[line].attach(line);
  }

  // The session's output function; bind it with `this` as its context.
  static void send(void* context, std::size_t peer, edgelstm::Span<const std::uint8_t> frame) {
    auto* self = static_cast<SessionLines*>(context);
    self->lines_[self->line_to(peer)].send(frame);
  }

  // Hands every complete frame that has arrived to the session, waiting asleep up to `deadline_ms`
  // for the first.
  void receive(std::uint32_t deadline_ms) {
    edgelstm::Span<const std::uint8_t> frame;
    while (receive_any(lines_, kLines, deadline_ms, &frame, &next_line_) >= 0) {
      (void)session_->receive(frame, board::milliseconds());
      deadline_ms = board::milliseconds();  // then take what is there without waiting
    }
  }

  // Keeps the lines served for `duration_ms` after the last round: acknowledgements and
  // retransmissions a peer may still need. A peer whose last frame, or our acknowledgement of it,
  // was lost sends it again one retransmit interval later, and may lose it once more: lingering
  // for less than two intervals (plus a frame's time on the line) can leave that peer retransmitting
  // to a node that is gone until its own timeout; `linger_for` gives that duration.
  void linger(std::uint32_t duration_ms) {
    const std::uint32_t until = board::milliseconds() + duration_ms;
    while (static_cast<std::int32_t>(board::milliseconds() - until) < 0) {
      while (session_->poll(board::milliseconds()).kind != edgelstm::SessionEventKind::kNone) {
      }
      receive(board::milliseconds() + 20);
    }
  }

  static constexpr std::uint32_t linger_for(const edgelstm::LinkTimers& timers) {
    return 2 * timers.retransmit_ms + 1000;
  }

  std::size_t line_to(std::size_t peer) const { return peer < me_ ? peer : peer - 1; }
  std::size_t peer_on(std::size_t line) const { return line < me_ ? line : line + 1; }
  const Link& line(std::size_t k) const { return lines_[k]; }

 private:
  Session* session_;
  std::size_t me_;
  Link lines_[kLines];
  std::size_t next_line_ = 0;
};

// The start-up line of a node: its board, its share of the network's first layer and its arena.
inline void print_node_start(const edgelstm::NodeShare& share, const char* path, std::size_t compute_bytes,
                             std::size_t session_bytes) {
  const edgelstm::NodeLayer& layer = share.layers[0];
  std::printf("node %u of %u on %s: %s units %u-%u of %u%s; arena %u bytes (network share %u, links %u)\n",
              static_cast<unsigned>(share.index), static_cast<unsigned>(share.nodes), board::name(), path,
              static_cast<unsigned>(layer.first_unit), static_cast<unsigned>(layer.first_unit + layer.units - 1),
              static_cast<unsigned>(layer.hidden), share.head ? " and the head" : "",
              static_cast<unsigned>(compute_bytes + session_bytes), static_cast<unsigned>(compute_bytes),
              static_cast<unsigned>(session_bytes));
}

}  // namespace cluster
