#!/usr/bin/env python3
"""Exports a PyTorch LSTM forecaster for `edgelstm import-torch`.

Input: a file saved with torch.save holding either a state_dict or a module whose state_dict has
the keys of
    lstm = torch.nn.LSTM(input_size, hidden_size, num_layers, batch_first=True)   -> "lstm.*"
    head = torch.nn.Linear(hidden_size, outputs)                                   -> "head.*"
(for example a module with attributes `lstm` and `head`, or torch.nn.ModuleDict({"lstm": ..., "head": ...})).
Bidirectional LSTMs and projections (proj_size) are not supported.

Output: a plain tensor dump, read by `edgelstm import-torch`:
    line 1: "edgelstm-torch-export 1"
    then per tensor: a line "<name> <rows> <cols>" followed by rows*cols little-endian float32 values
    (a bias has cols = 1).

Usage: export_torch_state_dict.py MODEL.pt DUMP
"""
import struct
import sys

try:
    import torch
except ImportError:
    sys.exit("error: needs PyTorch; on Debian 12: sudo apt-get install python3-torch")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    loaded = torch.load(sys.argv[1], map_location="cpu")
    state = loaded.state_dict() if hasattr(loaded, "state_dict") else loaded
    keys = [k for k in state if k.startswith(("lstm.", "head."))]
    if not any(k.startswith("lstm.weight_ih_l0") for k in keys) or "head.weight" not in keys:
        sys.exit(f"{sys.argv[1]}: expected lstm.* and head.* entries (found: {', '.join(state)})")
    for k in keys:
        if "reverse" in k or "weight_hr" in k:
            sys.exit(f"{sys.argv[1]}: {k}: bidirectional LSTMs and projections are not supported")
    with open(sys.argv[2], "wb") as out:
        out.write(b"edgelstm-torch-export 1\n")
        for k in keys:
            tensor = state[k].detach().to(torch.float32).contiguous()
            rows = tensor.shape[0]
            cols = tensor.shape[1] if tensor.dim() == 2 else 1
            out.write(f"{k} {rows} {cols}\n".encode())
            out.write(struct.pack(f"<{rows * cols}f", *tensor.reshape(-1).tolist()))
    print(f"wrote {len(keys)} tensors to {sys.argv[2]}")


if __name__ == "__main__":
    main()
