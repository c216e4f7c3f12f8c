// A home battery controller for a meter without an FPU: the LSTM policy of `edgelstm policy` (the
// paper's 6 x 100 network with a softmax over the battery's actions), converted to the full-integer
// path and exported as its model file bytes (battery_policy_model.h), is bound in place from flash
// and decides the first test day's half-hours with integer arithmetic only. Every decision's logits
// and action must equal, bit for bit, what the host computed for the same int16 inputs. Each
// decision (six LSTM steps from a zero state, the head, the choice of the best feasible action) is
// marked for the instruction-counting QEMU plugin (bench/mcu/policy_cost.py).
//
// Regenerate the header after a change to the integer path or to the policy's training: run
// scripts/demo.sh (its policy step writes report/battery_policy_model.h), then copy it here.
#include <cstdint>
#include <cstdio>

#include "battery_policy_model.h"
#include "edgelstm/integer_network.h"
#include "edgelstm/model_format.h"
#include "markers.h"

namespace {

alignas(edgelstm::kArenaAlignment) std::uint8_t g_arena[8192];

// The feasible action (-min(level, L) .. min(L, top - level)) with the largest logit, the lowest on a tie.
int best_feasible_action(const std::int32_t* logits, int level) {
  const int low = level < kBatteryPolicyLevels ? -level : -kBatteryPolicyLevels;
  const int high = kBatteryPolicyTop - level < kBatteryPolicyLevels ? kBatteryPolicyTop - level : kBatteryPolicyLevels;
  int best = low;
  for (int a = low + 1; a <= high; ++a) {
    if (logits[a + kBatteryPolicyLevels] > logits[best + kBatteryPolicyLevels]) best = a;
  }
  return best;
}

// On the LX106 the markers also read the cycle counter CCOUNT, which bench/mcu/cost_table.py checks
// the plugin's count against ("ccount <region> <ticks>").
void print_ccount(int region) {
#if defined(__xtensa__)
  std::printf("ccount %d %u\n", region, static_cast<unsigned>(edgelstm::bench::region_ccount_ticks()));
#else
  (void)region;
#endif
}

}  // namespace

int main() {
  static_assert(edgelstm::integer_inference_bytes(edgelstm::make_spec(kBatteryPolicyFeatures, 100, 1, kBatteryPolicyClasses,
                                                                      kBatteryPolicyWindow, edgelstm::Task::kClassification)) <=
                    sizeof g_arena,
                "the arena holds the policy's integer state");
  edgelstm::ModelView view;
  if (edgelstm::read_model(edgelstm::Span<const std::uint8_t>(kBatteryPolicy, sizeof kBatteryPolicy), &view) !=
      edgelstm::Status::kOk) {
    std::printf("model rejected\n");
    return 1;
  }
  edgelstm::IntegerNetwork net;
  const edgelstm::Status bound = net.bind(view, g_arena);
  if (bound != edgelstm::Status::kOk) {
    std::printf("bind: %s\n", edgelstm::status_name(bound));
    return 1;
  }
  std::printf("battery policy (full integer): model %u bytes in flash, arena %u bytes\n",
              static_cast<unsigned>(sizeof kBatteryPolicy), static_cast<unsigned>(edgelstm::integer_inference_bytes(view.spec())));
  // Region 0 is empty: the markers' own cost, subtracted by the counting script.
  EDGELSTM_MARK_BEGIN();
  EDGELSTM_MARK_END();
  std::printf("region 0 0 0 0 empty\n");
  print_ccount(0);
  unsigned differing = 0;
  for (int k = 0; k < kBatteryPolicyDecisions; ++k) {
    const std::int16_t* inputs = kBatteryPolicyInputs + k * kBatteryPolicyWindow * kBatteryPolicyFeatures;
    std::int32_t logits[kBatteryPolicyClasses] = {};
    edgelstm::Status status = edgelstm::Status::kOk;
    EDGELSTM_MARK_BEGIN();
    net.reset_state();
    for (int s = 0; s < kBatteryPolicyWindow && status == edgelstm::Status::kOk; ++s) {
      status = net.step(edgelstm::Span<const std::int16_t>(inputs + s * kBatteryPolicyFeatures, kBatteryPolicyFeatures),
                        edgelstm::Span<std::int32_t>(logits, kBatteryPolicyClasses));
    }
    const int action = best_feasible_action(logits, kBatteryPolicyLevel[k]);
    EDGELSTM_MARK_END();
    if (status != edgelstm::Status::kOk) return 1;
    std::printf("region %d %d %d %d decision-%d\n", k + 1, kBatteryPolicyFeatures, static_cast<int>(view.spec().hidden(0)),
                kBatteryPolicyClasses, k);
    print_ccount(k + 1);
    bool same = action == kBatteryPolicyAction[k];
    for (int c = 0; c < kBatteryPolicyClasses; ++c) same = same && logits[c] == kBatteryPolicyLogits[k * kBatteryPolicyClasses + c];
    differing += same ? 0 : 1;
  }
  std::printf("%d decisions; %u differ from the host's\n", kBatteryPolicyDecisions, differing);
  return differing == 0 ? 0 : 1;
}
