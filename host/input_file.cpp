#include "host/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "host/input_error.h"

namespace edgelstm::host {
namespace {

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

const char* file_type_name(unsigned mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a regular file";
}

std::string byte_count_text(std::size_t bytes) {
  if (bytes >= (std::size_t{1} << 20) && bytes % (std::size_t{1} << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes >= 1024 && bytes % 1024 == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " bytes";
}

std::string read_input_file(const std::string& path, std::size_t max_bytes, const char* what) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
  const FileDescriptor file(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (file.get() < 0) {
    throw InputError(path + ": cannot open the " + what + ": " + std::strerror(errno));
  }
  struct stat status {};
  if (::fstat(file.get(), &status) != 0) throw InputError(path + ": cannot read the " + what + ": " + std::strerror(errno));
  if (!S_ISREG(status.st_mode)) {
    throw InputError(path + ": the " + what + " is " + file_type_name(status.st_mode) + ", expected a regular file");
  }
  const auto too_large = [&](std::size_t bytes) {
    return InputError(path + ": the " + what + " holds " + std::to_string(bytes) + " bytes; at most " +
                      byte_count_text(max_bytes) + " are read");
  };
  if (static_cast<std::size_t>(status.st_size) > max_bytes) throw too_large(static_cast<std::size_t>(status.st_size));
  // Read until the end, never more than max_bytes + 1 (the file may grow while it is read).
  std::string content(static_cast<std::size_t>(status.st_size) + 1, '\0');
  std::size_t done = 0;
  while (true) {
    if (done == content.size()) {
      if (content.size() > max_bytes) throw too_large(content.size());
      content.resize(std::min(max_bytes + 1, 2 * content.size()));
    }
    const ssize_t n = ::read(file.get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw InputError(path + ": cannot read the " + what + ": " + std::strerror(errno));
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  content.resize(done);
  return content;
}

}  // namespace edgelstm::host
