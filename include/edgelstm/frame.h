// Frames between the nodes of a partitioned network: compact, little-endian, checked, and small
// enough for one ESP-NOW frame (250 bytes). The format does not know its transport: the same bytes
// go over UDP, MQTT or a UART (where a byte framing such as COBS or HDLC delimits them).
//
//   offset  size  field
//   0       2     magic 'E' 'L'
//   2       1     version (kFrameVersion)
//   3       1     kind (FrameKind)
//   4       4     model id (the model file's CRC-32: nodes of different models refuse each other)
//   8       2     partition id (partition_id(): nodes of different partitions refuse each other)
//   10      1     sender node
//   11      1     receiver node
//   12      4     sequence number on the sender -> receiver link (1, 2, ..., 2^32 - 1, then 1 again:
//                 0 is reserved for frames outside the link's order: acks, heartbeats, hellos; an
//                 ack carries the number it acks, 0 when nothing was delivered yet)
//   16      4     round: the stream step (inference) or window (training) the frame belongs to
//   20      2     index: which vector of the round (frame_index(): layer, time step, part)
//   22      1     payload encoding (PayloadEncoding)
//   23      1     fragment number, 0-based
//   24      1     fragment count, >= 1
//   25      1     flags (kFlagCarryState: a training window starts from the carried state)
//   26      2     payload bytes (<= kMaxFramePayloadBytes, a multiple of the encoding's value size)
//   28      n     payload
//   28 + n  4     CRC-32 of bytes [0, 28 + n)
//
// A vector longer than one frame's payload is sent as numbered fragments of whole values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "crc32.h"
#include "span.h"

namespace edgelstm {

inline constexpr std::uint8_t kFrameVersion = 1;
inline constexpr std::size_t kFrameHeaderBytes = 28;
inline constexpr std::size_t kFrameTrailerBytes = 4;
inline constexpr std::size_t kMaxFrameBytes = 250;  // one ESP-NOW frame's data
inline constexpr std::size_t kMaxFramePayloadBytes = kMaxFrameBytes - kFrameHeaderBytes - kFrameTrailerBytes;
inline constexpr std::uint8_t kFlagCarryState = 1;

enum class FrameKind : std::uint8_t {
  kHello = 1,      // join / rejoin: the sender's incarnation (see NodeSession)
  kHeartbeat = 2,  // liveness when a link is otherwise quiet
  kAck = 3,        // cumulative acknowledgement of the receiver -> sender link
  kInput = 4,      // the application's input (x, or a window of x) from node 0
  kTarget = 5,     // training targets from node 0 to the head node
  kActivation = 6, // h vectors (slices in a split, the top layer's h in a pipeline)
  kGradient = 7,   // dL/dh vectors (partial sums in a split)
  kOutput = 8,     // the head's outputs, returned to node 0
  kReport = 9,     // training: a node's loss (head) and gradient square sum, to node 0
  kScale = 10,     // training: the global norm and clipping scale, from node 0
  kVote = 11,      // training: whether the node's update stays finite, to node 0
  kDecision = 12,  // training: commit or refuse the window, from node 0
  kReset = 13,     // recovery: start again from the zero state at a later round, from node 0
};
inline constexpr std::uint8_t kLastFrameKind = 13;

// Whether frames of this kind travel in the link's sequence (acknowledged and retransmitted).
constexpr bool is_sequenced(FrameKind kind) {
  return kind != FrameKind::kHello && kind != FrameKind::kHeartbeat && kind != FrameKind::kAck;
}

enum class PayloadEncoding : std::uint8_t {
  kBytes = 0,    // control payloads, laid out per kind
  kFloat32 = 1,  // IEEE-754 binary32
  kQ15 = 2,      // int16 q = round(v * 32768), saturated: float activations in (-1, 1), half the bytes
  kInt16 = 3,    // the integer path's int16 values (inputs, Q15 h)
  kInt32 = 4,    // the integer path's Q16 outputs
};
inline constexpr std::uint8_t kLastPayloadEncoding = 4;

constexpr std::size_t encoded_value_bytes(PayloadEncoding encoding) {
  return encoding == PayloadEncoding::kFloat32 || encoding == PayloadEncoding::kInt32 ? 4
         : encoding == PayloadEncoding::kBytes                                       ? 1
                                                                                     : 2;
}
// Values of a vector one frame carries, and the fragments a vector of `count` values needs.
constexpr std::size_t values_per_fragment(PayloadEncoding encoding) {
  return kMaxFramePayloadBytes / encoded_value_bytes(encoding);
}
constexpr std::size_t fragment_count(PayloadEncoding encoding, std::size_t count) {
  const std::size_t per = values_per_fragment(encoding);
  return count == 0 ? 1 : (count + per - 1) / per;
}
// Bytes on the wire of a vector of `count` values: payloads plus a header and CRC per fragment.
constexpr std::size_t vector_wire_bytes(PayloadEncoding encoding, std::size_t count) {
  return count * encoded_value_bytes(encoding) + fragment_count(encoding, count) * (kFrameHeaderBytes + kFrameTrailerBytes);
}

// index of a vector inside a round: part (what it is) in the top 4 bits, layer in the next 2, time
// step in the low 10 (windows are at most 1023 steps for frames; the spec allows more, see
// node_session.h).
constexpr std::uint16_t frame_index(std::size_t part, std::size_t layer, std::size_t step) {
  return static_cast<std::uint16_t>((part & 0xF) << 12 | (layer & 0x3) << 10 | (step & 0x3FF));
}

struct FrameHeader {
  FrameKind kind = FrameKind::kHeartbeat;
  std::uint32_t model_id = 0;
  std::uint16_t partition_id = 0;
  std::uint8_t sender = 0;
  std::uint8_t receiver = 0;
  std::uint32_t sequence = 0;
  std::uint32_t round = 0;
  std::uint16_t index = 0;
  PayloadEncoding encoding = PayloadEncoding::kBytes;
  std::uint8_t fragment = 0;
  std::uint8_t fragments = 1;
  std::uint8_t flags = 0;
  std::uint16_t payload_bytes = 0;
};

// Why a frame was refused. Every refusal is counted by the session; none changes its state.
enum class [[nodiscard]] FrameError : std::uint8_t {
  kOk = 0,
  kTruncated,    // shorter than its header and trailer, or than its payload length says
  kBadMagic,     // not an edgelstm frame
  kBadVersion,   // a version this build does not speak
  kBadLength,    // longer than its payload length says, or a payload length beyond the limit
  kBadChecksum,  // CRC-32 mismatch: corrupted on the way
  kBadField,     // unknown kind or encoding, fragment numbering, payload not whole values, sender == receiver
};

namespace detail {
inline void frame_put16(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
}
inline void frame_put32(std::uint8_t* p, std::uint32_t v) {
  for (int k = 0; k < 4; ++k) p[k] = static_cast<std::uint8_t>(v >> (8 * k));
}
inline std::uint16_t frame_get16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
inline std::uint32_t frame_get32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}
}  // namespace detail

