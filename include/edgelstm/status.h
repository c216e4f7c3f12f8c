// Status codes returned by every fallible edgelstm call.
//
// The core never throws and never aborts on bad data: a call that can fail returns a Status, and
// the type is [[nodiscard]] so that ignoring one is a compiler warning (an error under -Werror).
#pragma once

#include <cstdint>

namespace edgelstm {

enum class [[nodiscard]] Status : std::uint8_t {
  kOk = 0,
  kInvalidSpec,       // the LstmSpec breaks a documented limit (see validate_spec)
  kInvalidArgument,   // a span has the wrong length or an option is out of range
  kBufferTooSmall,    // the arena is smaller than inference_bytes()/train_bytes() asked for
  kMisalignedBuffer,  // the arena does not start on a kArenaAlignment boundary
  kNotBound,          // the network has no arena yet, or was bound for inference only
  kNonFinite,         // loss, gradient or updated weight was NaN/Inf: the step was refused
  kLabelOutOfRange,   // a class label is >= the number of outputs
  // Model files (model_format.h):
  kBadMagic,            // not an edgelstm model file
  kUnsupportedVersion,  // a format version this build does not read
  kTruncated,           // shorter than its header says
  kChecksumMismatch,    // CRC-32 differs: the file is corrupt
  kMalformedModel,      // a field is out of range or tensors do not match the spec
  // Flash and checkpoints (checkpoint.h):
  kFlashError,  // a flash erase, program or read did not complete (e.g. the power failed)
  kNotFound,    // no valid checkpoint in flash
  // Model files again (model_format.h), added last to keep the values above stable:
  kNonFiniteModel,  // a parameter or a quantization scale is NaN or Inf (the CRC only says the
                    // bytes arrived, not that they make sense)
};

// A short, stable, human-readable name ("ok", "buffer too small", ...) for logs and CLIs.
constexpr const char* status_name(Status status) {
  switch (status) {
    case Status::kOk: return "ok";
    case Status::kInvalidSpec: return "invalid spec";
    case Status::kInvalidArgument: return "invalid argument";
    case Status::kBufferTooSmall: return "buffer too small";
    case Status::kMisalignedBuffer: return "misaligned buffer";
    case Status::kNotBound: return "network not bound for this use";
    case Status::kNonFinite: return "non-finite loss, gradient or weight: step refused";
    case Status::kLabelOutOfRange: return "class label out of range";
    case Status::kBadMagic: return "not an edgelstm model file (bad magic)";
    case Status::kUnsupportedVersion: return "unsupported model file version";
    case Status::kTruncated: return "model file truncated";
    case Status::kChecksumMismatch: return "model file checksum mismatch (corrupt)";
    case Status::kMalformedModel: return "malformed model file";
    case Status::kFlashError: return "flash operation failed";
    case Status::kNotFound: return "no valid checkpoint";
    case Status::kNonFiniteModel: return "model file holds a NaN or Inf parameter or scale";
  }
  return "unknown status";
}

}  // namespace edgelstm

// Early return of a non-ok status, as in CMSIS-NN and Pigweed.
#define EDGELSTM_TRY(expression)                                   \
  do {                                                             \
    const ::edgelstm::Status edgelstm_try_status_ = (expression);  \
    if (edgelstm_try_status_ != ::edgelstm::Status::kOk) {         \
      return edgelstm_try_status_;                                 \
    }                                                              \
  } while (false)
