#!/usr/bin/env python3
"""The edgelstm command line against hostile input: each case runs the real CLI the way a careless
or hostile user would, and fails unless it stops with exit status 2, a short message naming what is
wrong, and nothing written, overwritten or left behind (no crash, no hang, no silent nonsense).

Usage: hostile_input.py --list
       hostile_input.py EDGELSTM SOURCE_DIR WORK_DIR CASE [--sanitized]
(--sanitized: the CLI is built with AddressSanitizer, which needs the address space that the
memory-limit case takes away; that case is then skipped by ctest, not here.)
"""
import glob
import os
import resource
import shutil
import signal
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model_file  # noqa: E402

CASES = {}


def case(function):
    CASES[function.__name__] = function
    return function


class Context:
    def __init__(self, cli, source, work):
        self.cli, self.source, self.work = cli, source, work

    def path(self, name):
        return os.path.join(self.work, name)

    def taylor(self, name="data.csv"):
        """A copy of the bundled Taylor series (the tests never write into the source tree)."""
        target = self.path(name)
        shutil.copyfile(os.path.join(self.source, "data", "taylor_england_wales_halfhourly_demand_2000.csv"), target)
        return target

    def tiny_model(self, name="model.elstm", data=None):
        data = data or self.taylor()
        self.run(["train", "--data", data, "--model", self.path(name), "--hidden", "4", "--epochs", "1"], status=0)
        return self.path(name)

    def run(self, args, status=2, message=None, timeout=60, preexec=None):
        """Runs the CLI; fails unless it exits with `status` and, for a refusal, a short stderr
        holding `message` and no sanitizer report or crash."""
        try:
            done = subprocess.run([self.cli] + args, capture_output=True, timeout=timeout, preexec_fn=preexec,
                                  cwd=self.work)
        except subprocess.TimeoutExpired:
            fail(f"edgelstm {' '.join(args)} did not finish within {timeout} s (a hang)")
        err = done.stderr.decode(errors="replace")
        out = done.stdout.decode(errors="replace")
        if done.returncode != status:
            fail(f"edgelstm {' '.join(args)}: exit status {done.returncode}, expected {status}\n"
                 f"stdout: {out[-2000:]}\nstderr: {err[-2000:]}")
        for sign in ("runtime error", "AddressSanitizer", "terminate called", "Segmentation fault"):
            if sign in err:
                fail(f"edgelstm {' '.join(args)}: {sign}\n{err[-4000:]}")
        if status == 2:
            if message is not None and message not in err:
                fail(f"edgelstm {' '.join(args)}: stderr lacks {message!r}:\n{err[-2000:]}")
            if len(err) > 600:
                fail(f"edgelstm {' '.join(args)}: a {len(err)}-byte message (at most a few lines expected):\n{err[:600]}")
        return out, err


def fail(what):
    print(f"FAIL: {what}", file=sys.stderr)
    sys.exit(1)


def expect(condition, what):
    if not condition:
        fail(what)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def temporaries(work):
    return sorted(glob.glob(os.path.join(work, "**", "*.tmp-*"), recursive=True))


def limit_memory(byte_count):
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (byte_count, byte_count))
    return apply


def limit_file_size(byte_count):
    """The process may write files of at most `byte_count` bytes; a larger write fails with EFBIG
    (SIGXFSZ ignored), as a full disk would fail it."""
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (byte_count, byte_count))
    return apply


def write_dump(path, hidden=3, inputs=7):
    """A tools/export_torch_state_dict.py dump of an untrained nn.LSTM + nn.Linear (no PyTorch needed)."""
    shapes = [("lstm.weight_ih_l0", 4 * hidden, inputs), ("lstm.weight_hh_l0", 4 * hidden, hidden),
              ("lstm.bias_ih_l0", 4 * hidden, 1), ("lstm.bias_hh_l0", 4 * hidden, 1),
              ("head.weight", 1, hidden), ("head.bias", 1, 1)]
    with open(path, "wb") as f:
        f.write(b"edgelstm-torch-export 1\n")
        for name, rows, cols in shapes:
            f.write(f"{name} {rows} {cols}\n".encode())
            f.write(struct.pack(f"<{rows * cols}f", *[0.01 * (k % 7) for k in range(rows * cols)]))


