#!/usr/bin/env python3
"""Runs edgelstm's core benchmarks and the same cases in PyTorch, in one run, and prints ratios.

Cases (single thread, one layer, dense head of 1 output):
  train_step/H          batch 1, input 1: forward over a window of 6 + BPTT + SGD update
  infer_step/H          one streaming time step (LSTM + head, state carried), torch under no_grad
                        (edgelstm: Network::step, the weights read in place)
  infer_step_packed/H   the same step by PackedNetwork (the weights repacked once into column
                        panels), against the same PyTorch time, and beside RTNeural's times from
                        issue 18 (measured on another machine; RTNeural is not packaged for Debian)
  infer_step_int8/H     the same step by PackedInt8Network (int8 weights), against the float
                        packed step of this run
  infer_step_packed_forecaster  the forecaster's shape: 7 inputs, 32 units
  train_batch/I/H/T/B   minibatch training (BatchTrainer): one SGD step on B windows of T steps,
                        I inputs, H units; samples per second against PyTorch's batch of B
Each side reports the median of 5 repetitions of its CPU time (the measuring thread's, or the
PyTorch process's with one thread); the spread (max / min of the repetitions) is printed for both.
CPU time does not make a busy machine fair: other processes slow PyTorch's steps more than
edgelstm's, so the run prints how many CPUs other processes kept busy before and during each half
(from /proc/stat) and warns when it was more than a quarter of one.

PyTorch runs in a subprocess with OpenBLAS as its BLAS when libopenblas0-pthread is installed
(LD_LIBRARY_PATH points at its directory, one thread), else with the system BLAS; the BLAS
libraries it actually loaded are printed.

Output: Markdown tables, then one line per case: `speedup <case>: <ratio>x` (> 1: edgelstm faster).

Usage: run_bench.py PATH/TO/edgelstm_core_bench
"""
import json
import os
import resource
import statistics
import subprocess
import sys
import time

HIDDEN = (32, 64, 100, 128)
PACKED_HIDDEN = (8, 16, 32, 64, 100, 128, 256)
INT8_HIDDEN = (16, 32, 64, 100, 128, 256)
BATCH_CASES = ((1, 100, 6, 64), (1, 100, 6, 256), (7, 32, 12, 64), (7, 32, 12, 256))
# RTNeural ModelT<LSTMLayerT<1, H>, DenseT<H, 1>> per step (-O3 -march=native), issue 18.
RTNEURAL_NS = {16: 104, 32: 178, 64: 732, 100: 2175, 128: 2611, 256: 11517}
OPENBLAS_DIR = "/usr/lib/x86_64-linux-gnu/openblas-pthread"


