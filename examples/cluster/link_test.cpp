// Link test firmware: every board of the cluster is wired to every other by a serial line of its
// own (through the host relay, which may corrupt, drop or duplicate frames). On each line both ends
// send numbered frames in the core's wire format (edgelstm/frame.h, CRC-32) inside COBS framing,
// through the core's reliable link (edgelstm/reliable_link.h: sequence numbers, cumulative
// acknowledgements, bounded go-back-N retransmission). Every frame delivered is checked against
// the content its sender must have put in it, so a damaged frame that was applied would stop the
// board; each frame must be applied exactly once and in order, whatever the relay does.
//
// usage (semihosting arguments): <board index> <board count> <frames to send on each line>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "board.h"
#include "edgelstm/frame.h"
#include "edgelstm/reliable_link.h"
#include "serial_link.h"

namespace {

using edgelstm::FrameKind;
using edgelstm::kMaxFrameBytes;

constexpr std::size_t kLines = cluster::board::kMaxSerialPorts;
constexpr std::size_t kWindowFrames = 4;  // frames a line may have unacknowledged
// A round trip through the relay takes 5-60 ms, at times a few hundred on a busy host.
constexpr edgelstm::LinkTimers kTimers{/*retransmit_ms=*/300, /*max_retransmits=*/40};
constexpr std::uint32_t kLingerMs = 1000;  // keep acknowledging after finishing
constexpr std::uint32_t kModelId = 0x4C494E4B;  // "LINK": the two ends of a line must agree

// The payload the sender of frame `sequence` must have sent: its length varies with the sequence
// number and it contains zeros, so the framing's every case is exercised.
std::size_t payload_size(std::uint32_t sequence) { return 16 + (sequence * 53u) % (edgelstm::kMaxFramePayloadBytes - 15); }
std::uint8_t payload_byte(unsigned sender, std::uint32_t sequence, std::size_t k) {
  const std::uint32_t mix = (sender + 1) * 2654435761u ^ sequence * 40503u ^ static_cast<std::uint32_t>(k) * 97u;
  return k % 9 == 4 ? 0 : static_cast<std::uint8_t>(mix >> 13);
}

// One line: its serial link (g_serial[line]), both directions of the reliable link to its peer.
cluster::SerialLink<kMaxFrameBytes> g_serial[kLines];
struct Line {
  cluster::SerialLink<kMaxFrameBytes>* serial = nullptr;
  unsigned peer = 0;
  edgelstm::LinkSender sender;
  edgelstm::LinkReceiver receiver;
  std::uint8_t slots[kWindowFrames * edgelstm::kLinkSlotBytes];
  std::uint32_t last_heard = 0;
};
Line g_lines[kLines];
unsigned g_me = 0;

edgelstm::FrameHeader header_to(const Line& line, FrameKind kind, std::uint32_t sequence) {
  edgelstm::FrameHeader header;
  header.kind = kind;
  header.model_id = kModelId;
  header.sender = static_cast<std::uint8_t>(g_me);
  header.receiver = static_cast<std::uint8_t>(line.peer);
  header.sequence = sequence;
  return header;
}

void send_ack(Line& line) {
  std::uint8_t frame[kMaxFrameBytes];
  const std::size_t size =
      edgelstm::encode_frame(header_to(line, FrameKind::kAck, line.receiver.acknowledged()), {}, frame);
  line.serial->send(edgelstm::Span<const std::uint8_t>(frame, size));
  line.receiver.ack_sent();
}

// Stores the next data frame in the line's sender (which keeps it until it is acknowledged) and sends it.
void send_next(Line& line, std::uint32_t now) {
  const std::uint32_t sequence = line.sender.next_sequence();
  std::uint8_t payload[edgelstm::kMaxFramePayloadBytes];
  const std::size_t bytes = payload_size(sequence);
  for (std::size_t k = 0; k < bytes; ++k) payload[k] = payload_byte(g_me, sequence, k);
  std::uint8_t frame[kMaxFrameBytes];
  const std::size_t size = edgelstm::encode_frame(header_to(line, FrameKind::kInput, sequence),
                                                  edgelstm::Span<const std::uint8_t>(payload, bytes), frame);
  if (line.sender.store(edgelstm::Span<const std::uint8_t>(frame, size), now)) {
    line.serial->send(edgelstm::Span<const std::uint8_t>(frame, size));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::printf("usage: link_test <board index> <board count> <frames>\n");
    return 2;
  }
  g_me = static_cast<unsigned>(std::atoi(argv[1]));
  const unsigned boards = static_cast<unsigned>(std::atoi(argv[2]));
  const unsigned frames = static_cast<unsigned>(std::atoi(argv[3]));
  if (boards < 2 || boards > kLines + 1 || g_me >= boards || frames == 0 || frames > 65535) {
    std::printf("link_test: bad arguments (index %u, count %u, frames %u)\n", g_me, boards, frames);
    return 2;
  }
  const std::size_t lines = boards - 1;
  for (std::size_t p = 0; p < lines; ++p) {
    Line& line = g_lines[p];
    g_serial[p].attach(p);
    line.serial = &g_serial[p];
    line.peer = p < g_me ? static_cast<unsigned>(p) : static_cast<unsigned>(p + 1);
    line.sender.bind(line.slots);
  }
  cluster::board::init();
  std::printf("board %u of %u on %s: %u frames each way on %u lines\n", g_me, boards, cluster::board::name(), frames,
              static_cast<unsigned>(lines));

  std::uint32_t duplicates = 0, refused = 0, ahead = 0;
  std::size_t next_line = 0;
  const std::uint32_t start = cluster::board::milliseconds();
  for (;;) {
    const std::uint32_t now = cluster::board::milliseconds();
    bool all_done = true;
    for (std::size_t p = 0; p < lines; ++p) {
      Line& line = g_lines[p];
      while (line.sender.next_sequence() <= frames && line.sender.free_slots() > 0) send_next(line, now);
      if (line.sender.poll(now, kTimers, [&](edgelstm::Span<const std::uint8_t> frame) { line.serial->send(frame); }) ==
          edgelstm::LinkState::kFailed) {
        std::printf("board %u: no acknowledgement from board %u after %u rounds of retransmission: line down\n",
                    g_me, line.peer, static_cast<unsigned>(kTimers.max_retransmits));
        return 1;
      }
      if (line.receiver.ack_due()) send_ack(line);
      const bool done = line.sender.held() == 0 && line.sender.next_sequence() > frames &&
                        line.receiver.acknowledged() == frames;
      if (!done || now - line.last_heard < kLingerMs) all_done = false;
    }
    if (all_done) break;

    edgelstm::Span<const std::uint8_t> bytes;
    const int port = cluster::receive_any(g_serial, lines, now + 20, &bytes, &next_line);
    if (port < 0) continue;
    Line& line = g_lines[port];
    edgelstm::FrameHeader header;
    edgelstm::Span<const std::uint8_t> payload;
    if (edgelstm::parse_frame(bytes, &header, &payload) != edgelstm::FrameError::kOk || header.model_id != kModelId) {
      ++refused;
      continue;
    }
    if (header.sender != line.peer || header.receiver != g_me) {
      std::printf("board %u: a frame from board %u to board %u arrived on the line to board %u: miswired\n", g_me,
                  header.sender, header.receiver, line.peer);
      return 1;
    }
    line.last_heard = cluster::board::milliseconds();
    if (header.kind == FrameKind::kAck) {
      line.sender.acknowledge(header.sequence, line.last_heard);
      continue;
    }
    switch (line.receiver.classify(header.sequence)) {
      case edgelstm::LinkOrder::kNext: {
        // Applying a frame: its content must be exactly what its sender wrote.
        bool intact = payload.size() == payload_size(header.sequence);
        for (std::size_t k = 0; intact && k < payload.size(); ++k) {
          intact = payload[k] == payload_byte(line.peer, header.sequence, k);
        }
        if (!intact) {
          std::printf("board %u: frame %u from board %u passed its CRC with wrong content\n", g_me,
                      static_cast<unsigned>(header.sequence), line.peer);
          return 1;
        }
        line.receiver.accept();
        break;
      }
      case edgelstm::LinkOrder::kDuplicate:
        ++duplicates;  // already applied: acknowledged again, not applied again
        break;
      case edgelstm::LinkOrder::kAhead:
        ++ahead;  // a frame before it was lost: dropped, the sender goes back to it
        break;
    }
  }
  const std::uint32_t elapsed = cluster::board::milliseconds() - start;
  std::uint32_t framing = 0, retransmits = 0, bytes_sent = 0, bytes_received = 0;
  for (std::size_t p = 0; p < lines; ++p) {
    framing += g_serial[p].frames_refused();
    retransmits += g_lines[p].sender.retransmitted_frames();
    bytes_sent += g_serial[p].bytes_sent();
    bytes_received += g_serial[p].bytes_received();
  }
  std::printf("board %u: sent %u frames to each of %u boards (%u retransmitted), applied %u from each in order, "
              "%u ms\n", g_me, frames, static_cast<unsigned>(lines), static_cast<unsigned>(retransmits), frames,
              static_cast<unsigned>(elapsed));
  std::printf("board %u: stack high water %u bytes\n", g_me, static_cast<unsigned>(cluster::board::stack_high_water_bytes()));
  std::printf("stats refused=%u framing=%u duplicates=%u ahead=%u retransmits=%u overruns=%u bytes_sent=%u "
              "bytes_received=%u\n",
              static_cast<unsigned>(refused + framing), static_cast<unsigned>(framing),
              static_cast<unsigned>(duplicates), static_cast<unsigned>(ahead), static_cast<unsigned>(retransmits),
              static_cast<unsigned>(cluster::board::receive_overruns()), static_cast<unsigned>(bytes_sent),
              static_cast<unsigned>(bytes_received));
  return 0;
}
