// A meter's flash chip emulated in a file, so that it outlives the meter's process or object: a
// "reboot" loses the meter's RAM and keeps this. NOR semantics as edgelstm::RamFlash (erase sets
// sectors to 0xFF, programming clears bits only), with the same power cut: after a budget of erased
// or programmed bytes every operation stops where the budget ends and reports kFlashError.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "edgelstm/checkpoint.h"

namespace edgelstm::fleet {

class FileFlash final : public FlashMemory {
 public:
  // Opens `path`, creating it erased (0xFF) with `size` bytes when it does not exist. Throws
  // host::InputError when it cannot, or when the file has another size.
  FileFlash(const std::string& path, std::size_t size, std::size_t sector_size);
  ~FileFlash();
  FileFlash(const FileFlash&) = delete;
  FileFlash& operator=(const FileFlash&) = delete;

  static constexpr std::size_t kNoPowerCut = RamFlash::kNoPowerCut;
  void cut_power_after(std::size_t bytes) { budget_ = bytes; }
  bool power_cut() const { return budget_ == 0; }
  std::uint64_t bytes_programmed() const { return programmed_; }
  std::uint64_t sectors_erased() const { return erased_sectors_; }

  std::size_t size() const override { return size_; }
  std::size_t sector_size() const override { return sector_size_; }
  Status erase(std::size_t offset, std::size_t bytes) override;
  Status program(std::size_t offset, Span<const std::uint8_t> data) override;
  Status read(std::size_t offset, Span<std::uint8_t> out) override;

 private:
  std::size_t spend(std::size_t bytes);

  std::string path_;
  int fd_ = -1;
  std::size_t size_, sector_size_;
  std::size_t budget_ = kNoPowerCut;
  std::uint64_t programmed_ = 0, erased_sectors_ = 0;
};

}  // namespace edgelstm::fleet
