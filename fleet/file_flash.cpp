#include "fleet/file_flash.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "host/csv_reader.h"

namespace edgelstm::fleet {

FileFlash::FileFlash(const std::string& path, std::size_t size, std::size_t sector_size)
    : path_(path), size_(size), sector_size_(sector_size) {
  if (sector_size == 0 || size % sector_size != 0) throw host::InputError(path + ": flash size is not whole sectors");
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT, 0600);
  if (fd_ < 0) throw host::InputError(path + ": cannot open the emulated flash");
  struct stat info {};
  ::fstat(fd_, &info);
  if (info.st_size == 0) {
    const std::vector<std::uint8_t> erased(size, 0xFF);  // a new chip
    if (::pwrite(fd_, erased.data(), size, 0) != static_cast<ssize_t>(size)) {
      ::close(fd_);
      throw host::InputError(path + ": cannot create the emulated flash");
    }
  } else if (static_cast<std::size_t>(info.st_size) != size) {
    ::close(fd_);
    throw host::InputError(path + ": emulated flash of " + std::to_string(info.st_size) + " bytes, expected " +
                           std::to_string(size));
  }
}

FileFlash::~FileFlash() {
  if (fd_ >= 0) ::close(fd_);
}

std::size_t FileFlash::spend(std::size_t bytes) {
  if (budget_ == kNoPowerCut) return bytes;
  const std::size_t done = bytes < budget_ ? bytes : budget_;
  budget_ -= done;
  return done;
}

Status FileFlash::erase(std::size_t offset, std::size_t bytes) {
  if (offset % sector_size_ != 0 || bytes % sector_size_ != 0 || offset > size_ || bytes > size_ - offset) {
    return Status::kInvalidArgument;
  }
  const std::size_t done = spend(bytes);
  const std::vector<std::uint8_t> erased(done, 0xFF);
  if (done > 0 && ::pwrite(fd_, erased.data(), done, static_cast<off_t>(offset)) != static_cast<ssize_t>(done)) {
    return Status::kFlashError;
  }
  erased_sectors_ += bytes / sector_size_;
  return done == bytes ? Status::kOk : Status::kFlashError;
}

Status FileFlash::program(std::size_t offset, Span<const std::uint8_t> data) {
  if (offset > size_ || data.size() > size_ - offset) return Status::kInvalidArgument;
  const std::size_t done = spend(data.size());
  std::vector<std::uint8_t> cells(done);
  if (done > 0) {
    if (::pread(fd_, cells.data(), done, static_cast<off_t>(offset)) != static_cast<ssize_t>(done)) {
      return Status::kFlashError;
    }
    for (std::size_t k = 0; k < done; ++k) cells[k] &= data[k];  // NOR: bits only go from 1 to 0
    if (::pwrite(fd_, cells.data(), done, static_cast<off_t>(offset)) != static_cast<ssize_t>(done)) {
      return Status::kFlashError;
    }
  }
  programmed_ += done;
  return done == data.size() ? Status::kOk : Status::kFlashError;
}

Status FileFlash::read(std::size_t offset, Span<std::uint8_t> out) {
  if (offset > size_ || out.size() > size_ - offset) return Status::kInvalidArgument;
  return ::pread(fd_, out.data(), out.size(), static_cast<off_t>(offset)) == static_cast<ssize_t>(out.size())
             ? Status::kOk
             : Status::kFlashError;
}

}  // namespace edgelstm::fleet
