// The wire format (frames, payload encodings, fragments), the reliable link's state machine and the
// reassembly of vectors: every refusal reason, on the host and on every target.
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>

#include "edgelstm/edgelstm.h"
#include "support/micro_test.h"

namespace {

using edgelstm::FrameError;
using edgelstm::FrameHeader;
using edgelstm::FrameKind;
using edgelstm::PayloadEncoding;
using edgelstm::Span;

FrameHeader sample_header() {
  FrameHeader header;
  header.kind = FrameKind::kActivation;
  header.model_id = 0xA1B2C3D4u;
  header.partition_id = 0x1234;
  header.sender = 2;
  header.receiver = 5;
  header.sequence = 77;
  header.round = 123456;
  header.index = edgelstm::frame_index(3, 2, 511);
  header.encoding = PayloadEncoding::kFloat32;
  header.fragment = 1;
  header.fragments = 3;
  header.flags = edgelstm::kFlagCarryState;
  return header;
}

EDGELSTM_TEST(Frame, RoundTripKeepsEveryField) {
  const float values[3] = {1.5f, -0.0f, 3.25e-7f};
  std::uint8_t payload[12];
  edgelstm::encode_values(PayloadEncoding::kFloat32, values, 3, payload);
  std::uint8_t frame[edgelstm::kMaxFrameBytes];
  const FrameHeader header = sample_header();
  const std::size_t size = edgelstm::encode_frame(header, payload, frame);
  ASSERT_EQ_INT(size, edgelstm::kFrameHeaderBytes + 12 + edgelstm::kFrameTrailerBytes);
  FrameHeader parsed;
  Span<const std::uint8_t> body;
  ASSERT_TRUE(edgelstm::parse_frame(Span<const std::uint8_t>(frame, size), &parsed, &body) == FrameError::kOk);
  EXPECT_TRUE(parsed.kind == header.kind);
  EXPECT_EQ_INT(parsed.model_id, header.model_id);
  EXPECT_EQ_INT(parsed.partition_id, header.partition_id);
  EXPECT_EQ_INT(parsed.sender, 2);
  EXPECT_EQ_INT(parsed.receiver, 5);
  EXPECT_EQ_INT(parsed.sequence, 77);
  EXPECT_EQ_INT(parsed.round, 123456);
  EXPECT_EQ_INT(parsed.index, header.index);
  EXPECT_EQ_INT(parsed.fragment, 1);
  EXPECT_EQ_INT(parsed.fragments, 3);
  EXPECT_EQ_INT(parsed.flags, edgelstm::kFlagCarryState);
  EXPECT_EQ_INT(parsed.payload_bytes, 12);
  float decoded[3];
  edgelstm::decode_values(PayloadEncoding::kFloat32, body.data(), 3, decoded);
  EXPECT_TRUE(std::memcmp(decoded, values, sizeof values) == 0);  // bit for bit, -0 included
  // Little-endian on the wire whatever the host: the magic, then the round's low byte first.
  EXPECT_EQ_INT(frame[0], 'E');
  EXPECT_EQ_INT(frame[16], 0x40);  // 123456 = 0x0001E240
}

EDGELSTM_TEST(Frame, EveryDamageIsRefusedWithItsReason) {
  std::uint8_t payload[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  std::uint8_t frame[edgelstm::kMaxFrameBytes + 8];
  const std::size_t size = edgelstm::encode_frame(sample_header(), payload, Span<std::uint8_t>(frame, edgelstm::kMaxFrameBytes));
  FrameHeader parsed;
  Span<const std::uint8_t> body;
  const auto parse = [&](std::size_t n) { return edgelstm::parse_frame(Span<const std::uint8_t>(frame, n), &parsed, &body); };
  EXPECT_TRUE(parse(size) == FrameError::kOk);
  EXPECT_TRUE(parse(0) == FrameError::kTruncated);
  EXPECT_TRUE(parse(10) == FrameError::kTruncated);
  EXPECT_TRUE(parse(size - 1) == FrameError::kTruncated);
  EXPECT_TRUE(parse(size + 1) == FrameError::kBadLength);
  for (std::size_t k = 0; k < size; ++k) {  // any single flipped bit is caught
    frame[k] ^= 0x10;
    EXPECT_TRUE(parse(size) != FrameError::kOk);
    frame[k] ^= 0x10;
  }
  frame[0] = 'X';
  EXPECT_TRUE(parse(size) == FrameError::kBadMagic);
  frame[0] = 'E';
  // Fields checked after the CRC: rebuild frames whose CRC is right but whose content is not.
  const auto rebuilt = [&](FrameHeader header, std::size_t bytes) {
    const std::size_t n = edgelstm::encode_frame(header, Span<const std::uint8_t>(payload, bytes), Span<std::uint8_t>(frame, edgelstm::kMaxFrameBytes));
    return parse(n);
  };
  FrameHeader bad = sample_header();
  bad.fragment = 3;  // fragment >= fragments
  EXPECT_TRUE(rebuilt(bad, 8) == FrameError::kBadField);
  bad = sample_header();
  bad.fragments = 0;
  EXPECT_TRUE(rebuilt(bad, 8) == FrameError::kBadField);
  bad = sample_header();
  bad.kind = static_cast<FrameKind>(0);
  EXPECT_TRUE(rebuilt(bad, 8) == FrameError::kBadField);
  bad.kind = static_cast<FrameKind>(edgelstm::kLastFrameKind + 1);
  EXPECT_TRUE(rebuilt(bad, 8) == FrameError::kBadField);
  bad = sample_header();
  bad.encoding = static_cast<PayloadEncoding>(9);
  EXPECT_TRUE(rebuilt(bad, 8) == FrameError::kBadField);
  bad = sample_header();
  EXPECT_TRUE(rebuilt(bad, 6) == FrameError::kBadField);  // not whole float32 values
  bad.receiver = bad.sender;
  EXPECT_TRUE(rebuilt(bad, 8) == FrameError::kBadField);
  // The version byte is covered by the CRC; a future version is refused by name.
  const std::size_t n = edgelstm::encode_frame(sample_header(), payload, Span<std::uint8_t>(frame, edgelstm::kMaxFrameBytes));
  frame[2] = edgelstm::kFrameVersion + 1;
  const std::uint32_t crc = edgelstm::crc32_update(0, frame, n - 4);
  for (int k = 0; k < 4; ++k) frame[n - 4 + k] = static_cast<std::uint8_t>(crc >> (8 * k));
  EXPECT_TRUE(parse(n) == FrameError::kBadVersion);
  // A payload longer than a frame can carry is never written.
  std::uint8_t big[edgelstm::kMaxFramePayloadBytes + 4] = {};
  EXPECT_EQ_INT(edgelstm::encode_frame(sample_header(), big, Span<std::uint8_t>(frame, sizeof frame)), 0);
  EXPECT_EQ_INT(edgelstm::encode_frame(sample_header(), payload, Span<std::uint8_t>(frame, 20)), 0);
}

// The frames' table-driven CRC-32 is zlib's, as the bitwise one the model files use.
EDGELSTM_TEST(Frame, TableCrcEqualsTheBitwiseCrc) {
  const std::uint8_t check[] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
  EXPECT_EQ_INT(edgelstm::crc32_update_table(0, check, 9), 0xCBF43926u);
  EXPECT_EQ_INT(edgelstm::crc32_update(0, check, 9), 0xCBF43926u);
  std::uint8_t bytes[300];
  edgelstm::Random random(9);
  for (std::uint8_t& b : bytes) b = static_cast<std::uint8_t>(random.next_u32());
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{250}, std::size_t{300}}) {
    EXPECT_EQ_INT(edgelstm::crc32_update_table(0, bytes, size), edgelstm::crc32_update(0, bytes, size));
    // Continuing a CRC over a second part gives the CRC of the whole.
    EXPECT_EQ_INT(edgelstm::crc32_update_table(edgelstm::crc32_update_table(0, bytes, size / 2), bytes + size / 2, size - size / 2),
                  edgelstm::crc32_update(0, bytes, size));
  }
}

