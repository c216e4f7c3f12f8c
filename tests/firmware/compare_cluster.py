#!/usr/bin/env python3
"""Compares the cluster of boards that trained the paper's network with the single host process.

The expected file is the output of edgelstm_cluster_reference (one Network, the whole network, on
the host) for the test's number of windows: its weekly forecast error, every 37th weight by its
index in the whole network, and per tensor the sum and sum of squares of the weights.

    compare_cluster.py EXPECTED -- COMMAND...
runs COMMAND (run_cluster.py with the four training boards), shows its output and checks:
  - the cluster finished (status 0);
  - board 0's weekly error lines equal the reference's to their printed digits;
  - every sampled weight was reported by exactly one board, and every tensor's weights are held
    once over the boards (the shares cover the network);
  - each sampled weight equals the reference's within 1e-6 relative (the denominator floored at 1%
    of the largest sampled magnitude, as tests/support/test_util.h does), and each tensor's sum
    within 1e-6 of sqrt(count x sum of squares);
  - the first week's forecast error is below persistence's (the network learned from the start).
Why not bit for bit: the boards run the Cortex-M4F's kernels (fused multiply-adds, picolibc's expf
and tanhf), the host its own; and a hidden split adds the contributions to dL/dh_{t-1} node by node
where one device adds them row by row (the distributed core's documented rounding). Both move
weights by a few units in the last place per step; the distributed core's own tests prove the
split bit-identical to a one-device run that adds in the split's order.

    compare_cluster.py --report EXPECTED -- COMMAND...
the same comparison for a demo of any length: differences beyond the limit are reported, not
failed (they grow slowly with the windows: 7.6e-7 after 48, 1.7e-6 after 336), while a failed
board, a weight not reported, a share not covering the network or a weekly error unlike the
reference's still fail.

    compare_cluster.py --check-reference EXPECTED -- COMMAND...
runs COMMAND (edgelstm_cluster_reference) and requires its output to equal EXPECTED exactly: the
committed reference is current.
"""
import math
import re
import signal
import subprocess
import sys

RELATIVE_LIMIT = 1e-6


def parse_weeks(text, prefix):
    return [(int(w), int(mae), float(mape), float(persistence)) for w, mae, mape, persistence in re.findall(
        prefix + r"week +(\d+) +MAE +(\d+) MW +MAPE +([\d.]+)% +\(persistence +([\d.]+)%\)$", text, re.M)]


def parse_reference(text):
    samples = {int(i): float(v) for i, v in re.findall(r"^reference w (\d+) (\S+)$", text, re.M)}
    tensors = {name: (int(held), float(total), float(squares)) for name, held, total, squares in re.findall(
        r"^reference tensor (\S+) held (\d+) sum (\S+) sumsq (\S+)$", text, re.M)}
    return parse_weeks(text, "^"), samples, tensors


def parse_cluster(text):
    samples, duplicates = {}, []
    for index, value in re.findall(r"^\[board \d+\] node\d+ w (\d+) (\S+)$", text, re.M):
        if int(index) in samples:
            duplicates.append(int(index))
        samples[int(index)] = float(value)
    tensors = {}
    for name, held, total, squares in re.findall(
            r"^\[board \d+\] node\d+ tensor (\S+) held (\d+) sum (\S+) sumsq (\S+)$", text, re.M):
        h, s, q = tensors.get(name, (0, 0.0, 0.0))
        tensors[name] = (h + int(held), s + float(total), q + float(squares))
    return parse_weeks(text, r"^\[board 0\] "), samples, duplicates, tensors


def run(command):
    """Runs command, showing its output as it comes (the boards' progress), and returns
    (status, output)."""
    lines = []
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in process.stdout:
            print(line, end="", flush=True)
            lines.append(line)
        process.wait()
    finally:
        if process.poll() is None:  # stopped early (SIGTERM, an error): so is the child, and waited for
            process.terminate()
            process.wait()
        process.stdout.close()
    return process.returncode, "".join(lines)


