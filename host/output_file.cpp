#include "host/output_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "host/input_error.h"
#include "host/input_file.h"

namespace edgelstm::host {
namespace {

struct PathParts {
  std::string directory;  // "." for a bare name
  std::string name;
};

PathParts split_path(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

std::string reason() { return std::strerror(errno); }

// Refuses an existing `path` that is not a regular file (following links: a link to /dev/null
// would otherwise be replaced, harmlessly, but the user meant something else).
void require_regular_or_absent(const std::string& path, const std::string& label) {
  struct stat status {};
  if (::stat(path.c_str(), &status) == 0 && !S_ISREG(status.st_mode)) {
    throw InputError(label + ": " + path + " is " + file_type_name(status.st_mode) + "; expected a regular file or a new name");
  }
}

// Removes <name>.tmp-<pid>[-*] in `directory` whose process no longer runs (a killed run's).
void remove_stale_temporaries(const PathParts& parts) {
  DIR* directory = ::opendir(parts.directory.c_str());
  if (directory == nullptr) return;
  const std::string prefix = parts.name + ".tmp-";
  while (const dirent* entry = ::readdir(directory)) {
    const std::string name = entry->d_name;
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string rest = name.substr(prefix.size());
    const std::size_t digits = rest.find_first_not_of("0123456789");
    if (digits == 0 || (digits != std::string::npos && rest[digits] != '-') || rest.size() > 30) continue;
    const long pid = std::strtol(rest.substr(0, digits).c_str(), nullptr, 10);
    if (pid <= 0 || pid == ::getpid() || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    const std::string stale = parts.directory + "/" + name;
    struct stat status {};
    if (::lstat(stale.c_str(), &status) == 0 && S_ISREG(status.st_mode)) (void)::unlink(stale.c_str());
  }
  ::closedir(directory);
}

// A new, empty, uniquely named file beside `path`; its descriptor and name.
int create_temporary(const std::string& path, std::string* temporary) {
  std::string name = path + ".tmp-" + std::to_string(::getpid()) + "-XXXXXX";
  const int fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd >= 0) *temporary = name;
  return fd;
}

// The process's umask, read from /proc/self/status where Linux gives it (4.7 and later): setting it
// to read it back would, for that moment, give files other threads create (a fleet's meters) mode
// 0666.
mode_t current_umask() {
  if (std::FILE* status = std::fopen("/proc/self/status", "re")) {
    char line[256];
    unsigned mask = 0;
    bool found = false;
    while (!found && std::fgets(line, sizeof line, status) != nullptr) found = std::sscanf(line, "Umask: %o", &mask) == 1;
    std::fclose(status);
    if (found) return static_cast<mode_t>(mask);
  }
  const mode_t mask = ::umask(0);
  ::umask(mask);
  return mask;
}

mode_t file_mode(FileAccess access) {  // what open(..., 0644 or 0600) would give under the current umask
  return (access == FileAccess::kOwnerOnly ? 0600 : 0644) & ~current_umask();
}

}  // namespace

void write_file_atomically(const std::string& path, std::string_view content, FileAccess access) {
  const PathParts parts = split_path(path);
  if (parts.name.empty()) throw InputError(path + ": expected a file name, found a directory path");
  require_regular_or_absent(path, "cannot write");
  remove_stale_temporaries(parts);
  std::string temporary;
  const int fd = create_temporary(path, &temporary);
  if (fd < 0) throw InputError(path + ": cannot create a file in " + parts.directory + ": " + reason());
  const auto fail = [&](const std::string& what) {
    const std::string why = reason();
    ::close(fd);
    ::unlink(temporary.c_str());
    throw InputError(path + ": " + what + ": " + why);
  };
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      fail("write failed");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, file_mode(access)) != 0 || ::fsync(fd) != 0) fail("cannot flush the file to disk");
  if (::close(fd) != 0) {
    const std::string why = reason();
    ::unlink(temporary.c_str());
    throw InputError(path + ": cannot flush the file to disk: " + why);
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string why = reason();
    ::unlink(temporary.c_str());
    throw InputError(path + ": cannot replace the file: " + why);
  }
  // The rename itself reaches the disk with the directory.
  const int directory = ::open(parts.directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (directory >= 0) {
    (void)::fsync(directory);
    ::close(directory);
  }
}

void check_output_file(const NamedPath& output, const std::vector<NamedPath>& inputs) {
  const std::string label = output.option + " " + output.path;
  const PathParts parts = split_path(output.path);
  if (parts.name.empty()) throw InputError(label + ": expected a file name, found a directory path");
  require_regular_or_absent(output.path, output.option);
  struct stat written {};
  if (::stat(output.path.c_str(), &written) == 0) {
    for (const NamedPath& input : inputs) {
      struct stat read {};
      if (!input.path.empty() && ::stat(input.path.c_str(), &read) == 0 && read.st_dev == written.st_dev &&
          read.st_ino == written.st_ino) {
        throw InputError(label + ": is the same file as " + input.option + " " + input.path +
                         "; writing it would destroy the input (choose another output file)");
      }
    }
  }
  std::string temporary;
  const int fd = create_temporary(output.path, &temporary);
  if (fd < 0) throw InputError(label + ": cannot create a file in " + parts.directory + ": " + reason());
  ::close(fd);
  ::unlink(temporary.c_str());
}

void check_distinct_outputs(const NamedPath& first, const NamedPath& second) {
  const auto canonical = [](const std::string& path) {
    const PathParts parts = split_path(path);
    char* directory = ::realpath(parts.directory.c_str(), nullptr);
    const std::string resolved = (directory != nullptr ? std::string(directory) : parts.directory) + "/" + parts.name;
    std::free(directory);
    return resolved;
  };
  struct stat a {}, b {};
  const bool same_file = ::stat(first.path.c_str(), &a) == 0 && ::stat(second.path.c_str(), &b) == 0 &&
                         a.st_dev == b.st_dev && a.st_ino == b.st_ino;
  if (same_file || canonical(first.path) == canonical(second.path)) {
    throw InputError(first.option + " " + first.path + " and " + second.option + " " + second.path +
                     " name the same file; each output needs its own");
  }
}

void check_output_directory(const NamedPath& directory) {
  const std::string label = directory.option + " " + directory.path;
  if (directory.path.empty()) throw InputError(directory.option + ": an empty directory name");
  if (::mkdir(directory.path.c_str(), 0755) != 0 && errno != EEXIST) {
    throw InputError(label + ": cannot create the directory: " + reason());
  }
  struct stat status {};
  if (::stat(directory.path.c_str(), &status) != 0 || !S_ISDIR(status.st_mode)) {
    throw InputError(label + ": exists and is not a directory");
  }
  std::string temporary;
  const int fd = create_temporary(directory.path + "/.edgelstm-probe", &temporary);
  if (fd < 0) throw InputError(label + ": cannot create a file in the directory: " + reason());
  ::close(fd);
  ::unlink(temporary.c_str());
}

}  // namespace edgelstm::host
