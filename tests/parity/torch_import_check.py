#!/usr/bin/env python3
"""Checks `edgelstm import-torch`: a PyTorch nn.LSTM (2 layers) + nn.Linear saved with torch.save,
dumped by tools/export_torch_state_dict.py and imported, must land in the model file tensor for
tensor, bit for bit, in state_dict order; a dump with a bidirectional LSTM must be refused.

Usage: torch_import_check.py EDGELSTM_CLI SOURCE_DIR WORK_DIR
"""
import os
import subprocess
import sys

import torch

sys.path.insert(0, os.path.join(sys.argv[2], "tools"))
from torch_forecast_reference import read_model  # noqa: E402


def main():
    cli, source, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    torch.manual_seed(3)
    model = torch.nn.ModuleDict({"lstm": torch.nn.LSTM(3, 8, 2, batch_first=True), "head": torch.nn.Linear(8, 2)})
    torch.save(model.state_dict(), f"{work}/model.pt")
    exporter = os.path.join(source, "tools", "export_torch_state_dict.py")
    subprocess.run([sys.executable, exporter, f"{work}/model.pt", f"{work}/dump"], check=True)
    subprocess.run([cli, "import-torch", "--dump", f"{work}/dump", "--window", "5", "--out", f"{work}/model.elstm"],
                   check=True)
    spec, tensors = read_model(f"{work}/model.elstm")
    assert (spec["input"], spec["hidden"], spec["layers"], spec["outputs"], spec["window"]) == (3, 8, 2, 2, 5), spec
    state = model.state_dict()
    assert list(tensors) == list(state), (list(tensors), list(state))
    for name, values in tensors.items():
        expected = state[name].reshape(-1).numpy()
        assert (values == expected).all(), name
    print("import-torch: all", len(tensors), "tensors bit-identical, in state_dict order")

    bidirectional = torch.nn.ModuleDict({"lstm": torch.nn.LSTM(3, 8, 1, batch_first=True, bidirectional=True),
                                         "head": torch.nn.Linear(16, 1)})
    torch.save(bidirectional, f"{work}/bidirectional.pt")
    refused = subprocess.run([sys.executable, exporter, f"{work}/bidirectional.pt", f"{work}/dump2"],
                             capture_output=True, text=True)
    assert refused.returncode != 0 and "bidirectional" in refused.stderr, refused
    print("bidirectional LSTM refused:", refused.stderr.strip())


if __name__ == "__main__":
    main()
