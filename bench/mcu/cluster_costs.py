#!/usr/bin/env python3
"""Figures of the paper's network training across four boards (examples/cluster/cluster_train.cpp).

Builds the cortex-m4f preset's four training images (STM32F405, linked for its 128 KB of SRAM), runs
them on QEMU netduinoplus2 through examples/cluster/run_cluster.py for WINDOWS windows with the
instruction-counting plugin (tools/qemu-plugin/insn_count.c), and prints Markdown tables:
  - per board: flash (text + rodata + initialized data) and static RAM (data + bss: the node's arena
    and the UART rings) from the ELF, the stack's high-water mark and the RAM left for it (128 KB
    minus the static RAM);
  - per board and training window: instructions (median and range over the windows), serial bytes
    sent and received, wall time;
  - the single-board arena of the same network (train_bytes with SGD), for comparison.
A window's instructions are everything the core executed from the end of one window to the end of
the next: the node's share of forward, BPTT and the SGD update, the session (frames, CRC-32,
acknowledgements), the COBS framing and the UART interrupts. Waiting costs a few instructions per
2 ms wake-up (WFI sleeps), so the counts vary slightly with the host's speed: medians are given.

usage: bench/mcu/cluster_costs.py [--windows N]   (from the repository root; needs scripts/install-deps.sh)
"""
import argparse
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cost_table import ROOT, build_plugin, run, sizes  # noqa: E402

NODES = 4
RAM_BYTES = 128 * 1024  # the STM32F405's SRAM the images are linked for
SINGLE_BOARD_SGD_ARENA = 356896  # train_bytes(6 x 100, SGD): docs/mcu.md, "Does the paper's network train on the chip?"


def image(node):
    return os.path.join(ROOT, "build", "cortex-m4f", "examples", "cluster", f"edgelstm_cluster_train_node{node}_stm32f405")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--windows", type=int, default=12, help="training windows to measure (default 12)")
    args = parser.parse_args()
    run(["cmake", "--preset", "cortex-m4f"])
    run(["cmake", "--build", "--preset", "cortex-m4f", "--target"] +
        [f"edgelstm_cluster_train_node{k}_stm32f405" for k in range(NODES)])
    plugin = build_plugin()
    command = [sys.executable, os.path.join(ROOT, "examples", "cluster", "run_cluster.py"), "--timeout", "600",
               "--plugin", plugin]
    for node in range(NODES):
        command += ["--board", "netduinoplus2", image(node), str(args.windows)]
    text = run(command).stdout
    print(f"{NODES} STM32F405 boards (QEMU netduinoplus2, 128 KB of SRAM each), the paper's network "
          f"(input 1, 6 steps, 100 hidden units, dense head) split by hidden units, SGD; {args.windows} windows.\n")
    print("| board | units | flash | static RAM (arena included) | stack used / RAM left for it | instructions per window "
          "(median, range) | serial bytes per window sent / received |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for node in range(NODES):
        lines = [line[len(f"[board {node}] "):] for line in text.splitlines() if line.startswith(f"[board {node}] ")]
        board = "\n".join(lines)
        counts = [int(c) for c in re.findall(r"^insn_count \d+ (\d+)$", board, re.M)]
        units = re.search(r"units (\d+)-(\d+) of \d+( and the head)?", board)
        traffic = re.search(r"on the lines (\d+) bytes sent, (\d+) received; stack high water (\d+) bytes", board)
        if len(counts) != args.windows or not units or not traffic:
            sys.exit(f"board {node}: could not read {args.windows} counts, its units and its traffic:\n{board}")
        flash, ram = sizes("cortex-m4f", "arm-none-eabi-size", f"cluster/{os.path.basename(image(node))}")
        share = f"{units.group(1)}-{units.group(2)}{' + head' if units.group(3) else ''}"
        print(f"| {node} | {share} | {flash:,} | {ram:,} | {int(traffic.group(3)):,} / {RAM_BYTES - ram:,} | "
              f"{int(statistics.median(counts)):,} ({min(counts):,}-{max(counts):,}) | "
              f"{int(traffic.group(1)) // args.windows:,} / {int(traffic.group(2)) // args.windows:,} |")
    elapsed = re.search(r"^\[board 0\] node 0: (\d+) windows in (\d+) ms$", text, re.M)
    if elapsed:
        print(f"\nWall time here: {int(elapsed.group(2)) / int(elapsed.group(1)) / 1000:.2f} s per window "
              f"(under the instruction-counting plugin; this host's load varies).")
    print(f"\nThe same network on one board: {SINGLE_BOARD_SGD_ARENA:,} bytes of arena with SGD.")


if __name__ == "__main__":
    main()
