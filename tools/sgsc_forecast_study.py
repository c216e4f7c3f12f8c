#!/usr/bin/env python3
"""Forecasting every bundled SGSC household meter: `edgelstm train` (its defaults, or the given
options) and `edgelstm eval` per meter, then the median over the meters of each forecaster's MAE,
RMSE, sMAPE and MASE on the last two weeks (MAPE is undefined where a meter reads 0; MASE scales
each meter's MAE by persistence's mean one-step error before the test span, so meters of any size
compare). The two vacant meters (10018246 reads 0 throughout, 10018248 ~97% zeros) are left out.

Usage: sgsc_forecast_study.py EDGELSTM_CLI WORK_DIR [--jobs N] [--train-args "..."] [--meters a,b,...]
                              [--every K] [--check]
Prints a Markdown table (one row per forecaster) and how many meters the LSTM beats each baseline on.
--every K takes every K-th non-vacant meter (a bounded test's sample); --check exits 1 unless the
LSTM's median MASE is below every other forecaster's (the strongest simple baseline's included).
"""
import argparse
import concurrent.futures
import os
import statistics
import subprocess
import sys

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data",
                    "sgsc_50hh_30min_2013-04-02_2013-05-29.csv")
VACANT = {"10018246", "10018248"}


def number(cell):
    cell = cell.strip().rstrip("%")
    return None if cell == "n/a" else float(cell)


def evaluate(cli, work, meter, train_args):
    model = os.path.join(work, f"{meter}.elstm")
    trained = subprocess.run([cli, "train", "--data", DATA, "--value-column", meter, "--model", model, *train_args],
                             capture_output=True, text=True)
    if trained.returncode != 0:
        return meter, None, trained.stderr.strip()
    base = next((line for line in trained.stdout.splitlines() if line.startswith("base:")), "base: ?")
    table = subprocess.run([cli, "eval", "--data", DATA, "--value-column", meter, "--model", model],
                           capture_output=True, text=True, check=True).stdout
    rows = {}
    for line in table.splitlines():
        cells = line.split("|")[1:-1]
        if len(cells) == 6 and not cells[1].strip().startswith(("MAE", "-")):
            # The first row is the LSTM, plain or correcting Holt-Winters: one name for all meters.
            rows["edgelstm (train's defaults)" if not rows else cells[0].strip()] = dict(mae=number(cells[1]), rmse=number(cells[2]), smape=number(cells[4]),
                                          mase=number(cells[5]))
    return meter, rows, base


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cli")
    parser.add_argument("work")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--train-args", default="")
    parser.add_argument("--meters", default="")
    parser.add_argument("--every", type=int, default=1)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    meters = [name for name in open(DATA).readline().strip().split(",")[1:] if name not in VACANT]
    if args.meters:
        meters = [m for m in meters if m in args.meters.split(",")]
    meters = meters[::args.every]
    results, failures, hybrids = {}, [], 0
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for meter, rows, note in pool.map(lambda m: evaluate(args.cli, args.work, m, args.train_args.split()), meters):
            if rows is None:
                failures.append(f"{meter}: {note}")
            else:
                results[meter] = rows
                hybrids += note.startswith("base: double seasonal")
                print(f"{meter}: {note}", file=sys.stderr)
    if failures:
        sys.exit("training failed for:\n" + "\n".join(failures))
    names = list(next(iter(results.values())))
    lstm = names[0]
    medians = {}
    print(f"| forecaster (median over {len(results)} SGSC meters, last 14 days) | MAE (kWh) | RMSE (kWh) | sMAPE | MASE "
          f"| meters the LSTM beats it on (MASE) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in names:
        values = [rows[name] for rows in results.values() if rows[name]["mae"] is not None]
        if not values:
            print(f"| {name} | n/a | n/a | n/a | n/a | |")
            continue
        median = {key: statistics.median(v[key] for v in values if v[key] is not None) for key in values[0]}
        medians[name] = median["mase"]
        beaten = "" if name == lstm else str(sum(rows[lstm]["mase"] < rows[name]["mase"] for rows in results.values()
                                                 if rows[name]["mase"] is not None))
        print(f"| {name} | {median['mae']:.4f} | {median['rmse']:.4f} | {median['smape']:.1f}% | {median['mase']:.3f} "
              f"| {beaten} |")
    print(f"\nThe LSTM corrected double seasonal Holt-Winters on {hybrids} meters (--base auto chose it on the "
          f"validation span) and forecast the reading itself on {len(results) - hybrids}.")
    if args.check:
        strongest = min((name for name in names if name != lstm), key=lambda name: medians.get(name, float("inf")))
        verdict = "below" if medians[lstm] < medians[strongest] else "NOT below"
        print(f"\ncheck: the LSTM's median MASE {medians[lstm]:.3f} is {verdict} the strongest baseline's, "
              f"{strongest}: {medians[strongest]:.3f}")
        if medians[lstm] >= medians[strongest]:
            sys.exit(1)


if __name__ == "__main__":
    main()