# ---- Crashes ------------------------------------------------------------------------------------

@case
def NegativeOrZeroLagInAModelIsRefused(ctx):
    """Point 1: a CRC-valid model whose feature settings hold a lag < 1 (read outside the series, or
    the target fed to the network)."""
    model = ctx.tiny_model()
    for lags, shown in (("48,-999999999", "lag -999999999"), ("48,-99", "lag -99"), ("0,336", "lag 0")):
        bad = ctx.path("bad.elstm")
        model_file.rewrite(model, bad, lambda t: model_file.set_text(
            t, "meta.features", f"window=12;lags={lags};calendar=1;interval=1800"))
        for command in (["eval"], ["predict", "--out", ctx.path("never.csv")], ["online"]):
            ctx.run(command + ["--data", ctx.path("data.csv"), "--model", bad],
                    message=f"bad.elstm: feature settings: {shown}, expected 1..1000000 steps")
        expect(not os.path.exists(ctx.path("never.csv")), "predict wrote its output")


@case
def OtherBadFeatureSettingsInAModelAreRefused(ctx):
    model = ctx.tiny_model()
    for text, shown in (("window=12;lags=48,336;calendar=7;interval=1800", "calendar must be 0 or 1"),
                        ("window=12;lags=48,336;calendar=1;interval=-5", "interval -5 s"),
                        ("window=12;lags=48,48;calendar=1;interval=1800", "lag 48 given twice"),
                        ("window=12;window=12;lags=48;calendar=1", "'window' given twice"),
                        ("window=12x;lags=48,336;calendar=1;interval=1800", "bad value for 'window'")):
        model_file.rewrite(model, ctx.path("bad.elstm"), lambda t: model_file.set_text(t, "meta.features", text))
        ctx.run(["eval", "--data", ctx.path("data.csv"), "--model", ctx.path("bad.elstm")], message=shown)


@case
def ImportTorchRefusesBadFeatureSettings(ctx):
    write_dump(ctx.path("dump"))
    out = ctx.path("imported.elstm")
    base = ["import-torch", "--dump", ctx.path("dump"), "--out", out, "--norm-mean", "0", "--norm-scale", "1"]
    ctx.run(base + ["--features", "window=12;lags=48,-999999999;calendar=1;interval=1800"],
            message="feature settings: lag -999999999, expected 1..1000000 steps")
    ctx.run(base[:-4] + ["--features", "window=12;lags=48,336;calendar=1;interval=1800", "--norm-mean", "0",
                         "--norm-scale", "inf"], message="--norm-mean, --norm-scale: normalization")
    ctx.run(base[:-4] + ["--norm-scale", "2"], message="--norm-mean and --norm-scale go with --features")
    expect(not os.path.exists(out), "import-torch wrote its output")


@case
def SizeOptionsAreRangeChecked(ctx):
    """Point 2: online --hidden 100000 died of std::bad_alloc, 70000 silently became 4464."""
    data = ctx.taylor()
    for hidden in ("100000", "70000", "-1", "0"):
        ctx.run(["online", "--data", data, "--hidden", hidden], message="--hidden")
    ctx.run(["train", "--data", data, "--hidden", "2000"], message="--hidden")
    ctx.run(["train", "--data", data, "--window", "5000"], message="--window")
    ctx.run(["train", "--data", data, "--lr", "1e300"], message="--lr")
    ctx.run(["export", "--model", ctx.tiny_model(), "--format", "model-bytes", "--replay-data", data,
             "--replay-steps", "-3", "--out", ctx.path("never.h")], message="--replay-steps")


