#include "policy/firmware_export.h"

#include <cstdio>
#include <sstream>
#include <vector>

#include "host/csv_reader.h"
#include "host/integer_forecaster.h"
#include "host/model_export.h"
#include "host/output_file.h"

namespace edgelstm::policy {

void export_policy_firmware(const host::ModelFile& integer_model, const Home& home, const Battery& battery,
                            const Readings& readings, StepRange test, int decisions, const std::string& path) {
  if (decisions < 1 || static_cast<std::size_t>(decisions) > test.size()) {
    throw host::InputError("--replay-decisions: expected 1.." + std::to_string(test.size()));
  }
  host::BoundIntegerModel bound(integer_model);
  IntegerNetwork& net = bound.adapter().net;
  const LstmSpec& spec = integer_model.spec;
  const int window = spec.window, classes = spec.output_size;
  std::vector<float> x(static_cast<std::size_t>(window * kDecisionFeatures));
  std::vector<std::int16_t> inputs;
  std::vector<std::int32_t> logits(static_cast<std::size_t>(classes)), all_logits, levels, actions;
  int level = battery.initial_level();
  for (int k = 0; k < decisions; ++k) {
    const std::size_t t = test.begin + static_cast<std::size_t>(k);
    decision_window(home, battery, readings, level, t, window, x.data());
    net.reset_state();
    for (int s = 0; s < window; ++s) {
      const std::size_t first = inputs.size();
      for (int f = 0; f < kDecisionFeatures; ++f) inputs.push_back(net.quantize_input(x[static_cast<std::size_t>(s * kDecisionFeatures + f)]));
      if (net.step(Span<const std::int16_t>(inputs.data() + first, kDecisionFeatures),
                   Span<std::int32_t>(logits.data(), logits.size())) != Status::kOk) {
        throw host::InputError("firmware replay: the integer network refused a step");
      }
    }
    const int action = best_feasible_action(battery, level, logits.data());
    levels.push_back(level);
    actions.push_back(action);
    all_logits.insert(all_logits.end(), logits.begin(), logits.end());
    level = battery.step(level, action, home.demand_kwh[t], home.price[t], home.feed_in_price).level_after;
  }
  const std::vector<std::uint8_t> bytes = host::serialize_model(integer_model);
  std::ostringstream out;
  out << "// Exported by `edgelstm policy --export-firmware` from the study's integer policy (" << home.name
      << "); do not edit.\n// The model file itself: read_model(kBatteryPolicy, &view), then IntegerNetwork::bind(view, arena).\n"
      << "#pragma once\n\n#include <cstdint>\n\n";
  host::append_c_array(out, "std::uint8_t", "kBatteryPolicy", bytes);
  out << "\n// Replay: the first " << decisions << " decisions of the test span in closed loop. Each decision runs its\n"
      << "// window of " << window << " steps x " << kDecisionFeatures << " int16 inputs from a zero state; the action is the\n"
      << "// feasible one (-min(level, L) .. min(L, top - level)) with the largest int32 logit, the lowest on a tie.\n"
      << "inline constexpr int kBatteryPolicyDecisions = " << decisions << ", kBatteryPolicyWindow = " << window
      << ", kBatteryPolicyFeatures = " << kDecisionFeatures << ", kBatteryPolicyClasses = " << classes
      << ", kBatteryPolicyLevels = " << battery.levels() << ", kBatteryPolicyTop = " << battery.top() << ";\n";
  host::append_c_array(out, "std::int16_t", "kBatteryPolicyInputs", inputs);
  host::append_c_array(out, "std::int32_t", "kBatteryPolicyLevel", levels);
  host::append_c_array(out, "std::int32_t", "kBatteryPolicyLogits", all_logits);
  host::append_c_array(out, "std::int32_t", "kBatteryPolicyAction", actions);
  host::write_file_atomically(path, out.str());
  std::printf("wrote %s (%zu model bytes, %d decisions)\n", path.c_str(), bytes.size(), decisions);
}

}  // namespace edgelstm::policy
