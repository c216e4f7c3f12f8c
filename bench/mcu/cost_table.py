#!/usr/bin/env python3
"""Cost figures of the core on the emulated microcontrollers, counted exactly.

For each target (cortex-m4f, rv32imc, rv32imafc, xtensa-lx106) this builds the target preset, runs the two
programs built from bench/mcu/cost_firmware.cpp (edgelstm_cost_firmware: the H sweep;
edgelstm_cost_study: the study's shapes) under QEMU with the instruction-counting plugin
(tools/qemu-plugin/insn_count.c) and prints Markdown tables:
  - instructions per forward time step and per training step (window 6: forward + BPTT + SGD),
    H in {16, 32, 64, 100}, input 1, the forward step with weight-only int8 and int4 weights
    (per-row scales), the full-integer step (int8 weights, int16 activations), and instructions
    per multiply-accumulate of the float and integer forward steps (4 H (H + 1) MACs, the gates,
    as MCU.md counts them; the head adds H more);
  - flash (text + rodata) and static RAM (data + bss, the arena included) of the training firmware
    (examples/meter/meter_firmware.cpp) and the inference-only firmware (meter_inference.cpp),
    and the training step's stack high-water mark;
  - instructions per forward time step for the shapes of the quantization study (edgelstm quantize
    --study): (input, hidden, outputs) in STUDY_SHAPES, one layer, every weight format (STUDY_KINDS).
QEMU models no pipeline: the counts are instructions, identical on every run.

On xtensa-lx106 the firmware also reads the core's cycle counter CCOUNT around each region, and QEMU
runs with -icount shift=0, where CCOUNT advances once per 25 instructions: every region's plugin
count must agree with 25 x its CCOUNT ticks to within one tick, a second count taken inside the
guest that checks the plugin's (the run fails otherwise).

Usage: bench/mcu/cost_table.py [--csv PATH]   (from the repository root; needs scripts/install-deps.sh)
  --csv PATH  also writes the study's per-step counts, one line per target, shape and kind:
              target,input,hidden,outputs,kind,instructions (after a '#' line telling how it was made)
"""
import argparse
import os
import re
import subprocess
import sys
import datetime

TARGETS = {"cortex-m4f": "arm-none-eabi-size", "rv32imc": "riscv64-unknown-elf-size",
           "rv32imafc": "riscv64-unknown-elf-size", "xtensa-lx106": "xtensa-lx106-elf-size"}
# Under -icount shift=0 QEMU's LX106 (40 MHz) advances CCOUNT once per 25 instructions.
CCOUNT_INSTRUCTIONS_PER_TICK = 25
# The quantization study's shapes (input, hidden, outputs) and kinds, as cost_firmware.cpp measures them.
STUDY_SHAPES = ((7, 32, 1), (4, 16, 5), (1, 16, 2), (1, 100, 1))
STUDY_KINDS = ("f32", "int16-tensor", "int16-row", "int8-tensor", "int8-row", "int4-tensor", "int4-row",
               "int8-row-integer")
SWEEP = (16, 32, 64, 100)  # hidden sizes of the README's table: input 1, one output
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(command, **kwargs):
    return subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT, **kwargs)


def build_plugin():
    out_dir = os.path.join(ROOT, "build", "tools")
    os.makedirs(out_dir, exist_ok=True)
    plugin = os.path.join(out_dir, "libinsn_count.so")
    run(["cc", "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror",
         "tools/qemu-plugin/insn_count.c", "-o", plugin])
    return plugin


def measure(target, plugin, program, folder=os.path.join("bench", "mcu")):
    """Runs build/<target>/<folder>/<program> under QEMU with the plugin: {(input, hidden, outputs, kind):
    instructions} (the empty region's count subtracted) and the output text."""
    firmware = os.path.join("build", target, folder, program)
    icount = "-icount shift=0 " if target == "xtensa-lx106" else ""
    env = dict(os.environ, EDGELSTM_QEMU_EXTRA=f"{icount}-plugin {plugin} -d plugin")
    result = run(["cmake/qemu/run.sh", target, firmware], env=env)
    text = result.stdout + result.stderr
    regions = {int(i): (int(n), int(h), int(o), kind) for i, n, h, o, kind in
               re.findall(r"^region (\d+) (\d+) (\d+) (\d+) ([\w-]+)$", text, re.M)}
    measured = {int(i): int(n) for i, n in re.findall(r"insn_count (\d+) (\d+)", text)}
    if not regions or set(regions) != set(measured) or regions[0][3] != "empty":
        sys.exit(f"{target} {program}: could not pair regions and counts:\n{text}")
    if icount:
        check_ccount(target, program, measured, text)
    empty = measured[0]
    table = {}
    for index, (inputs, hidden, outputs, kind) in regions.items():
        if kind != "empty":
            table[(inputs, hidden, outputs, kind)] = measured[index] - empty
    return table, text


