#include "distributed/partition_text.h"

#include <cstdlib>
#include <vector>

#include "host/input_error.h"

namespace edgelstm::distributed {
namespace {

[[noreturn]] void refuse(const std::string& text, const std::string& why) {
  throw host::InputError("--partition " + host::excerpt(text) + ": " + why);
}

std::vector<long> numbers(const std::string& text, const std::string& list) {
  std::vector<long> values;
  if (list.empty()) return values;
  // Every item between commas, the empty ones too: getline would drop an empty last item and take
  // "pipeline:0,2," for "pipeline:0,2".
  for (std::size_t begin = 0;;) {
    const std::size_t comma = list.find(',', begin);
    const std::string item = list.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin);
    if (!host::is_decimal(item, 9)) {
      refuse(text, "expected non-negative integers, found " + host::excerpt(item));
    }
    values.push_back(std::strtol(item.c_str(), nullptr, 10));
    if (comma == std::string::npos) return values;
    begin = comma + 1;
  }
}

}  // namespace

Partition parse_partition(const std::string& text, const LstmSpec& spec) {
  const std::size_t colon = text.find(':');
  const std::string kind = text.substr(0, colon);
  if (colon == std::string::npos || (kind != "pipeline" && kind != "split")) {
    refuse(text, "expected pipeline:N, pipeline:FIRST_LAYERS (e.g. pipeline:0,2) or split:N");
  }
  const std::vector<long> values = numbers(text, text.substr(colon + 1));
  if (values.empty()) refuse(text, "expected a number of nodes");
  Partition partition;
  if (values.size() == 1) {
    if (values[0] < 1 || values[0] > static_cast<long>(kMaxNodes)) {
      refuse(text, "between 1 and " + std::to_string(kMaxNodes) + " nodes");
    }
    partition = kind == "pipeline" ? make_layer_pipeline(spec, static_cast<std::size_t>(values[0]))
                                   : make_hidden_split(spec, static_cast<std::size_t>(values[0]));
  } else {
    if (kind != "pipeline") refuse(text, "a split takes a number of nodes");
    if (values.size() > kMaxNodes) refuse(text, "at most " + std::to_string(kMaxNodes) + " nodes");
    partition.kind = PartitionKind::kLayerPipeline;
    partition.nodes = static_cast<std::uint8_t>(values.size());
    for (std::size_t k = 0; k < values.size(); ++k) {
      // Checked before the narrowing to a byte: 257 would become layer 1.
      if (values[k] >= static_cast<long>(spec.num_layers)) {
        refuse(text, "first layer " + std::to_string(values[k]) + ": the network has " + std::to_string(spec.num_layers) +
                         " layer(s)");
      }
      partition.first_layer[k] = static_cast<std::uint8_t>(values[k]);
    }
    partition.first_layer[values.size()] = spec.num_layers;
  }
  if (validate_partition(spec, partition) != Status::kOk) {
    refuse(text, kind == "pipeline" ? "the network has " + std::to_string(spec.num_layers) +
                                          " layer(s): every node needs at least one, first layers increasing from 0"
                                    : "every node needs at least one hidden unit of every layer (smallest layer: " +
                                          std::to_string(spec.hidden(0)) + " units)");
  }
  return partition;
}

std::string partition_text(const Partition& partition) {
  if (partition.kind == PartitionKind::kHiddenSplit) return "split:" + std::to_string(partition.nodes);
  // One node: "pipeline:1" (its list of first layers, "pipeline:0", would read as zero nodes).
  if (partition.nodes == 1) return "pipeline:1";
  std::string text = "pipeline:";
  for (std::size_t k = 0; k < partition.nodes; ++k) text += (k ? "," : "") + std::to_string(partition.first_layer[k]);
  return text;
}

std::string describe_share(const NodeShare& share) {
  std::string text;
  for (std::size_t k = 0; k < share.layer_count; ++k) {
    const NodeLayer& layer = share.layers[k];
    if (k > 0) text += ", ";
    text += "layer " + std::to_string(layer.layer);
    if (layer.units != layer.hidden) {
      text += " units " + std::to_string(layer.first_unit) + "-" + std::to_string(layer.first_unit + layer.units - 1) +
              " of " + std::to_string(layer.hidden);
    } else {
      text += " (" + std::to_string(layer.hidden) + " units)";
    }
  }
  return share.head ? text + " + head" : text;
}

}  // namespace edgelstm::distributed