EDGELSTM_TEST(Frame, FramesFitAnEspNowPayloadAndVectorsFragment) {
  EXPECT_EQ_INT(edgelstm::kMaxFrameBytes, 250);
  EXPECT_EQ_INT(edgelstm::values_per_fragment(PayloadEncoding::kFloat32), 54);
  EXPECT_EQ_INT(edgelstm::values_per_fragment(PayloadEncoding::kQ15), 109);
  EXPECT_EQ_INT(edgelstm::fragment_count(PayloadEncoding::kFloat32, 0), 1);
  EXPECT_EQ_INT(edgelstm::fragment_count(PayloadEncoding::kFloat32, 54), 1);
  EXPECT_EQ_INT(edgelstm::fragment_count(PayloadEncoding::kFloat32, 55), 2);
  EXPECT_EQ_INT(edgelstm::fragment_count(PayloadEncoding::kFloat32, 600), 12);  // the paper's 6 x 100 window of h
  EXPECT_EQ_INT(edgelstm::vector_wire_bytes(PayloadEncoding::kFloat32, 100), 400 + 2 * 32);
}

EDGELSTM_TEST(Frame, Q15KeepsActivationsToHalfALeastSignificantBit) {
  const float values[6] = {0.0f, 0.5f, -0.5f, 0.999f, -1.0f, 1.0f};
  std::uint8_t bytes[12];
  edgelstm::encode_values(PayloadEncoding::kQ15, values, 6, bytes);
  float back[6];
  edgelstm::decode_values(PayloadEncoding::kQ15, bytes, 6, back);
  for (int k = 0; k < 5; ++k) EXPECT_NEAR(back[k], values[k], 0.5f / 32768.0f);
  EXPECT_NEAR(back[5], 32767.0f / 32768.0f, 0.0f);  // +1 saturates to the largest Q15 value
  const std::int16_t ints[2] = {-32768, 12345};
  std::uint8_t int_bytes[4];
  edgelstm::encode_values(PayloadEncoding::kInt16, ints, 2, int_bytes);
  std::int16_t ints_back[2];
  edgelstm::decode_values(PayloadEncoding::kInt16, int_bytes, 2, ints_back);
  EXPECT_EQ_INT(ints_back[0], -32768);
  EXPECT_EQ_INT(ints_back[1], 12345);
}

