#!/usr/bin/env python3
"""A PyTorch Llama forward written for the benchmark: kiln's peer.

  torch_llama.py MODEL_DIR [--device cuda|cpu] [--prompt-len 512] [--gen 128]
                 [--reps 5] [--compile] [--json FILE] [--check-kiln KILN]

MODEL_DIR is an HF folder (config.json + safetensors), e.g. one written by
`kiln synth`. The forward is the plain Llama/Qwen2 one: token embedding,
RMSNorm, rotary embedding in HF's half layout (Llama 3 frequency scaling when
the config has it), grouped-query attention over a preallocated KV cache,
SwiGLU, a tied or untied lm head. f16 on CUDA, f32 on CPU (--dtype to change).

It measures what `kiln bench` measures, the same way: per rep a fresh context,
a prefill of --prompt-len random ids (one forward), then --gen greedy decode
steps, each reading back one id. Decode is one function of static shapes (the
attention reads the whole cache under a mask), so --compile can capture it
with torch.compile (mode "reduce-overhead": CUDA graphs); if compiling fails,
the reason is printed and eager is measured alone. The roofline is the
device's kernel copy bandwidth (a 256 MiB tensor copy, read + write bytes),
as kiln bench measures it.

--check-kiln KILN runs `KILN run MODEL_DIR --prompt-ids ... --temp 0 -n 32
--ignore-eos --dump-logits` and checks that the greedy tokens of both agree
(the peer in f32 unless --check-dtype says otherwise).

torch is imported when the script runs, not when it is imported, so the
table code of compare.py and py_compile work where torch is missing.
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import mmap
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time

torch = None  # imported by main(): see the module docstring
F = None
GQA_IN_SDPA = False  # scaled_dot_product_attention(enable_gqa=True): torch 2.5 and later

_ST_DTYPES = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}


def import_torch():
    global torch, F, GQA_IN_SDPA
    import torch as _torch  # noqa: PLC0415
    import torch.nn.functional as _F  # noqa: PLC0415
    torch, F = _torch, _F
    GQA_IN_SDPA = tuple(int(x) for x in torch.__version__.split("+")[0].split(".")[:2]) >= (2, 5)


def sdpa(q, k, v, mask):
    """scaled_dot_product_attention with a boolean mask (True: attend), or
    its definition where torch lacks it (before 2.0: Debian 12's 1.13)."""
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
    return torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1) @ v


# ---- loading -----------------------------------------------------------------
def safetensors_files(model_dir: str) -> list[str]:
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            return sorted({os.path.join(model_dir, v) for v in json.load(f)["weight_map"].values()})
    return [os.path.join(model_dir, "model.safetensors")]


def load_safetensors(path: str, device, dtype) -> dict:
    """Every tensor of one file, converted to `dtype` on `device`, one at a time."""
    out = {}
    with open(path, "rb") as f:
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)  # writable: torch.frombuffer wants one
    (length,) = struct.unpack("<Q", mapped[:8])
    header = json.loads(mapped[8:8 + length])
    base = 8 + length
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in _ST_DTYPES:
            raise SystemExit(f"{path}: tensor {name}: dtype {info['dtype']} is not supported")
        begin, end = info["data_offsets"]
        st_dtype = getattr(torch, _ST_DTYPES[info["dtype"]])
        count = (end - begin) // torch.tensor([], dtype=st_dtype).element_size()
        tensor = torch.frombuffer(mapped, dtype=st_dtype, count=count, offset=base + begin)
        out[name] = tensor.reshape(info["shape"]).to(device=device, dtype=dtype)
    return out


def load_weights(model_dir: str, device, dtype) -> dict:
    weights = {}
    for path in safetensors_files(model_dir):
        weights.update(load_safetensors(path, device, dtype))
    return weights


# ---- the model -----------------------------------------------------------------
def inverse_frequencies(config: dict, head_dim: int):
    """HF's rope inv_freq, with llama3 scaling (_compute_llama3_parameters)."""
    theta = config.get("rope_theta", 10000.0)
    inv = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim))
    scaling = config.get("rope_scaling") or {}
    if scaling.get("rope_type", scaling.get("type")) != "llama3":
        return inv
    factor, low, high = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
    original = scaling["original_max_position_embeddings"]
    wavelength = 2 * math.pi / inv
    scaled = torch.where(wavelength > original / low, inv / factor, inv)
    smooth = (original / wavelength - low) / (high - low)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    medium = (wavelength >= original / high) & (wavelength <= original / low)
    return torch.where(medium, smoothed, scaled)


