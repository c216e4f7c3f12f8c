#!/usr/bin/env python3
"""Cost figures of the core on the emulated microcontrollers, counted exactly.

For each target (cortex-m4f, rv32imc, rv32imafc) this builds the target preset, runs
bench/mcu/cost_firmware.cpp under QEMU with the instruction-counting plugin
(tools/qemu-plugin/insn_count.c) and prints Markdown tables:
  - instructions per forward time step and per training step (window 6: forward + BPTT + SGD),
    H in {16, 32, 64, 100}, input 1, the forward step with weight-only int8 and int4 weights
    (per-row scales), the full-integer step (int8 weights, int16 activations), and instructions
    per multiply-accumulate of the float and integer forward steps (4 H (H + 1) MACs, the gates,
    as MCU.md counts them; the head adds H more);
  - flash (text + rodata) and static RAM (data + bss, the arena included) of the training firmware
    (examples/meter/meter_firmware.cpp) and the inference-only firmware (meter_inference.cpp),
    and the training step's stack high-water mark.
QEMU models no pipeline: the counts are instructions, identical on every run.

Usage: bench/mcu/cost_table.py            (from the repository root; needs scripts/install-deps.sh)
"""
import os
import re
import subprocess
import sys
import datetime

TARGETS = {"cortex-m4f": "arm-none-eabi-size", "rv32imc": "riscv64-unknown-elf-size",
           "rv32imafc": "riscv64-unknown-elf-size"}
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


def counts(target, plugin):
    run(["cmake", "--preset", target])
    run(["cmake", "--build", "--preset", target, "--target", "edgelstm_cost_firmware",
         "edgelstm_meter_firmware", "edgelstm_meter_inference"])
    firmware = os.path.join("build", target, "bench", "mcu", "edgelstm_cost_firmware")
    env = dict(os.environ, EDGELSTM_QEMU_EXTRA=f"-plugin {plugin} -d plugin")
    result = run(["cmake/qemu/run.sh", target, firmware], env=env)
    text = result.stdout + result.stderr
    regions = {int(i): (int(h), kind) for i, h, kind in re.findall(r"region (\d+) (\d+) (\w+)", text)}
    measured = {int(i): int(n) for i, n in re.findall(r"insn_count (\d+) (\d+)", text)}
    stacks = {int(h): int(b) for h, b in re.findall(r"stack (\d+) (\d+)", text)}
    if not regions or set(regions) != set(measured):
        sys.exit(f"{target}: could not pair regions and counts:\n{text}")
    empty = measured[0]
    table = {}
    for index, (hidden, kind) in regions.items():
        if kind != "empty":
            table[(hidden, kind)] = measured[index] - empty
    return table, stacks


def sizes(target, tool, program):
    output = run([tool, "-A", os.path.join("build", target, "examples", program)]).stdout
    section = {name: int(size) for name, size in re.findall(r"^(\.\S+)\s+(\d+)", output, re.M)}
    flash = sum(section.get(name, 0) for name in (".init", ".text", ".rodata", ".except_ordered",
                                                     ".except_unordered", ".ARM.exidx", ".data"))
    ram = sum(section.get(name, 0) for name in (".data", ".bss", ".tbss_space"))
    return flash, ram


def main():
    plugin = build_plugin()
    commit = run(["git", "rev-parse", "--short", "HEAD"]).stdout.strip()
    print(f"Measured {datetime.date.today().isoformat()}, commit {commit}, QEMU instruction counts.\n")
    results = {target: counts(target, plugin) for target in TARGETS}
    print("| target | H | forward step | per MAC | training step (window 6) | forward, int8 weights "
          "| forward, int4 weights | forward, full integer | per MAC | float / integer |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for target in TARGETS:
        table = results[target][0]
        for hidden in (16, 32, 64, 100):
            macs = 4 * hidden * (hidden + 1)
            forward, train = table[(hidden, "forward")], table[(hidden, "train")]
            int8, int4 = table[(hidden, "forward_int8")], table[(hidden, "forward_int4")]
            integer = table[(hidden, "forward_integer")]
            print(f"| {target} | {hidden} | {forward:,} | {forward / macs:.2f} | {train:,} | {int8:,} | {int4:,} "
                  f"| {integer:,} | {integer / macs:.2f} | {forward / integer:.1f}x |")
    m4 = results["cortex-m4f"][0]
    print()
    print("CMSIS-NN arm_lstm_unidirectional_s8 on the same emulator (issue 5): 28,327 instructions per step at "
          "H = 32, 136,408 at H = 100.")
    print(f"edgelstm full integer on cortex-m4f: {m4[(32, 'forward_integer')]:,} at H = 32 "
          f"({28327 / m4[(32, 'forward_integer')]:.2f}x fewer), {m4[(100, 'forward_integer')]:,} at H = 100 "
          f"({136408 / m4[(100, 'forward_integer')]:.2f}x fewer).")
    print()
    print("| target | training firmware flash | RAM (static, arena included) "
          "| inference firmware flash | RAM | training-step stack |")
    print("|---|---:|---:|---:|---:|---:|")
    for target, tool in TARGETS.items():
        train_flash, train_ram = sizes(target, tool, "edgelstm_meter_firmware")
        infer_flash, infer_ram = sizes(target, tool, "edgelstm_meter_inference")
        stack = max(results[target][1].values())
        print(f"| {target} | {train_flash:,} | {train_ram:,} | {infer_flash:,} | {infer_ram:,} | ≤ {stack} |")


if __name__ == "__main__":
    main()
