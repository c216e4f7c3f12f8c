// The edgelstm model file: one versioned, little-endian, self-describing binary format, written by
// the host tools and read in place on the device (from flash, as a byte span) with no heap.
//
//   offset  size  field
//   0       8     magic "ELSTMMDL"
//   8       2     format version (kModelFormatVersion)
//   10      2     header bytes (64)
//   12      4     file bytes
//   16      4     CRC-32 of bytes [20, file bytes)
//   20      18    spec: u16 input, u8 layers, u8 task, u16 hidden[4], u16 outputs, u16 window,
//                 u8 output mode, u8 weight format (0 float32, 1 int16, 2 int8, 3 int4)
//   38      2     0
//   40      4     tensor count
//   44      20    0
//   64      48 n  tensor table: name[32] (NUL-padded), u8 type (0 f32, 1 text, 2 i16, 3 i8, 4 i4,
//                 5 i32), 3 x u8 0, u32 element count, u32 data offset, u32 columns (quantized
//                 tensors; 0 otherwise)
//   ...           data, starting on a 16-byte boundary; float32 and int32 tensors 4-byte aligned
//
// The network's parameters come first. Float files: one tensor per PyTorch state_dict entry
// (lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0, ..., head.weight,
// head.bias), contiguous and in that order, so a reader can bind them in place
// (Network::bind_inference_in_place). Quantized files (version 2): per layer lstm.weight_ih_l<l>
// and lstm.weight_hh_l<l> in the file's weight format and lstm.bias_l<l> = bias_ih + bias_hh as
// int16 [4H x 1] (quantize_fused_bias), then head.weight quantized and head.bias float32; each
// quantized tensor's scales follow the parameters as "<name>.scale" (float32: one per tensor or
// one per row). Other tensors (normalization, feature settings) follow. Float files are written as
// version 1 (the layout version 1 defined); quantized files as version 2 (version 1's quantized
// layout, with two float biases, is refused: quantize the float model again).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "crc32.h"
#include "quantize.h"
#include "span.h"
#include "spec.h"
#include "status.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "edgelstm model files are little-endian and read in place: big-endian targets are not supported"
#endif

