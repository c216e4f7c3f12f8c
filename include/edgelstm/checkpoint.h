// A checkpoint in flash that a reboot at any moment cannot destroy: two slots written in turn
// (double-buffered), each a header and a payload protected by a CRC-32.
//
// Flash here is NOR flash as on the ESP32 and most Cortex-M parts: erasing sets a whole sector to
// 0xFF, programming can only clear bits. save() writes the slot that does not hold the newest valid
// checkpoint, in the order erase - payload - header, and the header (magic, sequence number, payload
// bytes, CRC-32 over all of them) goes last: until its last byte is programmed the slot does not
// read as valid, so a power cut anywhere during save() leaves the previous checkpoint as the newest
// valid one. load() takes the valid slot with the higher sequence number.
//
//   slot:  [ header: magic u32 | sequence u32 | payload bytes u32 | CRC-32 u32 ][ payload ... ]
//
// FlashMemory is what the checkpoint needs of a flash driver (ESP-IDF's esp_partition_*, a HAL);
// RamFlash emulates one in a caller-owned buffer and can cut the power after a given number of
// programmed or erased bytes, to test exactly this. Nothing allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "crc32.h"
#include "span.h"
#include "status.h"

namespace edgelstm {

// A flash driver: byte-addressed reads and programs, sector erases. Offsets are relative to the
// region the driver gives. Every call returns kOk, or kFlashError when the operation did not
// complete (then what it wrote is undefined, as after a power cut).
class FlashMemory {
 public:
  virtual std::size_t size() const = 0;
  virtual std::size_t sector_size() const = 0;
  // Sets [offset, offset + bytes) to 0xFF; both multiples of sector_size().
  virtual Status erase(std::size_t offset, std::size_t bytes) = 0;
  // ANDs `data` into the bytes at `offset` (NOR: programming clears bits only).
  virtual Status program(std::size_t offset, Span<const std::uint8_t> data) = 0;
  virtual Status read(std::size_t offset, Span<std::uint8_t> out) = 0;

 protected:
  ~FlashMemory() = default;  // not deleted through this interface (no heap on a device)
};

// NOR flash emulated in a caller-owned buffer, with an optional power cut: after `budget` more bytes
// have been erased or programmed, every erase and program stops where the budget ends (the bytes
// before it written, the rest untouched) and returns kFlashError, as the chip would if its supply
// failed mid-operation.
class RamFlash final : public FlashMemory {
 public:
  RamFlash(Span<std::uint8_t> memory, std::size_t sector_size) : memory_(memory), sector_size_(sector_size) {}

  // A fresh chip reads 0xFF everywhere.
  void erase_all() { std::memset(memory_.data(), 0xFF, memory_.size()); }
  // Cuts the power after `bytes` more bytes of erase or program; cut_power_after(kNoPowerCut) lifts it.
  static constexpr std::size_t kNoPowerCut = ~std::size_t{0};
  void cut_power_after(std::size_t bytes) { budget_ = bytes; }
  bool power_cut() const { return budget_ == 0; }

  std::size_t size() const override { return memory_.size(); }
  std::size_t sector_size() const override { return sector_size_; }
  Status erase(std::size_t offset, std::size_t bytes) override {
    if (offset % sector_size_ != 0 || bytes % sector_size_ != 0 || !inside(offset, bytes)) {
      return Status::kInvalidArgument;
    }
    const std::size_t done = spend(bytes);
    std::memset(memory_.data() + offset, 0xFF, done);
    return done == bytes ? Status::kOk : Status::kFlashError;
  }
  Status program(std::size_t offset, Span<const std::uint8_t> data) override {
    if (!inside(offset, data.size())) return Status::kInvalidArgument;
    const std::size_t done = spend(data.size());
    for (std::size_t k = 0; k < done; ++k) memory_[offset + k] &= data[k];
    return done == data.size() ? Status::kOk : Status::kFlashError;
  }
  Status read(std::size_t offset, Span<std::uint8_t> out) override {
    if (!inside(offset, out.size())) return Status::kInvalidArgument;
    std::memcpy(out.data(), memory_.data() + offset, out.size());
    return Status::kOk;
  }

