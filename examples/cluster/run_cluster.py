#!/usr/bin/env python3
"""Runs a cluster of emulated boards, each its own QEMU process, wired by serial lines.

Every pair of boards is joined by a line of its own (a full mesh: with four boards each uses three
UARTs), as point-to-point UART wires would join real boards. Each UART is a TCP client of its own
port on the relay in this process; the relay passes each line's bytes to the other end, a whole
COBS-delimited frame at a time, and may damage them on the way, deterministically, per delivered
frame (counted along all lines): flip one bit inside it (--corrupt-every N), drop it
(--drop-every N), deliver it twice (--duplicate-every N). It accepts every UART of every board
before it forwards anything (bytes a board sends earlier wait in its socket).

Board k's UART p leads to board p if p < k, else to board p + 1. Boards print through
semihosting; their lines are shown as they come, prefixed "[board k]". Ports are chosen by the
kernel (listening sockets bound to port 0 on 127.0.0.1, held by this process until the boards
connect), every QEMU runs under `timeout -k`, this process signals only its own children and waits
for each of them before it exits: no process is left behind.

Each board gets its index and the board count as its first two semihosting arguments, then the
arguments given after its firmware.

When faults are injected, every board must end by printing a line
    stats refused=<frames its checks refused> ... retransmits=<frames it resent> ...
and each board must have refused at least as many frames as the relay corrupted on their way to
it (a damaged frame that was not refused was applied), and some frame must have been resent if
any was dropped.

Exit status: 0 when every board exited 0 (and the checks above hold), 1 when a board failed or a
check did not hold, 124 on timeout, 2 on bad usage.
"""
import argparse
import os
import random
import re
import selectors
import signal
import socket
import subprocess
import sys
import time

MACHINES = {"mps2-an386": 3, "netduinoplus2": 3}  # QEMU machine: UARTs the board files drive
DELIMITER = 0


class Endpoint:
    """One UART of one board: its socket on the relay and the bytes in flight."""

    def __init__(self, board, port):
        self.board, self.port = board, port
        self.partner = None
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.listener.setblocking(False)
        self.connection = None
        self.received = bytearray()  # from the board, not yet cut into frames
        self.outgoing = bytearray()  # for the board, not yet written to its socket


class Board:
    def __init__(self, index, machine, firmware, arguments):
        self.index, self.machine, self.firmware, self.arguments = index, machine, firmware, arguments
        self.endpoints = []
        self.process = None
        self.output = b""  # partial semihosting line
        self.lines = []
        self.frames_from = self.bytes_from = 0
        self.corrupted_to = self.dropped_to = self.duplicated_to = 0
        self.exit_status = None

    def label(self):
        return f"[board {self.index}]"


class Faults:
    """Deterministic fault injection on delivered frames (one counter over all lines)."""

    def __init__(self, corrupt_every, drop_every, duplicate_every, seed):
        self.corrupt_every, self.drop_every, self.duplicate_every = corrupt_every, drop_every, duplicate_every
        self.deliveries = 0
        self.random = random.Random(seed)

    def any(self):
        return bool(self.corrupt_every or self.drop_every or self.duplicate_every)

    def apply(self, frame, board):
        """The copies of `frame` (the bytes between two delimiters) to deliver to `board`."""
        self.deliveries += 1
        n = self.deliveries
        if self.drop_every and n % self.drop_every == 0:
            board.dropped_to += 1
            return []
        if self.corrupt_every and n % self.corrupt_every == 0:
            frame = bytearray(frame)
            position = self.random.randrange(len(frame))
            frame[position] ^= 1 << self.random.randrange(8)  # may become a delimiter: cuts the frame
            board.corrupted_to += 1
        if self.duplicate_every and n % self.duplicate_every == 0:
            board.duplicated_to += 1
            return [frame, frame]
        return [frame]


