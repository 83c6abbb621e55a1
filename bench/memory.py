#!/usr/bin/env python3
"""Peak memory of `kiln run` and `kiln compile` on a large random model
(issue 9, item 4).

  bench/memory.py [--kiln build/tools/kiln] [--format gguf|hf] [--keep DIR]

Writes a random-weight f32 Llama model of about 620 MB (vocab 32000,
hidden 1024, 8 layers, intermediate 2816) into a temporary directory, then
measures the maximum resident set size with `/usr/bin/time -v` of

  kiln run MODEL --backend cpu -n 4 --prompt-ids 1,2,3,4 --ctx 2048
  kiln compile MODEL -o OUT.json

and prints each beside the file size, the KV cache's bytes and the limits:
run <= file + KV cache + 15 %, compile <= 15 % of the file. Exits 1 when a
limit is missed. /usr/bin/time comes from the `time` package
(scripts/deps.sh installs it).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:  # a pyenv python3 ahead on PATH, without NumPy: use the system's
    if sys.executable != "/usr/bin/python3" and os.access("/usr/bin/python3", os.X_OK):
        os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])
    raise

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "models", "train"))

from gguf_writer import GGUFWriter  # noqa: E402

CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "vocab_size": 32000,
    "hidden_size": 1024,
    "intermediate_size": 2816,
    "num_hidden_layers": 8,
    "num_attention_heads": 16,
    "num_key_value_heads": 4,
    "max_position_embeddings": 2048,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "tie_word_embeddings": False,
    "hidden_act": "silu",
    "bos_token_id": 1,
    "eos_token_id": 2,
}
CONTEXT = 2048
LIMIT = 0.15


def tensor_shapes(c: dict) -> dict[str, tuple[int, ...]]:
    """HF names -> shapes."""
    D, F, V = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    d = D // c["num_attention_heads"]
    q, kv = c["num_attention_heads"] * d, c["num_key_value_heads"] * d
    shapes = {"model.embed_tokens.weight": (V, D), "model.norm.weight": (D,), "lm_head.weight": (V, D)}
    for layer in range(c["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        shapes.update({
            p + "input_layernorm.weight": (D,), p + "post_attention_layernorm.weight": (D,),
            p + "self_attn.q_proj.weight": (q, D), p + "self_attn.k_proj.weight": (kv, D),
            p + "self_attn.v_proj.weight": (kv, D), p + "self_attn.o_proj.weight": (D, q),
            p + "mlp.gate_proj.weight": (F, D), p + "mlp.up_proj.weight": (F, D),
            p + "mlp.down_proj.weight": (D, F),
        })
    return shapes


def random_tensor(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    if len(shape) == 1:
        return (1 + 0.1 * rng.standard_normal(shape, dtype=np.float32)).astype(np.float32)
    return rng.standard_normal(shape, dtype=np.float32) / np.float32(np.sqrt(shape[1]))


def write_hf(out: str, rng: np.random.Generator) -> str:
    """config.json + one model.safetensors, streamed tensor by tensor."""
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
    shapes = tensor_shapes(CONFIG)
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, shape in shapes.items():
        size = 4 * int(np.prod(shape))
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    blob = json.dumps(header).encode()
    blob += b" " * (-len(blob) % 8)
    path = os.path.join(out, "model.safetensors")
    with open(path, "wb") as f:
        f.write(len(blob).to_bytes(8, "little") + blob)
        for shape in shapes.values():
            f.write(random_tensor(shape, rng).tobytes())
    return out


def write_gguf(path: str, rng: np.random.Generator) -> str:
    """As convert_hf_to_gguf.py names the tensors (random weights need no q/k permutation)."""
    c = CONFIG
    w = GGUFWriter(arch="llama")
    for key, value in (("block_count", c["num_hidden_layers"]), ("context_length", c["max_position_embeddings"]),
                       ("embedding_length", c["hidden_size"]), ("feed_forward_length", c["intermediate_size"]),
                       ("attention.head_count", c["num_attention_heads"]),
                       ("attention.head_count_kv", c["num_key_value_heads"]),
                       ("rope.dimension_count", c["hidden_size"] // c["num_attention_heads"])):
        w.add_uint32(f"llama.{key}", value)
    w.add_float32("llama.rope.freq_base", c["rope_theta"])
    w.add_float32("llama.attention.layer_norm_rms_epsilon", c["rms_norm_eps"])
    names = {"input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm", "self_attn.q_proj": "attn_q",
             "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output",
             "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down"}
    fixed = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
             "lm_head.weight": "output.weight"}
    for hf, shape in tensor_shapes(c).items():
        if hf in fixed:
            name = fixed[hf]
        else:
            layer, module, kind = hf.split(".")[2], ".".join(hf.split(".")[3:-1]), hf.split(".")[-1]
            name = f"blk.{layer}.{names[module]}.{kind}"
        w.add_tensor(name, random_tensor(shape, rng))
    w.write(path)
    return path


def model_bytes(path: str) -> int:
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path) if f.endswith(".safetensors"))


def kv_cache_bytes(c: dict, context: int) -> int:
    """f32 K and V per layer: [context, kv_heads, head_dim]."""
    head_dim = c["hidden_size"] // c["num_attention_heads"]
    return c["num_hidden_layers"] * 2 * context * c["num_key_value_heads"] * head_dim * 4


def max_rss_bytes(command: list[str]) -> int:
    """Runs `command` under /usr/bin/time -v; its maximum resident set size."""
    result = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"failed ({result.returncode}): {' '.join(command)}\n{result.stderr}")
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    if match is None:
        sys.exit(f"no maximum resident set size in /usr/bin/time's output:\n{result.stderr}")
    return int(match.group(1)) * 1024


def mb(n: int) -> str:
    return f"{n / 1e6:8.1f} MB"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kiln", default=os.path.join(ROOT, "build", "tools", "kiln"))
    parser.add_argument("--format", choices=["gguf", "hf"], default="gguf")
    parser.add_argument("--keep", help="write the model here and keep it (default: a temporary directory)")
    args = parser.parse_args()
    if not os.access("/usr/bin/time", os.X_OK):
        sys.exit("/usr/bin/time is missing: apt-get install time (scripts/deps.sh)")
    out = args.keep or tempfile.mkdtemp(prefix="kiln-memory-")
    try:
        rng = np.random.default_rng(9)
        model = (write_gguf(os.path.join(out, "model.gguf"), rng) if args.format == "gguf"
                 else write_hf(os.path.join(out, "hf"), rng))
        size, kv = model_bytes(model), kv_cache_bytes(CONFIG, CONTEXT)
        run = [args.kiln, "run", model, "--backend", "cpu", "-n", "4", "--prompt-ids", "1,2,3,4",
               "--ctx", str(CONTEXT)]
        compile_ = [args.kiln, "compile", model, "-o", os.path.join(out, "program.json")]
        run_rss, compile_rss = max_rss_bytes(run), max_rss_bytes(compile_)
        run_limit, compile_limit = (size + kv) * (1 + LIMIT), size * LIMIT
        print(f"model        {mb(size)}  {model}")
        print(f"KV cache     {mb(kv)}  (context {CONTEXT}, f32)")
        print(f"kiln run     {mb(run_rss)}  max RSS; limit file + KV + 15 % = {mb(int(run_limit))}"
              f"  {'ok' if run_rss <= run_limit else 'OVER'}")
        print(f"kiln compile {mb(compile_rss)}  max RSS; limit 15 % of file      = {mb(int(compile_limit))}"
              f"  {'ok' if compile_rss <= compile_limit else 'OVER'}")
        print(f"commands:\n  /usr/bin/time -v {' '.join(run)}\n  /usr/bin/time -v {' '.join(compile_)}")
        sys.exit(0 if run_rss <= run_limit and compile_rss <= compile_limit else 1)
    finally:
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