@case
def ANetworkTooLargeForTheMachineIsRefusedWithItsByteCount(ctx):
    data = ctx.taylor()
    _, err = ctx.run(["train", "--data", data, "--hidden", "1024", "--layers", "4", "--window", "1024", "--model",
                      ctx.path("never.elstm")], message="needs ", preexec=limit_memory(512 << 20))
    expect("bytes" in err and "this machine offers 536870912 bytes" in err, err)
    expect(not os.path.exists(ctx.path("never.elstm")), "a model was written")


@case
def AnEmptyModelFileIsRefused(ctx):
    """Point 3: null pointer passed to memcpy in the loader (seen under the sanitizers)."""
    open(ctx.path("empty.elstm"), "wb").close()
    ctx.run(["inspect", ctx.path("empty.elstm")], message="empty.elstm: the model file is empty")
    ctx.run(["eval", "--data", ctx.taylor(), "--model", ctx.path("empty.elstm")], message="the model file is empty")


# ---- Silent nonsense ----------------------------------------------------------------------------

@case
def ReadingsBeyondAnySaneRangeAreRefusedWithTheLine(ctx):
    """Points 4 and 5: a reading of 1e308 (normalization (inf, inf)) or readings whose squares overflow."""
    lines = open(ctx.taylor()).read().splitlines()
    for value in ("1e308", "2e39", "-3e20"):
        rows = list(lines)
        rows[100] = rows[100].split(",")[0] + "," + value
        with open(ctx.path("huge.csv"), "w") as f:
            f.write("\n".join(rows) + "\n")
        ctx.run(["train", "--data", ctx.path("huge.csv"), "--model", ctx.path("never.elstm")],
                message=f"huge.csv:101: column 'demand_mw': expected a number within +-1e15, found '{value}'")
    expect(not os.path.exists(ctx.path("never.elstm")), "a model was written")


@case
def NonFiniteParametersAndNormalizationAreRefusedDespiteAValidCrc(ctx):
    """Point 6: the CRC says the bytes arrived, not that they make sense."""
    model = ctx.tiny_model()
    edits = {
        "a NaN weight": (lambda t: model_file.set_float(t, "lstm.weight_ih_l0", 3, float("nan")),
                         "model file holds a NaN or Inf parameter or scale"),
        "an Inf bias": (lambda t: model_file.set_float(t, "head.bias", 0, float("inf")),
                        "model file holds a NaN or Inf parameter or scale"),
        "an Inf normalization": (lambda t: (model_file.set_float(t, "norm.value", 0, float("inf")),
                                            model_file.set_float(t, "norm.value", 1, float("inf"))),
                                 "norm.value: value 0 is NaN or Inf"),
        "a zero scale": (lambda t: model_file.set_float(t, "norm.value", 1, 0.0), "norm.value: normalization"),
    }
    for what, (edit, message) in edits.items():
        model_file.rewrite(model, ctx.path("bad.elstm"), edit)
        ctx.run(["eval", "--data", ctx.path("data.csv"), "--model", ctx.path("bad.elstm")], message=message)
    # An integer model's input scale.
    integer = os.path.join(ctx.source, "tests", "fuzz", "corpus", "model", "taylor_integer.elstm")
    model_file.rewrite(integer, ctx.path("bad.elstm"),
                       lambda t: model_file.set_float(t, "int.input_scale", 0, float("nan")))
    ctx.run(["eval", "--data", ctx.path("data.csv"), "--model", ctx.path("bad.elstm")],
            message="int.input_scale: value 0 is NaN or Inf")


@case
def AnOutputThatIsAnInputIsRefused(ctx):
    """Point 7: train --data x.csv --model x.csv overwrote the data with the model."""
    data = ctx.taylor("x.csv")
    original = read(data)
    os.symlink("x.csv", ctx.path("link.csv"))
    os.link(data, ctx.path("hard.csv"))
    for output in ("x.csv", "link.csv", "hard.csv", "./x.csv"):
        ctx.run(["train", "--data", data, "--model", ctx.path(output)], message="is the same file as --data")
    model = ctx.tiny_model("m.elstm", data)
    ctx.run(["predict", "--data", data, "--model", model, "--out", data], message="is the same file as --data")
    ctx.run(["predict", "--data", data, "--model", model, "--out", model], message="is the same file as --model")
    ctx.run(["export", "--model", model, "--out", model], message="is the same file as --model")
    ctx.run(["quantize", "--model", model, "--bits", "8", "--out", model], message="is the same file as --model")
    expect(read(data) == original, "the data file changed")
    ctx.run(["train", "--data", data, "--model", ctx.path("a.elstm"), "--save-initial", ctx.path("a.elstm")],
            message="name the same file")