def qemu_command(board, count, timeout, plugin):
    semihosting = "enable=on,target=native,chardev=sh0"
    for argument in [str(board.index), str(count)] + board.arguments:
        semihosting += f",arg={argument}"
    # One TCG thread: a board has one core, and receiving a byte then costs no hand-over between a
    # vCPU thread and the I/O thread (measured here: 1.5-3x the bytes per second of the default).
    command = ["timeout", "-k", "2", str(timeout), "qemu-system-arm", "-M", board.machine, "-accel", "tcg,thread=single",
               "-display", "none", "-monitor", "none"]
    for endpoint in board.endpoints:
        port = endpoint.listener.getsockname()[1]
        command += ["-chardev", f"socket,id=line{endpoint.port},host=127.0.0.1,port={port},nodelay=on",
                    "-serial", f"chardev:line{endpoint.port}"]
    if plugin:
        command += ["-plugin", plugin, "-d", "plugin"]  # its lines come out on the board's output
    return command + ["-chardev", "stdio,id=sh0", "-semihosting-config", semihosting, "-kernel", board.firmware]


class Cluster:
    def __init__(self, boards, faults, timeout, quiet, plugin=None):
        self.boards, self.faults, self.timeout, self.quiet, self.plugin = boards, faults, timeout, quiet, plugin
        self.selector = selectors.DefaultSelector()
        self.forwarding = False
        self.unconnected = 0

    def say(self, text):
        print(text, flush=True)

    def wire(self):
        """One endpoint per UART in use; board a's UART to b paired with b's UART to a."""
        count = len(self.boards)
        for board in self.boards:
            board.endpoints = [Endpoint(board, p) for p in range(count - 1)]
            for endpoint in board.endpoints:
                self.selector.register(endpoint.listener, selectors.EVENT_READ, ("accept", endpoint))
                self.unconnected += 1
        for a in self.boards:
            for b in self.boards:
                if a.index < b.index:
                    end_a, end_b = a.endpoints[b.index - 1], b.endpoints[a.index]
                    end_a.partner, end_b.partner = end_b, end_a

    def start(self):
        self.wire()
        for board in self.boards:
            board.process = subprocess.Popen(qemu_command(board, len(self.boards), self.timeout, self.plugin),
                                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                             stderr=subprocess.STDOUT)
            os.set_blocking(board.process.stdout.fileno(), False)
            self.selector.register(board.process.stdout, selectors.EVENT_READ, ("output", board))
            self.say(f"{board.label()} {board.machine} {os.path.basename(board.firmware)}, pid {board.process.pid}, "
                     f"{len(board.endpoints)} serial lines")

    def accept(self, endpoint):
        connection, _ = endpoint.listener.accept()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection.setblocking(False)
        endpoint.connection = connection
        self.selector.unregister(endpoint.listener)
        endpoint.listener.close()
        endpoint.listener = None
        self.selector.register(connection, selectors.EVENT_READ, ("line", endpoint))
        self.unconnected -= 1
        if self.unconnected == 0:
            self.forwarding = True
            lines = sum(len(b.endpoints) for b in self.boards) // 2
            self.say(f"relay: all {len(self.boards)} boards connected ({lines} serial lines), forwarding")
            for board in self.boards:
                for e in board.endpoints:
                    self.cut_frames(e)

    def read_line(self, endpoint):
        try:
            data = endpoint.connection.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except ConnectionError:
            data = b""
        if not data:
            self.close(endpoint)
            return
        endpoint.received += data
        endpoint.board.bytes_from += len(data)
        if self.forwarding:
            self.cut_frames(endpoint)

    def cut_frames(self, endpoint):
        while True:
            end = endpoint.received.find(DELIMITER)
            if end < 0:
                return
            frame = bytes(endpoint.received[:end])
            del endpoint.received[:end + 1]
            if frame:
                endpoint.board.frames_from += 1
                self.deliver(frame, endpoint.partner)

    def deliver(self, frame, endpoint):
        if endpoint.connection is None:
            return  # that board has exited
        for copy in self.faults.apply(frame, endpoint.board):
            endpoint.outgoing += bytes([DELIMITER]) + copy + bytes([DELIMITER])
        self.flush(endpoint)

    def flush(self, endpoint):
        if endpoint.connection is None:
            endpoint.outgoing.clear()
            return
        try:
            sent = endpoint.connection.send(endpoint.outgoing) if endpoint.outgoing else 0
            del endpoint.outgoing[:sent]
        except (BlockingIOError, InterruptedError):
            pass
        except ConnectionError:
            self.close(endpoint)
            return
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if endpoint.outgoing else 0)
        self.selector.modify(endpoint.connection, events, ("line", endpoint))

    def close(self, endpoint):
        if endpoint.connection is not None:
            self.selector.unregister(endpoint.connection)
            endpoint.connection.close()
            endpoint.connection = None
            endpoint.outgoing.clear()

    def read_output(self, board, final=False):
        stream = board.process.stdout
        while True:
            try:
                data = os.read(stream.fileno(), 65536)
            except (BlockingIOError, InterruptedError):
                return
            if data:
                board.output += data
                *complete, board.output = board.output.split(b"\n")
                for line in complete:
                    self.line(board, line)
                if not final:
                    return
                continue
            # End of output: the board is exiting.
            self.selector.unregister(stream)
            if board.output:
                self.line(board, board.output)
                board.output = b""
            return

    def line(self, board, raw):
        text = raw.decode("utf-8", "replace").rstrip("\r")
        board.lines.append(text)
        if not (self.quiet and text.startswith("stats ")):
            self.say(f"{board.label()} {text}")

    def run(self):
        deadline = time.monotonic() + self.timeout + 5
        accept_deadline = time.monotonic() + 30
        self.start()
        while any(b.exit_status is None for b in self.boards):
            now = time.monotonic()
            if now > deadline:
                self.say(f"run_cluster: boards still running after {self.timeout} s: stopping them")
                return 124
            if not self.forwarding and now > accept_deadline:
                self.say("run_cluster: not every board connected to the relay within 30 s")
                return 1
            for key, events in self.selector.select(timeout=0.2):
                kind, item = key.data
                if kind == "accept":
                    self.accept(item)
                elif kind == "output":
                    self.read_output(item)
                elif kind == "line":
                    if events & selectors.EVENT_READ:
                        self.read_line(item)
                    if events & selectors.EVENT_WRITE and item.connection is not None:
                        self.flush(item)
            for board in self.boards:
                if board.exit_status is None and board.process.poll() is not None:
                    if self.selector.get_map().get(board.process.stdout.fileno()) is not None:
                        os.set_blocking(board.process.stdout.fileno(), True)
                        self.read_output(board, final=True)
                    board.exit_status = board.process.returncode
                    if board.exit_status != 0:
                        timed_out = board.exit_status in (124, 137)
                        self.say(f"{board.label()} exited with status {board.exit_status}"
                                 + (" (its timeout)" if timed_out else ""))
                        return 124 if timed_out else 1
        return 0

    def stop(self):
        """Ends every board still running (its `timeout` process passes the signal on to QEMU) and
        waits for all of them."""
        for board in self.boards:
            if board.process is not None and board.process.poll() is None:
                board.process.send_signal(signal.SIGTERM)
        for board in self.boards:
            if board.process is not None:
                try:
                    board.process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    board.process.kill()
                    board.process.wait()
                board.process.stdout.close()
            for endpoint in board.endpoints:
                self.close(endpoint)
                if endpoint.listener is not None:
                    endpoint.listener.close()
        self.selector.close()

    def check_faults(self):
        """Each requested kind of fault happened; every corrupted frame was refused by the board it
        reached; dropped frames were resent."""
        ok = True
        injected = {"corrupt": sum(b.corrupted_to for b in self.boards),
                    "drop": sum(b.dropped_to for b in self.boards),
                    "duplicate": sum(b.duplicated_to for b in self.boards)}
        requested = {"corrupt": self.faults.corrupt_every, "drop": self.faults.drop_every,
                     "duplicate": self.faults.duplicate_every}
        for kind, every in requested.items():
            if every and injected[kind] == 0:
                self.say(f"run_cluster: --{kind}-every {every} was given but no frame was hit: the run was too short")
                ok = False
        retransmits = 0
        for board in self.boards:
            stats = [line for line in board.lines if line.startswith("stats ")]
            refused = re.search(r"\brefused=(\d+)", stats[-1]) if stats else None
            resent = re.search(r"\bretransmits=(\d+)", stats[-1]) if stats else None
            if not refused or not resent:
                self.say(f"run_cluster: {board.label()} printed no 'stats refused=N ... retransmits=N' line")
                ok = False
                continue
            retransmits += int(resent.group(1))
            if int(refused.group(1)) < board.corrupted_to:
                self.say(f"run_cluster: {board.label()} refused {refused.group(1)} frames but the relay corrupted "
                         f"{board.corrupted_to} on their way to it")
                ok = False
        if injected["drop"] and retransmits == 0:
            self.say("run_cluster: frames were dropped but no board resent any")
            ok = False
        return ok

    def summary(self):
        self.say("relay: " + ", ".join(
            f"board {b.index} sent {b.frames_from} frames ({b.bytes_from} bytes)" for b in self.boards))
        if self.faults.any():
            self.say("relay: faults in {} delivered frames: corrupted {}, dropped {}, duplicated {}".format(
                self.faults.deliveries, sum(b.corrupted_to for b in self.boards),
                sum(b.dropped_to for b in self.boards), sum(b.duplicated_to for b in self.boards)))


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=int, default=300, help="seconds each board may run (default 300)")
    parser.add_argument("--corrupt-every", type=int, default=0, metavar="N",
                        help="flip one bit in every N-th delivered frame")
    parser.add_argument("--drop-every", type=int, default=0, metavar="N", help="drop every N-th delivered frame")
    parser.add_argument("--duplicate-every", type=int, default=0, metavar="N",
                        help="deliver every N-th frame twice")
    parser.add_argument("--seed", type=int, default=1, help="which byte and bit a corruption hits")
    parser.add_argument("--quiet", action="store_true", help="do not echo the boards' stats lines")
    parser.add_argument("--plugin", metavar="SO", help="a QEMU TCG plugin for every board (e.g. the instruction "
                                                        "counter of tools/qemu-plugin/insn_count.c)")
    parser.add_argument("--board", nargs="+", action="append", required=True, metavar="MACHINE FIRMWARE [ARG]",
                        help="a board: QEMU machine (mps2-an386 or netduinoplus2), firmware ELF, more "
                             "semihosting arguments")
    arguments = parser.parse_args(argv)
    boards = []
    for spec in arguments.board:
        if len(spec) < 2 or spec[0] not in MACHINES:
            parser.error(f"--board {' '.join(spec)}: expected MACHINE FIRMWARE [ARG...], MACHINE one of "
                         f"{', '.join(sorted(MACHINES))}")
        if not os.path.isfile(spec[1]):
            parser.error(f"--board {spec[0]}: firmware '{spec[1]}' not found")
        boards.append(Board(len(boards), spec[0], spec[1], spec[2:]))
    if len(boards) < 2:
        parser.error("a cluster needs at least two --board")
    for board in boards:
        if len(boards) - 1 > MACHINES[board.machine]:
            parser.error(f"{len(boards)} boards need {len(boards) - 1} serial lines each; "
                         f"{board.machine} has {MACHINES[board.machine]}")
    for name in ("timeout", "corrupt_every", "drop_every", "duplicate_every"):
        if getattr(arguments, name) < 0:
            parser.error(f"--{name.replace('_', '-')} must be >= 0")
    return arguments, boards


def main(argv):
    arguments, boards = parse_arguments(argv)
    faults = Faults(arguments.corrupt_every, arguments.drop_every, arguments.duplicate_every, arguments.seed)
    cluster = Cluster(boards, faults, arguments.timeout, arguments.quiet, arguments.plugin)
    # SIGTERM (ctest's timeout, a user) ends the run through the same clean-up as an error.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    status = 1
    started = time.monotonic()
    try:
        status = cluster.run()
    finally:
        cluster.stop()
        cluster.summary()
    if status == 0 and faults.any() and not cluster.check_faults():
        status = 1
    print(f"run_cluster: {'all boards finished' if status == 0 else 'FAILED'} in {time.monotonic() - started:.1f} s",
          flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
