#!/usr/bin/env bash
# Sets up (Debian 12 packages), builds and runs the demo: the paper's 6 x 100 LSTM learning a
# sine wave in a static arena, printing its loss as it falls.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default --target edgelstm_sine_demo -j"$(nproc)"
build/default/examples/edgelstm_sine_demo