class Llama:
    """Weights, the rope tables and the KV cache of one model on one device."""

    def __init__(self, config: dict, weights: dict, device, dtype, context: int):
        self.config, self.device, self.dtype, self.context = config, device, dtype, context
        self.hidden = config["hidden_size"]
        self.heads = config["num_attention_heads"]
        self.kv_heads = config.get("num_key_value_heads", self.heads)
        self.head_dim = config.get("head_dim") or self.hidden // self.heads
        self.layers = config["num_hidden_layers"]
        self.eps = config.get("rms_norm_eps", 1e-6)
        self.w = weights
        self.tied = "lm_head.weight" not in weights
        self.lm_head = weights["model.embed_tokens.weight"] if self.tied else weights["lm_head.weight"]
        positions = torch.arange(context, dtype=torch.float64)
        angles = torch.outer(positions, inverse_frequencies(config, self.head_dim))
        angles = torch.cat([angles, angles], dim=-1)  # HF half layout: [cos(θ0..θn/2), cos(θ0..θn/2)]
        self.cos = angles.cos().to(device=device, dtype=torch.float32)
        self.sin = angles.sin().to(device=device, dtype=torch.float32)
        shape = (self.layers, context, self.kv_heads, self.head_dim)
        self.k_cache = torch.zeros(shape, device=device, dtype=dtype)
        self.v_cache = torch.zeros(shape, device=device, dtype=dtype)

    def weight_bytes_per_token(self) -> int:
        """Bytes a decode token reads: every weight, the untied embedding for one row."""
        total = 0
        for name, tensor in self.w.items():
            row = name == "model.embed_tokens.weight" and not self.tied
            total += tensor.element_size() * (tensor.shape[-1] if row else tensor.numel())
        return total

    def kv_bytes_per_position(self) -> int:
        return 2 * self.layers * self.kv_heads * self.head_dim * self.k_cache.element_size()

    def rmsnorm(self, x, weight):
        x32 = x.float()
        return (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)).to(self.dtype) * weight

    def rope(self, x, positions):
        """x [T, heads, d], rotated in f32 at `positions` [T]."""
        cos, sin = self.cos[positions].unsqueeze(1), self.sin[positions].unsqueeze(1)
        x32 = x.float()
        half = self.head_dim // 2
        rotated = torch.cat([-x32[..., half:], x32[..., :half]], dim=-1)
        return (x32 * cos + rotated * sin).to(self.dtype)

    def linear(self, x, prefix: str):
        y = x @ self.w[prefix + ".weight"].t()
        bias = self.w.get(prefix + ".bias")
        return y if bias is None else y + bias

    def attention(self, layer: int, x, positions, mask):
        p = f"model.layers.{layer}.self_attn."
        T = x.shape[0]
        q = self.rope(self.linear(x, p + "q_proj").view(T, self.heads, self.head_dim), positions)
        k = self.rope(self.linear(x, p + "k_proj").view(T, self.kv_heads, self.head_dim), positions)
        v = self.linear(x, p + "v_proj").view(T, self.kv_heads, self.head_dim)
        self.k_cache[layer].index_copy_(0, positions, k)
        self.v_cache[layer].index_copy_(0, positions, v)
        keys, values = self.k_cache[layer].transpose(0, 1), self.v_cache[layer].transpose(0, 1)  # [KV, S, d]
        if GQA_IN_SDPA:
            out = F.scaled_dot_product_attention(q.transpose(0, 1), keys, values, attn_mask=mask, enable_gqa=True)
        else:
            group = self.heads // self.kv_heads
            out = sdpa(q.transpose(0, 1), keys.repeat_interleave(group, dim=0),
                       values.repeat_interleave(group, dim=0), mask)
        return self.linear(out.transpose(0, 1).reshape(T, self.heads * self.head_dim), p + "o_proj")

    def mlp(self, layer: int, x):
        p = f"model.layers.{layer}.mlp."
        return self.linear(F.silu(self.linear(x, p + "gate_proj")) * self.linear(x, p + "up_proj"), p + "down_proj")

    def forward(self, ids, positions, last_only: bool = True):
        """ids, positions [T] on the device -> logits [T or 1, vocab] in f32.

        Attention reads the whole cache; rows after a query's position are
        masked, so the shapes never depend on the position."""
        mask = torch.arange(self.context, device=self.device).unsqueeze(0) <= positions.unsqueeze(1)
        h = self.w["model.embed_tokens.weight"][ids]
        for layer in range(self.layers):
            p = f"model.layers.{layer}."
            h = h + self.attention(layer, self.rmsnorm(h, self.w[p + "input_layernorm.weight"]), positions, mask)
            h = h + self.mlp(layer, self.rmsnorm(h, self.w[p + "post_attention_layernorm.weight"]))
        if last_only:
            h = h[-1:]
        return (self.rmsnorm(h, self.w["model.norm.weight"]) @ self.lm_head.t()).float()

    def decode_step(self, token, position):
        """One greedy step: token [1] at position [1] -> the next id [1]."""
        return self.forward(token, position).argmax(-1)


