"""A small pure-Python stand-in for the `safetensors` package, for running diffusers as a benchmark
peer on a machine where only Debian's python3-torch is installed (no PyPI). It reads and writes the
format as documented (8-byte little-endian header length, JSON header, raw little-endian data);
tensors are read from an mmap of the file, so loading a 5 GB UNet does not copy it twice."""

import json
import mmap
import struct

__version__ = "0.4.5"


class SafetensorError(Exception):
    pass


_DTYPES = {"F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16",
           "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8", "BOOL": "bool"}


def _read_header(path):
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) != 8:
            raise SafetensorError(f"{path}: shorter than the 8-byte header length")
        (n,) = struct.unpack("<Q", raw)
        text = f.read(n)
        if len(text) != n:
            raise SafetensorError(f"{path}: header says {n} bytes, file is shorter")
    header = json.loads(text)
    return 8 + n, header


class safe_open:
    """`with safe_open(path, framework="pt") as f: f.keys(), f.get_tensor(name), f.metadata()`."""

    def __init__(self, path, framework="pt", device="cpu"):
        if framework not in ("pt", "torch"):
            raise SafetensorError(f"framework {framework!r}: only 'pt' is supported by this stand-in")
        self._path = str(path)
        self._start, header = _read_header(self._path)
        self._meta = header.pop("__metadata__", None)
        self._entries = header
        self._file = open(self._path, "rb")
        self._map = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        # tensors made by get_tensor are copies, so the map can go
        self._map.close()
        self._file.close()
        return False

    def keys(self):
        return list(self._entries.keys())

    def metadata(self):
        return self._meta

    def get_tensor(self, name):
        import torch

        entry = self._entries.get(name)
        if entry is None:
            raise SafetensorError(f"{self._path}: no tensor named {name!r}")
        dtype = _DTYPES.get(entry["dtype"])
        if dtype is None:
            raise SafetensorError(f"{self._path}: {name}: unsupported dtype {entry['dtype']}")
        begin, end = entry["data_offsets"]
        torch_dtype = getattr(torch, dtype)
        shape = entry["shape"]
        if end == begin:
            return torch.empty(shape, dtype=torch_dtype)
        buf = memoryview(self._map)[self._start + begin:self._start + end]
        return torch.frombuffer(bytearray(buf), dtype=torch_dtype).reshape(shape)


def __getattr__(name):
    # diffusers reaches `safetensors.torch.load_file` after a bare `import safetensors`
    if name == "torch":
        import importlib

        return importlib.import_module(".torch", __name__)
    raise AttributeError(f"module 'safetensors' has no attribute {name!r}")
