#!/usr/bin/env python3
"""Runs edgelstm's core benchmarks and the same cases in PyTorch, in one run, and prints ratios.

Cases (single thread, batch 1, input 1, one layer, dense head of 1 output):
  train_step/H  forward over a window of 6 + BPTT + SGD update
  infer_step/H  one streaming time step (LSTM + head, state carried), torch under no_grad
                (edgelstm: Network::step, the weights read in place)
  infer_step_packed/H  the same step by PackedNetwork (the weights repacked once into column
                panels), against the same PyTorch time
for H in 32, 64, 100, 128. Each side reports the best of several repetitions.

Output: a Markdown table, then one line per case: `speedup <case>: <ratio>x` where
ratio = PyTorch time / edgelstm time (> 1 means edgelstm is faster).

Usage: run_bench.py PATH/TO/edgelstm_core_bench
"""
import json
import subprocess
import sys
import time

try:
    import torch
except ImportError:
    sys.exit("error: the benchmark compares against PyTorch; on Debian 12: sudo apt-get install python3-torch")

HIDDEN = (32, 64, 100, 128)


def edgelstm_times(binary):
    out = subprocess.run([binary, "--benchmark_format=json", "--benchmark_repetitions=5",
                          "--benchmark_min_time=0.2"], check=True, capture_output=True, text=True).stdout
    times = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3}[b["time_unit"]]
        name = b["run_name"]
        times[name] = min(times.get(name, float("inf")), b["real_time"] * unit)
    return times


def best_time(function, iterations, repetitions=5):
    for _ in range(max(10, iterations // 10)):
        function()
    best = float("inf")
    for _ in range(repetitions):
        start = time.perf_counter()
        for _ in range(iterations):
            function()
        best = min(best, (time.perf_counter() - start) / iterations)
    return best


def torch_times():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    times = {}
    for hidden in HIDDEN:
        lstm = torch.nn.LSTM(1, hidden, 1, batch_first=True)
        head = torch.nn.Linear(hidden, 1)
        optimizer = torch.optim.SGD(list(lstm.parameters()) + list(head.parameters()), lr=1e-3)
        window = torch.randn(1, 6, 1)
        target = torch.randn(1, 1)

        def train():
            optimizer.zero_grad()
            outputs, _ = lstm(window)
            loss = torch.nn.functional.mse_loss(head(outputs[:, -1, :]), target)
            loss.backward()
            optimizer.step()

        reading = torch.randn(1, 1, 1)
        state = [(torch.zeros(1, 1, hidden), torch.zeros(1, 1, hidden))]

        def infer():
            with torch.no_grad():
                outputs, state[0] = lstm(reading, state[0])
                head(outputs[:, -1, :])

        times[f"train_step/{hidden}"] = best_time(train, 300)
        times[f"infer_step/{hidden}"] = best_time(infer, 3000)
    return times


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    ours = edgelstm_times(sys.argv[1])
    theirs = torch_times()
    print(f"PyTorch {torch.__version__}, 1 thread; edgelstm {sys.argv[1]}")
    print()
    print("| case | edgelstm | PyTorch | speedup |")
    print("|---|---:|---:|---:|")
    lines = []
    for kind in ("train_step", "infer_step", "infer_step_packed"):
        for hidden in HIDDEN:
            name = f"{kind}/{hidden}"
            torch_time = theirs[name.replace("infer_step_packed", "infer_step")]
            ratio = torch_time / ours[name]
            print(f"| {name} | {ours[name] * 1e6:.2f} µs | {torch_time * 1e6:.1f} µs | {ratio:.1f}x |")
            lines.append(f"speedup {name}: {ratio:.1f}x")
    print()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
