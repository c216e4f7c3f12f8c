#!/usr/bin/env python3
"""The same forecaster trained by PyTorch: a reference for `edgelstm train`.

Takes what `edgelstm train --save-initial INIT --export-dataset DIR` wrote: the initialized,
untrained model (the same initial weights) and the normalized windows of the same chronological
split, with the readings and, for a model that corrects a base forecast (double seasonal
Holt-Winters), the base's forecasts. Trains torch.nn.LSTM + torch.nn.Linear (float32, one thread,
batch 1) with the same optimizer (Adam, clipping at norm 1), the same epochs, the same shuffle of
the training windows (SplitMix64, as in host/training.cpp) and the same early stopping on the
validation MAE (or --early-stopping rmse/mape/smape), then prints each epoch's mean training loss
and the test span's "pytorch test MAE <m> RMSE <r> MAPE <p>%".

Usage: torch_forecast_reference.py --initial INIT.elstm --dataset DIR [--epochs N] [--patience P] [--lr LR] [--seed S]
                                   [--early-stopping mae|rmse|mape|smape]
"""
import argparse
import struct
import sys

try:
    import numpy
    import torch
except ImportError:
    sys.exit("error: needs PyTorch; on Debian 12: sudo apt-get install python3-torch")


def read_model(path):
    """Tensors of an edgelstm model file (format: include/edgelstm/model_format.h)."""
    data = open(path, "rb").read()
    if data[:8] != b"ELSTMMDL" or struct.unpack_from("<H", data, 8)[0] not in (1, 2) or data[37] != 0:
        sys.exit(f"{path}: not a float32 edgelstm model file (versions 1 and 2)")
    input_size, layers = struct.unpack_from("<HB", data, 20)
    hidden = struct.unpack_from("<4H", data, 24)
    outputs, window = struct.unpack_from("<HH", data, 32)
    count = struct.unpack_from("<I", data, 40)[0]
    tensors = {}
    for k in range(count):
        entry = 64 + 48 * k
        name = data[entry:entry + 32].split(b"\0")[0].decode()
        kind, = struct.unpack_from("<B", data, entry + 32)
        elements, offset = struct.unpack_from("<II", data, entry + 36)
        if kind == 0:
            tensors[name] = numpy.frombuffer(data, dtype="<f4", count=elements, offset=offset).copy()
    return dict(input=input_size, layers=layers, hidden=hidden[0], outputs=outputs, window=window), tensors


def splitmix_order(n, seed):
    """The training order of each epoch, exactly as host/training.cpp shuffles it."""
    state = [seed & 0xFFFFFFFFFFFFFFFF]
    mask = 0xFFFFFFFFFFFFFFFF

    def mix():
        state[0] = (state[0] + 0x9E3779B97F4A7C15) & mask
        z = state[0]
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        return ((z ^ (z >> 31)) >> 32) & 0xFFFFFFFF

    order = list(range(n))

    def shuffle():
        for k in range(n, 1, -1):
            j = mix() % k
            order[k - 1], order[j] = order[j], order[k - 1]
        return order

    return shuffle


def metrics(forecast, actual):
    """MAE, RMSE, MAPE (%) and sMAPE (%) as edgelstm computes them (host/metrics.cpp)."""
    error = (forecast - actual).abs()
    denominator = forecast.abs() + actual.abs()
    symmetric = torch.where(denominator > 0, 2 * error / torch.where(denominator > 0, denominator, 1.0), 0.0)
    return dict(mae=float(error.mean()), rmse=float((error ** 2).mean().sqrt()),
                mape=float((100 * error / actual.abs()).mean()), smape=float(100 * symmetric.mean()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--initial", required=True)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--patience", type=int, default=6)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--early-stopping", default="mae", choices=["mae", "rmse", "mape", "smape"])
    args = parser.parse_args()
    torch.set_num_threads(1)
    spec, tensors = read_model(args.initial)
    shapes = dict(line.split() for line in open(f"{args.dataset}/shapes.txt"))
    window, features = int(shapes["window"]), int(shapes["features"])
    mean, scale = float(shapes["mean"]), float(shapes["scale"])
    has_base, error_scale = shapes.get("base", "0") == "1", float(shapes.get("error_scale", "1"))

    def load(name):
        x = numpy.fromfile(f"{args.dataset}/{name}_x.f32", dtype="<f4").reshape(-1, window, features)
        y = numpy.fromfile(f"{args.dataset}/{name}_y.f32", dtype="<f4")
        actual = numpy.fromfile(f"{args.dataset}/{name}_actual.f64", dtype="<f8")
        base = numpy.fromfile(f"{args.dataset}/{name}_base.f64", dtype="<f8")
        return torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(actual), torch.from_numpy(base)

    train_x, train_y, _, _ = load("train")
    validation = load("validation")
    test = load("test")
    lstm = torch.nn.LSTM(features, spec["hidden"], spec["layers"], batch_first=True)
    head = torch.nn.Linear(spec["hidden"], 1)
    model = torch.nn.ModuleDict({"lstm": lstm, "head": head})
    state = {name: torch.from_numpy(values).reshape(model.state_dict()[name].shape) for name, values in tensors.items()
             if name.startswith(("lstm.", "head."))}
    model.load_state_dict(state)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)

    def evaluate(split):
        x, _, actual, base = split
        with torch.no_grad():
            out, _ = lstm(x)
            y = head(out[:, -1, :]).squeeze(1).double()
            forecast = base + y * error_scale if has_base else y * scale + mean
            return metrics(forecast, actual)

    shuffle = splitmix_order(len(train_y), args.seed)
    best = {k: v.clone() for k, v in model.state_dict().items()}
    best_score, since = evaluate(validation)[args.early_stopping], 0
    for epoch in range(1, args.epochs + 1):
        total = 0.0
        for k in shuffle():
            optimizer.zero_grad()
            out, _ = lstm(train_x[k:k + 1])
            loss = torch.nn.functional.mse_loss(head(out[:, -1, :]).squeeze(1), train_y[k:k + 1])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            total += float(loss)
        score = evaluate(validation)[args.early_stopping]
        print(f"epoch {epoch:3d}  loss {total / len(train_y):.6f}  validation {args.early_stopping} {score:.6g}", flush=True)
        if score < best_score:
            best, best_score, since = {k: v.clone() for k, v in model.state_dict().items()}, score, 0
        else:
            since += 1
            if since >= args.patience:
                break
    model.load_state_dict(best)
    m = evaluate(test)
    print(f"pytorch test MAE {m['mae']:.6g} RMSE {m['rmse']:.6g} MAPE {m['mape']:.4f}%")


if __name__ == "__main__":
    main()
