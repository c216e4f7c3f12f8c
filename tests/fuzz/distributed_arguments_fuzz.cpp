// libFuzzer target: the distributed runtime's command-line values, the hostile input of `edgelstm
// node` and `edgelstm cluster`. The input, as text, is given to
//   - parse_transport_url (--transport udp://..., mqtt://USER:PASSWORD@..., mqtts://...?ca=FILE);
//   - parse_partition (--partition pipeline:N, pipeline:0,2, split:N) for three networks: one
//     layer of one unit, three layers of 32 (the tests' network), four layers of odd and even sizes.
// A refusal must be a host::InputError (nothing else may escape) whose message names the option,
// quotes the value, is bounded and holds no control byte. A URL's message, and an accepted URL's
// printed form, must not depend on its password: the same input with another password gives the
// same message (so no part of the password, nor its length, shows). An accepted URL is on loopback
// with a port 1..65535, its form matches its scheme, and its fields written back as a URL parse to
// the same fields. An accepted partition is valid for the network, has as many nodes as the text
// names, its nodes' shares cover every layer's units exactly once (even shares in a split where the
// sizes allow, as make_hidden_split promises), and its printed form parses to the same partition.
// Seeds (corpus/distributed_arguments): the values of the unit tests and docs/distributed.md.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "distributed/partition_text.h"
#include "distributed/transport_url.h"
#include "host/input_error.h"