namespace edgelstm {

inline constexpr std::uint16_t kModelFormatVersion = 2;
inline constexpr std::size_t kModelHeaderBytes = 64;
inline constexpr std::size_t kModelTableEntryBytes = 48;
inline constexpr std::size_t kModelTensorNameBytes = 32;
inline constexpr std::size_t kMaxModelTensors = 64;

enum class TensorType : std::uint8_t {
  kFloat32 = 0,
  kText = 1,  // UTF-8 bytes, no terminator (settings such as the feature list)
  kInt16 = 2,
  kInt8 = 3,
  kInt4 = 4,  // two per byte, low nibble first, rows padded to a byte
  kInt32 = 5,  // the full-integer path's requantization tables (integer_network.h)
};

constexpr TensorType tensor_type_of(WeightFormat format) {
  return format == WeightFormat::kInt16 ? TensorType::kInt16
         : format == WeightFormat::kInt8 ? TensorType::kInt8
         : format == WeightFormat::kInt4 ? TensorType::kInt4
                                         : TensorType::kFloat32;
}

// One tensor to write, or one found by read_model.
struct ModelTensor {
  const char* name = nullptr;  // at most 31 bytes
  TensorType type = TensorType::kFloat32;
  const void* data = nullptr;
  std::uint32_t count = 0;  // elements (bytes for text)
  std::uint32_t cols = 0;   // quantized tensors: values per row (count is rows * cols)
};

namespace detail {

inline void put_u16(std::uint8_t* p, std::uint16_t v) { p[0] = v & 0xFF; p[1] = v >> 8; }
inline void put_u32(std::uint8_t* p, std::uint32_t v) {
  for (int k = 0; k < 4; ++k) p[k] = static_cast<std::uint8_t>(v >> (8 * k));
}
inline std::uint16_t get_u16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
inline std::uint32_t get_u32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}
constexpr WeightFormat weight_format_of(TensorType type) {
  return type == TensorType::kInt16 ? WeightFormat::kInt16
         : type == TensorType::kInt8 ? WeightFormat::kInt8
         : type == TensorType::kInt4 ? WeightFormat::kInt4
                                     : WeightFormat::kFloat32;
}
constexpr bool is_quantized(TensorType type) {
  return type == TensorType::kInt16 || type == TensorType::kInt8 || type == TensorType::kInt4;
}
// Bytes of a tensor; quantized tensors need cols > 0 dividing count (checked by the callers).
constexpr std::size_t tensor_bytes(TensorType type, std::size_t count, std::size_t cols = 0) {
  return type == TensorType::kFloat32 || type == TensorType::kInt32 ? count * 4
         : is_quantized(type)         ? (cols == 0 ? 0 : count / cols * quantized_row_bytes(weight_format_of(type), cols))
                                      : count;
}
constexpr std::size_t align4(std::size_t n) { return (n + 3) / 4 * 4; }
// Length of a table entry's name (NUL-terminated within its kModelTensorNameBytes).
inline std::size_t name_length(const std::uint8_t* entry) {
  std::size_t n = 0;
  while (n < kModelTensorNameBytes && entry[n] != 0) ++n;
  return n;
}
// Whether `count` float32 values at p (any alignment) are all finite, by their bit patterns: no
// floating-point instruction, so the full-integer firmware can run it.
inline bool all_finite_float_bits(const std::uint8_t* p, std::size_t count) {
  for (std::size_t k = 0; k < count; ++k) {
    if ((get_u32(p + 4 * k) & 0x7F800000u) == 0x7F800000u) return false;
  }
  return true;
}

// The parameter tensors of a spec's file in the given weight format, in file order: name, type,
// element count, and for quantized tensors their column count (0 otherwise).
struct ParameterTensor {
  char name[kModelTensorNameBytes];
  TensorType type;
  std::uint32_t count;
  std::uint32_t cols;
};
inline std::size_t parameter_tensors(const LstmSpec& spec, WeightFormat format, ParameterTensor* out) {
  std::size_t n = 0;
  const bool quantized = format != WeightFormat::kFloat32;
  const auto add = [&](const char* kind, std::size_t layer, TensorType type, std::size_t count, std::size_t cols) {
    char* name = out[n].name;
    std::memset(name, 0, kModelTensorNameBytes);
    const std::size_t length = std::strlen(kind);
    std::memcpy(name, kind, length);
    if (layer < kMaxLayers) {
      name[length] = '_';
      name[length + 1] = 'l';
      name[length + 2] = static_cast<char>('0' + layer);
    }
    out[n].type = type;
    out[n].cols = static_cast<std::uint32_t>(cols);
    out[n++].count = static_cast<std::uint32_t>(count);
  };
  const TensorType weights = tensor_type_of(format);
  for (std::size_t layer = 0; layer < spec.num_layers; ++layer) {
    const std::size_t h = spec.hidden(layer), in = spec.layer_input(layer);
    add("lstm.weight_ih", layer, weights, 4 * h * in, quantized ? in : 0);
    add("lstm.weight_hh", layer, weights, 4 * h * h, quantized ? h : 0);
    if (quantized) {
      add("lstm.bias", layer, TensorType::kInt16, 4 * h, 1);
    } else {
      add("lstm.bias_ih", layer, TensorType::kFloat32, 4 * h, 0);
      add("lstm.bias_hh", layer, TensorType::kFloat32, 4 * h, 0);
    }
  }
  add("head.weight", kMaxLayers, weights, spec.output_size * spec.top_hidden(), quantized ? spec.top_hidden() : 0);
  add("head.bias", kMaxLayers, TensorType::kFloat32, spec.output_size, 0);
  return n;
}

}  // namespace detail

// Bytes of a model file holding `tensors` (all of them: parameters first, then the others).
inline std::size_t model_file_bytes(Span<const ModelTensor> tensors) {
  std::size_t bytes = (kModelHeaderBytes + tensors.size() * kModelTableEntryBytes + 15) / 16 * 16;
  for (const ModelTensor& t : tensors) bytes = detail::align4(bytes) + detail::tensor_bytes(t.type, t.count, t.cols);
  return detail::align4(bytes);
}

// Bytes of a float32 model file for `spec` with these extra tensors.
inline std::size_t model_file_bytes(const LstmSpec& spec, Span<const ModelTensor> extras) {
  const std::size_t tensors = 4 * spec.num_layers + 2 + extras.size();
  std::size_t bytes = kModelHeaderBytes + tensors * kModelTableEntryBytes;
  bytes = (bytes + 15) / 16 * 16 + parameter_count(spec) * 4;
  for (const ModelTensor& t : extras) bytes = detail::align4(bytes) + detail::tensor_bytes(t.type, t.count, t.cols);
  return detail::align4(bytes);
}

