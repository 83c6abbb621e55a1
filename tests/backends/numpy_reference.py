#!/usr/bin/env python3
"""Independent NumPy reference for kiln's ops, for backend conformance tests.

Each op is written from its definition (the comments of ir/ops.cc), in
float64, and each node's result is rounded to its declared dtype, as a
backend stores it.

Usage: numpy_reference.py CASE_DIR

CASE_DIR/case.json holds
  {"step": {"T": 3, "P": 5},
   "nodes": [{"op": "matmul", "inputs": ["x", "w"],
              "outputs": [{"name": "y", "dtype": "f32"}], "attrs": {...}}],
   "outputs": ["y"], "states": ["k_cache"]}
and CASE_DIR/<name>.npy each graph input, weight and state (its contents
before the run). Writes CASE_DIR/expected_<name>.npy for each output and
CASE_DIR/expected_state_<name>.npy for each state after the run.
"""

import json
import math
import os
import sys

import numpy as np

DTYPES = {"f32": np.float32, "f16": np.float16, "i32": np.int32}


def f64(x):
    return np.asarray(x, dtype=np.float64)


# ---- elementwise ------------------------------------------------------------

def add(a, b):
    return f64(a) + f64(b)


def mul(a, b):
    return f64(a) * f64(b)


def scale(x, scale):
    return f64(x) * scale


def silu(x):
    x = f64(x)
    return x / (1.0 + np.exp(-x))


def gelu(x, approximate):
    x = f64(x)
    if approximate == "tanh":
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def relu(x):
    return np.maximum(f64(x), 0.0)


def cast(x, dtype):
    if dtype == "i32":
        return np.trunc(f64(x))
    return f64(x)


# ---- reductions over the last dim -------------------------------------------

def rmsnorm(x, w, eps):
    x = f64(x)
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * f64(w)


def layernorm(x, w, b=None, eps=1e-5):
    x = f64(x)
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    y = (x - mean) / np.sqrt(var + eps) * f64(w)
    return y if b is None else y + f64(b)


def softmax(x, axis):
    x = f64(x)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def argmax(x):
    x = np.asarray(x)
    return np.argmax(x, axis=-1).reshape(x.shape[:-1] or (1,))


# ---- linear algebra ---------------------------------------------------------

def matmul(a, b, bias=None, transpose_b=False):
    b = f64(b)
    if transpose_b:
        b = np.swapaxes(b, -1, -2)
    y = f64(a) @ b
    return y if bias is None else y + f64(bias)


def embedding(table, ids):
    return f64(table)[np.asarray(ids)]


# ---- positions and attention ------------------------------------------------

