#!/usr/bin/env python3
"""Figures of one network shared among several devices (docs/distributed.md).

For the Taylor forecaster (1 x 32, 7 inputs, window 12) and the paper's 6 x 100 network (one layer
of 100 units, window 6), shared by a hidden split over 1, 2 and 4 nodes, and four-layer versions of
both (4 x 32, 4 x 100) shared by a layer pipeline over 1, 2 and 4 nodes, this measures:
  - on this host, `edgelstm cluster` over UDP on loopback and over MQTT through Mosquitto, nodes as
    processes: per-step latency (median, p99) of an inference step and of a training window (online
    learning: forecast, then learn), data frames and bytes per step on every link, each node's arena;
  - on the emulated Cortex-M4F (QEMU, tools/qemu-plugin/insn_count.c): the instructions each node
    runs per step and per window, its frames and links included (bench/mcu/node_cost_firmware.cpp),
    beside one device's Network::step and train_step;
  - from those, a model of a step on ESP32s linked by ESP-NOW (see MODEL below).
Peer: the same network on one device (1 node), measured in the same run.

Usage: bench/distributed/distributed_bench.py [--steps N] [--work DIR]  (from the repository root,
after scripts/install-deps.sh; builds what it needs: the default and cortex-m4f presets)
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "data", "taylor_england_wales_halfhourly_demand_2000.csv")
# name, edgelstm train options, partition kind. Each network forecasts the reading itself (--base none),
# the shapes the Cortex-M4F cost firmware counts (bench/mcu/node_cost_firmware.cpp: the Taylor
# forecaster with 7 inputs, the paper's network with 1). Each is trained with --allow-untrained: the figures
# are latencies, bytes and instructions, which do not depend on how much a short training run learned
# (one epoch of a four-layer network may not improve on its initial weights' validation error).
MODELS = (
    ("taylor-1x32", ["--hidden", "32", "--base", "none", "--epochs", "3"], "split"),
    ("paper-1x100", ["--hidden", "100", "--window", "6", "--lags", "", "--no-calendar", "--base", "none", "--epochs", "1"], "split"),
    ("taylor-4x32", ["--hidden", "32", "--layers", "4", "--base", "none", "--epochs", "1"], "pipeline"),
    ("paper-4x100", ["--hidden", "100", "--layers", "4", "--window", "6", "--lags", "", "--no-calendar", "--base", "none", "--epochs", "1"],
     "pipeline"),
)
NODES = (1, 2, 4)

# MODEL of a step on ESP32s over ESP-NOW (documented in docs/distributed.md):
ESP32_HZ = 240e6        # ESP32 (Xtensa LX6) at 240 MHz, one M4F-counted instruction per cycle (optimistic)
ESPNOW_HOP_S = 2.0e-3   # one-way ESP32 -> ESP32 delivery of a small ESP-NOW frame, measured 2.01 ms mean
ESPNOW_BIT_S = 1e-6     # 1 Mbit/s, ESP-NOW's default rate
ESPNOW_OVERHEAD = 43    # bytes around the payload: MAC header 24, category 1, OUI 3, random 4, element 7, FCS 4
PREAMBLE_S = 192e-6     # 802.11b long preamble and PLCP header at 1 Mbit/s


def run(command, **kwargs):
    return subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT, **kwargs)


def build():
    run(["cmake", "--preset", "default"])
    run(["cmake", "--build", "--preset", "default", "--target", "edgelstm_cli"])
    run(["cmake", "--preset", "cortex-m4f"])
    run(["cmake", "--build", "--preset", "cortex-m4f", "--target", "edgelstm_node_cost_firmware"])
    plugin_dir = os.path.join(ROOT, "build", "tools")
    os.makedirs(plugin_dir, exist_ok=True)
    plugin = os.path.join(plugin_dir, "libinsn_count.so")
    run(["cc", "-shared", "-fPIC", "-O2", "tools/qemu-plugin/insn_count.c", "-o", plugin])
    return os.path.join(ROOT, "build", "default", "cli", "edgelstm"), plugin


def make_models(edgelstm, work):
    paths = {}
    for name, options, _ in MODELS:
        path = os.path.join(work, name + ".elstm")
        if not os.path.exists(path):
            run([edgelstm, "train", "--data", DATA, "--model", path, "--allow-untrained"] + options)
        paths[name] = path
    return paths


def cluster(edgelstm, model, partition, transport, learn, steps, work):
    command = [edgelstm, "cluster", "--model", model, "--partition", partition, "--data", DATA, "--transport", transport,
               "--steps", str(steps), "--work", work] + (["--learn", "--lr", "0.001", "--checkpoint-every", "0"] if learn else [])
    text = run(command, timeout=900).stdout
    median, p99 = map(float, re.search(r"latency per step: median ([\d.]+) ms, p99 ([\d.]+) ms", text).groups())
    links = [(int(a), int(b), float(f), float(by), float(ack), int(r)) for a, b, f, by, ack, r in
             re.findall(r"^\s+(\d+) -> (\d+): ([\d.]+) frames, ([\d.]+) bytes, ([\d.]+) acks, (\d+) retransmitted",
                        text, re.M)]
    arenas = {int(k): int(b) for k, b in re.findall(r"^\s+node (\d+): (\d+) arena bytes", text, re.M)}
    return {"median": median, "p99": p99, "links": links, "arenas": arenas}


def node_costs(plugin):
    firmware = os.path.join("build", "cortex-m4f", "bench", "mcu", "edgelstm_node_cost_firmware")
    env = dict(os.environ, EDGELSTM_QEMU_EXTRA=f"-plugin {plugin} -d plugin", EDGELSTM_QEMU_TIMEOUT="900")
    result = run(["cmake/qemu/run.sh", "cortex-m4f", firmware], env=env)
    text = result.stdout + result.stderr
    regions = {int(i): (config, int(n), int(k), kind) for i, config, n, k, kind in
               re.findall(r"^region (\d+) (\S+) (\d+) (\d+) (\S+)$", text, re.M)}
    counts = {int(i): int(n) for i, n in re.findall(r"insn_count (\d+) (\d+)", text)}
    if not regions or set(regions) != set(counts) or regions[0][3] != "empty":
        sys.exit("node cost firmware: could not pair regions and counts:\n" + text[-2000:])
    empty = counts[0]
    totals = {}
    for index, key in regions.items():
        if key[3] != "empty":
            totals[key] = totals.get(key, 0) + counts[index] - empty
    return totals


def esp32_model(config, nodes, kind, costs, figures, layers, window):
    """Seconds per step (kind step) or window on ESP32s linked by ESP-NOW: the nodes' instructions
    at 240 MHz (split: nodes compute side by side, the busiest counts; pipeline: a step or window
    passes every stage in turn, forward and back, so their instructions add up), plus the exchanges
    on the critical path at ESPNOW_HOP_S each, plus the air time of every frame of the step (one
    shared channel: frames do not overlap)."""
    per_node = [costs.get((config, nodes, k, kind), 0) for k in range(nodes)]
    split = "1x" in config
    compute = (max(per_node) if split else sum(per_node)) / ESP32_HZ
    if nodes == 1:
        return compute, compute, 0.0
    if kind == "step":
        phases = layers + 1 if split else nodes
    else:
        phases = (1 + window * layers + 1 + layers * (window - 1) + (layers - 1) + 4) if split else (2 * (nodes - 1) + 4)
    frames = sum(f + a for _, _, f, _, a, _ in figures["links"])
    payload = sum(by for _, _, _, by, _, _ in figures["links"])
    air = frames * (PREAMBLE_S + ESPNOW_OVERHEAD * 8 * ESPNOW_BIT_S) + payload * 8 * ESPNOW_BIT_S
    link = phases * ESPNOW_HOP_S + air
    return compute + link, compute, link


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--steps", type=int, default=200, help="readings streamed per configuration")
    parser.add_argument("--work", default=os.path.join(ROOT, "build", "distributed_bench"))
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    edgelstm, plugin = build()
    models = make_models(edgelstm, args.work)
    costs = node_costs(plugin)
    commit = run(["git", "rev-parse", "--short", "HEAD"]).stdout.strip()
    print(f"commit {commit}; {args.steps} readings per run; host: {os.cpu_count()} CPUs, loopback; "
          f"Cortex-M4F counts: QEMU with tools/qemu-plugin/insn_count.c\n")
    print("| network | partition | nodes | mode | transport | latency median | p99 | data frames / step (busiest link) "
          "| data bytes / step (all links) | arena per node (bytes) | M4F instructions per node | ESP32 + ESP-NOW model |")
    print("|---|---|---:|---|---|---:|---:|---:|---:|---|---|---:|")
    for name, options, kind in MODELS:
        layers = 4 if "4x" in name else 1
        window = 6 if "paper" in name else 12
        for nodes in NODES:
            partition = f"{kind}:{nodes}"
            for mode, learn in (("step", False), ("window", True)):
                for transport in ("udp", "mqtt"):
                    work = os.path.join(args.work, f"{name}_{nodes}_{mode}_{transport}")
                    figures = cluster(edgelstm, models[name], partition, transport, learn, args.steps, work)
                    busiest = max((f for _, _, f, _, _, _ in figures["links"]), default=0.0)
                    data_bytes = sum(by for _, _, _, by, _, _ in figures["links"])
                    arenas = "/".join(str(figures["arenas"][k]) for k in sorted(figures["arenas"]))
                    per_node = "/".join(str(costs.get((name, nodes, k, mode), 0)) for k in range(nodes))
                    total, compute, link = esp32_model(name, nodes, mode, costs, figures, layers, window)
                    model = f"{total * 1e3:.2f} ms ({compute * 1e3:.2f} compute + {link * 1e3:.2f} link)"
                    print(f"| {name} | {kind} | {nodes} | {mode} | {transport} | {figures['median']:.3f} ms | "
                          f"{figures['p99']:.3f} ms | {busiest:.2f} | {data_bytes:.0f} | {arenas} | {per_node} | {model} |",
                          flush=True)
        single = costs.get((name, 1, 0, "single-step"), 0), costs.get((name, 1, 0, "single-window"), 0)
        print(f"| {name} | one device (Network) | 1 | step / window | - | | | | | | {single[0]} / {single[1]} | |")


if __name__ == "__main__":
    main()
