#!/usr/bin/env bash
# Sets up (Debian 12 packages), builds and runs every test: the portable host build, the build for
# this CPU (SIMD kernels), an AddressSanitizer + UndefinedBehaviorSanitizer build, bounded libFuzzer
# runs of the CSV reader and the model loader, and the core's
# tests on the emulated microcontrollers (Cortex-M4F, RV32IMC, RV32IMAFC under QEMU).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs="$(nproc)"
for preset in default native asan fuzz cortex-m4f rv32imc rv32imafc; do
  echo "=== $preset ==="
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j"$jobs"
  ctest --preset "$preset" -j"$jobs"
done
echo "all tests passed (default, native, asan, fuzz, cortex-m4f, rv32imc, rv32imafc)"