// Writes a model file of `tensors` into `out` (which must hold model_file_bytes(tensors)); *written
// gets its size. The first tensors must be detail::parameter_tensors(spec, format) in file order,
// with those types, counts and columns (the quantized ones' scales go among the others).
inline Status write_model_tensors(const LstmSpec& spec, WeightFormat format, Span<const ModelTensor> tensors,
                                  Span<std::uint8_t> out, std::size_t* written) {
  EDGELSTM_TRY(validate_spec(spec));
  detail::ParameterTensor names[4 * kMaxLayers + 2];
  const std::size_t parameter_tensors = detail::parameter_tensors(spec, format, names);
  if (tensors.size() < parameter_tensors || tensors.size() > kMaxModelTensors) return Status::kInvalidArgument;
  for (std::size_t k = 0; k < tensors.size(); ++k) {
    const ModelTensor& t = tensors[k];
    if (t.name == nullptr || std::strlen(t.name) == 0 || std::strlen(t.name) >= kModelTensorNameBytes ||
        (t.data == nullptr && t.count != 0) || (detail::is_quantized(t.type) && (t.cols == 0 || t.count % t.cols != 0))) {
      return Status::kInvalidArgument;
    }
    if (k < parameter_tensors) {
      if (std::strcmp(t.name, names[k].name) != 0 || t.type != names[k].type || t.count != names[k].count ||
          (detail::is_quantized(t.type) && t.cols != names[k].cols)) {
        return Status::kInvalidArgument;
      }
    }
  }
  const std::size_t total = model_file_bytes(tensors);
  if (out.size() < total) return Status::kBufferTooSmall;
  std::uint8_t* p = out.data();
  std::memset(p, 0, total);
  std::memcpy(p, "ELSTMMDL", 8);
  // Float files keep version 1 (their layout did not change), so readers of version 1 still read them.
  detail::put_u16(p + 8, format == WeightFormat::kFloat32 ? 1 : kModelFormatVersion);
  detail::put_u16(p + 10, kModelHeaderBytes);
  detail::put_u32(p + 12, static_cast<std::uint32_t>(total));
  detail::put_u16(p + 20, spec.input_size);
  p[22] = spec.num_layers;
  p[23] = static_cast<std::uint8_t>(spec.task);
  for (std::size_t k = 0; k < kMaxLayers; ++k) detail::put_u16(p + 24 + 2 * k, spec.hidden_size[k]);
  detail::put_u16(p + 32, spec.output_size);
  detail::put_u16(p + 34, spec.window);
  p[36] = static_cast<std::uint8_t>(spec.output_mode);
  p[37] = static_cast<std::uint8_t>(format);
  detail::put_u32(p + 40, static_cast<std::uint32_t>(tensors.size()));
  std::size_t data = (kModelHeaderBytes + tensors.size() * kModelTableEntryBytes + 15) / 16 * 16;
  std::uint8_t* entry = p + kModelHeaderBytes;
  for (const ModelTensor& t : tensors) {
    data = detail::align4(data);
    const std::size_t size = detail::tensor_bytes(t.type, t.count, t.cols);
    std::memcpy(entry, t.name, std::strlen(t.name));
    entry[32] = static_cast<std::uint8_t>(t.type);
    detail::put_u32(entry + 36, t.count);
    detail::put_u32(entry + 40, static_cast<std::uint32_t>(data));
    detail::put_u32(entry + 44, detail::is_quantized(t.type) ? t.cols : 0);
    if (size != 0) std::memcpy(p + data, t.data, size);
    data += size;
    entry += kModelTableEntryBytes;
  }
  detail::put_u32(p + 16, crc32_update(0, p + 20, total - 20));
  *written = total;
  return Status::kOk;
}

// Writes a float32 model file (parameters in Network::parameters() order, then `extras`) into
// `out`, which must hold model_file_bytes(spec, extras); *written gets its size.
inline Status write_model(const LstmSpec& spec, Span<const float> parameters,
                          Span<const ModelTensor> extras, Span<std::uint8_t> out, std::size_t* written) {
  EDGELSTM_TRY(validate_spec(spec));
  if (parameters.size() != parameter_count(spec)) return Status::kInvalidArgument;
  detail::ParameterTensor names[4 * kMaxLayers + 2];
  const std::size_t parameter_tensors = detail::parameter_tensors(spec, WeightFormat::kFloat32, names);
  if (parameter_tensors + extras.size() > kMaxModelTensors) return Status::kInvalidArgument;
  ModelTensor tensors[kMaxModelTensors];
  const float* source = parameters.data();
  for (std::size_t k = 0; k < parameter_tensors; ++k) {
    tensors[k].name = names[k].name;
    tensors[k].data = source;
    tensors[k].count = names[k].count;
    source += names[k].count;
  }
  for (std::size_t k = 0; k < extras.size(); ++k) tensors[parameter_tensors + k] = extras[k];
  return write_model_tensors(spec, WeightFormat::kFloat32,
                             Span<const ModelTensor>(tensors, parameter_tensors + extras.size()), out, written);
}

