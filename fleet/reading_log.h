// A meter's load-profile log in flash: every reading the meter measured, one 32-byte record per
// interval in a ring of sectors, kept until the utility has acknowledged it. This is what makes a
// meter lose no reading: through a gateway outage (the readings wait here and are sent again), a
// broker restart, or a reboot (the log is read back from flash at boot, and the self-learning
// forecaster catches up on the readings after its checkpoint from it).
//
//   record: u32 interval start | u32 Wh | u32 the meter's forecast of it, mWh (0xFFFFFFFF: none) |
//           u32 CRC-32 of the first 12 bytes | u8 flags | 15 x 0xFF
//   flags: bit 7 cleared: the reading was acknowledged; bit 6 cleared: the daily summary of the day
//   this record ends was acknowledged (each a single bit programmed: no erase)
// The record of interval t lives in slot (t / interval) mod capacity; a sector is erased when the
// ring comes back to it, and readings still unacknowledged there are counted as lost.
#pragma once

#include <cstdint>
#include <vector>

#include "edgelstm/checkpoint.h"

namespace edgelstm::fleet {

inline constexpr std::uint32_t kNoForecast = 0xFFFFFFFFu;

struct LoggedReading {
  std::uint32_t timestamp = 0;
  std::uint32_t energy_wh = 0;
  std::uint32_t forecast_mwh = kNoForecast;
  bool acknowledged = false;
  bool summary_acknowledged = false;
};

class ReadingLog {
 public:
  static constexpr std::size_t kRecordBytes = 32;

  // The log in [base, base + sectors * sector size) of `flash`; reads it back (boot).
  ReadingLog(FlashMemory& flash, std::size_t base, std::size_t sectors, std::uint32_t interval_seconds);

  std::size_t capacity() const { return records_.size(); }
  // Stores the reading of interval `timestamp` (newer than any logged). kFlashError if the flash
  // failed.
  Status append(std::uint32_t timestamp, std::uint32_t energy_wh, std::uint32_t forecast_mwh = kNoForecast);
  // Marks the reading of `timestamp` acknowledged; a timestamp not in the log is ignored.
  Status acknowledge(std::uint32_t timestamp);
  bool acknowledged(std::uint32_t timestamp) const;
  // Marks the summary of the day ending with the record of `timestamp` acknowledged.
  Status acknowledge_summary(std::uint32_t timestamp);
  // The record of `timestamp`, if the log holds it.
  bool find(std::uint32_t timestamp, LoggedReading* out) const;
  // Logged readings with timestamp > after, oldest first.
  std::vector<LoggedReading> since(std::uint32_t after) const;
  // Unacknowledged readings, oldest first.
  std::vector<LoggedReading> unacknowledged() const;
  bool empty() const { return !has_newest_; }
  std::uint32_t newest() const { return newest_; }
  // Readings overwritten by the ring before they were acknowledged (lost).
  std::uint64_t overwritten_unacknowledged() const { return overwritten_; }

 private:
  struct Slot {
    bool valid = false;
    LoggedReading reading;
  };
  std::size_t slot_of(std::uint32_t timestamp) const { return (timestamp / interval_) % records_.size(); }
  std::size_t offset_of(std::size_t slot) const { return base_ + slot * kRecordBytes; }

  FlashMemory& flash_;
  std::size_t base_;
  std::size_t records_per_sector_;
  std::uint32_t interval_;
  std::vector<Slot> records_;  // a RAM mirror of the flash, rebuilt at boot
  std::uint32_t newest_ = 0;
  bool has_newest_ = false;
  std::uint64_t overwritten_ = 0;
};

}  // namespace edgelstm::fleet
