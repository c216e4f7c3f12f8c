// Partitions written as text, for the command line: "pipeline:N" (layers shared evenly among N
// nodes), "pipeline:0,2" (the first layer of each node), "split:N" (every layer's hidden units
// shared evenly among N nodes, even shares where the sizes allow). What a node holds, as text.
#pragma once

#include <string>

#include "edgelstm/partition.h"
#include "edgelstm/spec.h"

namespace edgelstm::distributed {

// Throws host::InputError "--partition 'text': <what is wrong>" for text that does not describe a
// valid partition of `spec`.
Partition parse_partition(const std::string& text, const LstmSpec& spec);
std::string partition_text(const Partition& partition);

// "layers 0-1 (all 32 units) + head" / "units 16-31 of layer 0".
std::string describe_share(const NodeShare& share);

}  // namespace edgelstm::distributed