// ---- The reliable link ---------------------------------------------------------------------------

std::uint8_t g_link_storage[4 * edgelstm::kLinkSlotBytes];

struct Sent {
  int count = 0;
  std::uint8_t last[edgelstm::kMaxFrameBytes];
};

EDGELSTM_TEST(ReliableLink, RetransmitsUntilAcknowledgedThenGivesUp) {
  edgelstm::LinkSender sender;
  sender.bind(g_link_storage);
  edgelstm::LinkTimers timers;
  timers.retransmit_ms = 50;
  timers.max_retransmits = 3;
  std::uint8_t frame[40] = {};
  EXPECT_EQ_INT(sender.free_slots(), 4);
  for (int k = 0; k < 3; ++k) {
    frame[0] = static_cast<std::uint8_t>(k);
    EXPECT_EQ_INT(sender.next_sequence(), 1 + k);
    ASSERT_TRUE(sender.store(frame, 1000));
  }
  EXPECT_EQ_INT(sender.free_slots(), 1);
  Sent sent;
  const auto send = [&](Span<const std::uint8_t> bytes) {
    std::memcpy(sent.last, bytes.data(), bytes.size());
    ++sent.count;
  };
  EXPECT_TRUE(sender.poll(1049, timers, send) == edgelstm::LinkState::kOk);
  EXPECT_EQ_INT(sent.count, 0);  // not yet due
  EXPECT_TRUE(sender.poll(1050, timers, send) == edgelstm::LinkState::kOk);
  EXPECT_EQ_INT(sent.count, 3);  // go-back-N: every held frame again, oldest first
  EXPECT_EQ_INT(sent.last[0], 2);
  sender.acknowledge(2, 1060);  // frames 1 and 2 arrived
  EXPECT_EQ_INT(sender.held(), 1);
  sender.acknowledge(1, 1061);  // an old acknowledgement changes nothing
  sender.acknowledge(9, 1061);  // nor one of a frame never sent
  EXPECT_EQ_INT(sender.held(), 1);
  EXPECT_TRUE(sender.poll(1110, timers, send) == edgelstm::LinkState::kOk);
  EXPECT_EQ_INT(sent.count, 4);
  EXPECT_TRUE(sender.poll(1160, timers, send) == edgelstm::LinkState::kOk);
  EXPECT_TRUE(sender.poll(1210, timers, send) == edgelstm::LinkState::kOk);
  EXPECT_EQ_INT(sent.count, 6);
  EXPECT_EQ_INT(sender.retransmitted_frames(), 6);
  // Three rounds brought nothing: the link fails instead of retransmitting forever.
  EXPECT_TRUE(sender.poll(1260, timers, send) == edgelstm::LinkState::kFailed);
  EXPECT_TRUE(sender.poll(5000, timers, send) == edgelstm::LinkState::kFailed);
  EXPECT_EQ_INT(sent.count, 6);
  EXPECT_EQ_INT(sender.free_slots(), 0);
  sender.revive();  // the peer is heard again
  EXPECT_TRUE(sender.poll(5000, timers, send) == edgelstm::LinkState::kOk);
  EXPECT_EQ_INT(sent.count, 7);
  sender.acknowledge(3, 5001);
  EXPECT_EQ_INT(sender.held(), 0);
  // Wrapping around the ring keeps the order.
  for (int k = 0; k < 4; ++k) {
    frame[0] = static_cast<std::uint8_t>(10 + k);
    ASSERT_TRUE(sender.store(frame, 6000));
  }
  EXPECT_TRUE(!sender.store(frame, 6000));  // full
  EXPECT_TRUE(sender.poll(6050, timers, send) == edgelstm::LinkState::kOk);
  EXPECT_EQ_INT(sent.last[0], 13);
  sender.reset();
  EXPECT_EQ_INT(sender.next_sequence(), 1);
  EXPECT_EQ_INT(sender.held(), 0);
}

