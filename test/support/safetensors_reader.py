"""An independent safetensors reader and writer for gradc's tests: Python's struct, json and
numpy only, written from the format's description, sharing nothing with gradc's code.

  python3 safetensors_reader.py read FILE     prints what FILE holds as JSON (below), or
                                              exits 1 naming the first rule FILE breaks
  python3 safetensors_reader.py write FILE    writes the tensors of the JSON on stdin,
                                              {"metadata": {...} | null, "tensors":
                                              {name: {"shape": [...], "bits": [u32...]}}},
                                              laid out as the reference implementation does

The format: 8 bytes, a little-endian u64 N; N bytes of UTF-8 JSON starting with '{' (may be
padded at the end with spaces), an object of tensors {"dtype", "shape", "data_offsets":
[begin, end]} with offsets relative to the data after the header, plus an optional
"__metadata__" of strings; the tensors tile the data exactly; values little-endian, row-major.
"""
import json
import struct
import sys

import numpy as np

SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        fail("shorter than 8 bytes")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        fail("header longer than the file")
    raw = data[8 : 8 + n]
    if raw[:1] != b"{":
        fail("header does not start with '{'")
    text = raw.decode("utf-8")
    header = json.loads(text)  # json.loads accepts the trailing spaces
    trailing = len(text) - len(text.rstrip(" "))
    metadata = header.pop("__metadata__", None)
    if metadata is not None and not all(isinstance(v, str) for v in metadata.values()):
        fail("__metadata__ holds a value that is not a string")
    buffer = data[8 + n :]
    tensors = {}
    spans = []
    for name, info in header.items():
        begin, end = info["data_offsets"]
        count = int(np.prod(info["shape"], dtype=np.int64))
        if end - begin != count * SIZES[info["dtype"]]:
            fail(f"{name}: offsets do not match shape and dtype")
        spans.append((begin, end, name))
        entry = {"dtype": info["dtype"], "shape": info["shape"], "data_offsets": [begin, end]}
        if info["dtype"] == "F32":
            values = np.frombuffer(buffer, dtype="<f4", count=count, offset=begin)
            entry["bits"] = values.view("<u4").tolist()
        tensors[name] = entry
    at = 0
    for begin, end, name in sorted(spans):
        if begin != at:
            fail(f"{name}: starts at {begin}, not at {at} (a gap or an overlap)")
        at = end
    if at != len(buffer):
        fail(f"the tensors cover {at} bytes of data, the file has {len(buffer)}")
    json.dump(
        {
            "header_length": n,
            "header_text": text,
            "trailing_spaces": trailing,
            "metadata": metadata,
            "order": list(header.keys()),
            "tensors": tensors,
        },
        sys.stdout,
    )


def write(path):
    spec = json.load(sys.stdin)
    # The reference orders tensors by dtype (all F32 here), then by name, and writes
    # compact JSON with __metadata__ first, padded with spaces to a multiple of 8 bytes.
    names = sorted(spec["tensors"], key=lambda s: s.encode("utf-8"))
    header = {}
    if spec.get("metadata") is not None:
        header["__metadata__"] = spec["metadata"]
    chunks = []
    at = 0
    for name in names:
        t = spec["tensors"][name]
        chunk = np.array(t["bits"], dtype="<u4").tobytes()
        header[name] = {"dtype": "F32", "shape": t["shape"], "data_offsets": [at, at + len(chunk)]}
        at += len(chunk)
        chunks.append(chunk)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


if __name__ == "__main__":
    {"read": read, "write": write}[sys.argv[1]](sys.argv[2])
