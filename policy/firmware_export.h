// The integer policy as a firmware header (examples/policy/battery_policy_model.h): the model file's
// bytes, bound in place from flash, and a replay of its first decisions on the test span in closed
// loop -- each decision's int16 input window, the battery's level, and the int32 logits and action
// the host computed -- for a firmware to reproduce bit for bit and to count its instructions.
#pragma once

#include <string>

#include "host/model_io.h"
#include "policy/battery.h"
#include "policy/decision_inputs.h"
#include "policy/home.h"

namespace edgelstm::policy {

// Writes the header to `path` (atomically). `integer_model` must carry the integer path; the
// replay covers the first `decisions` steps of `test`.
void export_policy_firmware(const host::ModelFile& integer_model, const Home& home, const Battery& battery,
                            const Readings& readings, StepRange test, int decisions, const std::string& path);

}  // namespace edgelstm::policy