EDGELSTM_TEST(ReliableLink, ReceiverDeliversInOrderExactlyOnce) {
  edgelstm::LinkReceiver receiver;
  receiver.reset();
  EXPECT_TRUE(receiver.classify(1) == edgelstm::LinkOrder::kNext);
  receiver.accept();
  EXPECT_TRUE(receiver.ack_due());
  EXPECT_EQ_INT(receiver.acknowledged(), 1);
  receiver.ack_sent();
  EXPECT_TRUE(receiver.classify(1) == edgelstm::LinkOrder::kDuplicate);
  EXPECT_TRUE(receiver.ack_due());  // acknowledged again: the first acknowledgement may be lost
  receiver.ack_sent();
  EXPECT_TRUE(receiver.classify(3) == edgelstm::LinkOrder::kAhead);
  EXPECT_TRUE(receiver.ack_due());
  EXPECT_TRUE(receiver.classify(2) == edgelstm::LinkOrder::kNext);
  receiver.accept();
  EXPECT_EQ_INT(receiver.acknowledged(), 2);
}

// ---- Reassembly ------------------------------------------------------------------------------------

std::uint8_t g_inbox_buffer[3 * 2 * 216];

FrameHeader fragment_header(std::uint16_t index, std::uint8_t fragment, std::uint8_t fragments, std::uint16_t bytes) {
  FrameHeader header = sample_header();
  header.index = index;
  header.fragment = fragment;
  header.fragments = fragments;
  header.payload_bytes = bytes;
  return header;
}

