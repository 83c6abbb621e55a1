#!/usr/bin/env python3
"""Writes the reference fixtures beside this script, for the readers' tests.

They are made with NumPy and the standard library only, straight from each
format's specification, so that they check kiln's readers independently of
kiln's own writers. The outputs are committed; rerun this after changing it:

    /usr/bin/python3 tests/frontend/data/make_format_fixtures.py
"""

import io
import json
import pathlib
import struct

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent


def write_npy_fixtures():
    np.save(HERE / "arange_f32.npy", np.arange(6, dtype="<f4").reshape(2, 3) / 4)
    np.save(HERE / "values_f16.npy", np.array([1.0, -2.5, 65504.0], dtype="<f2"))
    np.save(HERE / "ints_i32.npy", np.array([[1, -2], [3, 2147483647]], dtype="<i4"))
    np.save(HERE / "scalar_f32.npy", np.array(3.5, dtype="<f4"))
    np.save(HERE / "empty_f32.npy", np.zeros((0, 4), dtype="<f4"))
    np.save(HERE / "doubles_f64.npy", np.zeros(2))
    np.save(HERE / "big_endian_f32.npy", np.ones(2, dtype=">f4"))
    np.save(HERE / "fortran_f32.npy", np.asfortranarray(np.ones((2, 3), dtype="<f4")))
    for major in (2, 3):
        buffer = io.BytesIO()
        np.lib.format.write_array(buffer, np.array([7, 8, 9], dtype="<i4"), version=(major, 0))
        (HERE / f"version{major}_i32.npy").write_bytes(buffer.getvalue())


def bf16_bits(values):
    """bfloat16 bit patterns of `values`, each exactly representable."""
    bits = np.asarray(values, dtype="<f4").view("<u4")
    assert np.all(bits & 0xFFFF == 0)
    return (bits >> 16).astype("<u2")


def write_safetensors_fixture():
    arrays = {
        "embed": np.arange(6, dtype="<f4").reshape(2, 3),
        "norm": np.array([0.5, 1.0, 2.0], dtype="<f2"),
        "bias": bf16_bits([1.0, -2.0]),
        "ids": np.array([3, -4], dtype="<i4"),
    }
    dtypes = {"embed": "F32", "norm": "F16", "bias": "BF16", "ids": "I32"}
    header = {"__metadata__": {"format": "pt"}}
    data = b""
    for name, array in arrays.items():
        raw = array.tobytes()
        header[name] = {
            "dtype": dtypes[name],
            "shape": list(array.shape),
            "data_offsets": [len(data), len(data) + len(raw)],
        }
        data += raw
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)  # keeps the data 8-byte aligned
    (HERE / "model.safetensors").write_bytes(struct.pack("<Q", len(text)) + text + data)


def gguf_string(text):
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw


def gguf_fixture_metadata():
    """(key, type id, encoded value) in file order."""
    tokens = ["<s>", "</s>", "hello"]
    scores = [0.0, -1.0, -2.5]
    return [
        ("general.architecture", 8, gguf_string("llama")),
        ("llama.context_length", 4, struct.pack("<I", 2048)),
        ("llama.rope.freq_base", 6, struct.pack("<f", 10000.0)),
        ("llama.attention.layer_norm_rms_epsilon", 12, struct.pack("<d", 1e-5)),
        ("general.quantized", 7, struct.pack("<B", 1)),
        ("tokenizer.ggml.tokens", 9,
         struct.pack("<IQ", 8, len(tokens)) + b"".join(gguf_string(t) for t in tokens)),
        ("tokenizer.ggml.scores", 9,
         struct.pack("<IQ", 6, len(scores)) + struct.pack(f"<{len(scores)}f", *scores)),
        ("tokenizer.ggml.bos_token_id", 5, struct.pack("<i", 1)),
        ("general.file_type", 10, struct.pack("<Q", 1)),
    ]


def write_gguf_fixture():
    alignment = 32
    tensors = [  # name, numpy array in row-major order, ggml type id, raw bytes
        ("token_embd.weight", np.arange(6, dtype="<f4").reshape(2, 3) * 2, 0),
        ("output_norm.weight", np.array([1.0, 0.5, -1.0], dtype="<f2"), 1),
        ("blk.0.attn_norm.weight", bf16_bits([3.0, -0.5]), 30),
        ("blk.0.attn_q.weight", np.zeros((1, 32), dtype="<f4"), 8),  # q8_0: one block
    ]
    metadata = gguf_fixture_metadata()
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(metadata))
    for key, type_id, value in metadata:
        out += gguf_string(key) + struct.pack("<I", type_id) + value
    data = b""
    for name, array, type_id in tensors:
        raw = array.tobytes() if type_id != 8 else b"\0" * 34
        dims = list(reversed(array.shape))  # GGUF lists the innermost dim first
        out += gguf_string(name) + struct.pack(f"<I{len(dims)}QIQ", len(dims), *dims, type_id,
                                               len(data))
        data += raw + b"\0" * (-len(raw) % alignment)
    out += b"\0" * (-len(out) % alignment)
    (HERE / "tiny.gguf").write_bytes(out + data)


if __name__ == "__main__":
    write_npy_fixtures()
    write_safetensors_fixture()
    write_gguf_fixture()
