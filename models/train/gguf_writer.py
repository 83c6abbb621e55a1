"""A small, dependency-free GGUF v3 writer and reader (NumPy only).

Writes files laid out the way llama.cpp's gguf-py GGUFWriter lays them out:

    magic "GGUF", version u32, tensor count u64, metadata count u64,
    metadata (key string, value type u32, value),
    tensor infos (name string, n_dims u32, dims u64[n_dims] innermost first,
                  ggml type u32, offset u64 relative to the data section),
    zero padding to the alignment, tensor data (each tensor padded with zeros
    to the alignment, the last one too).

Strings are a u64 byte length followed by UTF-8 bytes (no terminator). Arrays
are an element type u32, a count u64, then the elements. Everything is little
endian. The alignment is 32 unless the metadata holds `general.alignment`.

Tests can reuse this module to write small models, or malformed files via
`add_tensor_raw` (any dims, type and bytes) and `add_raw_kv`.
"""
from __future__ import annotations

import struct
from enum import IntEnum
from typing import Any, Iterable, Sequence

import numpy as np

GGUF_MAGIC = b"GGUF"
GGUF_VERSION = 3
GGUF_DEFAULT_ALIGNMENT = 32


class ValueType(IntEnum):
    UINT8 = 0
    INT8 = 1
    UINT16 = 2
    INT16 = 3
    UINT32 = 4
    INT32 = 5
    FLOAT32 = 6
    BOOL = 7
    STRING = 8
    ARRAY = 9
    UINT64 = 10
    INT64 = 11
    FLOAT64 = 12


class GGMLType(IntEnum):
    F32 = 0
    F16 = 1
    Q4_0 = 2
    Q4_1 = 3
    Q5_0 = 6
    Q5_1 = 7
    Q8_0 = 8
    Q8_1 = 9
    Q2_K = 10
    Q3_K = 11
    Q4_K = 12
    Q5_K = 13
    Q6_K = 14
    Q8_K = 15
    I8 = 24
    I16 = 25
    I32 = 26
    I64 = 27
    F64 = 28
    BF16 = 30


class TokenType(IntEnum):
    NORMAL = 1
    UNKNOWN = 2
    CONTROL = 3
    USER_DEFINED = 4
    UNUSED = 5
    BYTE = 6


_SCALAR_FMT = {
    ValueType.UINT8: "<B", ValueType.INT8: "<b",
    ValueType.UINT16: "<H", ValueType.INT16: "<h",
    ValueType.UINT32: "<I", ValueType.INT32: "<i",
    ValueType.FLOAT32: "<f", ValueType.BOOL: "<?",
    ValueType.UINT64: "<Q", ValueType.INT64: "<q",
    ValueType.FLOAT64: "<d",
}

_NUMPY_TO_GGML = {
    np.dtype(np.float32): GGMLType.F32,
    np.dtype(np.float16): GGMLType.F16,
    np.dtype(np.float64): GGMLType.F64,
    np.dtype(np.int8): GGMLType.I8,
    np.dtype(np.int16): GGMLType.I16,
    np.dtype(np.int32): GGMLType.I32,
    np.dtype(np.int64): GGMLType.I64,
}

# bytes per element of the unquantised types (used by the reader)
GGML_TYPE_SIZE = {
    GGMLType.F32: 4, GGMLType.F16: 2, GGMLType.BF16: 2, GGMLType.F64: 8,
    GGMLType.I8: 1, GGMLType.I16: 2, GGMLType.I32: 4, GGMLType.I64: 8,
}


def _pack_string(s: str | bytes) -> bytes:
    b = s.encode("utf-8") if isinstance(s, str) else bytes(s)
    return struct.pack("<Q", len(b)) + b