@case
def OutputLocationsAreCheckedBeforeTraining(ctx):
    data = ctx.taylor()
    for option, value, message in (("--model", "/nonexistent-dir/m.elstm", "cannot create a file in /nonexistent-dir"),
                                   ("--model", "/dev/null", "/dev/null is a character device"),
                                   ("--model", ctx.work, "is a directory")):
        out, _ = ctx.run(["train", "--data", data, option, value, "--epochs", "50"], message=message)
        expect("epoch" not in out, f"it trained before refusing {value}:\n{out}")
    open(ctx.path("file"), "w").close()
    out, _ = ctx.run(["train", "--data", data, "--export-dataset", ctx.path("file"), "--model", ctx.path("m.elstm")],
                     message="exists and is not a directory")
    expect("epoch" not in out and not os.path.exists(ctx.path("m.elstm")), out)


@case
def AFailedWriteKeepsTheOldFileAndLeavesNoTemporary(ctx):
    """Point 8: a full disk (here: a file size limit) left a 0-byte .h.tmp, a truncated CSV, or a partial model."""
    data = ctx.taylor()
    model = ctx.tiny_model()
    old = b"the old file\n"
    writes = {
        "export.h": ["export", "--model", model, "--out", ctx.path("export.h")],
        "forecasts.csv": ["predict", "--data", data, "--model", model, "--out", ctx.path("forecasts.csv")],
        "retrained.elstm": ["train", "--data", data, "--hidden", "16", "--epochs", "1", "--model",
                            ctx.path("retrained.elstm")],
    }
    for name, args in writes.items():
        with open(ctx.path(name), "wb") as f:
            f.write(old)
        ctx.run(args, message="File too large", preexec=limit_file_size(2048))
        expect(read(ctx.path(name)) == old, f"{name} changed after a failed write")
        expect(not temporaries(ctx.work), f"temporaries left: {temporaries(ctx.work)}")


@case
def StaleTemporariesOfKilledRunsAreRemoved(ctx):
    data = ctx.taylor()
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = [ctx.path(f"m.elstm.tmp-{dead.pid}"), ctx.path(f"m.elstm.tmp-{dead.pid}-a1b2c3")]
    alive = ctx.path(f"m.elstm.tmp-{os.getpid()}-x9y8z7")  # this process is running: never touched
    for path in stale + [alive]:
        with open(path, "wb") as f:
            f.write(b"\0" * 4096)
    ctx.run(["train", "--data", data, "--model", ctx.path("m.elstm"), "--hidden", "4", "--epochs", "1"], status=0)
    expect(not any(os.path.exists(p) for p in stale), f"stale temporaries kept: {temporaries(ctx.work)}")
    expect(os.path.exists(alive), "the temporary of a running process was removed")
    os.remove(alive)


# ---- Hangs and messages -------------------------------------------------------------------------

@case
def AFifoOrADeviceIsRefusedWithoutWaiting(ctx):
    """Point 9: a FIFO with no writer blocked forever; /dev/zero read until memory ran out."""
    os.mkfifo(ctx.path("fifo"))
    ctx.taylor()
    ctx.run(["train", "--data", ctx.path("fifo")], message="the data file is a FIFO (named pipe)", timeout=30)
    ctx.run(["eval", "--data", ctx.path("data.csv"), "--model", ctx.path("fifo")],
            message="the model file is a FIFO (named pipe)", timeout=30)
    ctx.run(["inspect", ctx.path("fifo")], message="the model file is a FIFO (named pipe)", timeout=30)
    ctx.run(["train", "--data", "/dev/zero"], message="the data file is a character device", timeout=30)
    ctx.run(["eval", "--data", ctx.path("data.csv"), "--model", "/dev/zero"],
            message="the model file is a character device", timeout=30)
    ctx.run(["import-torch", "--dump", ctx.path("fifo"), "--out", ctx.path("never.elstm")],
            message="the dump is a FIFO", timeout=30)


