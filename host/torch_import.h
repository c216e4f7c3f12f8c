// Importing a PyTorch-trained nn.LSTM + nn.Linear, dumped by tools/export_torch_state_dict.py.
#pragma once

#include <string>

#include "host/model_io.h"

namespace edgelstm::host {

// Reads the dump at `path` and builds a model whose spec is inferred from the tensor shapes
// (input size, hidden size, layers, outputs) with the given window, task and output mode. Throws
// InputError naming the file and the tensor when something is missing, misshapen or extra.
ModelFile import_torch_dump(const std::string& path, std::uint16_t window, Task task, OutputMode mode);

}  // namespace edgelstm::host