EDGELSTM_TEST(VectorInbox, ReassemblesFragmentsAndRefusesWhatDoesNotFit) {
  edgelstm::VectorInbox inbox;
  inbox.bind(g_inbox_buffer);
  std::uint8_t payload[216];
  for (int k = 0; k < 216; ++k) payload[k] = static_cast<std::uint8_t>(k);
  const Span<const std::uint8_t> full(payload, 216), tail(payload, 40);
  // A continuation with nothing open, or of another vector than the open one.
  EXPECT_TRUE(inbox.take(fragment_header(1, 1, 2, 40), tail) == edgelstm::InboxResult::kOutOfOrder);
  EXPECT_TRUE(inbox.take(fragment_header(1, 0, 2, 216), full) == edgelstm::InboxResult::kTaken);
  EXPECT_TRUE(!inbox.front()->complete());
  EXPECT_TRUE(inbox.take(fragment_header(9, 1, 2, 40), tail) == edgelstm::InboxResult::kOutOfOrder);  // another vector
  EXPECT_TRUE(inbox.take(fragment_header(1, 2, 3, 40), tail) == edgelstm::InboxResult::kOutOfOrder);  // other numbering
  EXPECT_TRUE(inbox.take(fragment_header(1, 1, 2, 40), tail) == edgelstm::InboxResult::kTaken);
  ASSERT_TRUE(inbox.front()->complete());
  EXPECT_EQ_INT(inbox.front()->values(), (216 + 40) / 4);
  EXPECT_EQ_INT(inbox.front_bytes()[216], 0);  // the second fragment follows the first
  EXPECT_EQ_INT(inbox.front_bytes()[215], 215);
  // Two more two-fragment vectors: the buffer holds three; a fourth does not fit.
  EXPECT_TRUE(inbox.take(fragment_header(2, 0, 2, 216), full) == edgelstm::InboxResult::kTaken);
  EXPECT_TRUE(inbox.take(fragment_header(2, 1, 2, 40), tail) == edgelstm::InboxResult::kTaken);
  EXPECT_TRUE(inbox.take(fragment_header(3, 0, 2, 216), full) == edgelstm::InboxResult::kTaken);
  EXPECT_TRUE(inbox.take(fragment_header(3, 1, 2, 40), tail) == edgelstm::InboxResult::kTaken);
  EXPECT_TRUE(inbox.can_take(fragment_header(4, 0, 2, 216)) == edgelstm::InboxResult::kNoRoom);
  EXPECT_EQ_INT(inbox.size(), 3);
  // Used vectors free their room; a new vector wraps to the start of the buffer.
  inbox.pop();
  EXPECT_TRUE(inbox.take(fragment_header(4, 0, 2, 216), full) == edgelstm::InboxResult::kTaken);
  EXPECT_TRUE(inbox.take(fragment_header(4, 1, 2, 40), tail) == edgelstm::InboxResult::kTaken);
  EXPECT_EQ_INT(inbox.front()->index, 2);
  inbox.pop();
  inbox.pop();
  EXPECT_EQ_INT(inbox.front()->index, 4);
  EXPECT_EQ_INT(inbox.front_bytes()[216], 0);
  // Vectors of rounds before a reset are dropped.
  FrameHeader later = fragment_header(5, 0, 1, 40);
  later.round = 123460;
  EXPECT_TRUE(inbox.take(later, tail) == edgelstm::InboxResult::kTaken);
  EXPECT_EQ_INT(inbox.drop_before(123460), 1);
  EXPECT_EQ_INT(inbox.front()->index, 5);
}

}  // namespace

