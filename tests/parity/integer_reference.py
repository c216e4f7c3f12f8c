#!/usr/bin/env python3
"""An independent reference of edgelstm's full-integer LSTM step (include/edgelstm/integer_network.h),
written from the definition in Python's exact integers, and the generator of the golden values the
core tests compare with bit for bit on the host and on every target (tests/integer_test.cpp).

Definition (x_q int16; h, gates Q15; c Q(F); pre-activations Q.12; y Q16):
  acc_ih[r] = sum_k W_ih[r,k] x_q[k]             acc_hh[r] = sum_k W_hh[r,k] h[k]
  z[r]      = bias[r] + rq_gate(acc_ih[r], m_ih[r], s_ih) + rq_gate(acc_hh[r], m_hh[r], s_hh)
  rq_gate(a, m, s) = rsr(floor((a m + 2^31) / 2^32), s - 32)     (one s per layer and sum, in [33, 62])
  rq(a, m, s) = floor((a m + 2^(s-1)) / 2^s)
  i, f, o   = sigmoid_q15(z), g = tanh_q15(z)   (tables of tools/fixed_point_tables.py, interpolated)
  c'        = sat15(rsr(f c, 15) + rsr(i g, 30 - F)),  rsr(v, s) = floor((v + 2^(s-1)) / 2^s)
  h'        = rsr(o tanh_q15(to_q12(c', F)), 15)
  y[o]      = sat32(bias_o + rq(W_head h, m_o, s_o))

Usage:
  integer_reference.py --golden-header tests/golden/integer_golden.h   (regenerate the golden values)
  integer_reference.py --check tests/golden/integer_golden.h           (the committed file is current)
  integer_reference.py --model M --inputs X --outputs Y                (a model file's stream, bit for bit)
"""
import argparse
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import fixed_point_tables  # noqa: E402

SIGMOID = fixed_point_tables.sigmoid_table()
TANH = fixed_point_tables.tanh_table()
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1


def rsr(value, shift):
    return (value + (1 << (shift - 1))) >> shift


def rq(acc, multiplier, shift):
    return (acc * multiplier + (1 << (shift - 1))) >> shift


def rq_gate(acc, multiplier, shift):
    assert 33 <= shift <= 62
    return rsr((acc * multiplier + (1 << 31)) >> 32, shift - 32)


def sat32(value):
    return max(INT32_MIN, min(INT32_MAX, value))


def sat15(value):
    return max(-32767, min(32767, value))


def sigmoid_q15(z):
    u = max(0, min(65535, z + 32768))
    a, b = SIGMOID[u >> 8], SIGMOID[(u >> 8) + 1]
    return a + (((b - a) * (u & 255) + 128) >> 8)


def tanh_q15(z):
    u = max(0, min(32767, z + 16384))
    a, b = TANH[u >> 7], TANH[(u >> 7) + 1]
    return a + (((b - a) * (u & 127) + 64) >> 7)


def to_q12(value, fraction):
    return rsr(value, fraction - 12) if fraction > 12 else value * (1 << (12 - fraction))


COVERAGE = {"sigmoid_saturated": 0, "tanh_saturated": 0, "cell_saturated": 0, "output_saturated": 0}


def step(model, x, state):
    """One time step; state is a list of (h, c) per layer, replaced. Returns y. Counts the
    saturating cases in COVERAGE."""
    inputs = x
    for l, layer in enumerate(model["layers"]):
        h, c = state[l]
        hidden = len(h)
        z = []
        for r in range(4 * hidden):
            acc_ih = sum(w * v for w, v in zip(layer["w_ih"][r], inputs))
            acc_hh = sum(w * v for w, v in zip(layer["w_hh"][r], h))
            bias, m_ih, m_hh = layer["gates"][r]
            z.append(bias + rq_gate(acc_ih, m_ih, layer["shift_ih"]) + rq_gate(acc_hh, m_hh, layer["shift_hh"]))
            assert INT32_MIN <= z[-1] <= INT32_MAX
        fraction = layer["fraction"]
        new_h, new_c = [], []
        for j in range(hidden):
            i, f = sigmoid_q15(z[j]), sigmoid_q15(z[hidden + j])
            g, o = tanh_q15(z[2 * hidden + j]), sigmoid_q15(z[3 * hidden + j])
            COVERAGE["sigmoid_saturated"] += sum(abs(z[k * hidden + j]) >= 8 * 4096 for k in (0, 1, 3))
            COVERAGE["tanh_saturated"] += abs(z[2 * hidden + j]) >= 4 * 4096
            unsaturated = rsr(f * c[j], 15) + rsr(i * g, 30 - fraction)
            cell = sat15(unsaturated)
            COVERAGE["cell_saturated"] += cell != unsaturated
            new_c.append(cell)
            new_h.append(rsr(o * tanh_q15(to_q12(cell, fraction)), 15))
        state[l] = (new_h, new_c)
        inputs = new_h
    y = []
    for weights, (bias, m, s) in zip(model["head_w"], model["head_rows"]):
        unsaturated = bias + rq(sum(w * v for w, v in zip(weights, inputs)), m, s)
        COVERAGE["output_saturated"] += sat32(unsaturated) != unsaturated
        y.append(sat32(unsaturated))
    return y