// Writes header (its payload_bytes is taken from payload) and payload as one frame into `out`.
// Returns the frame's size, or 0 when the payload is too long or out is too small.
inline std::size_t encode_frame(const FrameHeader& header, Span<const std::uint8_t> payload, Span<std::uint8_t> out) {
  const std::size_t total = kFrameHeaderBytes + payload.size() + kFrameTrailerBytes;
  if (payload.size() > kMaxFramePayloadBytes || out.size() < total) return 0;
  std::uint8_t* p = out.data();
  p[0] = 'E';
  p[1] = 'L';
  p[2] = kFrameVersion;
  p[3] = static_cast<std::uint8_t>(header.kind);
  detail::frame_put32(p + 4, header.model_id);
  detail::frame_put16(p + 8, header.partition_id);
  p[10] = header.sender;
  p[11] = header.receiver;
  detail::frame_put32(p + 12, header.sequence);
  detail::frame_put32(p + 16, header.round);
  detail::frame_put16(p + 20, header.index);
  p[22] = static_cast<std::uint8_t>(header.encoding);
  p[23] = header.fragment;
  p[24] = header.fragments;
  p[25] = header.flags;
  detail::frame_put16(p + 26, static_cast<std::uint32_t>(payload.size()));
  if (!payload.empty()) std::memcpy(p + kFrameHeaderBytes, payload.data(), payload.size());
  detail::frame_put32(p + kFrameHeaderBytes + payload.size(), crc32_update_table(0, p, kFrameHeaderBytes + payload.size()));
  return total;
}

// Checks one frame and, if it is whole and consistent, fills *header and *payload (a view into
// `bytes`). On any error nothing is written.
inline FrameError parse_frame(Span<const std::uint8_t> bytes, FrameHeader* header, Span<const std::uint8_t>* payload) {
  const std::uint8_t* p = bytes.data();
  if (bytes.size() >= 2 && (p[0] != 'E' || p[1] != 'L')) return FrameError::kBadMagic;
  if (bytes.size() < kFrameHeaderBytes + kFrameTrailerBytes) return FrameError::kTruncated;
  if (p[2] != kFrameVersion) return FrameError::kBadVersion;
  const std::size_t payload_bytes = detail::frame_get16(p + 26);
  if (payload_bytes > kMaxFramePayloadBytes) return FrameError::kBadLength;
  const std::size_t total = kFrameHeaderBytes + payload_bytes + kFrameTrailerBytes;
  if (bytes.size() < total) return FrameError::kTruncated;
  if (bytes.size() > total) return FrameError::kBadLength;
  if (crc32_update_table(0, p, total - kFrameTrailerBytes) != detail::frame_get32(p + total - kFrameTrailerBytes)) {
    return FrameError::kBadChecksum;
  }
  const std::uint8_t kind = p[3], encoding = p[22], fragment = p[23], fragments = p[24];
  if (kind == 0 || kind > kLastFrameKind || encoding > kLastPayloadEncoding || fragments == 0 || fragment >= fragments ||
      p[10] == p[11] || payload_bytes % encoded_value_bytes(static_cast<PayloadEncoding>(encoding)) != 0) {
    return FrameError::kBadField;
  }
  header->kind = static_cast<FrameKind>(kind);
  header->model_id = detail::frame_get32(p + 4);
  header->partition_id = detail::frame_get16(p + 8);
  header->sender = p[10];
  header->receiver = p[11];
  header->sequence = detail::frame_get32(p + 12);
  header->round = detail::frame_get32(p + 16);
  header->index = detail::frame_get16(p + 20);
  header->encoding = static_cast<PayloadEncoding>(encoding);
  header->fragment = fragment;
  header->fragments = fragments;
  header->flags = p[25];
  header->payload_bytes = static_cast<std::uint16_t>(payload_bytes);
  *payload = Span<const std::uint8_t>(p + kFrameHeaderBytes, payload_bytes);
  return FrameError::kOk;
}

