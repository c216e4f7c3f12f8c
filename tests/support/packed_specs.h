// Network shapes shared by the packed float and packed int8 tests (heap-free, so they also run on
// targets).
#pragma once

#include "edgelstm/spec.h"

namespace edgelstm::test {

// Four layers whose gate rows split into panels of 5, 4, 4 vectors of 16 rows (H = 50 -> 208 rows,
// padded), 1 (H = 1 -> 16 rows), 6 (H = 24 -> 96) and 3 (H = 12 -> 48): hidden widths that are not
// multiples of 4, a 3-feature input (one group, padded), and an output at every step.
inline LstmSpec odd_panel_spec() {
  auto spec = make_spec(3, 50, 4, 2, 5, Task::kRegression, OutputMode::kEveryStep);
  spec.hidden_size[1] = 1;
  spec.hidden_size[2] = 24;
  spec.hidden_size[3] = 12;
  return spec;
}

// The paper's network: one layer of 100 units over a window of 6, one input.
constexpr LstmSpec kPaperSpec = make_spec(1, 100, 1, 1, 6);

}  // namespace edgelstm::test
