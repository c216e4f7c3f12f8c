// libFuzzer target: the double-buffered checkpoint (edgelstm/checkpoint.h) over arbitrary flash
// contents, as a meter finds them after a reboot (worn cells, a cut write, a foreign partition),
// and a save into that flash with the power cut at any byte.
//
// Input: [sector | slot sectors | flags | budget lo | budget hi | flash bytes ... | payload ...]
//   sector size 16 << (sector & 3); slot = 1 + (slot sectors & 3) sectors; flags bit 0 / bit 1:
//   give slot 0 / slot 1 the CRC their header and payload need (so the fuzzer reaches valid slots
//   with any sequence numbers and sizes); bit 2: cut the power after `budget` erased or programmed
//   bytes of the save. The flash bytes fill both slots (0xFF past the input, as erased flash);
//   what follows them is the payload to save (cut to the capacity).
//
// Properties: load() finds a checkpoint whose CRC holds, or none; never reads outside the flash or
// writes past its buffer (exact-size heap buffers). A save that completes is what load() gives
// next, with the sequence one after the previous newest. A save cut short leaves the previous
// checkpoint as it was, or (the cut after every byte that matters) the new one complete: never a
// mixture, never a checkpoint lost when one existed.
#include <cstdint>
#include <cstring>
#include <vector>

#include "edgelstm/checkpoint.h"
#include "edgelstm/crc32.h"
#include "edgelstm/model_format.h"  // get_u32, put_u32

namespace {

struct Loaded {
  edgelstm::Status status = edgelstm::Status::kOk;
  std::uint32_t sequence = 0;
  std::vector<std::uint8_t> payload;
};

Loaded load(edgelstm::DoubleBufferedCheckpoint& checkpoint) {
  Loaded loaded;
  std::vector<std::uint8_t> out(checkpoint.capacity());  // exact size: a write past it is a heap overflow
  std::size_t size = 0;
  loaded.status = checkpoint.load(edgelstm::Span<std::uint8_t>(out.data(), out.size()), &size, &loaded.sequence);
  if (loaded.status == edgelstm::Status::kOk) {
    if (size > out.size()) __builtin_trap();
    loaded.payload.assign(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(size));
  } else if (loaded.status != edgelstm::Status::kNotFound) {
    __builtin_trap();  // out holds the largest payload a slot can: nothing else may fail
  }
  return loaded;
}

bool same(const Loaded& a, const Loaded& b) {
  return a.status == b.status && (a.status != edgelstm::Status::kOk || (a.sequence == b.sequence && a.payload == b.payload));
}

// Writes the CRC that makes the slot at `slot` valid, when its size field fits the slot.
void fix_crc(std::uint8_t* slot, std::size_t capacity) {
  const std::uint32_t bytes = edgelstm::detail::get_u32(slot + 8);
  if (bytes > capacity) return;
  edgelstm::detail::put_u32(slot + 12, edgelstm::crc32_update(edgelstm::crc32_update(0, slot, 12), slot + 16, bytes));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 5) return 0;
  const std::size_t sector = std::size_t{16} << (data[0] & 3);
  const std::size_t slot_bytes = sector * (1 + (data[1] & 3));
  const std::uint8_t flags = data[2];
  const std::size_t budget = static_cast<std::size_t>(data[3] | data[4] << 8);
  data += 5;
  size -= 5;

  if (slot_bytes <= edgelstm::kCheckpointHeaderBytes) {  // no room for a payload: bind refuses it
    std::uint8_t none[32];
    edgelstm::RamFlash flash(edgelstm::Span<std::uint8_t>(none, sizeof none), sector);
    edgelstm::DoubleBufferedCheckpoint checkpoint;
    if (checkpoint.bind(flash, 0, slot_bytes) != edgelstm::Status::kInvalidArgument) __builtin_trap();
    return 0;
  }
  std::vector<std::uint8_t> original(2 * slot_bytes, 0xFF);
  const std::size_t flash_bytes = size < original.size() ? size : original.size();
  std::memcpy(original.data(), data, flash_bytes);
  std::vector<std::uint8_t> payload(data + flash_bytes, data + size);
  const std::size_t capacity = slot_bytes - edgelstm::kCheckpointHeaderBytes;
  if (payload.size() > capacity) payload.resize(capacity);
  if (flags & 1) fix_crc(original.data(), capacity);
  if (flags & 2) fix_crc(original.data() + slot_bytes, capacity);

  std::vector<std::uint8_t> memory = original;
  edgelstm::RamFlash flash(edgelstm::Span<std::uint8_t>(memory.data(), memory.size()), sector);
  edgelstm::DoubleBufferedCheckpoint checkpoint;
  if (checkpoint.bind(flash, 0, slot_bytes) != edgelstm::Status::kOk) __builtin_trap();
  if (checkpoint.capacity() != capacity) __builtin_trap();
  const Loaded before = load(checkpoint);
  if (!same(load(checkpoint), before)) __builtin_trap();  // loading changes nothing
  if (memory != original) __builtin_trap();

  Loaded expected;
  expected.sequence = before.status == edgelstm::Status::kOk ? before.sequence + 1 : 1;
  expected.payload = payload;
  if (flags & 4) flash.cut_power_after(budget);
  const edgelstm::Status saved = checkpoint.save(edgelstm::Span<const std::uint8_t>(payload.data(), payload.size()));
  flash.cut_power_after(edgelstm::RamFlash::kNoPowerCut);
  const Loaded after = load(checkpoint);
  if (saved == edgelstm::Status::kOk) {
    if (!same(after, expected)) __builtin_trap();
  } else if (saved == edgelstm::Status::kFlashError && (flags & 4)) {
    if (!same(after, before) && !same(after, expected)) __builtin_trap();
  } else {
    __builtin_trap();  // a save that fits, on flash that works, must not fail
  }
  return 0;
}
