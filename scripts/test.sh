#!/usr/bin/env bash
# Sets up (Debian 12 packages), builds and runs every test: the portable build, the build for this
# CPU (SIMD kernels), and an AddressSanitizer + UndefinedBehaviorSanitizer build.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs="$(nproc)"
for preset in default native asan; do
  echo "=== $preset ==="
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j"$jobs"
  ctest --preset "$preset" -j"$jobs"
done
echo "all tests passed (default, native, asan)"