def constant(rng, real):
    """(multiplier, shift) for a real factor, as quantize_multiplier computes it."""
    import math
    fraction, exponent = math.frexp(real)
    mantissa = round(fraction * 2**31)
    if mantissa == 2**31:
        mantissa //= 2
        exponent += 1
    return mantissa, 31 - exponent


def make_case(name, seed, inputs, hiddens, outputs, steps, fractions, gate_gain, input_range):
    """Random integer parameters shaped like a calibrated network; gate_gain sets how far the
    pre-activations reach (large values drive the tables into saturation)."""
    rng = random.Random(seed)
    layers = []
    width = inputs
    for hidden, fraction in zip(hiddens, fractions):
        rows = 4 * hidden
        layer = {"w_ih": [[rng.randint(-127, 127) for _ in range(width)] for _ in range(rows)],
                 "w_hh": [[rng.randint(-127, 127) for _ in range(hidden)] for _ in range(rows)],
                 "fraction": fraction, "gates": []}
        # Real factors such that a full-scale sum maps to about gate_gain in Q.12; one shift per
        # layer and sum from the largest factor, a multiplier per row.
        f_ih = [gate_gain * 4096 * rng.uniform(0.3, 1.0) / (127 * 32767 * width ** 0.5) for _ in range(rows)]
        f_hh = [gate_gain * 4096 * rng.uniform(0.3, 1.0) / (127 * 32767 * hidden ** 0.5) for _ in range(rows)]
        layer["shift_ih"] = constant(rng, max(f_ih))[1]
        layer["shift_hh"] = constant(rng, max(f_hh))[1]
        for r in range(rows):
            bias = rng.randint(-3 * 4096, 3 * 4096)
            layer["gates"].append((bias, round(f_ih[r] * 2**layer["shift_ih"]), round(f_hh[r] * 2**layer["shift_hh"])))
        layers.append(layer)
        width = hidden
    head_w = [[rng.randint(-127, 127) for _ in range(width)] for _ in range(outputs)]
    head_rows = []
    for o in range(outputs):
        # The first output of multi-output cases gets a factor above 1/2 (shift below 32).
        m, s = constant(rng, 2.0 * (rng.uniform(0.4, 1.5) if o == 0 and outputs > 1 else rng.uniform(0.001, 0.01)))
        head_rows.append((rng.randint(-65536, 65536), m, s))
    for key in COVERAGE:
        COVERAGE[key] = 0
    xs = [[max(-32767, min(32767, int(rng.gauss(0, input_range)))) for _ in range(inputs)] for _ in range(steps)]
    model = {"layers": layers, "head_w": head_w, "head_rows": head_rows}
    state = [([0] * h, [0] * h) for h in hiddens]
    ys = [step(model, x, state) for x in xs]
    return {"name": name, "inputs": inputs, "hiddens": hiddens, "outputs": outputs, "steps": steps,
            "model": model, "x": xs, "y": ys, "state": state, "coverage": dict(COVERAGE)}


CASES = [
    # name, seed, inputs, hidden sizes, outputs, steps, cell fraction bits, gate gain, input spread
    ("in1_h8", 1, 1, [8], 1, 24, [14], 6.0, 9000),
    ("in3_h13_h6", 2, 3, [13, 6], 5, 16, [12, 15], 10.0, 12000),
    ("in7_h32_saturating", 3, 7, [32], 2, 20, [15], 40.0, 40000),
    ("in2_h5_h4_h3_cell0", 4, 2, [5, 4, 3], 3, 12, [0, 13, 11], 12.0, 20000),
]


