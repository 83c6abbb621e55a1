#!/usr/bin/env python3
"""Writes small random Llama-family models in both formats, with reference
outputs from llama_reference.py.

  make_llama_models.py OUT_DIR [VARIANT ...]

For each variant, OUT_DIR/VARIANT/ gets
  hf/              config.json + model.safetensors (or shards with
                   model.safetensors.index.json), written by hand with NumPy
  model.gguf       the same weights as llama.cpp's convert_hf_to_gguf.py
                   writes them: q/k rows permuted for llama (not for qwen2),
                   norms kept f32, Llama 3 scaling as rope_freqs.weight, and
                   a SentencePiece-style vocabulary
  reference.json   prompt ids, greedy continuation, smallest top-1/top-2
                   margin, and what the logits rows are
  logits.npy       float32 [rows, vocab]: the forward of prompt + greedy[:-1],
                   i.e. one row per token fed (prompt, then each greedy token
                   fed back), computed in float64 from the dtype-rounded
                   weights.

The sizes are deliberately odd: hidden 72 (not a multiple of 32), GQA 6:2,
head_dim 12, vocab 300, intermediate 100.
"""
from __future__ import annotations

import json
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "models", "train"))

import llama_reference as ref  # noqa: E402
from gguf_writer import GGMLType, GGUFWriter, TokenType, ValueType  # noqa: E402

BASE = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "vocab_size": 300,
    "hidden_size": 72,
    "intermediate_size": 100,
    "num_hidden_layers": 2,
    "num_attention_heads": 6,
    "num_key_value_heads": 2,
    "max_position_embeddings": 64,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "tie_word_embeddings": False,
    "hidden_act": "silu",
    "bos_token_id": 1,
    "eos_token_id": 2,
}

# name -> (config changes, HF dtype, HF shards, GGUF dtype); every variant also
# gets a GGUF unless its GGUF dtype is None.
VARIANTS = {
    "llama_f32": ({}, "f32", 1, "f32"),
    "llama_f16_sharded": ({}, "f16", 3, "f16"),
    "tied_bf16": ({"tie_word_embeddings": True}, "bf16", 1, "bf16"),
    "qwen2_bias": ({"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "rope_theta": 1000000.0,
                    "rms_norm_eps": 1e-6}, "f32", 1, "f32"),
    "llama3_rope": ({"rope_theta": 500000.0,
                     "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                      "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}},
                    "f32", 1, "f32"),
    "mqa_head_dim": ({"num_attention_heads": 4, "num_key_value_heads": 1, "head_dim": 20}, "f32", 1, "f32"),
    "mistral": ({"architectures": ["MistralForCausalLM"], "model_type": "mistral", "sliding_window": None},
                "f16", 1, None),
}

PROMPT_LENGTH = 11
GREEDY_TOKENS = 6


