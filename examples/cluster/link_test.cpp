// Link test firmware: every board of the cluster is wired to every other by a serial line of its
// own (through the host relay, which may corrupt, drop or duplicate frames). On each line both ends
// send numbered frames with a CRC-32, acknowledge what they receive, and resend after a timeout.
// Every frame that passes its CRC is checked against the content its sender must have put in it, so
// a damaged frame that was applied would stop the board; each frame must be applied exactly once
// and in order, whatever the relay does.
//
// usage (semihosting arguments): <board index> <board count> <frames to send on each line>
//
// The frame layout and the stop-and-wait protocol here exist for this test of the serial layer
// (UART drivers, COBS framing, relay); the cluster's model traffic uses the core's wire frames.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "board.h"
#include "edgelstm/crc32.h"
#include "serial_link.h"

namespace {

enum Kind : std::uint8_t { kData = 1, kAck = 2 };
// kind, sender, receiver, sequence (u16), payload bytes (u16), payload, CRC-32 of all before it.
constexpr std::size_t kHeaderBytes = 7;
constexpr std::size_t kMaxPayload = 240;
constexpr std::size_t kMaxFrame = kHeaderBytes + kMaxPayload + 4;
// A round trip through the relay takes 5-60 ms, at times 300 ms on a busy host: the first resend
// comes after 250 ms, each further one waits twice as long, up to 2 s.
constexpr std::uint32_t kResendAfterMs = 250;
constexpr std::uint32_t kMaxResendAfterMs = 2000;
constexpr std::uint32_t kMaxResends = 12;  // about 20 s: then the link is declared down
constexpr std::uint32_t kLingerMs = 1000;  // keep acknowledging after finishing

std::uint32_t resend_after(std::uint32_t resends) {
  return resends >= 3 ? kMaxResendAfterMs : kResendAfterMs << resends;
}

// The payload the sender of frame `sequence` must have sent: its length varies with the sequence
// number and it contains zeros, so the framing's every case is exercised.
std::size_t payload_size(std::uint16_t sequence) { return 16 + (sequence * 53u) % (kMaxPayload - 15); }
std::uint8_t payload_byte(unsigned sender, std::uint16_t sequence, std::size_t k) {
  const std::uint32_t mix = (sender + 1) * 2654435761u ^ (sequence + 1u) * 40503u ^ static_cast<std::uint32_t>(k) * 97u;
  return k % 9 == 4 ? 0 : static_cast<std::uint8_t>(mix >> 13);
}

std::uint16_t read_u16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
void write_u16(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
}

struct Frame {
  Kind kind;
  unsigned sender, receiver;
  std::uint16_t sequence;
  edgelstm::Span<const std::uint8_t> payload;
};

// Parses and checks a received frame; false (and nothing else) for a short or damaged one.
bool parse(edgelstm::Span<const std::uint8_t> bytes, Frame* frame) {
  if (bytes.size() < kHeaderBytes + 4) return false;
  const std::size_t body = bytes.size() - 4;
  std::uint32_t crc = 0;
  std::memcpy(&crc, bytes.data() + body, 4);
  if (edgelstm::crc32_update(0, bytes.data(), body) != crc) return false;
  const std::uint16_t payload_bytes = read_u16(bytes.data() + 5);
  if (payload_bytes != body - kHeaderBytes || (bytes[0] != kData && bytes[0] != kAck)) return false;
  *frame = Frame{static_cast<Kind>(bytes[0]), bytes[1], bytes[2], read_u16(bytes.data() + 3),
                 bytes.subspan(kHeaderBytes, payload_bytes)};
  return true;
}

using Link = cluster::SerialLink<kMaxFrame>;
Link g_links[cluster::board::kMaxSerialPorts] = {Link(0), Link(1), Link(2)};

void send(Link& link, Kind kind, unsigned sender, unsigned receiver, std::uint16_t sequence) {
  std::uint8_t bytes[kMaxFrame];
  const std::size_t payload = kind == kData ? payload_size(sequence) : 0;
  bytes[0] = kind;
  bytes[1] = static_cast<std::uint8_t>(sender);
  bytes[2] = static_cast<std::uint8_t>(receiver);
  write_u16(bytes + 3, sequence);
  write_u16(bytes + 5, static_cast<std::uint32_t>(payload));
  for (std::size_t k = 0; k < payload; ++k) bytes[kHeaderBytes + k] = payload_byte(sender, sequence, k);
  const std::uint32_t crc = edgelstm::crc32_update(0, bytes, kHeaderBytes + payload);
  std::memcpy(bytes + kHeaderBytes + payload, &crc, 4);
  link.send(edgelstm::Span<const std::uint8_t>(bytes, kHeaderBytes + payload + 4));
}

// Both directions of one line.
struct LineState {
  unsigned peer = 0;
  unsigned to_send = 0, expected = 0;  // next sequence to send / to apply
  bool outstanding = false;
  std::uint32_t sent_at = 0, resends_of_this = 0;
  std::uint32_t last_heard = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::printf("usage: link_test <board index> <board count> <frames>\n");
    return 2;
  }
  const unsigned me = static_cast<unsigned>(std::atoi(argv[1]));
  const unsigned boards = static_cast<unsigned>(std::atoi(argv[2]));
  const unsigned frames = static_cast<unsigned>(std::atoi(argv[3]));
  if (boards < 2 || boards > cluster::board::kMaxSerialPorts + 1 || me >= boards || frames == 0 || frames > 65535) {
    std::printf("link_test: bad arguments (index %u, count %u, frames %u)\n", me, boards, frames);
    return 2;
  }
  const std::size_t lines = boards - 1;
  LineState line[cluster::board::kMaxSerialPorts];
  for (std::size_t p = 0; p < lines; ++p) line[p].peer = p < me ? static_cast<unsigned>(p) : static_cast<unsigned>(p + 1);
  cluster::board::init();
  std::printf("board %u of %u on %s: %u frames each way on %u lines\n", me, boards, cluster::board::name(), frames,
              static_cast<unsigned>(lines));