@case
def HelpStatesTheInputLimits(ctx):
    out, _ = ctx.run(["train", "--help"], status=0)
    expect("a regular file of at most 256 MiB, lines of at most 64 KiB" in " ".join(out.split()), out)


@case
def AByteOrderMarkIsAcceptedAndLongLinesAreQuotedShort(ctx):
    """Point 10: a BOM made the timestamp column 'missing'; a 10 MB line gave a 15 MB message."""
    with open(ctx.path("bom.csv"), "wb") as f:
        f.write(b"\xef\xbb\xbf" + read(ctx.taylor()))
    ctx.run(["train", "--data", ctx.path("bom.csv"), "--model", ctx.path("m.elstm"), "--hidden", "4", "--epochs", "1"],
            status=0)
    with open(ctx.path("long.csv"), "wb") as f:
        f.write(b"timestamp," + b"x" * (10 << 20) + b"\n2000-01-01,1\n")
    ctx.run(["train", "--data", ctx.path("long.csv")], message="long.csv:1: the line holds 10485770 bytes")
    with open(ctx.path("wide.csv"), "wb") as f:
        f.write(b"time," + b"y" * 60000 + b"\n2000-01-01,1\n")
    ctx.run(["train", "--data", ctx.path("wide.csv")], message="column 'timestamp': missing from the header 'time,yyy")


@case
def EveryInputErrorExitsTwo(ctx):
    """Point 11: CLI11's own errors exited 105 or 106; an unknown command said 'A subcommand is required'."""
    ctx.run(["train", "--data", ctx.path("missing.csv")], message="--data: File does not exist")
    ctx.run(["train", "--data", ctx.work], message="--data")
    ctx.run(["train", "--data", ctx.taylor(), "--no-such-option"], message="--no-such-option")
    ctx.run(["eval", "--data"], message="--data")
    ctx.run(["trian", "--data", ctx.path("data.csv")],
            message="unknown command 'trian'; the commands: train, eval, predict, online, inspect, export, "
                    "import-torch, quantize")
    ctx.run([], message="a command is required; the commands: train, eval")
    ctx.run(["--help"], status=0)


@case
def OptionsThatWouldBeIgnoredAreRefusedByName(ctx):
    """Point 12: --seed -1 was accepted; classify ignored --save-initial/--export-dataset; forecast
    ignored --label-column; export --name "x[1]; int y" wrote an invalid header."""
    data = ctx.taylor()
    ctx.run(["train", "--data", data, "--seed", "-1"], message="--seed: expected a whole number 0 .. 18446744073709551615")
    classify = ["train", "--data", data, "--task", "classify", "--feature-columns", "demand_mw", "--label-column", "x"]
    ctx.run(classify + ["--save-initial", ctx.path("i.elstm")], message="--save-initial applies to --task forecast only")
    ctx.run(classify + ["--export-dataset", ctx.path("d")], message="--export-dataset applies to --task forecast only")
    ctx.run(classify + ["--lags", "48"], message="--lags applies to --task forecast only")
    ctx.run(["train", "--data", data, "--label-column", "x"], message="--label-column applies to --task classify only")
    model = ctx.tiny_model()
    for name in ("x[1]; int y", "1abc", "int", "__x", ""):
        ctx.run(["export", "--model", model, "--name", name, "--out", ctx.path("never.h")],
                message="expected a C identifier")
    ctx.run(["export", "--model", model, "--replay-data", data, "--out", ctx.path("never.h")],
            message="--replay-data applies to --format model-bytes only")
    ctx.run(["online", "--data", data, "--model", model, "--hidden", "8"],
            message="--hidden applies to online from scratch (a trained model's features and shape are its own) only")
    ctx.run(["eval", "--data", data, "--model", model, "--reference-mape", "-1"], message="--reference-mape")
    expect(not os.path.exists(ctx.path("never.h")), "export wrote a header")
    ctx.run(["export", "--model", model, "--name", "kMeter_2", "--out", ctx.path("ok.h")], status=0)
    expect(b"kMeter_2Spec" in read(ctx.path("ok.h")), "the name was not used")


