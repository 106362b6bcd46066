"""Reading the canvas IDX files written by `supernav canvas`, and writing safetensors (the
interchange format sn_pack reads); numpy only, shared by the CF-64 and CF-128S exports."""
import json
import os
import struct
import subprocess

import numpy as np

IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_DTYPES:
        raise ValueError(f"{path}: not an IDX file")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    dt = np.dtype(IDX_DTYPES[raw[2]])
    off = 4 + 4 * ndim
    count = int(np.prod(dims)) if dims else 0
    if len(raw) != off + count * dt.itemsize:
        raise ValueError(f"{path}: size does not match its header")
    return np.frombuffer(raw, dt, count, off).reshape(dims)


def load_canvases(prefix):
    """images N x 64 x 64 uint8, labels N uint8, boxes N x 4 uint8 (x, y, w, h)."""
    return (read_idx(prefix + "-images-idx3-ubyte"), read_idx(prefix + "-labels-idx1-ubyte"),
            read_idx(prefix + "-boxes-idx2-ubyte"))


def generate(supernav, task, split, seed, count, prefix):
    """Runs the C generator (the same canvases the engine is evaluated on)."""
    os.makedirs(os.path.dirname(prefix) or ".", exist_ok=True)
    files = [prefix + s for s in ("-images-idx3-ubyte", "-labels-idx1-ubyte", "-boxes-idx2-ubyte")]
    if all(os.path.exists(f) for f in files):
        cached = load_canvases(prefix)
        if len(cached[0]) == count:
            return cached
    # (re)generate: missing, or cached with another count
    subprocess.run([supernav, "canvas", "--task", task, "--split", split, "--seed", str(seed),
                    "--count", str(count), "-o", prefix], check=True)
    return load_canvases(prefix)


def write_safetensors(path, tensors, metadata):
    """8-byte little-endian header length, JSON header (tensors sorted by name, METADATA as
    __metadata__), raw little-endian tensors; numpy arrays or torch tensors; atomic."""
    header, blobs, off = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        t = tensors[name]
        arr = np.ascontiguousarray(t.detach().cpu().numpy() if hasattr(t, "detach") else t)
        dt = {np.dtype(np.float32): "F32", np.dtype(np.uint8): "U8", np.dtype(np.int64): "I64",
              np.dtype(np.int32): "I32"}[arr.dtype]
        b = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)