# ---- measuring -------------------------------------------------------------------
def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def copy_bandwidth(device, dtype_bytes: int = 4, mib: int = 256, runs: int = 5) -> float:
    """(read + write bytes) / time of the fastest of `runs` copies, GB/s."""
    n = (mib << 20) // dtype_bytes
    src = torch.ones(n, device=device, dtype=torch.float32)
    dst = torch.empty_like(src)
    best = float("inf")
    for run in range(runs + 1):
        synchronize(device)
        start = time.perf_counter()
        dst.copy_(src)
        synchronize(device)
        if run > 0:
            best = min(best, time.perf_counter() - start)
    return 2 * n * 4 / best / 1e9


def spread(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def run_rep(model: Llama, step, prompt: list[int], gen: int, graphs: bool = False) -> tuple[float, float, list[int]]:
    device = model.device
    ids = torch.tensor(prompt, device=device)
    synchronize(device)
    start = time.perf_counter()
    with torch.inference_mode():
        token = model.forward(ids, torch.arange(len(prompt), device=device)).argmax(-1)
        first = int(token.item())  # the id read back ends the prefill, as kiln's does
    prefill = time.perf_counter() - start
    tokens = [first]
    position = torch.tensor([len(prompt)], device=device)
    synchronize(device)
    start = time.perf_counter()
    with torch.inference_mode():
        for _ in range(gen):
            if graphs:  # the next replay overwrites this one's outputs: keep the id apart
                torch.compiler.cudagraph_mark_step_begin()
                token = step(token, position).clone()
            else:
                token = step(token, position)
            tokens.append(int(token.item()))  # 4 bytes back per token, as kiln reads
            position += 1
    decode = time.perf_counter() - start
    return prefill, decode, tokens


def compiled_step(model: Llama, enabled: bool):
    if not enabled:
        return None, "not requested (--compile)"
    try:
        # The cache and the weights keep their addresses: CUDA graphs may capture them.
        for tensor in [model.k_cache, model.v_cache, model.cos, model.sin, *model.w.values()]:
            torch._dynamo.mark_static_address(tensor)
        step = torch.compile(model.decode_step, mode="reduce-overhead", fullgraph=True)
        with torch.inference_mode():
            for _ in range(3):  # compile and record the graphs; every rep's prefill rewrites the cache
                torch.compiler.cudagraph_mark_step_begin()
                step(torch.tensor([0], device=model.device), torch.tensor([0], device=model.device))
        return step, ""
    except Exception as error:  # noqa: BLE001: any failure means "measure eager only"
        return None, f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


def bench_mode(model: Llama, step, args, rng, graphs: bool = False) -> dict:
    prefill, decode, ms, gb_s = [], [], [], []
    traffic = model.weight_bytes_per_token() + model.kv_bytes_per_position() * (args.prompt_len + (args.gen + 1) / 2)
    run_rep(model, step, [int(x) for x in rng.integers(0, model.lm_head.shape[0], 8)], 4, graphs)  # warm-up
    for _ in range(args.reps):
        prompt = [int(x) for x in rng.integers(0, model.lm_head.shape[0], args.prompt_len)]
        p, d, _ = run_rep(model, step, prompt, args.gen, graphs)
        prefill.append(args.prompt_len / p)
        decode.append(args.gen / d)
        ms.append(d * 1e3 / args.gen)
        gb_s.append(traffic * args.gen / d / 1e9)
    return {"prefill_tok_s": spread(prefill), "decode_tok_s": spread(decode), "ms_per_token": spread(ms),
            "effective_gb_s": spread(gb_s), "bytes_per_token": traffic}


def flatten(mode: str, figures: dict, copy_gb_s: float) -> dict:
    out = {"mode": mode}
    for name in ("prefill_tok_s", "decode_tok_s", "ms_per_token", "effective_gb_s"):
        out[name] = figures[name]["median"]
        out[name + "_min"] = figures[name]["min"]
        out[name + "_max"] = figures[name]["max"]
    out["roofline_share"] = figures["effective_gb_s"]["median"] / copy_gb_s
    out["roofline_tok_s"] = copy_gb_s * 1e9 / figures["bytes_per_token"]
    out["bytes_per_token"] = figures["bytes_per_token"]
    return out


# ---- checking against kiln -----------------------------------------------------------
def kiln_greedy(kiln: str, model_dir: str, prompt: list[int], count: int, backend: str) -> list[int]:
    import numpy as np  # noqa: PLC0415: the check alone needs it

    with tempfile.TemporaryDirectory() as tmp:
        logits = os.path.join(tmp, "logits.npy")
        command = [kiln, "run", model_dir, "--prompt-ids", ",".join(map(str, prompt)), "--temp", "0", "-n",
                   str(count), "--ignore-eos", "--backend", backend, "--dump-logits", logits]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"kiln run failed ({done.returncode}): {done.stderr.strip()}")
        rows = np.load(logits)
    # Rows: the prompt's, then each generated token fed back; row len(prompt) - 1 + i chose token i.
    return [int(i) for i in rows[len(prompt) - 1:].argmax(-1)][:count]


