#!/usr/bin/env bash
# Sets up (Debian 12 packages), builds and runs every test: the portable host build, the build for
# this CPU (SIMD kernels), an AddressSanitizer + UndefinedBehaviorSanitizer build, bounded libFuzzer
# runs of every fuzz target (CSV reader, model file reader, the CLI's model loading, the frames between
# nodes, COBS framing, the meter's flash checkpoint, the fleet's meter frames, the distributed
# runtime's --partition and --transport values; 30 s each with coverage
# floors, scripts/fuzz.sh runs them longer), and the core's tests on the emulated microcontrollers
# (Cortex-M4F, RV32IMC, RV32IMAFC, Xtensa LX106 under QEMU), then checks that the committed
# instruction counts of the quantization study, of the battery policy and of the fleet's meter are
# current.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs="$(nproc)"
for preset in default native asan fuzz cortex-m4f rv32imc rv32imafc xtensa-lx106; do
  echo "=== $preset ==="
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j"$jobs"
  ctest --preset "$preset" -j"$jobs"
done
# The quantization study's instruction counts (bench/mcu/step_costs.csv) must be those the current
# code takes on the emulated targets (exact counts; regenerate with cost_table.py --csv).
python3 bench/mcu/cost_table.py --check bench/mcu/step_costs.csv
# The integer battery policy's instructions per decision (bench/mcu/policy_costs.csv), likewise.
python3 bench/mcu/policy_cost.py --check bench/mcu/policy_costs.csv
# The fleet meter's counts (bench/mcu/meter_costs.csv, read by edgelstm fleet) likewise.
python3 bench/mcu/meter_costs.py --check bench/mcu/meter_costs.csv
echo "all tests passed (default, native, asan, fuzz, cortex-m4f, rv32imc, rv32imafc, xtensa-lx106; step, decision and meter costs current)"