def check_ccount(target, program, measured, text):
    """Fails unless every region's plugin count is 25 x its CCOUNT ticks to within one tick (the
    ticks also cover the marker instructions and the counter reads around the region)."""
    ticks = {int(i): int(n) for i, n in re.findall(r"^ccount (\d+) (\d+)$", text, re.M)}
    if set(ticks) != set(measured):
        sys.exit(f"{target} {program}: no CCOUNT reading for every region:\n{text}")
    limit = CCOUNT_INSTRUCTIONS_PER_TICK + 8
    for index, instructions in measured.items():
        from_ccount = ticks[index] * CCOUNT_INSTRUCTIONS_PER_TICK
        if abs(from_ccount - instructions) > limit:
            sys.exit(f"{target} {program}: region {index}: the plugin counted {instructions} instructions, "
                     f"CCOUNT {ticks[index]} ticks = {from_ccount}")


def counts(target, plugin):
    run(["cmake", "--preset", target])
    run(["cmake", "--build", "--preset", target, "--target", "edgelstm_cost_firmware", "edgelstm_cost_study",
         "edgelstm_meter_firmware", "edgelstm_meter_inference"])
    table, text = measure(target, plugin, "edgelstm_cost_firmware")  # the H sweep
    stacks = {int(h): int(b) for h, b in re.findall(r"^stack (\d+) (\d+)$", text, re.M)}
    study, _ = measure(target, plugin, "edgelstm_cost_study")  # the quantization study's shapes
    table.update(study)
    expected = [(1, h, 1, kind) for h in SWEEP for kind in ("forward", "train", "forward_int8", "forward_int4",
                                                             "forward_integer")]
    expected += [shape + (kind,) for shape in STUDY_SHAPES for kind in STUDY_KINDS]
    missing = [key for key in expected if key not in table]
    if missing or set(stacks) != set(SWEEP):
        sys.exit(f"{target}: no count for {missing} or no stack for some H")
    return table, stacks


def sizes(target, tool, program):
    output = run([tool, "-A", os.path.join("build", target, "examples", program)]).stdout
    section = {name: int(size) for name, size in re.findall(r"^(\.\S+)\s+(\d+)", output, re.M)}
    flash = sum(section.get(name, 0) for name in (".init", ".text", ".rodata", ".except_ordered",
                                                     ".except_unordered", ".ARM.exidx", ".data", ".vectors"))
    ram = sum(section.get(name, 0) for name in (".data", ".bss", ".tbss_space"))
    return flash, ram


def qemu_version():
    versions = []
    for program in ("qemu-system-arm", "qemu-system-riscv32", "qemu-system-xtensa"):
        first = run([program, "--version"]).stdout.splitlines()[0]
        match = re.search(r"version (\S+)", first)
        version = match.group(1) if match else first.strip()
        if version not in versions:
            versions.append(version)
    return " / ".join(versions)


def write_csv(path, results, commit, dirty):
    # The command as run from the repository root, without this machine's absolute paths.
    absolute = os.path.abspath(path)
    shown = os.path.relpath(absolute, ROOT) if absolute.startswith(ROOT + os.sep) else os.path.basename(path)
    with open(path, "w", encoding="utf-8") as out:
        out.write(f"# python3 bench/mcu/cost_table.py --csv {shown}; QEMU {qemu_version()} with "
                  f"tools/qemu-plugin/insn_count.c (exact instruction counts of one forward time step, one "
                  f"layer, seeded initial weights, marker cost subtracted); commit {commit}"
                  f"{' + uncommitted changes' if dirty else ''}; {datetime.date.today().isoformat()}\n")
        out.write("target,input,hidden,outputs,kind,instructions\n")
        for target in TARGETS:
            table = results[target][0]
            for shape in STUDY_SHAPES:
                for kind in STUDY_KINDS:
                    out.write(f"{target},{shape[0]},{shape[1]},{shape[2]},{kind},{table[shape + (kind,)]}\n")


def csv_rows(path, header):
    """The data rows of a committed counts CSV (its '#' line and header skipped), each a list of fields,
    exits naming the line when one does not have the header's fields."""
    width = len(header.split(","))
    with open(path, encoding="utf-8") as text:
        for number, line in enumerate(text, 1):
            line = line.strip()
            if not line or line.startswith("#") or line.startswith("target,"):
                continue
            fields = line.split(",")
            if len(fields) != width:
                sys.exit(f"{path}:{number}: expected {header}")
            yield fields


