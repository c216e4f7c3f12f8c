#!/usr/bin/env bash
# Builds for this CPU and runs the core benchmarks against PyTorch in the same run; prints tables
# and one `speedup <case>: <ratio>x` line per case.
#
# PyTorch is measured with OpenBLAS (Debian's libopenblas0-pthread, installed here if missing)
# rather than the reference BLAS Debian selects by default; only the benchmark's PyTorch process
# uses it (bench/run_bench.py points LD_LIBRARY_PATH at it). Installing the package would also make
# it the system-wide BLAS through update-alternatives, so the previous selection is put back at
# once: other programs on the machine keep the BLAS they had.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
if ! dpkg-query -W -f='${Status}' libopenblas0-pthread 2>/dev/null | grep -q "install ok installed"; then
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -dumpmachine)
  previous=()
  for name in "libblas.so.3-$arch" "liblapack.so.3-$arch"; do
    value=$(update-alternatives --query "$name" 2>/dev/null | awk '/^Value:/ {print $2}')
    [ -n "$value" ] && previous+=("$name" "$value")
  done
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -q --no-install-recommends libopenblas0-pthread
  for ((k = 0; k < ${#previous[@]}; k += 2)); do
    "${as_root[@]}" update-alternatives --set "${previous[k]}" "${previous[k + 1]}"
  done
fi
cmake --preset native >/dev/null
cmake --build --preset native --target edgelstm_core_bench -j"$(nproc)"
/usr/bin/env python3 -c "import torch" 2>/dev/null && python=python3 || python=/usr/bin/python3
"$python" bench/run_bench.py build/native/bench/edgelstm_core_bench
