#include "host/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "host/csv_reader.h"

namespace edgelstm::host {
namespace {

int decode_status(int raw) {
  if (WIFEXITED(raw)) return WEXITSTATUS(raw);
  if (WIFSIGNALED(raw)) return 128 + WTERMSIG(raw);
  return -1;
}

}  // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::string& log_path) {
  if (argv.empty()) throw InputError("no program to start");
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  int error_pipe[2];  // the child reports a failed exec through it (closed on a successful exec)
  if (::pipe2(error_pipe, O_CLOEXEC) != 0) throw InputError("cannot start " + argv[0] + ": " + std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid < 0) throw InputError("cannot start " + argv[0] + ": " + std::strerror(errno));
  if (pid == 0) {
    ::close(error_pipe[0]);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
    const int out = log_path.empty() ? ::open("/dev/null", O_WRONLY)
                                     : ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (out >= 0) {
      ::dup2(out, STDOUT_FILENO);
      ::dup2(out, STDERR_FILENO);
      ::close(out);
    }
    const int in = ::open("/dev/null", O_RDONLY);
    if (in >= 0) ::dup2(in, STDIN_FILENO);
    // The parent's other descriptors (sockets of its MQTT clients, say) are not the child's.
    ::close_range(3, static_cast<unsigned>(error_pipe[1]) - 1, 0);
    ::close_range(static_cast<unsigned>(error_pipe[1]) + 1, ~0u, 0);
    ::execvp(args[0], args.data());
    const int e = errno;
    (void)!::write(error_pipe[1], &e, sizeof e);
    ::_exit(127);
  }
  ::close(error_pipe[1]);
  int child_errno = 0;
  ssize_t n = 0;
  do {
    n = ::read(error_pipe[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  ::close(error_pipe[0]);
  pid_ = pid;
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    ::waitpid(pid, nullptr, 0);
    pid_ = -1;
    throw InputError("cannot start " + argv[0] + ": " + std::strerror(child_errno));
  }
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept : pid_(other.pid_), status_(other.status_) {
  other.pid_ = -1;
}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    stop();
    pid_ = other.pid_;
    status_ = other.status_;
    other.pid_ = -1;
  }
  return *this;
}

bool ChildProcess::running() {
  if (pid_ < 0) return false;
  int raw = 0;
  const pid_t r = ::waitpid(pid_, &raw, WNOHANG);
  if (r == 0) return true;
  status_ = r == pid_ ? decode_status(raw) : status_;
  pid_ = -1;
  return false;
}

bool ChildProcess::wait_for_exit(double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

int ChildProcess::stop(double grace_seconds) {
  if (!running()) return status_;
  ::kill(pid_, SIGTERM);
  if (!wait_for_exit(grace_seconds)) return kill_now();
  return status_;
}

int ChildProcess::kill_now() {
  if (!running()) return status_;
  ::kill(pid_, SIGKILL);
  int raw = 0;
  if (::waitpid(pid_, &raw, 0) == pid_) status_ = decode_status(raw);
  pid_ = -1;
  return status_;
}

int run_program(const std::vector<std::string>& argv, const std::string& log_path, double timeout_seconds) {
  ChildProcess child(argv, log_path);
  if (!child.wait_for_exit(timeout_seconds)) {
    child.kill_now();
    return 124;
  }
  return child.exit_status();
}

std::string this_program(const std::string& who, const std::string& purpose) {
  char path[4096];
  const ssize_t size = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (size <= 0) throw InputError(who + ": cannot find the edgelstm program (/proc/self/exe) " + purpose);
  path[size] = '\0';
  return path;
}

}  // namespace edgelstm::host