def check_csv(path, results):
    """Compares the study shapes' counts with those a committed CSV holds; returns the differences."""
    committed = {}
    for fields in csv_rows(path, "target,input,hidden,outputs,kind,instructions"):
        committed[(fields[0], int(fields[1]), int(fields[2]), int(fields[3]), fields[4])] = int(fields[5])
    differences = []
    for target in TARGETS:
        table = results[target][0]
        for shape in STUDY_SHAPES:
            for kind in STUDY_KINDS:
                key = (target,) + shape + (kind,)
                measured, stored = table[shape + (kind,)], committed.get(key)
                if measured != stored:
                    differences.append(f"{','.join(map(str, key))}: measured {measured}, {path} has {stored}")
    return differences


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--csv", metavar="PATH", help="also write the study shapes' per-step counts as CSV")
    parser.add_argument("--check", metavar="PATH",
                        help="only measure the study shapes and fail when PATH (a --csv file) holds other counts")
    args = parser.parse_args()
    plugin = build_plugin()
    if args.check:
        results = {target: counts(target, plugin) for target in TARGETS}
        differences = check_csv(args.check, results)
        for line in differences:
            print(line)
        if differences:
            sys.exit(f"{args.check} is out of date: regenerate it with bench/mcu/cost_table.py --csv {args.check}")
        print(f"{args.check}: all {sum(len(STUDY_SHAPES) * len(STUDY_KINDS) for _ in TARGETS)} counts current")
        return
    commit = run(["git", "rev-parse", "--short", "HEAD"]).stdout.strip()
    dirty = bool(run(["git", "status", "--porcelain", "--untracked-files=no"]).stdout.strip())
    print(f"Measured {datetime.date.today().isoformat()}, commit {commit}, QEMU instruction counts.\n")
    results = {target: counts(target, plugin) for target in TARGETS}
    print("| target | H | forward step | per MAC | training step (window 6) | forward, int8 weights "
          "| forward, int4 weights | forward, full integer | per MAC | float / integer |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for target in TARGETS:
        table = results[target][0]
        for hidden in SWEEP:
            macs = 4 * hidden * (hidden + 1)
            forward, train = table[(1, hidden, 1, "forward")], table[(1, hidden, 1, "train")]
            int8, int4 = table[(1, hidden, 1, "forward_int8")], table[(1, hidden, 1, "forward_int4")]
            integer = table[(1, hidden, 1, "forward_integer")]
            print(f"| {target} | {hidden} | {forward:,} | {forward / macs:.2f} | {train:,} | {int8:,} | {int4:,} "
                  f"| {integer:,} | {integer / macs:.2f} | {forward / integer:.1f}x |")
    m4 = results["cortex-m4f"][0]
    print()
    print(f"xtensa-lx106: every region's count equals {CCOUNT_INSTRUCTIONS_PER_TICK} x its CCOUNT ticks "
          "(-icount shift=0) to within one tick.")
    # CMSIS-NN's arm_lstm_unidirectional_s8 (int8 weights, int16 state), one step, counted on the same
    # emulator with the same plugin (issue 18): built at -Ofast; issue 5's first figures match an -O2
    # build. CMSIS-NN is not packaged for Debian, so these counts are quoted, not re-measured here.
    cmsis_ofast = {32: 27818, 100: 134724}
    cmsis_o2 = {32: 28327, 100: 136408}
    print("CMSIS-NN arm_lstm_unidirectional_s8 on the same emulator, built at -Ofast (issue 18): 27,818 instructions "
          "per step at H = 32, 134,724 at H = 100 (issue 5's 28,327 and 136,408 match an -O2 build).")
    m4_32, m4_100 = m4[(1, 32, 1, "forward_integer")], m4[(1, 100, 1, "forward_integer")]
    print(f"edgelstm full integer on cortex-m4f (preset cortex-m4f: -O3, the same CPU flags): {m4_32:,} at H = 32 "
          f"({m4_32 / cmsis_ofast[32]:.2f} of CMSIS-NN -Ofast, {m4_32 / cmsis_o2[32]:.2f} of -O2), {m4_100:,} at "
          f"H = 100 ({m4_100 / cmsis_ofast[100]:.2f} of -Ofast, {m4_100 / cmsis_o2[100]:.2f} of -O2).")
    print()
    print("| target | training firmware flash | RAM (static, arena included) "
          "| inference firmware flash | RAM | training-step stack |")
    print("|---|---:|---:|---:|---:|---:|")
    for target, tool in TARGETS.items():
        train_flash, train_ram = sizes(target, tool, "edgelstm_meter_firmware")
        infer_flash, infer_ram = sizes(target, tool, "edgelstm_meter_inference")
        stack = max(results[target][1].values())
        print(f"| {target} | {train_flash:,} | {train_ram:,} | {infer_flash:,} | {infer_ram:,} | ≤ {stack} |")
    print()
    print("Forward time step of the quantization study's shapes (one layer, seeded initial weights), instructions:")
    print()
    print("| target | input | H | outputs | " + " | ".join(STUDY_KINDS) + " |")
    print("|---|---:|---:|---:|" + "---:|" * len(STUDY_KINDS))
    for target in TARGETS:
        table = results[target][0]
        for shape in STUDY_SHAPES:
            cells = " | ".join(f"{table[shape + (kind,)]:,}" for kind in STUDY_KINDS)
            print(f"| {target} | {shape[0]} | {shape[1]} | {shape[2]} | {cells} |")
    if args.csv:
        write_csv(args.csv, results, commit, dirty)


if __name__ == "__main__":
    main()
