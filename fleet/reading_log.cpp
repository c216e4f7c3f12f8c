#include "fleet/reading_log.h"

#include <algorithm>

#include "edgelstm/crc32.h"
#include "host/csv_reader.h"

namespace edgelstm::fleet {
namespace {

void put_u32(std::uint8_t* p, std::uint32_t v) {
  for (int k = 0; k < 4; ++k) p[k] = static_cast<std::uint8_t>(v >> (8 * k));
}
std::uint32_t get_u32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

}  // namespace

ReadingLog::ReadingLog(FlashMemory& flash, std::size_t base, std::size_t sectors, std::uint32_t interval_seconds)
    : flash_(flash), base_(base), records_per_sector_(flash.sector_size() / kRecordBytes), interval_(interval_seconds) {
  if (sectors < 2 || interval_seconds == 0 || base % flash.sector_size() != 0 ||
      base + sectors * flash.sector_size() > flash.size()) {
    throw host::InputError("reading log: the region does not fit the flash");
  }
  records_.resize(sectors * records_per_sector_);
  std::vector<std::uint8_t> bytes(records_.size() * kRecordBytes);
  if (flash_.read(base_, Span<std::uint8_t>(bytes.data(), bytes.size())) != Status::kOk) {
    throw host::InputError("reading log: cannot read the flash");
  }
  for (std::size_t slot = 0; slot < records_.size(); ++slot) {
    const std::uint8_t* r = bytes.data() + slot * kRecordBytes;
    // A record whose CRC fails was being written when the power went (or never was): not a reading.
    if (crc32_update(0, r, 12) != get_u32(r + 12) || (r[16] | 0xC0) != 0xFF) continue;
    Slot& s = records_[slot];
    s.valid = true;
    s.reading = {get_u32(r), get_u32(r + 4), get_u32(r + 8), (r[16] & 0x80) == 0, (r[16] & 0x40) == 0};
    if (!has_newest_ || s.reading.timestamp > newest_) newest_ = s.reading.timestamp;
    has_newest_ = true;
  }
}

Status ReadingLog::append(std::uint32_t timestamp, std::uint32_t energy_wh, std::uint32_t forecast_mwh) {
  if (has_newest_ && timestamp <= newest_) return Status::kInvalidArgument;
  const std::size_t slot = slot_of(timestamp);
  if (slot % records_per_sector_ == 0 || records_[slot].valid) {
    // The ring is back at this sector: erase it, losing what it held (counted if unacknowledged).
    const std::size_t first = slot - slot % records_per_sector_;
    for (std::size_t k = first; k < first + records_per_sector_; ++k) {
      if (records_[k].valid && !records_[k].reading.acknowledged) ++overwritten_;
      records_[k].valid = false;
    }
    EDGELSTM_TRY(flash_.erase(offset_of(first), flash_.sector_size()));
  }
  std::uint8_t r[kRecordBytes];
  std::fill(r, r + kRecordBytes, std::uint8_t{0xFF});
  put_u32(r, timestamp);
  put_u32(r + 4, energy_wh);
  put_u32(r + 8, forecast_mwh);
  put_u32(r + 12, crc32_update(0, r, 12));
  EDGELSTM_TRY(flash_.program(offset_of(slot), Span<const std::uint8_t>(r, kRecordBytes)));
  records_[slot] = Slot{true, {timestamp, energy_wh, forecast_mwh, false, false}};
  newest_ = timestamp;
  has_newest_ = true;
  return Status::kOk;
}

Status ReadingLog::acknowledge(std::uint32_t timestamp) {
  Slot& s = records_[slot_of(timestamp)];
  if (!s.valid || s.reading.timestamp != timestamp || s.reading.acknowledged) return Status::kOk;
  const std::uint8_t flag = 0x7F;  // programming ANDs: only bit 7 goes to 0
  EDGELSTM_TRY(flash_.program(offset_of(slot_of(timestamp)) + 16, Span<const std::uint8_t>(&flag, 1)));
  s.reading.acknowledged = true;
  return Status::kOk;
}

Status ReadingLog::acknowledge_summary(std::uint32_t timestamp) {
  Slot& s = records_[slot_of(timestamp)];
  if (!s.valid || s.reading.timestamp != timestamp || s.reading.summary_acknowledged) return Status::kOk;
  const std::uint8_t flag = 0xBF;  // bit 6
  EDGELSTM_TRY(flash_.program(offset_of(slot_of(timestamp)) + 16, Span<const std::uint8_t>(&flag, 1)));
  s.reading.summary_acknowledged = true;
  return Status::kOk;
}

bool ReadingLog::find(std::uint32_t timestamp, LoggedReading* out) const {
  const Slot& s = records_[slot_of(timestamp)];
  if (!s.valid || s.reading.timestamp != timestamp) return false;
  *out = s.reading;
  return true;
}

bool ReadingLog::acknowledged(std::uint32_t timestamp) const {
  const Slot& s = records_[slot_of(timestamp)];
  return s.valid && s.reading.timestamp == timestamp && s.reading.acknowledged;
}

std::vector<LoggedReading> ReadingLog::since(std::uint32_t after) const {
  std::vector<LoggedReading> out;
  for (const Slot& s : records_) {
    if (s.valid && s.reading.timestamp > after) out.push_back(s.reading);
  }
  std::sort(out.begin(), out.end(), [](const LoggedReading& a, const LoggedReading& b) { return a.timestamp < b.timestamp; });
  return out;
}

std::vector<LoggedReading> ReadingLog::unacknowledged() const {
  std::vector<LoggedReading> out;
  for (const Slot& s : records_) {
    if (s.valid && !s.reading.acknowledged) out.push_back(s.reading);
  }
  std::sort(out.begin(), out.end(), [](const LoggedReading& a, const LoggedReading& b) { return a.timestamp < b.timestamp; });
  return out;
}

}  // namespace edgelstm::fleet