@case
def TheSgscHouseholdMetersAreRead(ctx):
    """The bundled SGSC file (timestamps '2013-04-02 00:00', a space for the T) trains and evaluates."""
    data = os.path.join(ctx.source, "data", "sgsc_50hh_30min_2013-04-02_2013-05-29.csv")
    ctx.run(["train", "--data", data, "--value-column", "10006414", "--model", ctx.path("m.elstm"), "--hidden", "4",
             "--epochs", "1"], status=0)
    out, _ = ctx.run(["eval", "--data", data, "--value-column", "10006414", "--model", ctx.path("m.elstm")], status=0)
    expect("edgelstm LSTM" in out, out)


# ---- The commands merged later: node, cluster, policy -------------------------------------------

def with_reading(source, target, row, column, value):
    """A copy of the CSV `source` whose `row` (1-based, after the header) holds `value` in `column`."""
    lines = open(source).read().splitlines()
    header = lines[0].split(",")
    cells = lines[row].split(",")
    cells[header.index(column)] = value
    lines[row] = ",".join(cells)
    with open(target, "w") as f:
        f.write("\n".join(lines) + "\n")
    return target


@case
def NodeAndClusterRefuseBadInputBeforeStarting(ctx):
    """edgelstm node and cluster: a missing file, a bad partition or index, non-finite readings, a
    classifier, options that would be ignored, an output that is an input. Each was run (a cluster
    with --work naming a file ran to its end and failed there; --seed -1, --optimizer foo and --lr
    without --learn were accepted; a classifier failed only after the nodes were started, without
    its file's name; --checkpoint naming the model file would have been overwritten by a checkpoint)."""
    data = ctx.taylor()
    model = ctx.tiny_model("m.elstm", data)
    original = read(model)
    work = ctx.path("work")
    cluster = ["cluster", "--model", model, "--steps", "3"]
    node = ["node", "--model", model, "--transport", "udp://127.0.0.1:40000"]
    ctx.run(["cluster", "--model", ctx.path("missing.elstm"), "--data", data, "--partition", "split:2"],
            message="--model: File does not exist")
    for partition, message in (("bogus", "expected pipeline:N"), ("split:9", "between 1 and 8 nodes"),
                               ("pipeline:0,257", "first layer 257: the network has 1 layer(s)"),
                               ("split:", "expected a number")):
        ctx.run(cluster + ["--work", work, "--data", data, "--partition", partition], message=f"--partition '{partition}': {message}")
        ctx.run(node + ["--partition", partition, "--index", "1"], message=f"--partition '{partition}'")
    ctx.run(node + ["--partition", "split:2", "--index", "5"], message="--index 5: the partition has 2 nodes (0..1)")
    for value in ("nan", "inf", "1e300"):
        bad = with_reading(data, ctx.path("bad.csv"), 500, "demand_mw", value)
        ctx.run(cluster + ["--work", work, "--partition", "split:2", "--data", bad], message="bad.csv:501: column 'demand_mw'")
        ctx.run(node + ["--partition", "split:1", "--index", "0", "--data", bad], message="bad.csv:501")
    classify = ["train", "--data", data, "--task", "classify", "--feature-columns", "demand_mw", "--label-column",
                "demand_mw", "--window", "4", "--hidden", "4", "--epochs", "1", "--model", ctx.path("c.elstm")]
    with open(ctx.path("classes.csv"), "w") as f:
        f.write("timestamp,demand_mw,label\n")
        for k, line in enumerate(open(data).read().splitlines()[1:]):
            f.write(f"{line},{'high' if k % 48 > 24 else 'low'}\n")
    classify[2] = ctx.path("classes.csv")
    classify[classify.index("--label-column") + 1] = "label"
    ctx.run(classify, status=0)
    ctx.run(["cluster", "--model", ctx.path("c.elstm"), "--data", data, "--partition", "split:2", "--work", work],
            message="c.elstm: not a forecaster node 0 can stream a series through")
    ctx.run(["node", "--model", ctx.path("c.elstm"), "--transport", "udp://127.0.0.1:40000", "--partition", "split:1",
             "--index", "0", "--data", data], message="c.elstm: not a forecaster")
    expect(not os.path.exists(work), "the cluster made its --work directory (and started nodes) for bad input")
    ctx.run(cluster + ["--data", data, "--partition", "split:2", "--work", model], message=f"--work {model}: exists and is not a directory")
    cluster += ["--data", data, "--work", work]
    ctx.run(cluster + ["--partition", "split:2", "--seed", "-1"], message="--seed: expected a whole number")
    ctx.run(cluster + ["--partition", "split:2", "--learn", "--optimizer", "foo"], message="--optimizer: foo not in")
    ctx.run(cluster + ["--partition", "split:2", "--lr", "0.1"], message="cluster: --lr applies to --learn only")
    ctx.run(cluster + ["--partition", "split:2", "--train"], message="a cluster learns with --learn")
    ctx.run(node + ["--partition", "split:2", "--index", "1", "--checkpoint", ctx.path("c.ck")],
            message="node: --checkpoint applies to training")
    ctx.run(node + ["--partition", "split:2", "--index", "1", "--train", "--checkpoint", model],
            message="--checkpoint " + model + ": is the same file as --model")
    ctx.run(node + ["--partition", "split:2", "--index", "0", "--data", data, "--learn", "--figures", data],
            message="is the same file as --data")
    ctx.run(node + ["--partition", "split:2", "--index", "1", "--train", "--checkpoint", ctx.path("x"), "--figures",
                    ctx.path("x")], message="name the same file")
    ctx.run(node + ["--partition", "split:2", "--index", "1", "--figures", os.path.join(ctx.path("none"), "f")],
            message="--figures " + os.path.join(ctx.path("none"), "f") + ": cannot create a file")
    expect(read(model) == original, "the model file changed")
    expect(not os.path.exists(work) and not os.path.exists(ctx.path("x")), "an output was written")