  std::uint32_t retransmits = 0, duplicates = 0, refused = 0;
  std::size_t next_first = 0;
  const std::uint32_t start = cluster::board::milliseconds();
  for (;;) {
    std::uint32_t now = cluster::board::milliseconds();
    std::uint32_t deadline = now + kResendAfterMs;
    bool all_done = true;
    for (std::size_t p = 0; p < lines; ++p) {
      LineState& l = line[p];
      if (!l.outstanding && l.to_send < frames) {
        send(g_links[p], kData, me, l.peer, static_cast<std::uint16_t>(l.to_send));
        l.outstanding = true;
        l.sent_at = now;
        l.resends_of_this = 0;
      } else if (l.outstanding && now - l.sent_at >= resend_after(l.resends_of_this)) {
        if (++l.resends_of_this > kMaxResends) {
          std::printf("board %u: frame %u to board %u unacknowledged after %u resends: line down\n", me, l.to_send,
                      l.peer, static_cast<unsigned>(kMaxResends));
          return 1;
        }
        send(g_links[p], kData, me, l.peer, static_cast<std::uint16_t>(l.to_send));
        ++retransmits;
        l.sent_at = now;
      }
      if (l.outstanding) {
        const std::uint32_t due = l.sent_at + resend_after(l.resends_of_this);
        if (static_cast<std::int32_t>(due - deadline) < 0) deadline = due;
      }
      const bool done = l.to_send == frames && l.expected == frames;
      if (!done || now - l.last_heard < kLingerMs) all_done = false;
    }
    if (all_done) break;

    edgelstm::Span<const std::uint8_t> bytes;
    const int port = cluster::receive_any(g_links, lines, deadline, &bytes, &next_first);
    if (port < 0) continue;
    LineState& l = line[port];
    Frame frame{};
    if (!parse(bytes, &frame)) {
      ++refused;
      continue;
    }
    if (frame.sender != l.peer || frame.receiver != me) {
      std::printf("board %u: a frame from board %u to board %u arrived on the line to board %u: miswired\n", me,
                  frame.sender, frame.receiver, l.peer);
      return 1;
    }
    l.last_heard = cluster::board::milliseconds();
    if (frame.kind == kData) {
      if (frame.sequence == l.expected) {
        // Applying a frame: its content must be exactly what its sender wrote.
        bool intact = frame.payload.size() == payload_size(frame.sequence);
        for (std::size_t k = 0; intact && k < frame.payload.size(); ++k) {
          intact = frame.payload[k] == payload_byte(l.peer, frame.sequence, k);
        }
        if (!intact) {
          std::printf("board %u: frame %u from board %u passed its CRC with wrong content\n", me, frame.sequence,
                      l.peer);
          return 1;
        }
        ++l.expected;
      } else if (frame.sequence < l.expected) {
        ++duplicates;  // already applied: acknowledged again, not applied again
      } else {
        std::printf("board %u: frame %u from board %u arrived before frame %u\n", me, frame.sequence, l.peer,
                    l.expected);
        return 1;
      }
      send(g_links[port], kAck, me, l.peer, frame.sequence);
    } else if (l.outstanding && frame.sequence == l.to_send) {
      l.outstanding = false;
      ++l.to_send;
    } else {
      ++duplicates;  // a second acknowledgement of a frame already acknowledged
    }
  }
  const std::uint32_t elapsed = cluster::board::milliseconds() - start;
  std::uint32_t framing = 0, bytes_sent = 0, bytes_received = 0;
  for (std::size_t p = 0; p < lines; ++p) {
    framing += g_links[p].frames_refused();
    bytes_sent += g_links[p].bytes_sent();
    bytes_received += g_links[p].bytes_received();
  }
  std::printf("board %u: sent %u frames to each of %u boards (%u retransmits), applied %u from each in order, "
              "%u ms\n", me, frames, static_cast<unsigned>(lines), static_cast<unsigned>(retransmits), frames,
              static_cast<unsigned>(elapsed));
  std::printf("board %u: stack high water %u bytes\n", me, static_cast<unsigned>(cluster::board::stack_high_water_bytes()));
  std::printf("stats refused=%u framing=%u duplicates=%u retransmits=%u overruns=%u bytes_sent=%u "
              "bytes_received=%u\n",
              static_cast<unsigned>(refused + framing), static_cast<unsigned>(framing),
              static_cast<unsigned>(duplicates), static_cast<unsigned>(retransmits),
              static_cast<unsigned>(cluster::board::receive_overruns()), static_cast<unsigned>(bytes_sent),
              static_cast<unsigned>(bytes_received));
  return 0;
}
