#!/usr/bin/env python3
"""Independent NumPy reference for kiln's ops, for backend conformance tests.

Each op is written from its definition (the comments of ir/ops.cc and
ir/fused_ops.cc), in float64, and each node's result is rounded to its
declared dtype, as a backend stores it. A fused op rounds where the
primitive graph it replaces stores a value (fused_ops.cc: it "computes
exactly what the primitive graph it replaces computes").

Usage: numpy_reference.py CASE_DIR

CASE_DIR/case.json holds
  {"steps": [{"T": 5, "P": 0}, {"T": 3, "P": 5}],
   "nodes": [{"op": "matmul", "inputs": ["x", "w"],
              "outputs": [{"name": "y", "dtype": "f32"}], "attrs": {...}}],
   "inputs": ["x"], "weights": ["w"], "outputs": ["y"], "states": ["k_cache"]}
and CASE_DIR/weight_<name>.npy each weight, state_<name>.npy each state
before the first step and input_<i>_<name>.npy each input of step i. The
steps run in order; states carry over between them. Writes
CASE_DIR/expected_<i>_<name>.npy for each output of step i and
CASE_DIR/expected_state_<name>.npy for each state after the last step.
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


# ---- sampling ---------------------------------------------------------------

def top_k(logits, recent=None, k=1, penalty=1.0):
    """The k most likely ids of the last row after the repetition penalty
    (a positive logit of an id in `recent` divided by `penalty`, a negative
    one multiplied; ids outside [0, V) are padding), most likely first, the
    lower id first among equals, NaN as -inf; and those ids' raw logits."""
    row = f64(logits).reshape(-1, np.asarray(logits).shape[-1])[-1]
    penalised = np.where(np.isnan(row), -np.inf, row)
    if recent is not None and penalty != 1.0:
        for i in set(int(t) for t in np.asarray(recent).ravel() if 0 <= t < row.size):
            penalised[i] = penalised[i] / penalty if penalised[i] > 0 else penalised[i] * penalty
    order = sorted(range(row.size), key=lambda i: (-penalised[i], i))[:k]
    return np.asarray(order, dtype=np.int32), row[order]


# ---- fused ops (ir/fused_ops.cc) --------------------------------------------
# Each rounds to `dtype` (its result's dtype) where the unfused graph stores
# an intermediate.

def activation(x, act, approximate):
    return silu(x) if act == "silu" else gelu(x, approximate)


def gated(x, w_gate, w_up, act, approximate, transpose_b, dtype):
    gate = as_dtype(matmul(x, w_gate, transpose_b=transpose_b), dtype)
    up = as_dtype(matmul(x, w_up, transpose_b=transpose_b), dtype)
    return as_dtype(mul(up, as_dtype(activation(gate, act, approximate), dtype)), dtype)


def fused_gate_up(x, w_gate, w_up, act, approximate, transpose_b, dtypes):
    return gated(x, w_gate, w_up, act, approximate, transpose_b, dtypes[0])


def fused_ffn(x, w_gate, w_up, w_down, act, approximate, transpose_b, dtypes):
    m = gated(x, w_gate, w_up, act, approximate, transpose_b, dtypes[0])
    return matmul(m, w_down, transpose_b=transpose_b)


def matmul_rmsnorm(x, w, g, residual=None, eps=1e-5, transpose_b=False, dtypes=None):
    total = as_dtype(matmul(x, w, transpose_b=transpose_b), dtypes[0])
    if residual is not None:
        total = as_dtype(add(residual, total), dtypes[0])
    return total, rmsnorm(total, g, eps)


def residual_rmsnorm(a, b, g, eps, dtypes):
    total = as_dtype(add(a, b), dtypes[0])
    return total, rmsnorm(total, g, eps)


def residual_layernorm(a, b, g, beta=None, eps=1e-5, dtypes=None):
    total = as_dtype(add(a, b), dtypes[0])
    return total, layernorm(total, g, beta, eps)


def matmul_qkv(x, wq, wk, wv, bq=None, bk=None, bv=None, transpose_b=False, dtypes=None):
    return tuple(matmul(x, w, b, transpose_b) for w, b in ((wq, bq), (wk, bk), (wv, bv)))


def embedding_cast(table, ids, dtype=None, dtypes=None):
    return embedding(table, ids)    # run_node rounds to the result's dtype


def matmul_residual(x, w, residual, transpose_b=False, dtypes=None):
    return add(residual, as_dtype(matmul(x, w, transpose_b=transpose_b), dtypes[0]))


def rmsnorm_matmul(x, g, w, eps=1e-5, transpose_b=False, dtypes=None):
    return matmul(as_dtype(rmsnorm(x, g, eps), dtypes[0]), w, transpose_b=transpose_b)