// A parsed model file. Pointers refer into the byte span given to read_model (no copies).
class ModelView {
 public:
  const LstmSpec& spec() const { return spec_; }
  // kFloat32, or the integer format of a quantized file's weight matrices.
  WeightFormat weight_format() const { return format_; }
  // Float files: all parameters, contiguous, in Network::parameters() order, to bind in place or
  // copy. Quantized files: empty (see quantized_matrix and HybridNetwork::bind).
  Span<const float> parameters() const { return parameters_; }
  // The tensor called `name`, if present (kMalformedModel with no change to *out otherwise).
  Status tensor(const char* name, ModelTensor* out) const {
    const std::uint8_t* entry = bytes_ + kModelHeaderBytes;
    for (std::size_t k = 0; k < tensor_count_; ++k, entry += kModelTableEntryBytes) {
      if (std::strncmp(reinterpret_cast<const char*>(entry), name, kModelTensorNameBytes) == 0) {
        out->name = reinterpret_cast<const char*>(entry);
        out->type = static_cast<TensorType>(entry[32]);
        out->count = detail::get_u32(entry + 36);
        out->data = bytes_ + detail::get_u32(entry + 40);
        out->cols = detail::get_u32(entry + 44);
        return Status::kOk;
      }
    }
    return Status::kMalformedModel;
  }
  // A quantized weight matrix with its scales ("<name>.scale": 1 value per tensor or 1 per row).
  Status quantized_matrix(const char* name, QuantizedMatrix* out) const {
    ModelTensor values, scales;
    EDGELSTM_TRY(tensor(name, &values));
    char scale_name[kModelTensorNameBytes + 8] = {};
    const std::size_t length = std::strlen(name);
    if (length + 6 >= kModelTensorNameBytes) return Status::kMalformedModel;
    std::memcpy(scale_name, name, length);
    std::memcpy(scale_name + length, ".scale", 6);
    EDGELSTM_TRY(tensor(scale_name, &scales));
    if (!detail::is_quantized(values.type) || scales.type != TensorType::kFloat32) return Status::kMalformedModel;
    const std::size_t rows = values.count / values.cols;
    if (scales.count != 1 && scales.count != rows) return Status::kMalformedModel;
    out->format = detail::weight_format_of(values.type);
    out->granularity = scales.count == rows && rows != 1 ? ScaleGranularity::kRow : ScaleGranularity::kTensor;
    out->data = static_cast<const std::uint8_t*>(values.data);
    out->scales = static_cast<const float*>(scales.data);
    out->rows = rows;
    out->cols = values.cols;
    return Status::kOk;
  }
  std::size_t tensor_count() const { return tensor_count_; }

 private:
  friend Status read_model(Span<const std::uint8_t> bytes, ModelView* view);
  LstmSpec spec_{};
  WeightFormat format_ = WeightFormat::kFloat32;
  Span<const float> parameters_;
  const std::uint8_t* bytes_ = nullptr;
  std::size_t tensor_count_ = 0;
};