def _pack_value(vtype: ValueType, value: Any, elem_type: ValueType | None = None) -> bytes:
    if vtype == ValueType.STRING:
        return _pack_string(value)
    if vtype == ValueType.ARRAY:
        if elem_type is None:
            raise ValueError("array needs an element type")
        values = list(value)
        out = [struct.pack("<IQ", int(elem_type), len(values))]
        if elem_type == ValueType.STRING:
            out.extend(_pack_string(v) for v in values)
        elif elem_type == ValueType.ARRAY:
            raise ValueError("nested arrays are not supported")
        else:
            fmt = _SCALAR_FMT[elem_type]
            out.append(np.asarray(values, dtype=np.dtype(fmt)).tobytes())
        return b"".join(out)
    return struct.pack(_SCALAR_FMT[vtype], value)


class GGUFWriter:
    """Collects metadata and tensors in insertion order, then writes one file."""

    def __init__(self, arch: str | None = None, alignment: int = GGUF_DEFAULT_ALIGNMENT):
        self.kv: list[tuple[str, bytes]] = []          # (key, packed type + value)
        self.tensors: list[tuple[str, tuple[int, ...], int, bytes]] = []
        self.alignment = alignment
        if alignment != GGUF_DEFAULT_ALIGNMENT:
            self.add_uint32("general.alignment", alignment)
        if arch is not None:
            self.add_string("general.architecture", arch)

    # --- metadata ------------------------------------------------------
    def add_kv(self, key: str, vtype: ValueType, value: Any, elem_type: ValueType | None = None):
        if any(k == key for k, _ in self.kv):
            raise ValueError(f"duplicate key {key}")
        payload = struct.pack("<I", int(vtype)) + _pack_value(vtype, value, elem_type)
        self.kv.append((key, payload))

    def add_raw_kv(self, key: str | bytes, payload: bytes):
        """Key plus arbitrary bytes for the type and value (for malformed-file tests)."""
        self.kv.append((key, payload))

    def add_uint32(self, key, v): self.add_kv(key, ValueType.UINT32, v)
    def add_int32(self, key, v): self.add_kv(key, ValueType.INT32, v)
    def add_uint64(self, key, v): self.add_kv(key, ValueType.UINT64, v)
    def add_float32(self, key, v): self.add_kv(key, ValueType.FLOAT32, v)
    def add_float64(self, key, v): self.add_kv(key, ValueType.FLOAT64, v)
    def add_bool(self, key, v): self.add_kv(key, ValueType.BOOL, bool(v))
    def add_string(self, key, v): self.add_kv(key, ValueType.STRING, v)

    def add_array(self, key: str, values: Iterable[Any], elem_type: ValueType):
        self.add_kv(key, ValueType.ARRAY, values, elem_type)

    # --- tensors -------------------------------------------------------
    def add_tensor(self, name: str, data: np.ndarray, ggml_type: GGMLType | None = None):
        """Add a tensor from a NumPy array of numpy shape (..., ne1, ne0).

        The GGUF dims are the numpy shape reversed (ne[0] = contiguous dim).
        float32/float16 arrays map to F32/F16; pass ggml_type=GGMLType.BF16 with a
        uint16 array holding bfloat16 bit patterns.
        """
        data = np.ascontiguousarray(data)
        if ggml_type is None:
            ggml_type = _NUMPY_TO_GGML[data.dtype]
        dims = tuple(int(d) for d in reversed(data.shape)) or (1,)
        self.add_tensor_raw(name, dims, ggml_type, data.tobytes())

    def add_tensor_raw(self, name: str, dims: Sequence[int], ggml_type: int, data: bytes):
        if any(t[0] == name for t in self.tensors):
            raise ValueError(f"duplicate tensor {name}")
        self.tensors.append((name, tuple(int(d) for d in dims), int(ggml_type), bytes(data)))

    # --- output --------------------------------------------------------
    def _pad(self, n: int) -> int:
        return (-n) % self.alignment

    def to_bytes(self) -> bytes:
        out = [GGUF_MAGIC, struct.pack("<IQQ", GGUF_VERSION, len(self.tensors), len(self.kv))]
        for key, payload in self.kv:
            out.append(_pack_string(key))
            out.append(payload)
        offset = 0
        for name, dims, gtype, data in self.tensors:
            out.append(_pack_string(name))
            out.append(struct.pack("<I", len(dims)))
            out.append(struct.pack(f"<{len(dims)}Q", *dims))
            out.append(struct.pack("<IQ", gtype, offset))
            offset += len(data) + self._pad(len(data))
        head = b"".join(out)
        parts = [head, b"\0" * self._pad(len(head))]
        for _, _, _, data in self.tensors:
            parts.append(data)
            parts.append(b"\0" * self._pad(len(data)))
        return b"".join(parts)

    def write(self, path: str):
        with open(path, "wb") as f:
            f.write(self.to_bytes())


