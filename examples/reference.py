#!/usr/bin/env python3
"""Evaluates a kiln JSON graph (docs/graph-format.md) with NumPy.

An independent reference for `kiln run`: every op is written here from its
mathematical definition and the semantics documented in ir/ops.cc, not from
any kiln C++ code. Values are computed in float64 and rounded to their
declared dtype after every node, as a device that stores them would.

    /usr/bin/python3 examples/reference.py examples/mlp.json \\
        --input x=examples/data/mlp/x.npy --output y=y.npy

Symbols are bound from the input arrays' shapes; others can be given with
--symbol NAME=VALUE (P, the past length, defaults to 0). State persists
between runs through files: --state-in NAME=FILE loads a state (default:
zeros) and --state-out NAME=FILE saves it after the run, so

    reference.py block.json --input x=prompt.npy --output y=y0.npy \\
        --state-out k_cache=k.npy --state-out v_cache=v.npy
    reference.py block.json --input x=next.npy --output y=y1.npy --symbol P=5 \\
        --state-in k_cache=k.npy --state-in v_cache=v.npy

runs a prefill and then a decode step.
"""

import argparse
import json
import math
import os
import struct
import sys

import numpy as np


# ---- dtypes ------------------------------------------------------------------

def round_bf16(values):
    """Rounds float values to bfloat16 (nearest even), kept as float32."""
    bits = np.asarray(values, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16 << 16
    return rounded.astype(np.uint32).view(np.float32)


# kiln dtype -> (numpy storage dtype, rounding of a float64 array to it)
DTYPES = {
    "f32": (np.float32, lambda a: a.astype(np.float32)),
    "f16": (np.float16, lambda a: a.astype(np.float16)),
    "bf16": (np.float32, round_bf16),
    "i32": (np.int32, lambda a: a.astype(np.int32)),
}


def stored(array, dtype):
    """`array` as `dtype` would hold it, widened back for computing."""
    rounded = DTYPES[dtype][1](np.asarray(array))
    return rounded if dtype == "i32" else rounded.astype(np.float64)


# ---- ops -----------------------------------------------------------------------
# Each takes (inputs, attrs, step symbols) and returns the result in float64
# (int32 for integer results). Tensors are row-major; "rows" are leading dims.

def op_embedding(x, attrs, step):
    table, ids = x
    return table[ids.astype(np.int64)]


def op_matmul(x, attrs, step):
    a, b = x[0], x[1]
    if attrs.get("transpose_b", False):
        b = np.swapaxes(b, -1, -2)
    out = np.matmul(a, b)
    return out + x[2] if len(x) == 3 else out


def op_gelu(x, attrs, step):
    v = x[0]
    if attrs.get("approximate", "none") == "tanh":
        return 0.5 * v * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (v + 0.044715 * v ** 3)))
    erf = np.vectorize(math.erf)
    return 0.5 * v * (1.0 + erf(v / math.sqrt(2.0)))


def op_rmsnorm(x, attrs, step):
    v, w = x
    return v / np.sqrt(np.mean(v * v, axis=-1, keepdims=True) + attrs.get("eps", 1e-5)) * w


def op_layernorm(x, attrs, step):
    v, w = x[0], x[1]
    mean = np.mean(v, axis=-1, keepdims=True)
    var = np.mean((v - mean) ** 2, axis=-1, keepdims=True)
    out = (v - mean) / np.sqrt(var + attrs.get("eps", 1e-5)) * w
    return out + x[2] if len(x) == 3 else out