def llama3_inv_freq(inv_freq, factor, low_freq_factor, high_freq_factor, original_context):
    """HF transformers' _compute_llama3_parameters."""
    low_freq_wavelen = original_context / low_freq_factor
    high_freq_wavelen = original_context / high_freq_factor
    wavelen = 2 * math.pi / inv_freq
    scaled = np.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    smooth = (original_context / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    medium = ~(wavelen < high_freq_wavelen) & ~(wavelen > low_freq_wavelen)
    return np.where(medium, smoothed, scaled)


def rope(x, step, theta, rotary_dim, interleaved, scaling_factor, scaling_low_freq_factor,
         scaling_high_freq_factor, scaling_original_context):
    x = f64(x)
    tokens = x.shape[0]
    inv_freq = 1.0 / theta ** (np.arange(0, rotary_dim, 2, dtype=np.float64) / rotary_dim)
    if scaling_original_context > 0:
        inv_freq = llama3_inv_freq(inv_freq, scaling_factor, scaling_low_freq_factor,
                                   scaling_high_freq_factor, scaling_original_context)
    positions = step.get("P", 0) + np.arange(tokens, dtype=np.float64)
    angles = positions[:, None] * inv_freq[None, :]          # [T, rotary_dim / 2]
    cos, sin = np.cos(angles)[:, None, :], np.sin(angles)[:, None, :]
    out = x.copy()
    if interleaved:
        x1, x2 = x[..., 0:rotary_dim:2], x[..., 1:rotary_dim:2]
        out[..., 0:rotary_dim:2] = x1 * cos - x2 * sin
        out[..., 1:rotary_dim:2] = x2 * cos + x1 * sin
    else:
        half = rotary_dim // 2
        x1, x2 = x[..., :half], x[..., half:rotary_dim]
        out[..., :half] = x1 * cos - x2 * sin
        out[..., half:rotary_dim] = x2 * cos + x1 * sin
    return out


def attention(q, k, v, step, causal, scale):
    q, k, v = f64(q), f64(k), f64(v)
    tokens, q_heads, head_dim = q.shape
    kv_heads = k.shape[1]
    past = step.get("P", 0)
    keys = past + tokens
    scale = scale if scale != 0.0 else 1.0 / math.sqrt(head_dim)
    out = np.zeros_like(q)
    for h in range(q_heads):
        kh = h // (q_heads // kv_heads)
        scores = q[:, h, :] @ k[:keys, kh, :].T * scale    # [T, keys]
        if causal:
            visible = np.arange(keys)[None, :] <= past + np.arange(tokens)[:, None]
            scores = np.where(visible, scores, -np.inf)
        out[:, h, :] = softmax(scores, -1) @ v[:keys, kh, :]
    return out


def kv_write(cache, x, step):
    past = step.get("P", 0)
    cache[past:past + x.shape[0]] = x    # rounds to the cache's dtype
    return cache


# ---- layout -----------------------------------------------------------------

def resolve_shape(shape, step, x):
    dims = [step[d] if isinstance(d, str) else d for d in shape]
    return [x.shape[i] if d == 0 else d for i, d in enumerate(dims)]


def reshape(x, shape, step):
    return np.asarray(x).reshape(resolve_shape(shape, step, np.asarray(x)))


def transpose(x, perm):
    return np.transpose(np.asarray(x), perm)


def concat(*xs, axis):
    return np.concatenate([np.asarray(x) for x in xs], axis=axis)


def slice_(x, axis, start, end):
    x = np.asarray(x)
    index = [slice(None)] * x.ndim
    index[axis] = slice(start, end if end != 0 else None)
    return x[tuple(index)]


# Ops whose attributes include the step's symbol values.
STEP_OPS = {"rope", "attention", "kv_write", "reshape"}
OPS = {
    "add": add, "mul": mul, "scale": scale, "silu": silu, "gelu": gelu, "relu": relu,
    "cast": cast, "rmsnorm": rmsnorm, "layernorm": layernorm, "softmax": softmax,
    "argmax": argmax, "matmul": matmul, "embedding": embedding, "rope": rope,
    "attention": attention, "kv_write": kv_write, "reshape": reshape, "transpose": transpose,
    "concat": concat, "slice": slice_,
}


def run(case_dir):
    with open(os.path.join(case_dir, "case.json")) as f:
        case = json.load(f)
    step = case["step"]
    values = {}
    for file in os.listdir(case_dir):
        if file.endswith(".npy") and not file.startswith("expected_"):
            values[file[:-4]] = np.load(os.path.join(case_dir, file))
    states = {name: values[name] for name in case["states"]}
    for node in case["nodes"]:
        attrs = dict(node["attrs"])
        if node["op"] in STEP_OPS:
            attrs["step"] = step
        args = [values[name] for name in node["inputs"]]
        result = OPS[node["op"]](*args, **attrs)
        (out,) = node["outputs"]
        # kv_write's result is the cache array itself, updated in place, so
        # the state sees the rows it wrote.
        same_storage = node["op"] == "kv_write"
        values[out["name"]] = result if same_storage else np.asarray(result).astype(DTYPES[out["dtype"]])
    for name in case["outputs"]:
        np.save(os.path.join(case_dir, f"expected_{name}.npy"), values[name])
    for name, value in states.items():
        np.save(os.path.join(case_dir, f"expected_state_{name}.npy"), value)


if __name__ == "__main__":
    run(sys.argv[1])
