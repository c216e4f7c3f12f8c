#!/usr/bin/env bash
# Builds for this CPU and runs the core benchmarks against PyTorch in the same run; prints a table
# and one `speedup <case>: <ratio>x` line per case.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset native >/dev/null
cmake --build --preset native --target edgelstm_core_bench -j"$(nproc)"
/usr/bin/env python3 -c "import torch" 2>/dev/null && python=python3 || python=/usr/bin/python3
"$python" bench/run_bench.py build/native/bench/edgelstm_core_bench