def check_reference(expected_path, command):
    status, output = run(command)
    if status != 0:
        raise SystemExit(f"the reference exited with status {status}")
    if output != open(expected_path).read():
        raise SystemExit(f"{expected_path} is not the reference's output: regenerate it with\n  "
                         f"{' '.join(command)} > {expected_path}")
    print(f"{expected_path} is current")


def compare(expected_path, command, report_only=False):
    weeks, reference, reference_tensors = parse_reference(open(expected_path).read())
    if not weeks or not reference or len(reference_tensors) != 6:
        raise SystemExit(f"{expected_path}: not an edgelstm_cluster_reference output")
    status, output = run(command)
    if status != 0:
        raise SystemExit(f"the cluster exited with status {status}")
    cluster_weeks, samples, duplicates, tensors = parse_cluster(output)
    failures = []
    if cluster_weeks != weeks:
        failures.append(f"weekly error {cluster_weeks} vs the reference's {weeks}")
    if duplicates:
        failures.append(f"weights reported by two boards: {duplicates[:5]}")
    if set(samples) != set(reference):
        failures.append(f"{len(set(reference) - set(samples))} sampled weights missing, "
                        f"{len(set(samples) - set(reference))} unexpected")
    scale = max(abs(v) for v in reference.values())
    floor = 0.01 * scale
    worst, worst_index, identical = 0.0, None, 0
    for index, value in reference.items():
        if index not in samples:
            continue
        identical += samples[index] == value
        error = abs(samples[index] - value) / max(abs(value), floor)
        if error > worst:
            worst, worst_index = error, index
    beyond = []  # differences beyond the limit: failures in a test, facts in a report
    if worst > RELATIVE_LIMIT:
        beyond.append(f"weight {worst_index}: {samples[worst_index]!r} vs {reference[worst_index]!r}, "
                      f"relative difference {worst:.2e} > {RELATIVE_LIMIT:g}")
    worst_sum = 0.0
    for name, (held, total, squares) in reference_tensors.items():
        got = tensors.get(name)
        if got is None or got[0] != held:
            failures.append(f"tensor {name}: the boards hold {got[0] if got else 0} of its {held} weights")
            continue
        bound = math.sqrt(held * squares)
        worst_sum = max(worst_sum, abs(got[1] - total) / bound)
        if abs(got[1] - total) > RELATIVE_LIMIT * bound:
            beyond.append(f"tensor {name}: sum {got[1]!r} vs {total!r}")
    if cluster_weeks and cluster_weeks[0][2] >= cluster_weeks[0][3]:
        failures.append(f"the first week's MAPE {cluster_weeks[0][2]}% is not below persistence's "
                        f"{cluster_weeks[0][3]}%")
    if not report_only:
        failures += beyond
    if failures:
        raise SystemExit("the cluster differs from the single host process:\n  " + "\n  ".join(failures))
    verdict = "matches" if not beyond else "is within float rounding of"
    first, last = cluster_weeks[0], cluster_weeks[-1]
    learning = f"MAPE {first[2]:.2f}% in the first week (persistence {first[3]:.2f}%)"
    if len(cluster_weeks) > 1:
        learning += f", {last[2]:.2f}% in week {last[0]} (persistence {last[3]:.2f}%)"
    print(f"the cluster {verdict} the single host process: {len(reference)} sampled weights, {identical} bit for bit, "
          f"largest relative difference {worst:.1e} (the test's limit {RELATIVE_LIMIT:g}); tensor sums within "
          f"{worst_sum:.1e}; the same weekly errors; {learning}")


def main(argv):
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # through run()'s clean-up
    mode = argv[0] if argv[:1] in (["--check-reference"], ["--report"]) else None
    if mode:
        argv = argv[1:]
    if len(argv) < 3 or argv[1] != "--":
        raise SystemExit(__doc__)
    if mode == "--check-reference":
        check_reference(argv[0], argv[2:])
    else:
        compare(argv[0], argv[2:], report_only=mode == "--report")


if __name__ == "__main__":
    main(sys.argv[1:])