@case
def PolicyRefusesBadInputBeforeTheStudy(ctx):
    """edgelstm policy: outputs were checked only after the study (minutes of training), and --out
    naming the data file would have overwritten it; a bad reading is named with its line."""
    data = ctx.path("meters.csv")
    shutil.copyfile(os.path.join(ctx.source, "data", "sgsc_50hh_30min_2013-04-02_2013-05-29.csv"), data)
    original = read(data)
    policy = ["policy", "--data", data, "--epochs", "1", "--q-episodes", "1", "--no-q-grid"]
    ctx.run(["policy", "--data", ctx.path("missing.csv")], message="--data: File does not exist")
    ctx.run(policy + ["--meter", "nope"], message="column 'nope': missing from the header")
    for value in ("nan", "-inf"):
        bad = with_reading(data, ctx.path("bad.csv"), 300, "10006664", value)
        ctx.run(["policy", "--data", bad], message=f"bad.csv:301: column '10006664': expected a finite number")
    ctx.run(policy + ["--out", data], message="--out " + data + ": is the same file as --data", timeout=20)
    ctx.run(policy + ["--export-firmware", data], message="is the same file as --data", timeout=20)
    ctx.run(policy + ["--out", ctx.path("p.elstm"), "--integer-out", ctx.path("p.elstm")], message="name the same file",
            timeout=20)
    ctx.run(policy + ["--report", data], message="--report " + data + ": exists and is not a directory", timeout=20)
    ctx.run(policy + ["--out", os.path.join(ctx.path("none"), "p.elstm")], message="cannot create a file", timeout=20)
    expect(read(data) == original, "the data file changed")
    expect(not os.path.exists(ctx.path("p.elstm")), "a policy was written")


