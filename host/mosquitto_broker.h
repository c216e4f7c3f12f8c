// A real Mosquitto broker (Debian's `mosquitto`) started and owned by the host tools and tests: it
// listens on loopback only, on a free port, with a generated configuration, password file and ACL
// written as plain files a person can read (in `directory`), optionally with a TLS listener whose
// CA and server certificates are made at start with openssl. The broker stops when the object goes
// away (and dies with this process), so no run leaves one behind.
#pragma once

#include <string>
#include <vector>

#include "host/child_process.h"

namespace edgelstm::host {

// One ACL line: `topic <access> <pattern>` (access: "read", "write" or "readwrite"; MQTT wildcards
// + and # allowed in the pattern).
struct TopicAccess {
  std::string access;
  std::string pattern;
};

struct BrokerUser {
  std::string name;
  std::string password;
  std::vector<TopicAccess> topics;  // everything else is denied
};

struct BrokerOptions {
  std::string directory;          // config, passwords, ACL, certificates, log, persistence (created)
  std::vector<BrokerUser> users;  // anonymous clients are refused
  bool tls = false;               // also a TLS listener (certificates made at start)
  bool persistence = true;        // QoS 1 sessions and queued messages survive a restart
  int sys_interval_seconds = 1;   // how often the broker publishes its $SYS counters
  double start_timeout_seconds = 20;
};

class MosquittoBroker {
 public:
  // Writes the files, starts the broker and waits until it accepts connections; throws InputError
  // (with the end of the broker's log) when it cannot.
  explicit MosquittoBroker(BrokerOptions options);
  ~MosquittoBroker() { stop(); }
  MosquittoBroker(const MosquittoBroker&) = delete;
  MosquittoBroker& operator=(const MosquittoBroker&) = delete;

  const std::string& host() const { return host_; }  // "127.0.0.1"
  int port() const { return port_; }                 // plain MQTT
  int tls_port() const { return tls_port_; }         // 0 without TLS
  const std::string& ca_file() const { return ca_file_; }  // the CA that signed the server certificate
  const std::string& log_file() const { return log_file_; }
  const std::string& directory() const { return options_.directory; }
  bool running() { return process_.running(); }
  pid_t pid() const { return process_.pid(); }

  // SIGTERM (the broker saves its persistence file), then SIGKILL after a grace period.
  void stop();
  // SIGKILL: a crash; what was not yet saved is lost, as on a real failure.
  void kill();
  // Starts it again on the same ports with the same files (after stop() or kill()) and waits until
  // this process — not another on the port — logs that it runs.
  void start();

  // The last `lines` lines of the broker's log (for error messages).
  std::string log_tail(int lines = 20) const;

 private:
  void write_files();
  void make_certificates();

  BrokerOptions options_;
  std::string host_ = "127.0.0.1";
  int port_ = 0, tls_port_ = 0;
  std::string config_file_, password_file_, acl_file_, log_file_, ca_file_, cert_file_, key_file_;
  ChildProcess process_;
};

// A TCP port on 127.0.0.1 that nothing listens on right now (the kernel's choice), and `count`
// different ones. Another program may take one before it is used: users bind and check.
int free_loopback_port();
std::vector<int> free_loopback_ports(int count);

// Waits until something accepts TCP connections on 127.0.0.1:`port`; false after `seconds`.
bool wait_for_listener(int port, double seconds);

}  // namespace edgelstm::host