# ---- weights -----------------------------------------------------------------
def random_weights(config: dict, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """HF names -> float64 arrays, scaled so activations stay O(1)."""
    D, F, V = config["hidden_size"], config["intermediate_size"], config["vocab_size"]
    H, KV, d = config["num_attention_heads"], config["num_key_value_heads"], ref.head_dim(config)
    bias = config["architectures"][0] == "Qwen2ForCausalLM"

    def matrix(rows, cols):
        return rng.normal(size=(rows, cols)) / np.sqrt(cols)

    w = {"model.embed_tokens.weight": rng.normal(size=(V, D)),
         "model.norm.weight": 1 + 0.1 * rng.normal(size=D)}
    if not config["tie_word_embeddings"]:
        w["lm_head.weight"] = matrix(V, D)
    for layer in range(config["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        w[p + "input_layernorm.weight"] = 1 + 0.1 * rng.normal(size=D)
        w[p + "post_attention_layernorm.weight"] = 1 + 0.1 * rng.normal(size=D)
        for name, rows in (("q_proj", H * d), ("k_proj", KV * d), ("v_proj", KV * d)):
            w[p + f"self_attn.{name}.weight"] = matrix(rows, D)
            if bias:
                w[p + f"self_attn.{name}.bias"] = 0.5 * rng.normal(size=rows)
        w[p + "self_attn.o_proj.weight"] = matrix(D, H * d)
        w[p + "mlp.gate_proj.weight"] = matrix(F, D)
        w[p + "mlp.up_proj.weight"] = matrix(F, D)
        w[p + "mlp.down_proj.weight"] = matrix(D, F)
    return w


def bf16_bits(a: np.ndarray) -> np.ndarray:
    """float32 -> bfloat16 bit patterns, rounding to nearest even."""
    bits = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)


def from_bf16_bits(bits: np.ndarray) -> np.ndarray:
    return (bits.astype(np.uint32) << 16).view(np.float32)


def stored(a: np.ndarray, dtype: str) -> np.ndarray:
    """The array as a file holds it: float32, float16, or bf16 bits as uint16."""
    if dtype == "f32":
        return a.astype(np.float32)
    if dtype == "f16":
        return a.astype(np.float16)
    return bf16_bits(a.astype(np.float32))


def rounded(a: np.ndarray, dtype: str) -> np.ndarray:
    """What kiln reads back from stored(a, dtype), as float64."""
    s = stored(a, dtype)
    return (from_bf16_bits(s) if dtype == "bf16" else s).astype(np.float64)


# ---- HF folder -----------------------------------------------------------------
_ST_DTYPE = {"f32": "F32", "f16": "F16", "bf16": "BF16"}


def write_safetensors(path: str, tensors: dict[str, np.ndarray], dtype: str):
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, a in tensors.items():
        header[name] = {"dtype": _ST_DTYPE[dtype], "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    blob = json.dumps(header).encode()
    blob += b" " * (-len(blob) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(blob)) + blob)
        for a in tensors.values():
            f.write(np.ascontiguousarray(a).tobytes())


def write_hf(out: str, config: dict, weights: dict, dtype: str, shards: int):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    tensors = {name: stored(a, dtype) for name, a in weights.items()}
    if shards == 1:
        write_safetensors(os.path.join(out, "model.safetensors"), tensors, dtype)
        return
    names = list(tensors)
    weight_map = {}
    for i in range(shards):
        file = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
        part = {n: tensors[n] for n in names[i::shards]}
        write_safetensors(os.path.join(out, file), part, dtype)
        weight_map.update({n: file for n in part})
    index = {"metadata": {"total_size": sum(a.nbytes for a in tensors.values())}, "weight_map": weight_map}
    with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
        json.dump(index, f, indent=2)


# ---- GGUF ----------------------------------------------------------------------
def llama_permute(w: np.ndarray, n_head: int) -> np.ndarray:
    """convert_hf_to_gguf.py LlamaModel.permute (weights and biases alike)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


_GGUF_NAMES = {
    "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}


def gguf_name(hf: str) -> str:
    fixed = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
             "lm_head.weight": "output.weight"}
    if hf in fixed:
        return fixed[hf]
    layer, rest = hf.split(".")[2], ".".join(hf.split(".")[3:])
    module, kind = rest.rsplit(".", 1)
    return f"blk.{layer}.{_GGUF_NAMES[module]}.{kind}"


def llama3_rope_factors(config: dict) -> np.ndarray:
    """convert_hf_to_gguf.py LlamaModel.generate_extra_tensors: rope_freqs.weight."""
    s, d = config["rope_scaling"], ref.head_dim(config)
    freqs = 1.0 / (config["rope_theta"] ** (np.arange(0, d, 2, dtype=np.float64) / d))
    low_wavelen = s["original_max_position_embeddings"] / s["low_freq_factor"]
    high_wavelen = s["original_max_position_embeddings"] / s["high_freq_factor"]
    factors = []
    for freq in freqs:
        wavelen = 2 * np.pi / freq
        if wavelen < high_wavelen:
            factors.append(1.0)
        elif wavelen > low_wavelen:
            factors.append(s["factor"])
        else:
            smooth = (s["original_max_position_embeddings"] / wavelen - s["low_freq_factor"]) / (
                s["high_freq_factor"] - s["low_freq_factor"])
            factors.append(1 / ((1 - smooth) / s["factor"] + smooth))
    return np.asarray(factors, dtype=np.float32)


def add_vocabulary(w: GGUFWriter, vocab_size: int):
    """A SentencePiece-style vocabulary: <unk> <s> </s>, 256 byte tokens, then pieces."""
    pieces = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    types = [TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL] + [TokenType.BYTE] * 256
    letters = "▁etaoinshrdlucmfwypvbgkjqxz"
    extra = [letters[i % len(letters)] + letters[(i // len(letters)) % len(letters)] if i >= len(letters)
             else letters[i] for i in range(vocab_size - len(pieces))]
    pieces += extra
    types += [TokenType.NORMAL] * len(extra)
    w.add_string("tokenizer.ggml.model", "llama")
    w.add_array("tokenizer.ggml.tokens", pieces, ValueType.STRING)
    w.add_array("tokenizer.ggml.scores", [0.0] * 259 + [-float(i) for i in range(len(extra))], ValueType.FLOAT32)
    w.add_array("tokenizer.ggml.token_type", [int(t) for t in types], ValueType.INT32)
    w.add_uint32("tokenizer.ggml.bos_token_id", 1)
    w.add_uint32("tokenizer.ggml.eos_token_id", 2)
    w.add_uint32("tokenizer.ggml.unknown_token_id", 0)


def write_gguf(path: str, config: dict, weights: dict, dtype: str):
    qwen2 = config["architectures"][0] == "Qwen2ForCausalLM"
    arch = "qwen2" if qwen2 else "llama"
    H, KV, d = config["num_attention_heads"], config["num_key_value_heads"], ref.head_dim(config)
    w = GGUFWriter(arch=arch)
    w.add_uint32(f"{arch}.block_count", config["num_hidden_layers"])
    w.add_uint32(f"{arch}.context_length", config["max_position_embeddings"])
    w.add_uint32(f"{arch}.embedding_length", config["hidden_size"])
    w.add_uint32(f"{arch}.feed_forward_length", config["intermediate_size"])
    w.add_uint32(f"{arch}.attention.head_count", H)
    w.add_uint32(f"{arch}.attention.head_count_kv", KV)
    w.add_float32(f"{arch}.rope.freq_base", config["rope_theta"])
    w.add_float32(f"{arch}.attention.layer_norm_rms_epsilon", config["rms_norm_eps"])
    if d != config["hidden_size"] // H:
        w.add_uint32(f"{arch}.attention.key_length", d)
        w.add_uint32(f"{arch}.attention.value_length", d)
    w.add_uint32(f"{arch}.rope.dimension_count", d)
    add_vocabulary(w, config["vocab_size"])
    if config.get("rope_scaling"):
        w.add_tensor("rope_freqs.weight", llama3_rope_factors(config))
    for hf, a in weights.items():
        if not qwen2 and ".q_proj." in hf:
            a = llama_permute(a, H)
        elif not qwen2 and ".k_proj." in hf:
            a = llama_permute(a, KV)
        if a.ndim == 1:  # the converter writes norms and biases as f32 of the checkpoint's values
            w.add_tensor(gguf_name(hf), rounded(a, dtype).astype(np.float32))
        else:
            w.add_tensor(gguf_name(hf), stored(a, dtype), GGMLType.BF16 if dtype == "bf16" else None)
    w.write(path)


# ---- reference -----------------------------------------------------------------
def write_variant(out_dir: str, name: str, seed: int):
    changes, hf_dtype, shards, gguf_dtype = VARIANTS[name]
    config = {**BASE, **changes}
    rng = np.random.default_rng(seed)
    weights = random_weights(config, rng)
    out = os.path.join(out_dir, name)
    write_hf(os.path.join(out, "hf"), config, weights, hf_dtype, shards)
    if gguf_dtype is not None:
        assert gguf_dtype == hf_dtype, "one reference serves both formats"
        write_gguf(os.path.join(out, "model.gguf"), config, weights, gguf_dtype)
    # Both files hold exactly these values (the GGUF's f32 1-D tensors too).
    effective = {k: rounded(v, hf_dtype) for k, v in weights.items()}
    prompt = [1] + [int(i) for i in rng.integers(3, config["vocab_size"], size=PROMPT_LENGTH - 1)]
    tokens, margin = ref.greedy(config, effective, prompt, GREEDY_TOKENS)
    logits = ref.forward(config, effective, prompt + tokens[:-1])
    np.save(os.path.join(out, "logits.npy"), logits.astype(np.float32))
    info = {"prompt": prompt, "greedy": tokens, "min_margin": margin, "rows": len(prompt) + len(tokens) - 1,
            "max_abs_logit": float(np.abs(logits).max()), "gguf": gguf_dtype is not None}
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(info, f, indent=1)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    names = sys.argv[2:] or list(VARIANTS)
    for name in names:
        write_variant(sys.argv[1], name, seed=1000 + list(VARIANTS).index(name))


if __name__ == "__main__":
    main()