// Validates a whole model file and makes *view refer into it: magic, version, sizes, CRC, spec,
// every table entry (name terminated, type known, data inside the file, float and int32 data aligned,
// quantized shapes consistent) and the parameter tensors (names, types, sizes, and for float files
// contiguity) against the spec; kNonFiniteModel when a float parameter or a quantized tensor's
// scale ("<name>.scale") is NaN or Inf, even with a valid CRC. The span must start on a 4-byte
// boundary (float data is read in place). On any error *view is unchanged.
inline Status read_model(Span<const std::uint8_t> bytes, ModelView* view) {
  const std::uint8_t* p = bytes.data();
  if (bytes.size() < 8 || std::memcmp(p, "ELSTMMDL", 8) != 0) return Status::kBadMagic;
  if (bytes.size() < kModelHeaderBytes) return Status::kTruncated;
  const std::uint16_t version = detail::get_u16(p + 8);
  if (version != kModelFormatVersion && version != 1) return Status::kUnsupportedVersion;
  if (reinterpret_cast<std::uintptr_t>(p) % 4 != 0) return Status::kMisalignedBuffer;
  const std::size_t total = detail::get_u32(p + 12);
  if (detail::get_u16(p + 10) != kModelHeaderBytes || total < kModelHeaderBytes) return Status::kMalformedModel;
  if (bytes.size() < total) return Status::kTruncated;
  if (crc32_update(0, p + 20, total - 20) != detail::get_u32(p + 16)) return Status::kChecksumMismatch;
  LstmSpec spec;
  spec.input_size = detail::get_u16(p + 20);
  spec.num_layers = p[22];
  if (p[23] > 1 || p[36] > 1 || p[37] > 3) return Status::kMalformedModel;
  spec.task = static_cast<Task>(p[23]);
  for (std::size_t k = 0; k < kMaxLayers; ++k) spec.hidden_size[k] = detail::get_u16(p + 24 + 2 * k);
  spec.output_size = detail::get_u16(p + 32);
  spec.window = detail::get_u16(p + 34);
  spec.output_mode = static_cast<OutputMode>(p[36]);
  const auto format = static_cast<WeightFormat>(p[37]);
  if (version == 1 && format != WeightFormat::kFloat32) return Status::kUnsupportedVersion;  // re-quantize it
  if (validate_spec(spec) != Status::kOk) return Status::kMalformedModel;
  const std::size_t tensors = detail::get_u32(p + 40);
  detail::ParameterTensor names[4 * kMaxLayers + 2];
  const std::size_t parameter_tensors = detail::parameter_tensors(spec, format, names);
  if (tensors < parameter_tensors || tensors > kMaxModelTensors ||
      kModelHeaderBytes + tensors * kModelTableEntryBytes > total) {
    return Status::kMalformedModel;
  }
  const std::uint8_t* entry = p + kModelHeaderBytes;
  std::size_t expected_offset = 0;
  for (std::size_t k = 0; k < tensors; ++k, entry += kModelTableEntryBytes) {
    if (entry[kModelTensorNameBytes - 1] != 0 || entry[0] == 0 || entry[32] > 5) return Status::kMalformedModel;
    const TensorType type = static_cast<TensorType>(entry[32]);
    const std::size_t count = detail::get_u32(entry + 36), offset = detail::get_u32(entry + 40);
    const std::size_t cols = detail::get_u32(entry + 44);
    if (detail::is_quantized(type) ? (cols == 0 || count % cols != 0) : cols != 0) return Status::kMalformedModel;
    const std::size_t size = detail::tensor_bytes(type, count, cols);
    const bool word_aligned = type == TensorType::kFloat32 || type == TensorType::kInt32;
    if (offset > total || size > total - offset || (word_aligned && offset % 4 != 0)) {
      return Status::kMalformedModel;
    }
    if (k < parameter_tensors) {
      if (std::memcmp(entry, names[k].name, kModelTensorNameBytes) != 0 || type != names[k].type || count != names[k].count ||
          (detail::is_quantized(type) && cols != names[k].cols) ||
          (format == WeightFormat::kFloat32 && k > 0 && offset != expected_offset)) {
        return Status::kMalformedModel;
      }
      expected_offset = offset + size;
    }
  }
  // What the network computes with must be finite: the float parameters and every scale.
  entry = p + kModelHeaderBytes;
  for (std::size_t k = 0; k < tensors; ++k, entry += kModelTableEntryBytes) {
    const std::size_t name_length = detail::name_length(entry);
    const bool scale = name_length > 6 && std::memcmp(entry + name_length - 6, ".scale", 6) == 0;
    if (static_cast<TensorType>(entry[32]) == TensorType::kFloat32 && (k < parameter_tensors || scale) &&
        !detail::all_finite_float_bits(p + detail::get_u32(entry + 40), detail::get_u32(entry + 36))) {
      return Status::kNonFiniteModel;
    }
  }
  view->spec_ = spec;
  view->format_ = format;
  view->bytes_ = p;
  view->tensor_count_ = tensors;
  view->parameters_ =
      format == WeightFormat::kFloat32
          ? Span<const float>(reinterpret_cast<const float*>(p + detail::get_u32(p + kModelHeaderBytes + 40)),
                              parameter_count(spec))
          : Span<const float>();
  return Status::kOk;
}

}  // namespace edgelstm