 private:
  bool inside(std::size_t offset, std::size_t bytes) const {
    return offset <= memory_.size() && bytes <= memory_.size() - offset;
  }
  std::size_t spend(std::size_t bytes) {
    if (budget_ == kNoPowerCut) return bytes;
    const std::size_t done = bytes < budget_ ? bytes : budget_;
    budget_ -= done;
    return done;
  }

  Span<std::uint8_t> memory_;
  std::size_t sector_size_;
  std::size_t budget_ = kNoPowerCut;
};

inline constexpr std::uint32_t kCheckpointMagic = 0x4B43454Cu;  // "LECK" little-endian
inline constexpr std::size_t kCheckpointHeaderBytes = 16;

// Flash bytes of one slot for a payload of `payload_bytes` on sectors of `sector_size`.
constexpr std::size_t checkpoint_slot_bytes(std::size_t payload_bytes, std::size_t sector_size) {
  return (kCheckpointHeaderBytes + payload_bytes + sector_size - 1) / sector_size * sector_size;
}

class DoubleBufferedCheckpoint {
 public:
  // Uses [base, base + 2 * slot_bytes) of `flash` (slot_bytes a multiple of the sector size, the
  // region inside the flash). The flash must outlive this object.
  Status bind(FlashMemory& flash, std::size_t base, std::size_t slot_bytes) {
    const std::size_t sector = flash.sector_size();
    if (sector == 0 || base % sector != 0 || slot_bytes == 0 || slot_bytes % sector != 0 ||
        slot_bytes <= kCheckpointHeaderBytes || base > flash.size() || 2 * slot_bytes > flash.size() - base) {
      return Status::kInvalidArgument;
    }
    flash_ = &flash;
    base_ = base;
    slot_bytes_ = slot_bytes;
    return Status::kOk;
  }

  std::size_t capacity() const { return slot_bytes_ - kCheckpointHeaderBytes; }

  // The newest valid checkpoint: its payload copied into `out` (at least its size; the bytes past
  // it are not touched), *size and *sequence set. kNotFound when neither slot holds one (a fresh
  // chip, or both slots damaged), kBufferTooSmall when `out` cannot hold it, kFlashError when the
  // flash cannot be read.
  Status load(Span<std::uint8_t> out, std::size_t* size, std::uint32_t* sequence) {
    if (flash_ == nullptr) return Status::kNotBound;
    int newest = -1;
    Header header;
    EDGELSTM_TRY(newest_valid(&newest, &header));
    if (newest < 0) return Status::kNotFound;
    if (header.bytes > out.size()) return Status::kBufferTooSmall;
    EDGELSTM_TRY(flash_->read(slot_offset(newest) + kCheckpointHeaderBytes, out.subspan(0, header.bytes)));
    // Checked once more in the caller's copy: what was verified is what is handed over.
    if (payload_crc(header, out.data()) != header.crc) return Status::kFlashError;
    *size = header.bytes;
    *sequence = header.sequence;
    return Status::kOk;
  }

  // Writes `payload` as the next checkpoint (sequence = newest valid + 1) into the slot that does
  // not hold the newest valid checkpoint, and reads it back. kBufferTooSmall when it exceeds
  // capacity(); kFlashError when the flash failed (the previous checkpoint is then still the newest
  // valid one).
  Status save(Span<const std::uint8_t> payload) {
    if (flash_ == nullptr) return Status::kNotBound;
    if (payload.size() > capacity()) return Status::kBufferTooSmall;
    int newest = -1;
    Header previous;
    EDGELSTM_TRY(newest_valid(&newest, &previous));
    // Validity is judged by the whole CRC, not the header alone: a slot whose header was cut off
    // half-programmed may look plausible, and the slot beside it is then the only good one.
    const int target = newest < 0 ? 0 : 1 - newest;
    Header h;
    h.magic = kCheckpointMagic;
    h.sequence = newest < 0 ? 1 : previous.sequence + 1;
    h.bytes = static_cast<std::uint32_t>(payload.size());
    h.crc = payload_crc(h, payload.data());
    const std::size_t offset = slot_offset(target);
    EDGELSTM_TRY(flash_->erase(offset, slot_bytes_));
    EDGELSTM_TRY(flash_->program(offset + kCheckpointHeaderBytes, payload));
    std::uint8_t encoded[kCheckpointHeaderBytes];
    h.encode(encoded);
    EDGELSTM_TRY(flash_->program(offset, Span<const std::uint8_t>(encoded, sizeof encoded)));
    // Read back: a program that silently failed to clear bits (a worn cell) must not pass as saved.
    Header back;
    bool valid = false;
    EDGELSTM_TRY(check_slot(target, &back, &valid));
    return valid && back.sequence == h.sequence && back.crc == h.crc ? Status::kOk : Status::kFlashError;
  }

