#!/usr/bin/env python3
"""Runs the meter firmware and compares its output with the committed host reference.

The firmware learns on 4032 readings; float rounding differs between targets (fused multiply-add
on the M4F and RV32F, none with soft float, AVX2 on the host), so the weights are not bit-equal.
Measured spread across host, cortex-m4f, rv32imc, rv32imafc and xtensa-lx106: weight sum within
1.0e-4, sum of squares within 1.2e-4, each printed weight within 1e-6, weekly errors equal to the
printed digits. Limits here are 4-10x that spread; a real divergence (a wrong kernel, a lost step) moves
these numbers by orders of magnitude more.

usage: compare_meter.py EXPECTED_OUTPUT -- COMMAND...
"""
import re
import subprocess
import sys

LIMITS = {"sum": 5e-4, "sumsq": 1e-3, "weight": 1e-5, "mae": 2.0, "mape": 0.02}


def parse(text):
    weeks = [(float(m.group(1)), float(m.group(2))) for m in
             re.finditer(r"week +\d+ +MAE +([\d.]+) MW +MAPE +([\d.]+)%", text)]
    digest = re.search(r"weights count (\d+) sum (\S+) sumsq (\S+)", text)
    listed = re.search(r"weights first (\S+) (\S+) (\S+) (\S+) last (\S+) (\S+)", text)
    refused = re.search(r"refused steps (\d+)", text)
    if not (weeks and digest and listed and refused):
        raise SystemExit("could not parse the firmware output:\n" + text)
    return {"weeks": weeks, "count": int(digest.group(1)), "sum": float(digest.group(2)),
            "sumsq": float(digest.group(3)), "listed": [float(v) for v in listed.groups()],
            "refused": int(refused.group(1))}


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        raise SystemExit(__doc__)
    expected = parse(open(sys.argv[1]).read())
    run = subprocess.run(sys.argv[3:], capture_output=True, text=True)
    print(run.stdout, end="")
    if run.returncode != 0:
        raise SystemExit(f"firmware exited with {run.returncode}\n{run.stderr}")
    actual = parse(run.stdout)
    failures = []
    if actual["count"] != expected["count"] or len(actual["weeks"]) != len(expected["weeks"]):
        failures.append("different network or number of weeks")
    if actual["refused"] != 0:
        failures.append(f"{actual['refused']} training steps refused")
    if abs(actual["sum"] - expected["sum"]) > LIMITS["sum"]:
        failures.append(f"weight sum {actual['sum']} vs {expected['sum']}")
    if abs(actual["sumsq"] - expected["sumsq"]) > LIMITS["sumsq"]:
        failures.append(f"weight sum of squares {actual['sumsq']} vs {expected['sumsq']}")
    for a, e in zip(actual["listed"], expected["listed"]):
        if abs(a - e) > LIMITS["weight"]:
            failures.append(f"weight {a} vs {e}")
    for week, ((mae, mape), (mae_e, mape_e)) in enumerate(zip(actual["weeks"], expected["weeks"]), start=1):
        if abs(mae - mae_e) > LIMITS["mae"] or abs(mape - mape_e) > LIMITS["mape"]:
            failures.append(f"week {week}: MAE {mae} MAPE {mape}% vs {mae_e} / {mape_e}%")
    if failures:
        raise SystemExit("differs from the host reference:\n  " + "\n  ".join(failures))
    print(f"matches the host reference: weight sum {actual['sum']:.6f} vs {expected['sum']:.6f}, "
          f"final week MAPE {actual['weeks'][-1][1]}% vs {expected['weeks'][-1][1]}%")


if __name__ == "__main__":
    main()