def header(cases):
    def array(ctype, name, values):
        return f"inline constexpr {ctype} {name}[] = {{{', '.join(str(v) for v in values)}}};\n"
    out = ["// Generated by tests/parity/integer_reference.py --golden-header; do not edit.\n",
           "// Full-integer LSTM steps computed by the independent Python reference, compared bit for bit\n",
           "// by tests/integer_test.cpp on the host and on every target.\n",
           "#pragma once\n\n#include <cstdint>\n\nnamespace edgelstm::integer_golden {\n"]
    for case in cases:
        m = case["model"]
        out.append(f"\nnamespace {case['name']} {{\n")
        out.append(f"inline constexpr unsigned inputs = {case['inputs']}, outputs = {case['outputs']}, "
                   f"steps = {case['steps']}, layers = {len(case['hiddens'])};\n")
        out.append(array("unsigned", "hidden", case["hiddens"]))
        out.append("// Saturating events during the run (pre-activations beyond the tables, c and y clamped).\n")
        out.append("inline constexpr unsigned " + ", ".join(f"{k} = {v}" for k, v in case["coverage"].items()) + ";\n")
        out.append(array("std::int32_t", "fraction", [layer["fraction"] for layer in m["layers"]]))
        out.append(array("std::int32_t", "shift_ih", [layer["shift_ih"] for layer in m["layers"]]))
        out.append(array("std::int32_t", "shift_hh", [layer["shift_hh"] for layer in m["layers"]]))
        for l, layer in enumerate(m["layers"]):
            out.append(array("std::int8_t", f"w_ih{l}", [w for row in layer["w_ih"] for w in row]))
            out.append(array("std::int8_t", f"w_hh{l}", [w for row in layer["w_hh"] for w in row]))
            out.append(array("std::int32_t", f"gates{l}", [v for row in layer["gates"] for v in row]))
        out.append(array("std::int8_t", "head_w", [w for row in m["head_w"] for w in row]))
        out.append(array("std::int32_t", "head_rows", [v for row in m["head_rows"] for v in row]))
        out.append(array("std::int16_t", "x", [v for row in case["x"] for v in row]))
        out.append(array("std::int32_t", "y", [v for row in case["y"] for v in row]))
        out.append(array("std::int16_t", "final_h", [v for h, _ in case["state"] for v in h]))
        out.append(array("std::int16_t", "final_c", [v for _, c in case["state"] for v in c]))
        out.append(f"}}  // namespace {case['name']}\n")
    out.append("\n}  // namespace edgelstm::integer_golden\n")
    return "".join(out)


def read_model(path):
    """The integer path of an edgelstm model file (include/edgelstm/model_format.h)."""
    import struct
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"ELSTMMDL":
        sys.exit(f"{path}: not an edgelstm model file")
    inputs, layers = struct.unpack_from("<HB", data, 20)
    hidden = struct.unpack_from("<4H", data, 24)[:layers]
    outputs = struct.unpack_from("<H", data, 32)[0]
    tensors = {}
    for k in range(struct.unpack_from("<I", data, 40)[0]):
        entry = 64 + 48 * k
        name = data[entry:entry + 32].split(b"\0")[0].decode()
        kind, count, offset = data[entry + 32], *struct.unpack_from("<II", data, entry + 36)
        fmt = {0: "f", 3: "b", 5: "i"}.get(kind)
        if fmt:
            tensors[name] = list(struct.unpack_from(f"<{count}{fmt}", data, offset))
    config = tensors["int.config"]

    def rows(values, width):
        return [values[r * width:(r + 1) * width] for r in range(len(values) // width)]
    model = {"layers": [], "inputs": inputs, "outputs": outputs, "hidden": hidden}
    width = inputs
    for l, h in enumerate(hidden):
        model["layers"].append({"w_ih": rows(tensors[f"lstm.weight_ih_l{l}"], width),
                                "w_hh": rows(tensors[f"lstm.weight_hh_l{l}"], h),
                                "gates": rows(tensors[f"int.l{l}.gates"], 3), "fraction": config[1 + l],
                                "shift_ih": config[6 + l], "shift_hh": config[10 + l]})
        width = h
    model["head_w"] = rows(tensors["head.weight"], width)
    model["head_rows"] = rows(tensors["int.head"], 3)
    return model


def check_stream(model_path, inputs_path, outputs_path):
    """Runs the int16 input stream through the file's integer network from a zero state and compares
    every int32 output with the given ones; exits non-zero on the first difference."""
    import struct
    model = read_model(model_path)
    with open(inputs_path, "rb") as f:
        raw = f.read()
    xs = struct.unpack(f"<{len(raw) // 2}h", raw)
    with open(outputs_path, "rb") as f:
        raw = f.read()
    ys = struct.unpack(f"<{len(raw) // 4}i", raw)
    n, o = model["inputs"], model["outputs"]
    state = [([0] * h, [0] * h) for h in model["hidden"]]
    steps = len(xs) // n
    if steps * o != len(ys):
        sys.exit("inputs and outputs differ in length")
    for t in range(steps):
        y = step(model, list(xs[t * n:(t + 1) * n]), state)
        if y != list(ys[t * o:(t + 1) * o]):
            sys.exit(f"step {t}: reference {y}, edgelstm {list(ys[t * o:(t + 1) * o])}")
    print(f"{steps} steps equal bit for bit")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--golden-header")
    group.add_argument("--check")
    group.add_argument("--model", help="with --inputs and --outputs: check a model file's stream")
    parser.add_argument("--inputs", help="int16 little-endian inputs, steps x input_size")
    parser.add_argument("--outputs", help="int32 little-endian outputs edgelstm computed, steps x output_size")
    args = parser.parse_args()
    if args.model:
        check_stream(args.model, args.inputs, args.outputs)
        return
    text = header([make_case(*c) for c in CASES])
    if args.golden_header:
        with open(args.golden_header, "w", encoding="utf-8") as f:
            f.write(text)
        return
    with open(args.check, encoding="utf-8") as f:
        if f.read() != text:
            sys.exit(f"{args.check} differs from what tests/parity/integer_reference.py generates: regenerate it")
    print("integer golden values up to date")


if __name__ == "__main__":
    main()
