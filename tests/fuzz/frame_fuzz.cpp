// libFuzzer target: the frames between nodes. The input is a sequence of records
//   u8 flags, u16 length (little-endian), length bytes
// each given to
//   - parse_frame: it must return an error or a header and payload inside the record, and a frame
//     it accepts must encode back to exactly its bytes;
//   - the session of node 1 of a three-node hidden split in training (its links, reassembly,
//     commit control, greetings and rounds), as if it came from the network, then poll() with the
//     clock moved by (flags & 0x3F) * 10 ms. With flags bit 7 set the record's CRC-32 is written
//     over its last four bytes first, so mutations of the header and payload reach the protocol
//     behind the checksum.
// The session must never crash, read outside a record or its memory, or lose count of a frame.
// Seeds (corpus/frame): the frames node 1 received from nodes 0 and 2 over a real window and step.
#include <cstdint>
#include <cstring>
#include <vector>

#include "edgelstm/edgelstm.h"

namespace {

constexpr edgelstm::LstmSpec fuzz_spec() {
  edgelstm::LstmSpec spec = edgelstm::make_spec(2, 8, 2, 1, 3);
  spec.hidden_size[1] = 6;
  return spec;
}

void discard(void*, std::size_t, edgelstm::Span<const std::uint8_t>) {}

struct Node {
  alignas(16) std::uint8_t arena[64 * 1024];
  alignas(16) std::uint8_t links[32 * 1024];
  edgelstm::PartitionNode node;
  edgelstm::NodeSession<edgelstm::PartitionNode> session;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Node* state = new Node;
  const edgelstm::LstmSpec spec = fuzz_spec();
  const edgelstm::Partition partition = edgelstm::make_hidden_split(spec, 3);
  if (edgelstm::node_compute_bytes(spec, partition, 1, edgelstm::Purpose::kTraining) > sizeof state->arena ||
      edgelstm::session_bytes(spec, partition, 1, true) > sizeof state->links) {
    __builtin_trap();
  }
  std::memset(state->arena, 0, sizeof state->arena);  // every input starts from the same node
  edgelstm::TrainConfig config;
  if (state->node.bind_training(spec, partition, 1, config, state->arena) != edgelstm::Status::kOk) __builtin_trap();
  edgelstm::SessionConfig session_config;
  session_config.model_id = 0x5EED;
  if (state->session.bind(&state->node, partition, session_config, true, state->links, &discard, nullptr) !=
      edgelstm::Status::kOk) {
    __builtin_trap();
  }
  std::uint32_t now = 0, records = 0;
  (void)state->session.poll(now);
  std::size_t at = 0;
  while (size - at >= 3) {
    const std::uint8_t flags = data[at];
    const std::size_t length = data[at + 1] | (data[at + 2] << 8);
    at += 3;
    if (length > size - at) break;
    // An exact-size copy, so reads past the record are caught by AddressSanitizer.
    std::vector<std::uint8_t> record(data + at, data + at + length);
    at += length;
    if ((flags & 0x80) != 0 && record.size() >= 4) {
      const std::uint32_t crc = edgelstm::crc32_update(0, record.data(), record.size() - 4);
      for (int k = 0; k < 4; ++k) record[record.size() - 4 + k] = static_cast<std::uint8_t>(crc >> (8 * k));
    }
    const edgelstm::Span<const std::uint8_t> bytes(record.data(), record.size());
    edgelstm::FrameHeader header;
    edgelstm::Span<const std::uint8_t> payload;
    if (edgelstm::parse_frame(bytes, &header, &payload) == edgelstm::FrameError::kOk) {
      if (payload.size() != header.payload_bytes || payload.data() < record.data() ||
          payload.data() + payload.size() > record.data() + record.size()) {
        __builtin_trap();
      }
      std::uint8_t again[edgelstm::kMaxFrameBytes];
      const std::size_t n = edgelstm::encode_frame(header, payload, again);
      if (n != record.size() || std::memcmp(again, record.data(), n) != 0) __builtin_trap();
    }
    (void)state->session.receive(bytes, now);
    ++records;
    now += static_cast<std::uint32_t>(flags & 0x3F) * 10;
    for (int k = 0; k < 64 && state->session.poll(now).kind != edgelstm::SessionEventKind::kNone; ++k) {
    }
  }
  if (state->session.received().frames != records) __builtin_trap();
  return 0;
}