def edgelstm_times(binary):
    out = subprocess.run([binary, "--benchmark_format=json", "--benchmark_repetitions=5",
                          "--benchmark_min_time=0.3"], check=True, capture_output=True, text=True).stdout
    report = json.loads(out)
    samples = {}
    for b in report["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3}[b["time_unit"]]
        samples.setdefault(b["run_name"], []).append(b["cpu_time"] * unit)
    return {name: (statistics.median(v), max(v) / min(v)) for name, v in samples.items()}, report["context"]


def cpu_time(function, iterations, repetitions=5):
    for _ in range(max(5, iterations // 10)):
        function()
    times = []
    for _ in range(repetitions):
        start = time.process_time()
        for _ in range(iterations):
            function()
        times.append((time.process_time() - start) / iterations)
    return statistics.median(times), max(times) / min(times)


def torch_worker():
    """Measures the PyTorch side (in this process, whose environment chose the BLAS)."""
    import torch
    torch.set_num_threads(1)
    torch.manual_seed(0)
    times = {}

    def model(inputs, hidden):
        return torch.nn.LSTM(inputs, hidden, 1, batch_first=True), torch.nn.Linear(hidden, 1)

    def train_time(inputs, hidden, window, batch, iterations):
        lstm, head = model(inputs, hidden)
        optimizer = torch.optim.SGD(list(lstm.parameters()) + list(head.parameters()), lr=1e-3)
        x, target = torch.randn(batch, window, inputs), torch.randn(batch, 1)

        def train():
            optimizer.zero_grad()
            outputs, _ = lstm(x)
            torch.nn.functional.mse_loss(head(outputs[:, -1, :]), target).backward()
            optimizer.step()
        return cpu_time(train, iterations)

    def infer_time(inputs, hidden):
        lstm, head = model(inputs, hidden)
        reading = torch.randn(1, 1, inputs)
        state = [(torch.zeros(1, 1, hidden), torch.zeros(1, 1, hidden))]

        def infer():
            with torch.no_grad():
                outputs, state[0] = lstm(reading, state[0])
                head(outputs[:, -1, :])
        return cpu_time(infer, 2000)

    for hidden in HIDDEN:
        times[f"train_step/{hidden}"] = train_time(1, hidden, 6, 1, 200)
    for hidden in sorted(set(HIDDEN) | set(PACKED_HIDDEN)):
        times[f"infer_step/{hidden}"] = infer_time(1, hidden)
    times["infer_step_forecaster"] = infer_time(7, 32)
    for inputs, hidden, window, batch in BATCH_CASES:
        times[f"train_batch/{inputs}/{hidden}/{window}/{batch}"] = train_time(inputs, hidden, window, batch,
                                                                               max(10, 2000 // batch))
    libraries = sorted({line.split()[-1] for line in open("/proc/self/maps")
                        if ("blas" in line or "lapack" in line) and "/" in line})
    print(json.dumps({"torch": torch.__version__, "blas": libraries,
                      "times": {name: list(value) for name, value in times.items()}}))


def torch_times():
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    if os.path.isdir(OPENBLAS_DIR):
        env["LD_LIBRARY_PATH"] = OPENBLAS_DIR + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    out = subprocess.run([sys.executable, __file__, "--torch-worker"], check=True, capture_output=True, text=True,
                         env=env).stdout
    result = json.loads(out)
    return {name: tuple(value) for name, value in result["times"].items()}, result["torch"], result["blas"]


def cpu_times(wait=0.0):
    """After sleeping `wait` seconds: the machine's busy and total CPU time from /proc/stat (user,
    nice, system, idle, iowait, irq, softirq, steal: guest time is already in user), the CPU time of
    this run's finished child processes (the benchmark binary, the PyTorch worker) and the clock."""
    time.sleep(wait)
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:9]]
    idle = fields[3] + fields[4]  # idle, iowait
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return sum(fields) - idle, sum(fields), children.ru_utime + children.ru_stime, time.monotonic()


def other_cores(first, second):
    """CPUs other processes kept busy between two cpu_times() samples: the machine's busy CPUs less
    what this run's children used (measured, not assumed to be one whole CPU)."""
    busy, total = second[0] - first[0], second[1] - first[1]
    wall = second[3] - first[3]
    own = (second[2] - first[2]) / wall if wall > 0 else 0.0
    cpus = os.cpu_count() or 1
    return max(0.0, busy / total * cpus - own) if total > 0 else 0.0


def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "--torch-worker":
        torch_worker()
        return
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    try:
        import torch  # noqa: F401 (only to fail early with a clear message)
    except ImportError:
        sys.exit("error: the benchmark compares against PyTorch; on Debian 12: sudo apt-get install python3-torch")
    idle_before = other_cores(cpu_times(), cpu_times(1.0))
    edgelstm_start = cpu_times()
    ours, context = edgelstm_times(sys.argv[1])
    torch_start = cpu_times()
    theirs, torch_version, blas = torch_times()
    others = (other_cores(edgelstm_start, torch_start), other_cores(torch_start, cpu_times()))
    print(f"{cpu_model()}, {os.cpu_count()} CPUs; other processes kept {idle_before:.2f} CPUs busy in the second "
          f"before the run, {others[0]:.2f} during the edgelstm half, {others[1]:.2f} during the PyTorch half")
    if max(idle_before, *others) > 0.25:
        print("warning: the machine was busy. Other processes slow PyTorch's steps more than edgelstm's (on the "
              "2-core development machine at load average 8.3, PyTorch's 6 x 100 training step took 1.17 ms against "
              "0.78-0.85 ms idle, edgelstm's 39 us against 33 us: docs/speed.md), so the ratios below overstate "
              "edgelstm's lead; run on an idle machine for figures to quote.")
    print(f"edgelstm {sys.argv[1]}: kernels {context.get('edgelstm kernels')}, packed panels "
          f"{context.get('edgelstm packed panels')}, int8 panels {context.get('edgelstm int8 panels')}")
    print(f"PyTorch {torch_version}, 1 thread, BLAS loaded: {', '.join(blas) or 'none found'}")
    print("Times: median CPU time of 5 repetitions; spread = slowest / fastest repetition.")
    lines = []

    def us(seconds):
        return f"{seconds * 1e6:.2f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"

    print()
    print("| case | edgelstm | spread | PyTorch | spread | speedup |")
    print("|---|---:|---:|---:|---:|---:|")
    names = [f"{kind}/{h}" for kind in ("train_step", "infer_step") for h in HIDDEN]
    names += [f"infer_step_packed/{h}" for h in PACKED_HIDDEN]
    for name in names:
        torch_name = name.replace("infer_step_packed", "infer_step")
        (mine, my_spread), (peer, peer_spread) = ours[name], theirs[torch_name]
        print(f"| {name} | {us(mine)} | {my_spread:.2f} | {us(peer)} | {peer_spread:.2f} | {peer / mine:.1f}x |")
        lines.append(f"speedup {name}: {peer / mine:.1f}x")
    (mine, my_spread), (peer, peer_spread) = ours["infer_step_packed_forecaster"], theirs["infer_step_forecaster"]
    print(f"| infer_step_packed_forecaster (7 inputs, 32 units) | {us(mine)} | {my_spread:.2f} | {us(peer)} | "
          f"{peer_spread:.2f} | {peer / mine:.1f}x |")
    lines.append(f"speedup infer_step_packed_forecaster: {peer / mine:.1f}x")

    print()
    print("PackedNetwork against RTNeural's compile-time Eigen LSTM (issue 18's figures, another machine):")
    print()
    print("| H | PackedNetwork | RTNeural (issue 18) | ratio |")
    print("|---:|---:|---:|---:|")
    for hidden in PACKED_HIDDEN:
        mine = ours[f"infer_step_packed/{hidden}"][0] * 1e9
        if hidden in RTNEURAL_NS:
            print(f"| {hidden} | {mine:.0f} ns | {RTNEURAL_NS[hidden]} ns | {RTNEURAL_NS[hidden] / mine:.2f}x |")
            lines.append(f"versus RTNeural (issue 18) infer_step_packed/{hidden}: {RTNEURAL_NS[hidden] / mine:.2f}x")
        else:
            print(f"| {hidden} | {mine:.0f} ns | - | - |")

    print()
    print("int8 weights (PackedInt8Network) against the float packed step:")
    print()
    print("| H | int8 | spread | float packed | speedup |")
    print("|---:|---:|---:|---:|---:|")
    for hidden in INT8_HIDDEN:
        (mine, spread), (packed, _) = ours[f"infer_step_int8/{hidden}"], ours[f"infer_step_packed/{hidden}"]
        print(f"| {hidden} | {us(mine)} | {spread:.2f} | {us(packed)} | {packed / mine:.2f}x |")
        lines.append(f"speedup infer_step_int8/{hidden} over infer_step_packed: {packed / mine:.2f}x")

    print()
    print("Minibatch training (BatchTrainer), samples per second on one core:")
    print()
    print("| inputs x H, window, batch | edgelstm | spread | PyTorch | spread | speedup |")
    print("|---|---:|---:|---:|---:|---:|")
    for inputs, hidden, window, batch in BATCH_CASES:
        name = f"train_batch/{inputs}/{hidden}/{window}/{batch}"
        (mine, my_spread), (peer, peer_spread) = ours[name], theirs[name]
        print(f"| {inputs} x {hidden}, {window}, {batch} | {batch / mine:,.0f} /s | {my_spread:.2f} | "
              f"{batch / peer:,.0f} /s | {peer_spread:.2f} | {peer / mine:.1f}x |")
        lines.append(f"speedup {name}: {peer / mine:.1f}x")
    print()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