# --- reader (for checks and tests) -------------------------------------------
class _Cursor:
    def __init__(self, buf: bytes):
        self.buf, self.pos = buf, 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.buf):
            raise ValueError(f"read of {n} bytes at {self.pos} runs past the end ({len(self.buf)})")
        b = self.buf[self.pos:self.pos + n]
        self.pos += n
        return b

    def unpack(self, fmt: str):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))

    def string(self) -> str:
        (n,) = self.unpack("<Q")
        return self.take(n).decode("utf-8")

    def value(self, vtype: int):
        vtype = ValueType(vtype)
        if vtype == ValueType.STRING:
            return self.string()
        if vtype == ValueType.ARRAY:
            etype, count = self.unpack("<IQ")
            etype = ValueType(etype)
            if etype in _SCALAR_FMT:
                dt = np.dtype(_SCALAR_FMT[etype])
                return np.frombuffer(self.take(dt.itemsize * count), dtype=dt).tolist()
            return [self.value(etype) for _ in range(count)]
        return self.unpack(_SCALAR_FMT[vtype])[0]


def read_gguf(path: str):
    """Returns (metadata dict, {name: (ggml_type, dims, numpy array or raw bytes)}, info).

    Unquantised tensors come back as NumPy arrays of shape reversed(dims)
    (bf16 as uint16 bit patterns); others as raw bytes.
    """
    buf = open(path, "rb").read()
    c = _Cursor(buf)
    if c.take(4) != GGUF_MAGIC:
        raise ValueError("not a GGUF file")
    version, n_tensors, n_kv = c.unpack("<IQQ")
    meta: dict[str, Any] = {}
    types: dict[str, int] = {}
    for _ in range(n_kv):
        key = c.string()
        (vtype,) = c.unpack("<I")
        meta[key] = c.value(vtype)
        types[key] = vtype
    infos = []
    for _ in range(n_tensors):
        name = c.string()
        (nd,) = c.unpack("<I")
        dims = c.unpack(f"<{nd}Q")
        gtype, off = c.unpack("<IQ")
        infos.append((name, dims, gtype, off))
    align = int(meta.get("general.alignment", GGUF_DEFAULT_ALIGNMENT))
    data_start = c.pos + ((-c.pos) % align)
    tensors = {}
    for name, dims, gtype, off in infos:
        if off % align:
            raise ValueError(f"tensor {name} offset {off} not aligned to {align}")
        n = int(np.prod(dims))
        if gtype in GGML_TYPE_SIZE:
            nbytes = n * GGML_TYPE_SIZE[GGMLType(gtype)]
            raw = buf[data_start + off:data_start + off + nbytes]
            if len(raw) != nbytes:
                raise ValueError(f"tensor {name} runs past the end of the file")
            dt = {GGMLType.F32: np.float32, GGMLType.F16: np.float16, GGMLType.BF16: np.uint16,
                  GGMLType.F64: np.float64, GGMLType.I8: np.int8, GGMLType.I16: np.int16,
                  GGMLType.I32: np.int32, GGMLType.I64: np.int64}[GGMLType(gtype)]
            arr = np.frombuffer(raw, dtype=dt).reshape(tuple(reversed(dims)))
            tensors[name] = (gtype, dims, arr)
        else:
            tensors[name] = (gtype, dims, None)
    info = {"version": version, "alignment": align, "data_start": data_start,
            "value_types": types, "tensor_order": [i[0] for i in infos],
            "offsets": {i[0]: i[3] for i in infos}, "file_size": len(buf)}
    return meta, tensors, info
