#!/usr/bin/env python3
"""Instructions per decision of the integer battery policy on the emulated microcontrollers.

For each target (cortex-m4f, rv32imc, rv32imafc, xtensa-lx106) this builds
examples/policy/policy_integer.cpp (the integer LSTM policy of `edgelstm policy`, 6 x 100, bound from
flash) and runs it under QEMU with the instruction-counting plugin (tools/qemu-plugin/insn_count.c,
as bench/mcu/cost_table.py does). Each replayed decision -- six integer LSTM steps from a zero state,
the softmax head's logits, the choice of the best feasible action -- is one counted region; the
program also checks every decision against the host's. Prints mean, min and max instructions per
decision over the replayed day. On xtensa-lx106 cost_table.measure also checks each count against
the core's CCOUNT (-icount shift=0).

Usage: bench/mcu/policy_cost.py [--csv PATH | --check PATH]   (from the repository root)
  --csv PATH    also writes target,decisions,mean,min,max (after a '#' line telling how it was made)
  --check PATH  fails when PATH holds other counts than those measured now
"""
import argparse
import datetime
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cost_table  # noqa: E402  (the plugin build, the QEMU run and the region pairing)

TARGETS = ("cortex-m4f", "rv32imc", "rv32imafc", "xtensa-lx106")
PROGRAM = "edgelstm_policy_integer"
HEADER = "target,decisions,mean,min,max"


def decision_counts(target, plugin):
    cost_table.run(["cmake", "--preset", target])
    cost_table.run(["cmake", "--build", "--preset", target, "--target", PROGRAM])
    table, text = cost_table.measure(target, plugin, PROGRAM, folder="examples")
    if "0 differ from the host's" not in text:
        sys.exit(f"{target}: the policy firmware does not reproduce the host's decisions:\n{text}")
    counts = [n for (_, _, _, kind), n in sorted(table.items(), key=lambda item: int(item[0][3].split("-")[1]))
              if kind.startswith("decision-")]
    if not counts:
        sys.exit(f"{target}: no decision was counted:\n{text}")
    return counts


def summary(counts):
    return len(counts), round(sum(counts) / len(counts)), min(counts), max(counts)


def read_csv(path):
    return {fields[0]: tuple(int(f) for f in fields[1:]) for fields in cost_table.csv_rows(path, HEADER)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--csv", metavar="PATH")
    parser.add_argument("--check", metavar="PATH")
    args = parser.parse_args()
    plugin = cost_table.build_plugin()
    results = {target: summary(decision_counts(target, plugin)) for target in TARGETS}
    print("| target | decisions | instructions per decision (mean) | min | max |\n|---|---:|---:|---:|---:|")
    for target, (n, mean, low, high) in results.items():
        print(f"| {target} | {n} | {mean:,} | {low:,} | {high:,} |")
    if args.check:
        committed = read_csv(args.check)
        differences = [f"{t}: measured {r}, {args.check} has {committed.get(t)}" for t, r in results.items()
                       if committed.get(t) != r]
        for line in differences:
            print(line)
        if differences:
            sys.exit(f"{args.check} is out of date: regenerate it with bench/mcu/policy_cost.py --csv {args.check}")
        print(f"{args.check}: current")
    if args.csv:
        commit = cost_table.run(["git", "rev-parse", "--short", "HEAD"]).stdout.strip()
        with open(args.csv, "w", encoding="utf-8") as out:
            out.write(f"# python3 bench/mcu/policy_cost.py --csv {os.path.relpath(os.path.abspath(args.csv), cost_table.ROOT)}; "
                      f"QEMU {cost_table.qemu_version()} with tools/qemu-plugin/insn_count.c (exact instructions per "
                      f"decision of examples/policy/policy_integer.cpp, marker cost subtracted); commit {commit}; "
                      f"{datetime.date.today().isoformat()}\n")
            out.write(HEADER + "\n")
            for target, row in results.items():
                out.write(f"{target},{','.join(map(str, row))}\n")


if __name__ == "__main__":
    main()