def op_softmax(x, attrs, step):
    v = x[0]
    e = np.exp(v - np.max(v, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def rope_frequencies(attrs):
    """Inverse frequencies theta^(-2i/rotary_dim), with Llama 3's rescaling
    when scaling_original_context > 0."""
    rotary = attrs["rotary_dim"]
    inv_freq = attrs.get("theta", 10000.0) ** (-np.arange(0, rotary, 2, dtype=np.float64) / rotary)
    original = attrs.get("scaling_original_context", 0)
    if original <= 0:
        return inv_freq
    factor = attrs.get("scaling_factor", 1.0)
    low = attrs.get("scaling_low_freq_factor", 1.0)
    high = attrs.get("scaling_high_freq_factor", 4.0)
    wavelen = 2 * math.pi / inv_freq
    scaled = np.where(wavelen > original / low, inv_freq / factor, inv_freq)
    smooth = (original / wavelen - low) / (high - low)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    medium = (wavelen >= original / high) & (wavelen <= original / low)
    return np.where(medium, smoothed, scaled)


def op_rope(x, attrs, step):
    v = x[0].copy()  # [T, heads, head_dim]
    rotary = attrs["rotary_dim"]
    positions = step.get("P", 0) + np.arange(v.shape[0], dtype=np.float64)
    angles = positions[:, None] * rope_frequencies(attrs)[None, :]  # [T, rotary/2]
    cos, sin = np.cos(angles)[:, None, :], np.sin(angles)[:, None, :]
    if attrs.get("interleaved", False):
        first, second = v[..., 0:rotary:2].copy(), v[..., 1:rotary:2].copy()
        v[..., 0:rotary:2] = first * cos - second * sin
        v[..., 1:rotary:2] = second * cos + first * sin
    else:
        half = rotary // 2
        first, second = v[..., :half].copy(), v[..., half:rotary].copy()
        v[..., :half] = first * cos - second * sin
        v[..., half:rotary] = second * cos + first * sin
    return v


def op_attention(x, attrs, step):
    q, k, v = x  # [T, Hq, D], [S, Hkv, D], [S, Hkv, D]
    tokens, heads, dim = q.shape
    past = step.get("P", 0)
    length = past + tokens
    k, v = k[:length], v[:length]
    group = heads // k.shape[1]
    scale = attrs.get("scale", 0.0) or 1.0 / math.sqrt(dim)
    out = np.zeros_like(q)
    for h in range(heads):
        scores = scale * q[:, h, :] @ k[:, h // group, :].T  # [T, length]
        if attrs.get("causal", True):
            visible = np.arange(length)[None, :] <= past + np.arange(tokens)[:, None]
            scores = np.where(visible, scores, -np.inf)
        weights = op_softmax([scores], {}, step)
        out[:, h, :] = weights @ v[:, h // group, :]
    return out


def op_kv_write(x, attrs, step):
    cache, new = x[0].copy(), x[1]
    past = step.get("P", 0)
    cache[past:past + new.shape[0]] = new
    return cache


def op_reshape(x, attrs, step):
    shape = []
    for i, dim in enumerate(attrs["shape"]):
        if isinstance(dim, str):
            shape.append(step[dim])
        elif dim == 0:
            shape.append(x[0].shape[i])
        else:
            shape.append(dim)
    return x[0].reshape(shape)


def op_slice(x, attrs, step):
    v = x[0]
    axis, start, end = attrs["axis"], attrs["start"], attrs.get("end", 0)
    index = [slice(None)] * v.ndim
    index[axis] = slice(start, end if end != 0 else None)
    return v[tuple(index)]


def op_argmax(x, attrs, step):
    out = np.argmax(x[0], axis=-1).astype(np.int32)  # numpy takes the first on ties
    return out.reshape(1) if out.ndim == 0 else out


def op_cast(x, attrs, step):
    return stored(x[0], attrs["dtype"])


OPS = {
    "embedding": op_embedding,
    "matmul": op_matmul,
    "add": lambda x, attrs, step: x[0] + x[1],
    "mul": lambda x, attrs, step: x[0] * x[1],
    "scale": lambda x, attrs, step: x[0] * attrs["scale"],
    "silu": lambda x, attrs, step: x[0] / (1.0 + np.exp(-x[0])),
    "gelu": op_gelu,
    "relu": lambda x, attrs, step: np.maximum(x[0], 0.0),
    "rmsnorm": op_rmsnorm,
    "layernorm": op_layernorm,
    "softmax": op_softmax,
    "rope": op_rope,
    "attention": op_attention,
    "kv_write": op_kv_write,
    "reshape": op_reshape,
    "transpose": lambda x, attrs, step: np.transpose(x[0], attrs["perm"]),
    "concat": lambda x, attrs, step: np.concatenate(x, axis=attrs["axis"]),
    "slice": op_slice,
    "argmax": op_argmax,
    "cast": op_cast,
}

# Ops whose result has another dtype than their first operand.
RESULT_DTYPE = {
    "argmax": lambda dtypes, attrs: "i32",
    "cast": lambda dtypes, attrs: attrs["dtype"],
}


# ---- weights -----------------------------------------------------------------

SAFETENSORS_DTYPES = {"F32": np.float32, "F16": np.float16, "I32": np.int32, "BF16": np.uint16}


def read_safetensors(path, name):
    with open(path, "rb") as f:
        header_len = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(header_len))
        entry = header[name]
        begin, end = entry["data_offsets"]
        f.seek(8 + header_len + begin)
        raw = np.frombuffer(f.read(end - begin), dtype=SAFETENSORS_DTYPES[entry["dtype"]])
    if entry["dtype"] == "BF16":
        raw = (raw.astype(np.uint32) << 16).view(np.float32)
    return raw.reshape(entry["shape"])


def load_weight(spec, base_dir):
    if "data" in spec:
        array = np.asarray(spec["data"], dtype=np.float64).reshape(spec["shape"])
    elif "npy" in spec:
        array = np.load(os.path.join(base_dir, spec["npy"]))
    else:
        source = spec["safetensors"]
        array = read_safetensors(os.path.join(base_dir, source["file"]), source["tensor"])
    if list(array.shape) != list(spec["shape"]):
        sys.exit(f"weight shape {list(array.shape)} != declared {spec['shape']}")
    return stored(array, spec["dtype"])


# ---- graph ---------------------------------------------------------------------

def topological(nodes):
    """Nodes in an order where producers come first (the file may list them
    in any order); file order wherever dependencies allow."""
    produced = {name for node in nodes for name in result_names(node)}
    done, order, pending = set(), [], list(nodes)
    while pending:
        for node in pending:
            if all(name in done or name not in produced for name in node["inputs"]):
                order.append(node)
                done.update(result_names(node))
                pending.remove(node)
                break
        else:
            sys.exit("the graph has a cycle")
    return order


def result_names(node):
    return node["outputs"] if "outputs" in node else [node["output"]]


def bind_symbols(graph, inputs, given):
    """Step symbol values: from --symbol, then from the inputs' shapes."""
    step = dict(given)
    for decl in graph.get("inputs", []):
        for dim, extent in zip(decl["shape"], inputs[decl["name"]].shape):
            if isinstance(dim, str):
                if step.setdefault(dim, extent) != extent:
                    sys.exit(f"input {decl['name']}: {dim} = {extent}, but {dim} = {step[dim]} elsewhere")
            elif dim != extent:
                sys.exit(f"input {decl['name']}: shape {list(inputs[decl['name']].shape)} != {decl['shape']}")
    for symbol, bound in graph.get("symbols", {}).items():
        step.setdefault(symbol, 0 if symbol == "P" else None)
        if step[symbol] is None:
            sys.exit(f"symbol {symbol} is bound by no input; give --symbol {symbol}=VALUE")
        if not 0 <= step[symbol] <= bound:
            sys.exit(f"symbol {symbol} = {step[symbol]} exceeds its bound {bound}")
    return step


def evaluate(graph, base_dir, inputs, states, given_symbols):
    """Runs the graph once. `inputs` and `states` map names to arrays;
    returns (outputs, states after the run)."""
    step = bind_symbols(graph, inputs, given_symbols)
    values, dtypes = {}, {}
    for decl in graph.get("inputs", []):
        values[decl["name"]] = stored(inputs[decl["name"]], decl["dtype"])
        dtypes[decl["name"]] = decl["dtype"]
    for name, spec in graph.get("weights", {}).items():
        values[name] = load_weight(spec, base_dir)
        dtypes[name] = spec["dtype"]
    # A state's value is the latest kv_write of it: kv_write returns the cache
    # it updated, and that update is what the next run sees.
    state_of = {}
    for decl in graph.get("states", []):
        shape = [step.get(d, d) for d in decl["shape"]]
        initial = states.get(decl["name"], np.zeros(shape))
        values[decl["name"]] = stored(initial, decl["dtype"])
        dtypes[decl["name"]] = decl["dtype"]
        state_of[decl["name"]] = decl["name"]
    for node in topological(graph["nodes"]):
        args = [values[name] for name in node["inputs"]]
        attrs = node.get("attrs", {})
        dtype = RESULT_DTYPE.get(node["op"], lambda d, a: d[0])([dtypes[n] for n in node["inputs"]], attrs)
        (name,) = result_names(node)
        values[name] = stored(OPS[node["op"]](args, attrs, step), dtype)
        dtypes[name] = dtype
        if node["op"] == "kv_write" and node["inputs"][0] in state_of:
            state = state_of[node["inputs"][0]]
            state_of[name] = state
            values[state] = values[name]
    outputs = {name: DTYPES[dtypes[name]][1](values[name]) for name in graph["outputs"]}
    final_states = {d["name"]: DTYPES[d["dtype"]][1](values[d["name"]]) for d in graph.get("states", [])}
    return outputs, final_states


def pairs(items, flag):
    result = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep:
            sys.exit(f"{flag} takes NAME=VALUE, got {item!r}")
        result[name] = value
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("graph", help="a kiln JSON graph")
    parser.add_argument("--input", action="append", metavar="NAME=FILE.npy")
    parser.add_argument("--output", action="append", metavar="NAME=FILE.npy")
    parser.add_argument("--symbol", action="append", metavar="NAME=VALUE")
    parser.add_argument("--state-in", action="append", metavar="NAME=FILE.npy")
    parser.add_argument("--state-out", action="append", metavar="NAME=FILE.npy")
    args = parser.parse_args()

    with open(args.graph) as f:
        graph = json.load(f)
    inputs = {name: np.load(path) for name, path in pairs(args.input, "--input").items()}
    missing = [d["name"] for d in graph.get("inputs", []) if d["name"] not in inputs]
    if missing:
        sys.exit(f"missing --input for {', '.join(missing)}")
    states = {name: np.load(path) for name, path in pairs(args.state_in, "--state-in").items()}
    symbols = {name: int(value) for name, value in pairs(args.symbol, "--symbol").items()}

    outputs, final_states = evaluate(graph, os.path.dirname(os.path.abspath(args.graph)), inputs, states, symbols)
    for name, path in pairs(args.output, "--output").items():
        np.save(path, outputs[name])
    for name, path in pairs(args.state_out, "--state-out").items():
        np.save(path, final_states[name])


if __name__ == "__main__":
    main()