constexpr const char* frame_error_name(FrameError error) {
  switch (error) {
    case FrameError::kOk: return "ok";
    case FrameError::kTruncated: return "truncated";
    case FrameError::kBadMagic: return "bad magic";
    case FrameError::kBadVersion: return "unsupported version";
    case FrameError::kBadLength: return "bad length";
    case FrameError::kBadChecksum: return "checksum mismatch";
    case FrameError::kBadField: return "bad field";
  }
  return "unknown";
}

// ---- Payload values ----------------------------------------------------------------------------

// Q15 of v: round(v * 32768), half away from zero, saturated to [-32768, 32767]; +-inf saturate
// and NaN encodes as 0 (a float -> int conversion of NaN, or of a value outside the int range, is
// undefined behaviour in C++). A NaN activation could only come from non-finite parameters, which
// loading and the refusal of a non-finite training update keep out of a node.
constexpr std::int16_t q15_from_float(float value) {
  if (!(value == value)) return 0;  // NaN
  const float v = value * 32768.0f;
  if (v >= 32767.0f) return 32767;
  if (v <= -32768.0f) return -32768;
  // Round half away from zero without <cmath> (v is within int16 range here).
  const auto q = static_cast<std::int32_t>(v < 0 ? v - 0.5f : v + 0.5f);
  return static_cast<std::int16_t>(q < -32768 ? -32768 : q > 32767 ? 32767 : q);
}

// Encodes count values (float for kFloat32/kQ15, int16 for kInt16, int32 for kInt32) as the
// little-endian payload bytes of `encoding`.
inline void encode_values(PayloadEncoding encoding, const void* values, std::size_t count, std::uint8_t* out) {
  for (std::size_t k = 0; k < count; ++k) {
    switch (encoding) {
      case PayloadEncoding::kFloat32: {
        std::uint32_t bits;
        std::memcpy(&bits, static_cast<const float*>(values) + k, 4);
        detail::frame_put32(out + 4 * k, bits);
        break;
      }
      case PayloadEncoding::kQ15:
        detail::frame_put16(out + 2 * k, static_cast<std::uint16_t>(q15_from_float(static_cast<const float*>(values)[k])));
        break;
      case PayloadEncoding::kInt16:
        detail::frame_put16(out + 2 * k, static_cast<std::uint16_t>(static_cast<const std::int16_t*>(values)[k]));
        break;
      case PayloadEncoding::kInt32:
        detail::frame_put32(out + 4 * k, static_cast<std::uint32_t>(static_cast<const std::int32_t*>(values)[k]));
        break;
      case PayloadEncoding::kBytes:
        out[k] = static_cast<const std::uint8_t*>(values)[k];
        break;
    }
  }
}

// The inverse: count values of `encoding` from `in` into `values` (float for kFloat32/kQ15, int16
// for kInt16, int32 for kInt32, bytes for kBytes).
inline void decode_values(PayloadEncoding encoding, const std::uint8_t* in, std::size_t count, void* values) {
  for (std::size_t k = 0; k < count; ++k) {
    switch (encoding) {
      case PayloadEncoding::kFloat32: {
        const std::uint32_t bits = detail::frame_get32(in + 4 * k);
        std::memcpy(static_cast<float*>(values) + k, &bits, 4);
        break;
      }
      case PayloadEncoding::kQ15:
        static_cast<float*>(values)[k] = static_cast<float>(static_cast<std::int16_t>(detail::frame_get16(in + 2 * k))) / 32768.0f;
        break;
      case PayloadEncoding::kInt16:
        static_cast<std::int16_t*>(values)[k] = static_cast<std::int16_t>(detail::frame_get16(in + 2 * k));
        break;
      case PayloadEncoding::kInt32:
        static_cast<std::int32_t*>(values)[k] = static_cast<std::int32_t>(detail::frame_get32(in + 4 * k));
        break;
      case PayloadEncoding::kBytes:
        static_cast<std::uint8_t*>(values)[k] = in[k];
        break;
    }
  }
}

}  // namespace edgelstm