def rmsnorm_gate_up(x, g, w_gate, w_up, eps=1e-5, act="silu", approximate="none", transpose_b=False, dtypes=None):
    n = as_dtype(rmsnorm(x, g, eps), dtypes[0])
    return gated(n, w_gate, w_up, act, approximate, transpose_b, dtypes[0])


def rmsnorm_qkv_rope(x, g, wq, wk, wv, k_cache, v_cache, bq=None, bk=None, bv=None, eps=1e-5, transpose_b=False,
                     step=None, dtypes=None, **rope_attrs):
    n = as_dtype(rmsnorm(x, g, eps), dtypes[0])
    q, k, v = (as_dtype(matmul(n, w, b, transpose_b), dtypes[0]) for w, b in ((wq, bq), (wk, bk), (wv, bv)))
    tokens, head_dim = x.shape[0], k_cache.shape[2]
    q_rope = rope(q.reshape(tokens, -1, head_dim), step, **rope_attrs)
    k_rope = as_dtype(rope(k.reshape(tokens, -1, head_dim), step, **rope_attrs), dtypes[0])
    kv_write(k_cache, k_rope, step)
    kv_write(v_cache, v.reshape(tokens, -1, head_dim), step)
    return q_rope, k_cache, v_cache


def as_dtype(x, dtype):
    return f64(np.asarray(x).astype(DTYPES[dtype]))


# Ops whose attributes include the step's symbol values.
STEP_OPS = {"rope", "attention", "kv_write", "reshape", "rmsnorm_qkv_rope"}
OPS = {
    "add": add, "mul": mul, "scale": scale, "silu": silu, "gelu": gelu, "relu": relu,
    "cast": cast, "rmsnorm": rmsnorm, "layernorm": layernorm, "softmax": softmax,
    "argmax": argmax, "matmul": matmul, "embedding": embedding, "rope": rope,
    "attention": attention, "kv_write": kv_write, "reshape": reshape, "transpose": transpose,
    "concat": concat, "slice": slice_, "top_k": top_k,
    "fused_ffn": fused_ffn, "fused_gate_up": fused_gate_up, "matmul_rmsnorm": matmul_rmsnorm,
    "residual_rmsnorm": residual_rmsnorm, "residual_layernorm": residual_layernorm, "matmul_qkv": matmul_qkv,
    "embedding_cast": embedding_cast, "matmul_residual": matmul_residual, "rmsnorm_matmul": rmsnorm_matmul, "rmsnorm_gate_up": rmsnorm_gate_up,
    "rmsnorm_qkv_rope": rmsnorm_qkv_rope,
}
# Fused ops: told their results' dtypes, to round where the unfused graph does.
FUSED_OPS = {"fused_ffn", "fused_gate_up", "matmul_rmsnorm", "residual_rmsnorm", "residual_layernorm",
             "matmul_qkv", "embedding_cast", "matmul_residual", "rmsnorm_matmul", "rmsnorm_gate_up",
             "rmsnorm_qkv_rope"}
# The results that are an operand's own storage (OpDef::aliases): a cache
# array updated in place, so the state sees the rows written.
ALIASED_RESULTS = {"kv_write": {0}, "rmsnorm_qkv_rope": {1, 2}}


def load(case_dir, name):
    return np.load(os.path.join(case_dir, name + ".npy"))


def run_node(node, values, step):
    attrs = dict(node["attrs"])
    if node["op"] in STEP_OPS:
        attrs["step"] = step
    if node["op"] in FUSED_OPS:
        attrs["dtypes"] = [out["dtype"] for out in node["outputs"]]
    results = OPS[node["op"]](*[values[name] for name in node["inputs"]], **attrs)
    if len(node["outputs"]) == 1:
        results = (results,)
    for index, (out, result) in enumerate(zip(node["outputs"], results)):
        same_storage = index in ALIASED_RESULTS.get(node["op"], ())
        values[out["name"]] = result if same_storage else np.asarray(result).astype(DTYPES[out["dtype"]])


def run(case_dir):
    with open(os.path.join(case_dir, "case.json")) as f:
        case = json.load(f)
    weights = {name: load(case_dir, "weight_" + name) for name in case["weights"]}
    states = {name: load(case_dir, "state_" + name) for name in case["states"]}
    for i, step in enumerate(case["steps"]):
        values = dict(weights)
        values.update(states)
        values.update({name: load(case_dir, f"input_{i}_{name}") for name in case["inputs"]})
        for node in case["nodes"]:
            run_node(node, values, step)
        for name in case["outputs"]:
            np.save(os.path.join(case_dir, f"expected_{i}_{name}.npy"), np.ascontiguousarray(values[name]))
    for name, value in states.items():
        np.save(os.path.join(case_dir, f"expected_state_{name}.npy"), np.ascontiguousarray(value))


if __name__ == "__main__":
    run(sys.argv[1])
