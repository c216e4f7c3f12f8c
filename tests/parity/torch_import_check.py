#!/usr/bin/env python3
"""Checks `edgelstm import-torch` with tools/export_torch_state_dict.py:
 1. nn.LSTM (2 layers) + nn.Linear named lstm/head land in the model file tensor for tensor, bit
    for bit, in state_dict order;
 2. a user's names (encoder/fc) are found without options, and given with --lstm-prefix/--head-prefix;
 3. nn.LSTM modules in sequence (hidden 8, then 6 over two layers) become one stacked network, and
    edgelstm's forecasts (`edgelstm predict` over a series) equal PyTorch's forward of the modules;
 4. a bidirectional LSTM, two candidate heads without --head-prefix, and a parameter that belongs
    to neither the LSTMs nor the head are refused, with a message naming them.

Usage: torch_import_check.py EDGELSTM_CLI SOURCE_DIR WORK_DIR
"""
import math
import os
import subprocess
import sys

import torch

sys.path.insert(0, os.path.join(sys.argv[2], "tools"))
from torch_forecast_reference import read_model  # noqa: E402


def main():
    cli, source, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    exporter = os.path.join(source, "tools", "export_torch_state_dict.py")

    def export(module, name, *options, check=True):
        torch.save(module, f"{work}/{name}.pt")
        return subprocess.run([sys.executable, exporter, f"{work}/{name}.pt", f"{work}/{name}.dump", *options],
                              check=check, capture_output=True, text=True)

    def imported(name, window, *options):
        subprocess.run([cli, "import-torch", "--dump", f"{work}/{name}.dump", "--window", str(window), "--out",
                        f"{work}/{name}.elstm", *options], check=True, capture_output=True)
        return read_model(f"{work}/{name}.elstm")

    # 1. The canonical names.
    torch.manual_seed(3)
    model = torch.nn.ModuleDict({"lstm": torch.nn.LSTM(3, 8, 2, batch_first=True), "head": torch.nn.Linear(8, 2)})
    export(model.state_dict(), "canonical")
    spec, tensors = imported("canonical", 5)
    assert (spec["input"], spec["hidden"], spec["layers"], spec["outputs"], spec["window"]) == (3, 8, 2, 2, 5), spec
    state = model.state_dict()
    assert list(tensors) == list(state), (list(tensors), list(state))
    for name, values in tensors.items():
        assert (values == state[name].reshape(-1).numpy()).all(), name
    print("canonical names: all", len(tensors), "tensors bit-identical, in state_dict order")

    # 2. A user's names: found by their parameters, or given.
    user = torch.nn.ModuleDict({"encoder": torch.nn.LSTM(3, 8, 1), "fc": torch.nn.Linear(8, 1)})
    for options in ((), ("--lstm-prefix", "encoder", "--head-prefix", "fc")):
        export(user.state_dict(), "user", *options)
        _, tensors = imported("user", 4)
        expected = {"lstm.weight_ih_l0": "encoder.weight_ih_l0", "lstm.weight_hh_l0": "encoder.weight_hh_l0",
                    "lstm.bias_ih_l0": "encoder.bias_ih_l0", "lstm.bias_hh_l0": "encoder.bias_hh_l0",
                    "head.weight": "fc.weight", "head.bias": "fc.bias"}
        assert list(tensors) == list(expected), list(tensors)
        for name, theirs in expected.items():
            assert (tensors[name] == user.state_dict()[theirs].reshape(-1).numpy()).all(), name
        print("user names encoder/fc", "given" if options else "detected", ": imported bit for bit")

    # 3. LSTM modules in sequence, checked by forecasting with both.
    torch.manual_seed(5)
    stacked = torch.nn.ModuleDict({"first": torch.nn.LSTM(1, 8, batch_first=True),
                                   "second": torch.nn.LSTM(8, 6, 2, batch_first=True), "out": torch.nn.Linear(6, 1)})
    export(stacked, "stacked")  # the whole module this time
    window = 5
    spec, tensors = imported("stacked", window, "--features", f"window={window};lags=;calendar=0;interval=1800",
                             "--norm-mean", "0", "--norm-scale", "1")
    assert spec["layers"] == 3, spec
    series = [0.8 * math.sin(2 * math.pi * k / 48) + 0.1 * math.cos(k / 7) for k in range(4 * 48)]
    with open(f"{work}/series.csv", "w") as csv:
        csv.write("timestamp,value\n")
        for k, value in enumerate(series):
            csv.write(f"2000-06-05T{k // 2 % 24:02d}:{30 * (k % 2):02d}:00,{value:.6f}\n".replace(
                "2000-06-05", f"2000-06-{5 + k // 48:02d}"))
    subprocess.run([cli, "predict", "--data", f"{work}/series.csv", "--value-column", "value", "--model",
                    f"{work}/stacked.elstm", "--validation-days", "1", "--test-days", "1", "--out",
                    f"{work}/stacked.csv"], check=True, capture_output=True)
    rows = [line.split(",") for line in open(f"{work}/stacked.csv").read().split()[1:]]
    values = [float(f"{v:.6f}") for v in series]
    worst = 0.0
    with torch.no_grad():
        for k, row in enumerate(rows):
            t = len(series) - len(rows) + k
            x = torch.tensor(values[t - window:t], dtype=torch.float32).reshape(1, window, 1)
            h, _ = stacked["first"](x)
            h, _ = stacked["second"](h)
            expected = float(stacked["out"](h[:, -1, :]))
            worst = max(worst, abs(float(row[2]) - expected))
    assert len(rows) == 48 and worst < 2e-5, (len(rows), worst)
    print(f"LSTM modules in sequence (8, then 6 x 2): edgelstm's {len(rows)} forecasts equal PyTorch's within {worst:.1e}")

    # 4. Refusals.
    bidirectional = torch.nn.ModuleDict({"lstm": torch.nn.LSTM(3, 8, 1, batch_first=True, bidirectional=True),
                                         "head": torch.nn.Linear(16, 1)})
    refused = export(bidirectional, "bidirectional", check=False)
    assert refused.returncode != 0 and "bidirectional" in refused.stderr, refused
    print("bidirectional LSTM refused:", refused.stderr.strip())
    two_heads = torch.nn.ModuleDict({"lstm": torch.nn.LSTM(3, 8), "proj": torch.nn.Linear(8, 8),
                                     "head": torch.nn.Linear(8, 1)})
    refused = export(two_heads.state_dict(), "two_heads", check=False)
    assert refused.returncode != 0 and "proj" in refused.stderr and "--head-prefix" in refused.stderr, refused
    refused = export(two_heads.state_dict(), "two_heads", "--head-prefix", "head", check=False)
    assert refused.returncode != 0 and "proj.weight" in refused.stderr and "no place" in refused.stderr, refused
    print("an extra Linear refused, named:", refused.stderr.strip())


if __name__ == "__main__":
    main()
