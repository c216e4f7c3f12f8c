#!/usr/bin/env python3
"""What the fleet's self-learning meter costs on the emulated microcontrollers, counted exactly.

For each target (cortex-m4f, rv32imc, rv32imafc, xtensa-lx106) this builds bench/mcu/meter_cost.cpp, runs it under
QEMU with the instruction-counting plugin (tools/qemu-plugin/insn_count.c) and reads its size:
  observe, checkpoint, restore, encode_readings  instructions (see meter_cost.cpp)
  flash_bytes, ram_bytes                          the firmware: text + rodata, data + bss (static
                                                  arena, checkpoint buffer and flash stand-in included)
  arena_bytes, checkpoint_bytes, checkpoint_slot_bytes
`edgelstm fleet` reads the CSV for the meters' instructions per day and energy.

Usage: bench/mcu/meter_costs.py --csv bench/mcu/meter_costs.csv   (writes it)
       bench/mcu/meter_costs.py --check bench/mcu/meter_costs.csv (fails when the counts changed)
"""
import argparse
import datetime
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cost_table  # noqa: E402  (the plugin, QEMU runs and git helpers it already has)

KINDS = ("observe", "checkpoint", "restore", "encode_readings")
PROGRAM = "edgelstm_meter_cost"


def measure(target, plugin):
    cost_table.run(["cmake", "--preset", target])
    cost_table.run(["cmake", "--build", "--preset", target, "--target", PROGRAM])
    table, text = cost_table.measure(target, plugin, PROGRAM)
    values = {kind: table[(7, 16, 1, kind)] for kind in KINDS}
    buffers = re.search(r"^arena (\d+) checkpoint (\d+) slot (\d+)$", text, re.M)
    if not buffers:
        sys.exit(f"{target}: {PROGRAM} printed no buffer sizes:\n{text}")
    values["arena_bytes"], values["checkpoint_bytes"], values["checkpoint_slot_bytes"] = map(int, buffers.groups())
    output = cost_table.run([cost_table.TARGETS[target], "-A",
                             os.path.join("build", target, "bench", "mcu", PROGRAM)]).stdout
    section = {name: int(size) for name, size in re.findall(r"^(\.\S+)\s+(\d+)", output, re.M)}
    values["flash_bytes"] = sum(section.get(name, 0) for name in (".init", ".text", ".rodata", ".except_ordered",
                                                                   ".except_unordered", ".ARM.exidx", ".data"))
    values["ram_bytes"] = sum(section.get(name, 0) for name in (".data", ".bss", ".tbss_space"))
    return values


def read_csv(path):
    return {(target, kind): int(value) for target, kind, value in cost_table.csv_rows(path, "target,kind,value")}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--csv", metavar="PATH", help="write the counts and sizes here")
    group.add_argument("--check", metavar="PATH", help="fail when PATH holds other instruction counts")
    args = parser.parse_args()
    plugin = cost_table.build_plugin()
    results = {target: measure(target, plugin) for target in cost_table.TARGETS}
    if args.check:
        committed = read_csv(args.check)
        differences = [f"{target},{kind}: measured {values[kind]}, {args.check} has {committed.get((target, kind))}"
                       for target, values in results.items() for kind in KINDS
                       if committed.get((target, kind)) != values[kind]]
        for line in differences:
            print(line)
        if differences:
            sys.exit(f"{args.check} is out of date: regenerate it with bench/mcu/meter_costs.py --csv {args.check}")
        print(f"{args.check}: all {len(KINDS) * len(results)} counts current")
        return
    commit = cost_table.run(["git", "rev-parse", "--short", "HEAD"]).stdout.strip()
    dirty = bool(cost_table.run(["git", "status", "--porcelain", "--untracked-files=no"]).stdout.strip())
    absolute = os.path.abspath(args.csv)
    shown = os.path.relpath(absolute, cost_table.ROOT) if absolute.startswith(cost_table.ROOT + os.sep) else args.csv
    with open(args.csv, "w", encoding="utf-8") as out:
        out.write(f"# python3 bench/mcu/meter_costs.py --csv {shown}; QEMU {cost_table.qemu_version()} with "
                  f"tools/qemu-plugin/insn_count.c (exact instruction counts, marker cost subtracted); commit "
                  f"{commit}{' + uncommitted changes' if dirty else ''}; {datetime.date.today().isoformat()}\n")
        out.write("target,kind,value\n")
        for target, values in results.items():
            for kind, value in values.items():
                out.write(f"{target},{kind},{value}\n")
    for target, values in results.items():
        print(target, ", ".join(f"{kind} {value:,}" for kind, value in values.items()))


if __name__ == "__main__":
    main()
