// A program the host tools start and own (a broker, a node, an emulated board): started with its
// output sent to a file and none of our other descriptors, killed if this process dies (Linux
// PR_SET_PDEATHSIG — which fires when the *thread* that started it ends: start children from a
// thread that outlives them, e.g. the main thread), and stopped — SIGTERM, then SIGKILL after a
// grace period — when the object goes away, so no run leaves a process behind.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace edgelstm::host {

class ChildProcess {
 public:
  ChildProcess() = default;
  // Starts `argv` (argv[0] searched in PATH); stdout and stderr go to `log_path` (appended), or
  // are discarded when it is empty. Throws InputError when the program cannot be started.
  ChildProcess(const std::vector<std::string>& argv, const std::string& log_path);
  ~ChildProcess() { stop(); }
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Whether it still runs (reaps it, and records its status, if it has ended).
  bool running();
  // Its exit status once it has ended: the code, or 128 + the signal; -1 while it runs.
  int exit_status() const { return status_; }
  // SIGTERM, then SIGKILL when it has not ended after `grace_seconds`; waits for it. Returns its
  // exit status (as exit_status()); does nothing when it was never started or has ended.
  int stop(double grace_seconds = 5.0);
  // SIGKILL at once (a crash), and wait.
  int kill_now();
  // Waits up to `seconds` for it to end by itself; returns whether it ended.
  bool wait_for_exit(double seconds);

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

// Runs `argv` to completion (at most `timeout_seconds`, then killed) with its output in `log_path`
// (or discarded); returns its exit status (124 when it timed out).
int run_program(const std::vector<std::string>& argv, const std::string& log_path, double timeout_seconds);

// The path of this program (/proc/self/exe), for a command that starts copies of itself (nodes,
// gateways); throws InputError naming `who` and what it needed it for when it cannot be read.
std::string this_program(const std::string& who, const std::string& purpose);

}  // namespace edgelstm::host
