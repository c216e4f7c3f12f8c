"""Reads and rewrites edgelstm model files (include/edgelstm/model_format.h) for the tests: a tensor
replaced, a value poisoned, and the file written again with a valid CRC, so what the loader must
refuse is the content, not the checksum. Standard library only.
"""
import struct
import zlib

TYPE_FLOAT32, TYPE_TEXT, TYPE_INT32 = 0, 1, 5
HEADER_BYTES, ENTRY_BYTES = 64, 48


class Tensor:
    def __init__(self, name, kind, count, cols, data):
        self.name, self.kind, self.count, self.cols, self.data = name, kind, count, cols, data


def _tensor_bytes(kind, count, cols):
    if kind in (TYPE_FLOAT32, TYPE_INT32):
        return 4 * count
    if kind == TYPE_TEXT:
        return count
    per_row = {2: 2 * cols, 3: cols, 4: (cols + 1) // 2}[kind]
    return count // cols * per_row


def read(path):
    """(header bytes 0..63, [Tensor]) of a model file."""
    data = open(path, "rb").read()
    assert data[:8] == b"ELSTMMDL", path
    count = struct.unpack_from("<I", data, 40)[0]
    tensors = []
    for k in range(count):
        entry = HEADER_BYTES + ENTRY_BYTES * k
        name = data[entry:entry + 32].split(b"\0")[0].decode()
        kind = data[entry + 32]
        elements, offset, cols = struct.unpack_from("<III", data, entry + 36)
        size = _tensor_bytes(kind, elements, cols)
        tensors.append(Tensor(name, kind, elements, cols, data[offset:offset + size]))
    return bytearray(data[:HEADER_BYTES]), tensors


def write(path, header, tensors):
    """Writes the tensors with the layout write_model_tensors uses and a valid CRC-32."""
    offset = (HEADER_BYTES + ENTRY_BYTES * len(tensors) + 15) // 16 * 16
    table = bytearray()
    for t in tensors:
        offset = (offset + 3) // 4 * 4
        name = t.name.encode()
        table += name + b"\0" * (32 - len(name)) + bytes([t.kind, 0, 0, 0])
        table += struct.pack("<III", t.count, offset, t.cols)
        t.offset = offset
        offset += len(t.data)
    total = (offset + 3) // 4 * 4
    out = bytearray(total)
    out[:HEADER_BYTES] = header
    struct.pack_into("<I", out, 12, total)
    struct.pack_into("<I", out, 40, len(tensors))
    out[HEADER_BYTES:HEADER_BYTES + len(table)] = table
    for t in tensors:
        out[t.offset:t.offset + len(t.data)] = t.data
    struct.pack_into("<I", out, 16, zlib.crc32(bytes(out[20:])) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(out)


def find(tensors, name):
    for t in tensors:
        if t.name == name:
            return t
    raise KeyError(name)


def set_text(tensors, name, text):
    t = find(tensors, name)
    t.data = text.encode()
    t.count = len(t.data)


def set_float(tensors, name, index, value):
    t = find(tensors, name)
    data = bytearray(t.data)
    struct.pack_into("<f", data, 4 * index, value)
    t.data = bytes(data)


def rewrite(source, target, edit):
    """Copies model file `source` to `target` with `edit(tensors)` applied, CRC recomputed."""
    header, tensors = read(source)
    edit(tensors)
    write(target, header, tensors)
