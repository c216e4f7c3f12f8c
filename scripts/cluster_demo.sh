#!/usr/bin/env bash
# The cluster of emulated boards (docs/mcu.md, "Boards"), each board its own QEMU process, wired by
# serial lines through a relay on loopback:
#   1. the demo's Taylor forecaster on the full-integer path, split over an STM32F405 and an MPS2
#      board, forecasts the last two weeks exactly as the host and the single-board firmware do;
#   2. the paper's 6 x 100 network learns the Taylor stream across four 128 KB STM32F405 boards
#      (one board cannot hold it: 357 KB of arena with SGD), each board printing its progress and
#      board 0 the learning curve (a line a day, a line a week), and ends with the weights of one host
#      process training the whole network from the same initial weights.
# Every board runs under a timeout; no process outlives the script.
#
# usage: scripts/cluster_demo.sh [--windows N | --full]
#   --windows N  training windows, one per half-hourly reading (default 329: the first week's readings
#                after the 7 a window needs before it; a few minutes on a 2-core host, where four
#                emulated boards move about 10 KB/s each)
#   --full       the whole stream: 4,025 windows (twelve weeks; about an hour on such a host)
set -euo pipefail
cd "$(dirname "$0")/.."
windows=329
case "${1:-}" in
  "") ;;
  --windows) windows="${2:?--windows needs a number}" ;;
  --full) windows=4025 ;;
  *) echo "usage: scripts/cluster_demo.sh [--windows N | --full]" >&2; exit 2 ;;
esac
if ! [[ "$windows" =~ ^[0-9]+$ ]] || (( windows < 1 || windows > 4025 )); then
  echo "cluster_demo.sh: --windows: expected 1..4025, got '$windows'" >&2
  exit 2
fi
jobs="$(nproc)"
cmake --preset cortex-m4f >/dev/null
cmake --build --preset cortex-m4f -j"$jobs" --target edgelstm_cluster_infer_node0_stm32f405 \
  edgelstm_cluster_infer_node1_mps2_an386 edgelstm_cluster_train_node{0,1,2,3}_stm32f405
cmake --preset default >/dev/null
cmake --build --preset default -j"$jobs" --target edgelstm_cluster_reference
firmware=build/cortex-m4f/examples/cluster
run_cluster=(python3 examples/cluster/run_cluster.py --quiet)

echo "== the Taylor forecaster (full integer) split over two boards: the last two weeks"
"${run_cluster[@]}" --timeout 300 --board netduinoplus2 "$firmware/edgelstm_cluster_infer_node0_stm32f405" \
  --board mps2-an386 "$firmware/edgelstm_cluster_infer_node1_mps2_an386"

echo
echo "== the paper's 6 x 100 network learns across four 128 KB STM32F405 boards ($windows windows)"
reference="$(mktemp)"
trap 'rm -f "$reference"' EXIT
build/default/examples/edgelstm_cluster_reference "$windows" >"$reference"
boards=()
for node in 0 1 2 3; do
  boards+=(--board netduinoplus2 "$firmware/edgelstm_cluster_train_node${node}_stm32f405" "$windows")
done
# About a second a window on a busy 2-core host, plus start-up; the timeout leaves twice that.
python3 tests/firmware/compare_cluster.py --report "$reference" -- \
  "${run_cluster[@]}" --timeout $((60 + 2 * windows)) "${boards[@]}"