@case
def FleetRefusesBadInputBeforeStarting(ctx):
    """edgelstm fleet: --scale-rates was read as lags (2500.5 became 2500, 'none' no rate at all, and
    the message named --lags) and only after the data was loaded; a --report or --work-dir naming a
    file failed late. Each is refused before any broker, gateway or meter starts."""
    data = os.path.join(ctx.source, "data", "sgsc_50hh_30min_2013-04-02_2013-05-29.csv")
    fleet = ["fleet", "--data", data, "--meters", "1", "--days", "1"]
    ctx.run(fleet + ["--report", ctx.path("r"), "--scale", "--scale-rates", "2500,abc"],
            message="--scale-rates: Value abc not in range")
    ctx.run(fleet + ["--report", ctx.path("r"), "--scale", "--scale-rates", "0"], message="--scale-rates: Value 0 not in range")
    ctx.run(fleet + ["--report", ctx.path("r"), "--scale-rates", "5"], message="--scale-rates applies to --scale only")
    with open(ctx.path("file"), "w") as f:
        f.write("not a directory\n")
    ctx.run(fleet + ["--report", ctx.path("file")], message="--report " + ctx.path("file") + ": exists and is not a directory")
    ctx.run(fleet + ["--report", ctx.path("r"), "--work-dir", ctx.path("file")],
            message="--work-dir " + ctx.path("file") + ": exists and is not a directory")
    expect(read(ctx.path("file")) == b"not a directory\n", "the file changed")
    # A count past a long long in --meter-costs aborted the command (stoll's out_of_range).
    with open(ctx.path("costs.csv"), "w") as f:
        f.write("target,kind,value\nesp32,step,99999999999999999999999\n")
    ctx.run(fleet + ["--report", ctx.path("r"), "--meter-costs", ctx.path("costs.csv")],
            message="costs.csv:2: expected target,kind,value (a count of at most 18 digits), found "
                    "'esp32,step,99999999999999999999999'")
    bad = with_reading(data, ctx.path("bad.csv"), 300, "10006664", "nan")
    ctx.run(["fleet", "--data", bad, "--report", ctx.path("r"), "--meters", "1", "--days", "1"],
            message="bad.csv:301: column '10006664': expected a finite number")


@case
def MapeIsUndefinedAtAReadingOfZero(ctx):
    """Point 5: eval printed inf% and -nan% when a test reading is 0; online printed MAPE inf%. Now MAPE
    is "n/a" there, said why, and the zero-safe measures (MAE, RMSE, sMAPE, MASE) are printed."""
    data = ctx.taylor()
    model = ctx.tiny_model("m.elstm", data)
    lines = open(data).read().splitlines()
    for row in range(len(lines) - 200, len(lines), 7):
        lines[row] = lines[row].split(",")[0] + ",0"
    with open(ctx.path("zeros.csv"), "w") as f:
        f.write("\n".join(lines) + "\n")
    out, _ = ctx.run(["eval", "--data", ctx.path("zeros.csv"), "--model", model], status=0)
    expect("MAPE n/a: the span holds readings of 0" in out and "inf" not in out and "nan" not in out, out)
    out, _ = ctx.run(["online", "--data", ctx.path("zeros.csv"), "--model", model], status=0)
    expect("online MAE | RMSE | sMAPE |" in out and "inf" not in out and "nan" not in out, out)


def main():
    if sys.argv[1:] == ["--list"]:
        print(";".join(CASES))
        return
    if len(sys.argv) < 5 or sys.argv[4] not in CASES:
        sys.exit(__doc__)
    cli, source, work, name = sys.argv[1:5]
    work = os.path.join(work, name)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    CASES[name](Context(os.path.abspath(cli), os.path.abspath(source), work))
    expect(not temporaries(work), f"temporaries left behind: {temporaries(work)}")
    shutil.rmtree(work, ignore_errors=True)
    print(f"{name}: ok")


if __name__ == "__main__":
    main()