 private:
  struct Header {
    std::uint32_t magic = 0, sequence = 0, bytes = 0, crc = 0;
    bool plausible(std::size_t capacity) const { return magic == kCheckpointMagic && bytes <= capacity; }
    void encode(std::uint8_t* out) const {
      const std::uint32_t words[4] = {magic, sequence, bytes, crc};
      for (int w = 0; w < 4; ++w) {
        for (int b = 0; b < 4; ++b) out[4 * w + b] = static_cast<std::uint8_t>(words[w] >> (8 * b));
      }
    }
    static Header decode(const std::uint8_t* in) {
      std::uint32_t words[4] = {};
      for (int w = 0; w < 4; ++w) {
        for (int b = 0; b < 4; ++b) words[w] |= static_cast<std::uint32_t>(in[4 * w + b]) << (8 * b);
      }
      return Header{words[0], words[1], words[2], words[3]};
    }
  };

  // CRC-32 over the first 12 header bytes (magic, sequence, size), then the payload in memory.
  static std::uint32_t payload_crc(const Header& h, const std::uint8_t* payload) {
    std::uint8_t encoded[kCheckpointHeaderBytes];
    h.encode(encoded);
    return crc32_update(crc32_update(0, encoded, 12), payload, h.bytes);
  }

  // Whether `slot` holds a valid checkpoint: a plausible header whose CRC matches the payload as
  // it is in flash (read in small chunks: no payload-sized buffer needed).
  Status check_slot(int slot, Header* header, bool* valid) {
    *valid = false;
    EDGELSTM_TRY(read_header(slot, header));
    if (!header->plausible(capacity())) return Status::kOk;
    std::uint8_t chunk[64];
    header->encode(chunk);
    std::uint32_t crc = crc32_update(0, chunk, 12);
    const std::size_t payload = slot_offset(slot) + kCheckpointHeaderBytes;
    for (std::size_t done = 0; done < header->bytes; done += sizeof chunk) {
      const std::size_t n = header->bytes - done < sizeof chunk ? header->bytes - done : sizeof chunk;
      EDGELSTM_TRY(flash_->read(payload + done, Span<std::uint8_t>(chunk, n)));
      crc = crc32_update(crc, chunk, n);
    }
    *valid = crc == header->crc;
    return Status::kOk;
  }

  // The valid slot with the newer sequence (*slot = -1 when neither is valid).
  Status newest_valid(int* slot, Header* header) {
    Header headers[2];
    bool valid[2];
    for (int k = 0; k < 2; ++k) EDGELSTM_TRY(check_slot(k, &headers[k], &valid[k]));
    *slot = valid[0] && (!valid[1] || newer(headers[0], headers[1])) ? 0 : valid[1] ? 1 : -1;
    if (*slot >= 0) *header = headers[*slot];
    return Status::kOk;
  }

  // Serial-number order (RFC 1982): a wrapped sequence still counts as newer.
  static bool newer(const Header& a, const Header& b) {
    return static_cast<std::int32_t>(a.sequence - b.sequence) > 0;
  }

  std::size_t slot_offset(int slot) const { return base_ + static_cast<std::size_t>(slot) * slot_bytes_; }

  Status read_header(int slot, Header* out) {
    std::uint8_t encoded[kCheckpointHeaderBytes];
    EDGELSTM_TRY(flash_->read(slot_offset(slot), Span<std::uint8_t>(encoded, sizeof encoded)));
    *out = Header::decode(encoded);
    return Status::kOk;
  }

  FlashMemory* flash_ = nullptr;
  std::size_t base_ = 0, slot_bytes_ = 0;
};

}  // namespace edgelstm