namespace {

// A vector whose last fragment never comes (dropped as stale, or its sender gave up mid-vector)
// must not block the link: the next vector's first fragment replaces it, and the caller counts it.
EDGELSTM_TEST(VectorInbox, IncompleteVectorGivesWayToTheNext) {
  edgelstm::VectorInbox inbox;
  inbox.bind(g_inbox_buffer);
  std::uint8_t payload[216] = {};
  payload[0] = 7;
  const Span<const std::uint8_t> full(payload, 216), tail(payload, 40);
  bool discarded = true;
  EXPECT_TRUE(inbox.take(fragment_header(1, 0, 2, 216), full, &discarded) == edgelstm::InboxResult::kTaken);
  EXPECT_TRUE(!discarded);
  FrameHeader next = fragment_header(2, 0, 1, 40);
  next.round = sample_header().round + 1;
  EXPECT_TRUE(inbox.can_take(next) == edgelstm::InboxResult::kTaken);
  EXPECT_TRUE(inbox.take(next, tail, &discarded) == edgelstm::InboxResult::kTaken);
  EXPECT_TRUE(discarded);
  ASSERT_EQ_INT(inbox.size(), 1);
  EXPECT_TRUE(inbox.front()->complete());
  EXPECT_EQ_INT(inbox.front()->index, 2);
  EXPECT_EQ_INT(inbox.front_bytes()[0], 7);
  // The old vector's last fragment, should it still come, continues nothing.
  EXPECT_TRUE(inbox.take(fragment_header(1, 1, 2, 40), tail) == edgelstm::InboxResult::kOutOfOrder);
  // A complete vector is never discarded: a new one queues behind it.
  EXPECT_TRUE(inbox.take(fragment_header(3, 0, 1, 40), tail, &discarded) == edgelstm::InboxResult::kTaken);
  EXPECT_TRUE(!discarded);
  EXPECT_EQ_INT(inbox.size(), 2);
  // discard_incomplete (the session's stale path) drops only an incomplete newest vector.
  EXPECT_TRUE(!inbox.discard_incomplete());
  EXPECT_TRUE(inbox.take(fragment_header(4, 0, 2, 216), full) == edgelstm::InboxResult::kTaken);
  EXPECT_TRUE(inbox.discard_incomplete());
  EXPECT_EQ_INT(inbox.size(), 2);
}

// An inbox sized by inbox_bytes() for a link's largest vector holds kInboxEntries vectors of that
// many values in every encoding (2-byte values reserve 218 bytes a fragment, floats 216).
EDGELSTM_TEST(VectorInbox, HoldsFourVectorsInEveryEncoding) {
  static std::uint8_t buffer[edgelstm::inbox_bytes(54)];
  std::uint8_t payload[218] = {};
  const PayloadEncoding encodings[] = {PayloadEncoding::kFloat32, PayloadEncoding::kQ15, PayloadEncoding::kInt16,
                                       PayloadEncoding::kInt32};
  for (const PayloadEncoding encoding : encodings) {
    edgelstm::VectorInbox inbox;
    inbox.bind(buffer);
    const std::size_t fragments = edgelstm::fragment_count(encoding, 54);
    const std::size_t per = edgelstm::values_per_fragment(encoding) * edgelstm::encoded_value_bytes(encoding);
    for (std::size_t v = 0; v < edgelstm::kInboxEntries; ++v) {
      for (std::size_t f = 0; f < fragments; ++f) {
        FrameHeader header = fragment_header(static_cast<std::uint16_t>(v), static_cast<std::uint8_t>(f),
                                             static_cast<std::uint8_t>(fragments), static_cast<std::uint16_t>(per));
        header.encoding = encoding;
        EXPECT_TRUE(inbox.take(header, Span<const std::uint8_t>(payload, per)) == edgelstm::InboxResult::kTaken);
      }
    }
    EXPECT_EQ_INT(inbox.size(), edgelstm::kInboxEntries);
  }
}

// Q15 of NaN and of infinities is defined (a float -> int conversion of NaN is undefined behaviour).
EDGELSTM_TEST(Frame, Q15OfNaNAndInfinityIsDefined) {
  // Read at run time (a compiler may fold the undefined conversion of a constant NaN to 0).
  static volatile float g_nan = std::numeric_limits<float>::quiet_NaN();
  static volatile float g_inf = std::numeric_limits<float>::infinity();
  const float nan = g_nan, inf = g_inf;
  EXPECT_EQ_INT(edgelstm::q15_from_float(nan), 0);
  EXPECT_EQ_INT(edgelstm::q15_from_float(-nan), 0);
  EXPECT_EQ_INT(edgelstm::q15_from_float(inf), 32767);
  EXPECT_EQ_INT(edgelstm::q15_from_float(-inf), -32768);
  EXPECT_EQ_INT(edgelstm::q15_from_float(3.0e38f), 32767);
  EXPECT_EQ_INT(edgelstm::q15_from_float(-3.0e38f), -32768);
  EXPECT_EQ_INT(edgelstm::q15_from_float(0.5f), 16384);
  EXPECT_EQ_INT(edgelstm::q15_from_float(-0.25f), -8192);
  EXPECT_EQ_INT(edgelstm::q15_from_float(1.5f / 32768.0f), 2);  // half away from zero
  EXPECT_EQ_INT(edgelstm::q15_from_float(-1.5f / 32768.0f), -2);
  const float values[3] = {nan, inf, -inf};
  std::uint8_t bytes[6];
  edgelstm::encode_values(PayloadEncoding::kQ15, values, 3, bytes);
  std::int16_t back[3];
  edgelstm::decode_values(PayloadEncoding::kInt16, bytes, 3, back);
  EXPECT_EQ_INT(back[0], 0);
  EXPECT_EQ_INT(back[1], 32767);
  EXPECT_EQ_INT(back[2], -32768);
}

// Sequence numbers wrap from 2^32 - 1 to 1 (0 marks unsequenced frames): the sender never uses 0,
// the receiver keeps order and finds duplicates across the wrap, acknowledgements free across it.
EDGELSTM_TEST(ReliableLink, SequenceNumbersWrapPastZero) {
  edgelstm::LinkSender sender;
  sender.bind(g_link_storage);
  sender.reset(0xFFFFFFFEu);
  edgelstm::LinkReceiver receiver;
  receiver.reset(0xFFFFFFFEu);
  const std::uint8_t frame[40] = {};
  std::uint32_t numbers[4];
  for (std::uint32_t& number : numbers) {
    number = sender.next_sequence();
    ASSERT_TRUE(sender.store(Span<const std::uint8_t>(frame, sizeof frame), 0));
  }
  EXPECT_EQ_INT(numbers[0], 0xFFFFFFFEu);
  EXPECT_EQ_INT(numbers[1], 0xFFFFFFFFu);
  EXPECT_EQ_INT(numbers[2], 1);
  EXPECT_EQ_INT(numbers[3], 2);
  EXPECT_EQ_INT(sender.next_sequence(), 3);
  EXPECT_TRUE(receiver.classify(numbers[0]) == edgelstm::LinkOrder::kNext);
  receiver.accept();
  EXPECT_TRUE(receiver.classify(numbers[2]) == edgelstm::LinkOrder::kAhead);  // 2^32 - 1 is missing
  EXPECT_TRUE(receiver.classify(numbers[1]) == edgelstm::LinkOrder::kNext);
  receiver.accept();
  EXPECT_EQ_INT(receiver.acknowledged(), 0xFFFFFFFFu);
  EXPECT_TRUE(receiver.classify(numbers[0]) == edgelstm::LinkOrder::kDuplicate);
  EXPECT_TRUE(receiver.classify(numbers[1]) == edgelstm::LinkOrder::kDuplicate);
  EXPECT_TRUE(receiver.classify(0) == edgelstm::LinkOrder::kDuplicate);
  EXPECT_TRUE(receiver.classify(numbers[2]) == edgelstm::LinkOrder::kNext);
  receiver.accept();
  EXPECT_EQ_INT(receiver.acknowledged(), 1);
  EXPECT_TRUE(receiver.classify(numbers[1]) == edgelstm::LinkOrder::kDuplicate);  // behind, across the wrap
  // Acknowledgements: 0 (nothing delivered) and numbers not held free nothing; 1 frees three.
  sender.acknowledge(0, 10);
  sender.acknowledge(5, 10);
  sender.acknowledge(0xFFFFFFFDu, 10);
  EXPECT_EQ_INT(sender.held(), 4);
  sender.acknowledge(receiver.acknowledged(), 10);
  EXPECT_EQ_INT(sender.held(), 1);
  sender.acknowledge(numbers[1], 10);  // an old acknowledgement, late
  EXPECT_EQ_INT(sender.held(), 1);
  sender.acknowledge(numbers[3], 10);
  EXPECT_EQ_INT(sender.held(), 0);
}

}  // namespace