namespace {

using edgelstm::distributed::TransportUrl;

// A message holds at most two excerpts (the value and a field of it: each at most
// host::kExcerptBytes plus one escape, quotes, "..." and the length, 117 bytes) and under 100 bytes
// of fixed text: about 330 bytes, under the unit tests' bound for a megabyte of value.
constexpr std::size_t kMessageBound = 400;

void require(bool condition) {
  if (!condition) __builtin_trap();
}

// The message of the InputError `parse` throws (checked: it names `option`, quotes the value, is
// bounded and printable), or "" when it returns.
template <typename Parse>
std::string refusal_of(Parse&& parse, const std::string& option) {
  std::string message;
  try {
    parse();
    return "";
  } catch (const edgelstm::host::InputError& error) {
    message = error.what();
  } catch (...) {
    __builtin_trap();  // anything but an InputError (out_of_range, length_error...) is a defect
  }
  require(message.size() > option.size() + 4 && message.size() < kMessageBound);
  require(message.compare(0, option.size() + 2, option + " '") == 0);
  for (const char byte : message) require(static_cast<unsigned char>(byte) >= 0x20 && byte != 0x7F);
  return message;
}

// ---- Transport URLs ------------------------------------------------------------------------------

struct UrlOutcome {
  std::string message;  // "" when accepted
  TransportUrl url;
};

UrlOutcome parse_url(const std::string& text) {
  UrlOutcome outcome;
  outcome.message = refusal_of([&] { outcome.url = edgelstm::distributed::parse_transport_url(text); }, "--transport");
  return outcome;
}

// Where the password of SCHEME://USER:PASSWORD@HOST... lies: after the first ':' that follows
// "://", up to the last '@'. False when the text has no such field.
bool password_field(const std::string& text, std::size_t* begin, std::size_t* end) {
  const std::size_t scheme_end = text.find("://");
  const std::size_t at = text.rfind('@');
  if (scheme_end == std::string::npos || at == std::string::npos || at < scheme_end + 3) return false;
  const std::size_t colon = text.find(':', scheme_end + 3);
  if (colon == std::string::npos || colon > at) return false;
  *begin = colon + 1;
  *end = at;
  return true;
}

void check_accepted_url(const std::string& text, const TransportUrl& url) {
  const std::string scheme = text.substr(0, text.find("://"));
  require(url.port >= 1 && url.port <= 65535 && url.host == "127.0.0.1");
  if (scheme == "udp") {
    require(url.kind == TransportUrl::Kind::kUdp && url.user.empty() && url.password.empty() && url.ca_file.empty());
  } else {
    require(scheme == "mqtt" || scheme == "mqtts");
    require(url.kind == TransportUrl::Kind::kMqtt && !url.user.empty());
    require(url.user.find(':') == std::string::npos);
    require((scheme == "mqtts") == !url.ca_file.empty());
  }
  const std::string where = url.host + ":" + std::to_string(url.port);
  require(url.text == scheme + "://" + (url.user.empty() ? "" : url.user + ":***@") + where);
  // The fields written back as a URL parse to the same fields.
  const std::string again = scheme + "://" + (url.user.empty() ? "" : url.user + ":" + url.password + "@") + where +
                            (url.ca_file.empty() ? "" : "?ca=" + url.ca_file);
  const UrlOutcome reparsed = parse_url(again);
  require(reparsed.message.empty());
  require(reparsed.url.kind == url.kind && reparsed.url.host == url.host && reparsed.url.port == url.port &&
          reparsed.url.user == url.user && reparsed.url.password == url.password &&
          reparsed.url.ca_file == url.ca_file && reparsed.url.text == url.text);
}

void fuzz_transport_url(const std::string& text) {
  const UrlOutcome outcome = parse_url(text);
  if (outcome.message.empty()) check_accepted_url(text, outcome.url);
  std::size_t begin = 0, end = 0;
  if (!password_field(text, &begin, &end)) return;
  const std::string password = text.substr(begin, end - begin);
  if (outcome.message.empty() && outcome.url.kind == TransportUrl::Kind::kMqtt) require(outcome.url.password == password);
  // Another password (of another length): the same outcome, the same message, the same printed form.
  // Stronger than "the password is not in the message", which a password that also stands elsewhere
  // in the value ("udp://e/@...p://e/@") or in the fixed text ("expected") would break without a
  // leak: here no byte of the password, nor its length, may show.
  const std::string other = password == "x" ? "yz" : "x";
  const UrlOutcome with_other = parse_url(text.substr(0, begin) + other + text.substr(end));
  require(with_other.message == outcome.message);
  if (outcome.message.empty()) require(with_other.url.text == outcome.url.text);
}

// ---- Partitions ----------------------------------------------------------------------------------

edgelstm::LstmSpec network(std::size_t which) {
  if (which == 0) return edgelstm::make_spec(1, 1, 1, 1, 1);
  if (which == 1) return edgelstm::make_spec(1, 32, 3, 1, 4);
  edgelstm::LstmSpec spec = edgelstm::make_spec(3, 9, 4, 1, 2);
  spec.hidden_size[1] = 16;
  spec.hidden_size[2] = 5;
  spec.hidden_size[3] = 30;
  return spec;
}

// How many nodes the text names: the count of a list "pipeline:0,2", or the N of "KIND:N".
long nodes_named(const std::string& text) {
  const std::string list = text.substr(text.find(':') + 1);
  std::size_t commas = 0;
  for (const char c : list) commas += c == ',';
  return commas > 0 ? static_cast<long>(commas + 1) : std::strtol(list.c_str(), nullptr, 10);
}

void check_accepted_partition(const std::string& text, const edgelstm::LstmSpec& spec,
                              const edgelstm::Partition& partition) {
  require(edgelstm::validate_partition(spec, partition) == edgelstm::Status::kOk);
  require(partition.nodes == nodes_named(text));
  const bool split = partition.kind == edgelstm::PartitionKind::kHiddenSplit;
  require(split == (text.compare(0, 6, "split:") == 0));
  // Every layer's units held exactly once: contiguous shares, in node order.
  std::size_t next_unit[edgelstm::kMaxLayers] = {}, next_layer = 0;
  for (std::size_t k = 0; k < partition.nodes; ++k) {
    const edgelstm::NodeShare share = edgelstm::node_share(spec, partition, k);
    require(share.layer_count >= 1 && !edgelstm::distributed::describe_share(share).empty());
    require(share.head == (k == (split ? 0u : partition.nodes - 1u)));
    for (std::size_t j = 0; j < share.layer_count; ++j) {
      const edgelstm::NodeLayer& layer = share.layers[j];
      require(layer.layer < spec.num_layers && layer.hidden == spec.hidden(layer.layer) && layer.units >= 1);
      require(layer.first_unit == next_unit[layer.layer]);
      next_unit[layer.layer] += layer.units;
      if (split && layer.hidden % 2 == 0 && layer.hidden >= 2 * partition.nodes) require(layer.units % 2 == 0);
      if (!split) require(layer.layer == next_layer++);
    }
  }
  for (std::size_t l = 0; l < spec.num_layers; ++l) require(next_unit[l] == spec.hidden(l));
  // The printed form parses to the same partition, and prints the same again.
  const std::string printed = edgelstm::distributed::partition_text(partition);
  edgelstm::Partition again;
  require(refusal_of([&] { again = edgelstm::distributed::parse_partition(printed, spec); }, "--partition").empty());
  require(edgelstm::same_partition(again, partition));
  require(edgelstm::distributed::partition_text(again) == printed);
}

void fuzz_partition(const std::string& text) {
  for (std::size_t which = 0; which < 3; ++which) {
    const edgelstm::LstmSpec spec = network(which);
    edgelstm::Partition partition;
    const std::string message =
        refusal_of([&] { partition = edgelstm::distributed::parse_partition(text, spec); }, "--partition");
    if (message.empty()) check_accepted_partition(text, spec, partition);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  fuzz_transport_url(text);
  fuzz_partition(text);
  return 0;
}
