#!/usr/bin/env python3
"""Exports a PyTorch LSTM forecaster or classifier for `edgelstm import-torch`.

Input: a file saved with torch.save holding a module or its state_dict, made of
    one or more torch.nn.LSTM modules applied in sequence (batch_first or not), whose layers become
        edgelstm's stacked layers in that order (1 to 4 layers in all), and
    one torch.nn.Linear head on the last LSTM's output.
The modules may have any names: the single Linear and the LSTMs are found by their parameters
(LSTMs in the order the module registered them), or named with --lstm-prefix A[,B...] (in the order
they run) and --head-prefix H. Every parameter of the file must belong to them: anything else
(another Linear, an embedding, a bidirectional LSTM, proj_size) is refused, never dropped.

Output: a plain tensor dump, read by `edgelstm import-torch`, with edgelstm's names (lstm.*_l<k>,
head.*):
    line 1: "edgelstm-torch-export 1"
    then per tensor: a line "<name> <rows> <cols>" followed by rows*cols little-endian float32 values
    (a bias has cols = 1).

Usage: export_torch_state_dict.py MODEL.pt DUMP [--lstm-prefix A[,B...]] [--head-prefix H]
"""
import argparse
import re
import struct
import sys

try:
    import torch
except ImportError:
    sys.exit("error: needs PyTorch; on Debian 12: sudo apt-get install python3-torch")

LSTM_KEY = re.compile(r"^(.*?)\.?(weight_ih|weight_hh|bias_ih|bias_hh)_l(\d+)(_reverse)?$")
MAX_LAYERS = 4


def fail(message):
    sys.exit(f"error: {message}")


def lstm_prefixes(state):
    """The prefixes of LSTM parameters, in the state_dict's order."""
    found = []
    for key in state:
        match = LSTM_KEY.match(key)
        if match and match.group(1) not in found:
            found.append(match.group(1))
    return found


def linear_prefixes(state, lstms):
    """Prefixes p with a 2-D p.weight (and p.bias) that are not LSTM parameters."""
    found = []
    for key, value in state.items():
        if key.endswith("weight") and value.dim() == 2 and not LSTM_KEY.match(key):
            prefix = key[:-len("weight")].rstrip(".")
            if prefix not in lstms:
                found.append(prefix)
    return found


def name(prefix, leaf):
    return f"{prefix}.{leaf}" if prefix else leaf


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("dump")
    parser.add_argument("--lstm-prefix", help="the LSTM modules' names, comma-separated, in the order they run")
    parser.add_argument("--head-prefix", help="the Linear head's name")
    args = parser.parse_args()
    loaded = torch.load(args.model, map_location="cpu")
    state = loaded.state_dict() if hasattr(loaded, "state_dict") else loaded
    if not isinstance(state, dict) or not state:
        fail(f"{args.model}: neither a module nor a state_dict")
    for key in state:
        if "_reverse" in key or "weight_hr" in key:
            fail(f"{args.model}: {key}: bidirectional LSTMs and projections (proj_size) are not supported")

    lstms = args.lstm_prefix.split(",") if args.lstm_prefix else lstm_prefixes(state)
    if not lstms:
        fail(f"{args.model}: no nn.LSTM parameters (<name>.weight_ih_l0) among: {', '.join(state)}")
    heads = [args.head_prefix] if args.head_prefix is not None else linear_prefixes(state, lstms)
    if len(heads) != 1:
        fail(f"{args.model}: expected one nn.Linear head, found {len(heads)} ({', '.join(heads) or 'none'}); "
             "name it with --head-prefix")
    head = heads[0]

    out, used = [], set()

    def take(key, new_name):
        if key not in state:
            fail(f"{args.model}: missing {key} (names: {', '.join(state)})")
        used.add(key)
        out.append((new_name, state[key]))

    layer, width = 0, None
    for prefix in lstms:
        count = 0
        while name(prefix, f"weight_ih_l{count}") in state:
            count += 1
        if count == 0:
            fail(f"{args.model}: no LSTM called '{prefix}' (no {name(prefix, 'weight_ih_l0')})")
        for k in range(count):
            if layer >= MAX_LAYERS:
                fail(f"{args.model}: more than {MAX_LAYERS} LSTM layers in all")
            inputs = state[name(prefix, f"weight_ih_l{k}")].shape[1]
            if width is not None and inputs != width:
                fail(f"{args.model}: LSTM '{prefix}' layer {k} takes {inputs} inputs but the layer before gives {width}: "
                     "not a sequence edgelstm can stack")
            width = state[name(prefix, f"weight_hh_l{k}")].shape[1]
            for leaf in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                take(name(prefix, f"{leaf}_l{k}"), f"lstm.{leaf}_l{layer}")
            layer += 1
    take(name(head, "weight"), "head.weight")
    take(name(head, "bias"), "head.bias")
    if state[name(head, "weight")].shape[1] != width:
        fail(f"{args.model}: the head '{head}' takes {state[name(head, 'weight')].shape[1]} inputs, the last LSTM "
             f"layer gives {width}")
    unused = [key for key in state if key not in used]
    if unused:
        fail(f"{args.model}: parameters that belong to neither the LSTMs ({', '.join(lstms)}) nor the head ({head}): "
             f"{', '.join(unused)} — edgelstm's network has no place for them")

    with open(args.dump, "wb") as dump:
        dump.write(b"edgelstm-torch-export 1\n")
        for new_name, value in out:
            tensor = value.detach().to(torch.float32).contiguous()
            rows = tensor.shape[0]
            cols = tensor.shape[1] if tensor.dim() == 2 else 1
            dump.write(f"{new_name} {rows} {cols}\n".encode())
            dump.write(struct.pack(f"<{rows * cols}f", *tensor.reshape(-1).tolist()))
    print(f"wrote {len(out)} tensors to {args.dump}: LSTM {', '.join(lstms)} ({layer} layers), head {head}")


if __name__ == "__main__":
    main()
