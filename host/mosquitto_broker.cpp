#include "host/mosquitto_broker.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <fstream>
#include <iterator>
#include <thread>

#include "host/csv_reader.h"
#include "host/data_loading.h"
#include "host/output_file.h"

namespace edgelstm::host {
namespace {

std::streamoff file_size(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  return in ? static_cast<std::streamoff>(in.tellg()) : 0;
}

// What `path` holds after its first `offset` bytes.
std::string log_since(const std::string& path, std::streamoff offset) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  in.seekg(offset);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

std::vector<int> free_loopback_ports(int count) {
  // All sockets stay bound until every port is known, so the ports differ from each other.
  std::vector<int> sockets, ports;
  for (int k = 0; k < count; ++k) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      if (fd >= 0) ::close(fd);
      for (int open : sockets) ::close(open);
      throw InputError("cannot find a free loopback port");
    }
    sockets.push_back(fd);
    ports.push_back(ntohs(address.sin_port));
  }
  for (int fd : sockets) ::close(fd);
  return ports;
}

int free_loopback_port() { return free_loopback_ports(1)[0]; }

bool wait_for_listener(int port, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  do {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    const bool connected = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    if (fd >= 0) ::close(fd);
    if (connected) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

MosquittoBroker::MosquittoBroker(BrokerOptions options) : options_(std::move(options)) {
  if (options_.directory.empty()) throw InputError("broker: no directory for its files");
  ensure_directory(options_.directory);
  const std::string& d = options_.directory;
  config_file_ = d + "/mosquitto.conf";
  password_file_ = d + "/passwords";
  acl_file_ = d + "/acl";
  log_file_ = d + "/mosquitto.log";
  if (options_.tls) make_certificates();
  // A port another program takes between our choice and the broker's bind makes the start fail:
  // choose again (a restart, by contrast, keeps its ports: clients come back to them).
  for (int attempt = 1;; ++attempt) {
    const std::vector<int> ports = free_loopback_ports(options_.tls ? 2 : 1);
    port_ = ports[0];
    tls_port_ = options_.tls ? ports[1] : 0;
    write_files();
    try {
      start();
      return;
    } catch (const InputError&) {
      if (attempt == 3 || log_tail().find("Address already in use") == std::string::npos) throw;
    }
  }
}

void MosquittoBroker::make_certificates() {
  const std::string& d = options_.directory;
  ca_file_ = d + "/ca.crt";
  cert_file_ = d + "/server.crt";
  key_file_ = d + "/server.key";
  const std::string log = d + "/openssl.log";
  // A throw-away CA for this run, and a server certificate for 127.0.0.1 signed by it (P-256 keys:
  // quick to make; valid for two days).
  write_file_atomically(d + "/server.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  const std::vector<std::vector<std::string>> steps = {
      {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
       d + "/ca.key", "-out", ca_file_, "-days", "2", "-subj", "/CN=edgelstm run CA"},
      {"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key_file_,
       "-out", d + "/server.csr", "-subj", "/CN=127.0.0.1"},
      {"openssl", "x509", "-req", "-in", d + "/server.csr", "-CA", ca_file_, "-CAkey", d + "/ca.key", "-CAcreateserial",
       "-out", cert_file_, "-days", "2", "-extfile", d + "/server.ext"}};
  for (const auto& step : steps) {
    if (run_program(step, log, 30) != 0) {
      throw InputError("broker: openssl could not make the TLS certificates (see " + log + "; Debian: apt-get install openssl)");
    }
  }
}

void MosquittoBroker::write_files() {
  // Passwords: written in clear, then hashed in place by mosquitto_passwd -U (PBKDF2-SHA512).
  std::string passwords, acl = "# edgelstm: generated for this run; everything not listed is denied\n";
  for (const BrokerUser& user : options_.users) {
    if (user.name.empty() || user.name.find_first_of(":\n ") != std::string::npos) {
      throw InputError("broker: bad user name '" + user.name + "'");
    }
    passwords += user.name + ":" + user.password + "\n";
    acl += "\nuser " + user.name + "\n";
    for (const TopicAccess& topic : user.topics) acl += "topic " + topic.access + " " + topic.pattern + "\n";
  }
  // Every file whole or not at all (a broker started on a half-written ACL would deny or allow the
  // wrong topics); the passwords and the ACL readable by their owner only. The password file is then
  // hashed in place by mosquitto_passwd (a failure there stops the start).
  write_file_atomically(password_file_, passwords, FileAccess::kOwnerOnly);
  if (run_program({"mosquitto_passwd", "-U", password_file_}, options_.directory + "/mosquitto_passwd.log", 30) != 0) {
    throw InputError("broker: mosquitto_passwd could not hash " + password_file_ + " (Debian: apt-get install mosquitto)");
  }
  write_file_atomically(acl_file_, acl, FileAccess::kOwnerOnly);
  std::string config = "# edgelstm: generated for this run\n";
  if (::geteuid() == 0) config += "user root\n";  // otherwise Mosquitto drops to user 'mosquitto' and cannot read the files
  config += "per_listener_settings false\nallow_anonymous false\n";
  config += "password_file " + password_file_ + "\nacl_file " + acl_file_ + "\n";
  config += "log_dest file " + log_file_ + "\nlog_type error\nlog_type warning\nlog_type notice\nlog_type information\n";
  config += "connection_messages true\n";
  config += "set_tcp_nodelay true\n";  // forward small messages at once (no Nagle delay)
  config += "sys_interval " + std::to_string(options_.sys_interval_seconds) + "\n";
  // Generous queues: a client offline for hours of compressed time must get everything back.
  config += "max_queued_messages 1000000\nmax_inflight_messages 100\n";
  if (options_.persistence) {
    config += "persistence true\npersistence_location " + options_.directory + "/\nautosave_interval 1\n";
  }
  config += "listener " + std::to_string(port_) + " " + host_ + "\n";
  if (options_.tls) {
    config += "listener " + std::to_string(tls_port_) + " " + host_ + "\n";
    config += "cafile " + ca_file_ + "\ncertfile " + cert_file_ + "\nkeyfile " + key_file_ + "\n";
  }
  write_file_atomically(config_file_, config);
}

void MosquittoBroker::start() {
  if (process_.running()) return;
  // The broker is ours and ready when our process logs "running" after this start (a port taken by
  // another program in the meantime shows as "Address already in use" and the process's exit).
  const std::streamoff log_start = file_size(log_file_);
  process_ = ChildProcess({"mosquitto", "-c", config_file_}, log_file_ + ".stderr");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(options_.start_timeout_seconds);
  bool ready = false;
  while (!ready && process_.running() && std::chrono::steady_clock::now() < deadline) {
    ready = log_since(log_file_, log_start).find(" running") != std::string::npos;
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ready = ready && process_.running() && wait_for_listener(port_, 5) && (tls_port_ == 0 || wait_for_listener(tls_port_, 5));
  if (!ready) {
    process_.stop(1);
    throw InputError("broker: Mosquitto did not start on 127.0.0.1:" + std::to_string(port_) + " (config " + config_file_ +
                     "); its log ends:\n" + log_tail());
  }
}

void MosquittoBroker::stop() { process_.stop(5); }

void MosquittoBroker::kill() { process_.kill_now(); }

std::string MosquittoBroker::log_tail(int lines) const {
  std::deque<std::string> last;
  for (const std::string& path : {log_file_, log_file_ + ".stderr"}) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      last.push_back(line);
      if (static_cast<int>(last.size()) > lines) last.pop_front();
    }
  }
  std::string text;
  for (const std::string& line : last) text += line + "\n";
  return text;
}

}  // namespace edgelstm::host