def check_kiln(args, config: dict, device) -> bool:
    dtype = getattr(torch, {"f32": "float32", "f16": "float16"}[args.check_dtype])
    model = Llama(config, load_weights(args.model, device, dtype), device, dtype, args.check_prompt_len + 40)
    rng = __import__("random").Random(args.seed)
    prompt = [rng.randrange(model.lm_head.shape[0]) for _ in range(args.check_prompt_len)]
    _, _, peer = run_rep(model, model.decode_step, prompt, 31)
    theirs = kiln_greedy(args.check_kiln, args.model, prompt, 32, args.kiln_backend)
    same = next((i for i, (a, b) in enumerate(zip(peer, theirs)) if a != b), None)
    print(f"check: prompt ids {prompt}")
    print(f"check: torch ({args.check_dtype}) {peer}")
    print(f"check: kiln ({args.kiln_backend})  {theirs}")
    if same is None and len(theirs) == 32:
        print("check: the first 32 greedy tokens agree")
        return True
    print(f"check: FAILED, the tokens differ from position {same}")
    return False


# ---- main ------------------------------------------------------------------------------
def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", help="HF folder: config.json + safetensors")
    parser.add_argument("--device", default=None, help="cuda or cpu (default: cuda when available)")
    parser.add_argument("--dtype", choices=["f16", "f32", "bf16"], default=None,
                        help="compute and weight type (default: f16 on cuda, f32 on cpu)")
    parser.add_argument("--prompt-len", type=int, default=512)
    parser.add_argument("--gen", type=int, default=128)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compile", action="store_true", help="also measure torch.compile's decode step")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--json", default=None, help="write the figures to this file")
    parser.add_argument("--check-kiln", default=None, metavar="KILN", help="compare 32 greedy tokens with kiln run")
    parser.add_argument("--kiln-backend", default="cpu", help="the backend kiln run uses for --check-kiln")
    parser.add_argument("--check-dtype", choices=["f16", "f32"], default="f32")
    parser.add_argument("--check-prompt-len", type=int, default=16)
    parser.add_argument("--no-bench", action="store_true", help="only --check-kiln")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    import_torch()
    import numpy as np  # noqa: PLC0415

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    dtype_name = args.dtype or ("f16" if device.type == "cuda" else "f32")
    dtype = getattr(torch, {"f16": "float16", "f32": "float32", "bf16": "bfloat16"}[dtype_name])
    with open(os.path.join(args.model, "config.json")) as f:
        config = json.load(f)
    ok = True
    if args.check_kiln:
        ok = check_kiln(args, config, device)
    if args.no_bench:
        return 0 if ok else 1
    model = Llama(config, load_weights(args.model, device, dtype), device, dtype, args.prompt_len + args.gen + 1)
    copy_gb_s = copy_bandwidth(device)
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    rng = np.random.default_rng(args.seed)
    results = [flatten("eager", bench_mode(model, model.decode_step, args, rng), copy_gb_s)]
    step, why = compiled_step(model, args.compile)
    if step is not None:
        try:
            results.append(flatten("compile", bench_mode(model, step, args, rng, graphs=True), copy_gb_s))
        except Exception as error:  # noqa: BLE001: report it and keep the eager figures
            step, why = None, f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    if step is None and args.compile:
        print(f"torch.compile failed, eager only: {why}", file=sys.stderr)
    print(f"torch {torch.__version__} on {device_name} ({dtype_name}); copy bandwidth {copy_gb_s:.1f} GB/s "
          f"(a kernel copy, read + write); prompt {args.prompt_len}, {args.gen} generated, {args.reps} reps")
    for r in results:
        print(f"  {r['mode']:8s} prefill {r['prefill_tok_s']:10.1f} tok/s   decode {r['decode_tok_s']:9.1f} tok/s "
              f"({r['ms_per_token']:.3f} ms/token)   {100 * r['roofline_share']:5.1f} % of the roofline")
    if args.json:
        report = {"peer": "torch", "torch_version": torch.__version__, "model": args.model, "device": device_name,
                  "device_type": device.type, "dtype": dtype_name, "copy_gb_s": copy_gb_s,
                  "prompt_len": args.prompt_len, "gen": args.gen, "reps": args.reps,
                  "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "compile_error": why if args.compile and step is None else None, "results": results}
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
