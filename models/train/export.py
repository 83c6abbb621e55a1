#!/usr/bin/env python3
"""Export the KJV Llama model: HF safetensors writing and the llama.cpp-style GGUF.

NumPy + sentencepiece only (no torch), so it runs on the machine without a GPU.

  * write_hf_model(): used by train.py on the GPU machine to write
    models/kjv-llama/{config.json, model.safetensors} (f16).
  * main(): models/kjv-llama/ -> models/kjv-llama.gguf, converted the way
    llama.cpp's convert_hf_to_gguf.py converts a LlamaForCausalLM with
    --outtype f16, then checked: a NumPy forward pass over the GGUF (llama.cpp's
    rotary layout, on the permuted q/k rows) must reproduce the PyTorch
    reference numbers in models/kjv-reference.json.

Usage (from the repository root):
  /usr/bin/python3 models/train/export.py            # write + check the GGUF
  /usr/bin/python3 models/train/export.py --selftest # permutation self-test on a random model
"""
from __future__ import annotations

import argparse
import json
import math
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_writer import GGMLType, GGUFWriter, TokenType, ValueType, read_gguf  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# ----------------------------------------------------------------------------
# safetensors (numpy only)
_ST_DTYPES = {np.dtype(np.float16): "F16", np.dtype(np.float32): "F32"}
_ST_NUMPY = {"F16": np.float16, "F32": np.float32, "BF16": np.uint16}


def write_safetensors(path: str, tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None):
    """Writes tensors in name order, as the safetensors library does for one dtype."""
    header: dict = {}
    if metadata:
        header["__metadata__"] = metadata
    offset = 0
    names = sorted(tensors)
    for name in names:
        t = tensors[name]
        n = t.nbytes
        header[name] = {"dtype": _ST_DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + n]}
        offset += n
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((-len(hb)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for name in names:
            f.write(np.ascontiguousarray(tensors[name]).tobytes())


def read_safetensors(path: str) -> tuple[dict[str, np.ndarray], list[str]]:
    """Returns ({name: array}, names in header order)."""
    buf = open(path, "rb").read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n])
    header.pop("__metadata__", None)
    base = 8 + n
    out = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        out[name] = np.frombuffer(buf[base + b:base + e], dtype=_ST_NUMPY[info["dtype"]]).reshape(info["shape"])
    return out, list(header.keys())


# ----------------------------------------------------------------------------
# HF form
def hf_config(cfg: dict, transformers_version: str = "4.57.0") -> dict:
    """config.json in the classic LlamaForCausalLM layout (what transformers 4.x writes)."""
    return {
        "architectures": ["LlamaForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": cfg["bos_token_id"],
        "eos_token_id": cfg["eos_token_id"],
        "head_dim": cfg["hidden_size"] // cfg["num_attention_heads"],
        "hidden_act": "silu",
        "hidden_size": cfg["hidden_size"],
        "initializer_range": 0.02,
        "intermediate_size": cfg["intermediate_size"],
        "max_position_embeddings": cfg["max_position_embeddings"],
        "mlp_bias": False,
        "model_type": "llama",
        "num_attention_heads": cfg["num_attention_heads"],
        "num_hidden_layers": cfg["num_hidden_layers"],
        "num_key_value_heads": cfg["num_key_value_heads"],
        "pretraining_tp": 1,
        "rms_norm_eps": cfg["rms_norm_eps"],
        "rope_scaling": None,
        "rope_theta": cfg["rope_theta"],
        "tie_word_embeddings": cfg["tie_word_embeddings"],
        "torch_dtype": "float16",
        "transformers_version": transformers_version,
        "use_cache": True,
        "vocab_size": cfg["vocab_size"],
    }


def write_hf_model(out_dir: str, state: dict[str, np.ndarray], cfg: dict, transformers_version: str):
    """state: HF parameter names -> float32 arrays. Writes f16 safetensors + config.json.
    With tied embeddings lm_head.weight is left out, as transformers does."""
    os.makedirs(out_dir, exist_ok=True)
    tensors = {}
    for name, a in state.items():
        if (cfg["tie_word_embeddings"] and name == "lm_head.weight") or not name.endswith(".weight"):
            continue
        tensors[name] = np.ascontiguousarray(a.astype(np.float16))
    write_safetensors(os.path.join(out_dir, "model.safetensors"), tensors, {"format": "pt"})
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(hf_config(cfg, transformers_version), f, indent=2)
        f.write("\n")


# ----------------------------------------------------------------------------
# GGUF conversion, following convert_hf_to_gguf.py (LlamaModel, --outtype f16)
def llama_permute(w: np.ndarray, n_head: int) -> np.ndarray:
    """convert_hf_to_gguf.py LlamaModel.permute: HF rotate-half rows -> interleaved pairs."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


_LAYER_MAP = {
    "input_layernorm.weight": "attn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.o_proj.weight": "attn_output.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
}


def gguf_tensor_name(hf_name: str) -> str:
    if hf_name == "model.embed_tokens.weight":
        return "token_embd.weight"
    if hf_name == "model.norm.weight":
        return "output_norm.weight"
    if hf_name == "lm_head.weight":
        return "output.weight"
    parts = hf_name.split(".")
    if parts[:2] == ["model", "layers"]:
        rest = ".".join(parts[3:])
        if rest in _LAYER_MAP:
            return f"blk.{int(parts[2])}.{_LAYER_MAP[rest]}"
    raise ValueError(f"cannot map tensor {hf_name}")


def size_label(n: int) -> str:
    """gguf-py's model_weight_count_rounded_notation (min_digits=2), e.g. 4.7M."""
    if n > 1e12:
        scaled, suffix = n * 1e-12, "T"
    elif n > 1e9:
        scaled, suffix = n * 1e-9, "B"
    elif n > 1e6:
        scaled, suffix = n * 1e-6, "M"
    else:
        scaled, suffix = n * 1e-3, "K"
    fix = max(2 - len(str(round(scaled)).lstrip("0")), 0)
    return f"{scaled:.{fix}f}{suffix}"


def sentencepiece_vocab(hf_dir: str, vocab_size: int):
    """convert_hf_to_gguf.py _create_vocab_sentencepiece: tokens, scores, token types."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=os.path.join(hf_dir, "tokenizer.model"))
    tokens = [f"[PAD{i}]".encode() for i in range(vocab_size)]
    scores = [-10000.0] * vocab_size
    types = [int(TokenType.UNUSED)] * vocab_size
    for i in range(min(sp.get_piece_size(), vocab_size)):
        t = TokenType.NORMAL
        if sp.is_unknown(i):
            t = TokenType.UNKNOWN
        elif sp.is_control(i):
            t = TokenType.CONTROL
        elif sp.is_unused(i):
            t = TokenType.UNUSED
        elif sp.is_byte(i):
            t = TokenType.BYTE
        tokens[i] = sp.id_to_piece(i).encode("utf-8")
        scores[i] = sp.get_score(i)
        types[i] = int(t)
    # added_tokens.json / tokenizer_config.json added_tokens_decoder, as the converter does
    added = os.path.join(hf_dir, "added_tokens.json")
    if os.path.isfile(added):
        for key, tid in json.load(open(added, encoding="utf-8")).items():
            if tid < vocab_size:
                tokens[tid], scores[tid], types[tid] = key.encode(), -1000.0, int(TokenType.USER_DEFINED)
    tc_path = os.path.join(hf_dir, "tokenizer_config.json")
    if os.path.isfile(tc_path):
        tc = json.load(open(tc_path, encoding="utf-8"))
        for tid, data in tc.get("added_tokens_decoder", {}).items():
            tid = int(tid)
            if tid >= vocab_size:
                continue
            content = data["content"]
            special = data.get("special") or (content.startswith("<|") and content.endswith("|>"))
            if special:
                types[tid] = int(TokenType.CONTROL)
            else:
                content = content.replace("\u2581", " ")
                types[tid] = int(TokenType.USER_DEFINED)
            scores[tid] = -1000.0
            tokens[tid] = content.encode("utf-8")
    return tokens, scores, types


def special_vocab(hf_dir: str, config: dict, n_vocab: int):
    """What gguf-py's SpecialVocab finds: special token ids and add_*_token flags."""
    ids: dict[str, int] = {}
    flags: dict[str, bool] = {}
    tc_path = os.path.join(hf_dir, "tokenizer_config.json")
    tj_path = os.path.join(hf_dir, "tokenizer.json")
    tc = json.load(open(tc_path, encoding="utf-8")) if os.path.isfile(tc_path) else {}
    tj = json.load(open(tj_path, encoding="utf-8")) if os.path.isfile(tj_path) else {}
    added = {t["content"]: t["id"] for t in tj.get("added_tokens", [])}
    for typ in ("bos", "eos", "unk", "sep", "pad", "cls", "mask"):
        entry = tc.get(f"{typ}_token")
        if isinstance(entry, dict):
            entry = entry.get("content")
        if isinstance(entry, str) and entry in added and added[entry] < n_vocab:
            ids[typ] = added[entry]
    for typ in ("bos", "eos", "unk", "sep", "pad", "cls", "mask"):
        v = config.get(f"{typ}_token_id")
        if typ not in ids and isinstance(v, int) and 0 <= v < n_vocab:
            ids[typ] = v
    for typ in ("bos", "eos"):
        if isinstance(tc.get(f"add_{typ}_token"), bool):
            flags[typ] = tc[f"add_{typ}_token"]
    if not flags and isinstance(tj.get("post_processor"), dict):
        pp = tj["post_processor"]
        procs = pp.get("processors", [pp]) if pp.get("type") == "Sequence" else [pp]
        for p in procs:
            if p.get("type") == "TemplateProcessing":
                single = p.get("single", [])
                first = single[0].get("SpecialToken", {}).get("id") if single else None
                last = single[-1].get("SpecialToken", {}).get("id") if single else None
                flags["bos"] = first is not None and added.get(first) == ids.get("bos")
                flags["eos"] = last is not None and added.get(last) == ids.get("eos")
    return ids, flags, tc


def build_gguf(hf_dir: str, out_path: str, name: str = "KJV Llama", basename: str = "kjv-llama") -> dict:
    config = json.load(open(os.path.join(hf_dir, "config.json")))
    assert config["architectures"] == ["LlamaForCausalLM"]
    state, order = read_safetensors(os.path.join(hf_dir, "model.safetensors"))
    n_head = config["num_attention_heads"]
    n_kv = config.get("num_key_value_heads", n_head)

    w = GGUFWriter(arch="llama")
    total = 0
    tensors = []
    for hf_name in order:   # the converter keeps the file's tensor order
        if hf_name.endswith(".rotary_emb.inv_freq"):
            continue
        a = state[hf_name]
        if a.dtype not in (np.float16, np.float32):
            a = a.astype(np.float32)
        if hf_name.endswith("q_proj.weight"):
            a = llama_permute(a, n_head)
        elif hf_name.endswith("k_proj.weight"):
            a = llama_permute(a, n_kv)
        new = gguf_tensor_name(hf_name)
        a = np.squeeze(a)
        # 1-D tensors and *_norm.weight are kept in f32; the rest in f16 (--outtype f16)
        a = a.astype(np.float32) if (a.ndim <= 1 or new.endswith("_norm.weight")) else a.astype(np.float16)
        tensors.append((new, a))
        total += a.size

    w.add_string("general.type", "model")
    w.add_string("general.name", name)
    w.add_string("general.basename", basename)
    w.add_string("general.size_label", size_label(total))
    # TextModel.set_gguf_parameters, then LlamaModel's additions
    w.add_uint32("llama.block_count", config["num_hidden_layers"])
    w.add_uint32("llama.context_length", config["max_position_embeddings"])
    w.add_uint32("llama.embedding_length", config["hidden_size"])
    w.add_uint32("llama.feed_forward_length", config["intermediate_size"])
    w.add_uint32("llama.attention.head_count", n_head)
    w.add_uint32("llama.attention.head_count_kv", n_kv)
    w.add_float32("llama.rope.freq_base", float(config["rope_theta"]))
    w.add_float32("llama.attention.layer_norm_rms_epsilon", float(config["rms_norm_eps"]))
    if "head_dim" in config and config["head_dim"] != config["hidden_size"] // n_head:
        w.add_uint32("llama.attention.key_length", config["head_dim"])
        w.add_uint32("llama.attention.value_length", config["head_dim"])
    w.add_uint32("general.file_type", 1)   # LlamaFileType.MOSTLY_F16
    w.add_uint32("llama.vocab_size", config["vocab_size"])
    w.add_uint32("llama.rope.dimension_count", config.get("head_dim", config["hidden_size"] // n_head))

    # LlamaModel.set_vocab -> _set_vocab_sentencepiece
    ids, flags, tc = special_vocab(hf_dir, config, config["vocab_size"])
    if tc.get("add_prefix_space") is not None:
        w.add_bool("tokenizer.ggml.add_space_prefix", tc["add_prefix_space"])
    tokens, scores, types = sentencepiece_vocab(hf_dir, config["vocab_size"])
    w.add_string("tokenizer.ggml.model", "llama")
    w.add_string("tokenizer.ggml.pre", "default")
    w.add_array("tokenizer.ggml.tokens", tokens, ValueType.STRING)
    w.add_array("tokenizer.ggml.scores", scores, ValueType.FLOAT32)
    w.add_array("tokenizer.ggml.token_type", types, ValueType.INT32)
    key = {"bos": "bos_token_id", "eos": "eos_token_id", "unk": "unknown_token_id", "sep": "seperator_token_id",
           "pad": "padding_token_id", "cls": "cls_token_id", "mask": "mask_token_id"}
    for typ, tid in ids.items():
        w.add_uint32(f"tokenizer.ggml.{key[typ]}", tid)
    for typ, v in flags.items():
        w.add_bool(f"tokenizer.ggml.add_{typ}_token", v)
    if isinstance(tc.get("chat_template"), str):
        w.add_string("tokenizer.chat_template", tc["chat_template"])
    w.add_uint32("general.quantization_version", 2)

    for new, a in tensors:
        w.add_tensor(new, a)
    w.write(out_path)
    return {"params": total, "tensors": len(tensors)}


# ----------------------------------------------------------------------------
# NumPy reference forward (float64), used to check the GGUF
def rmsnorm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def forward(weights: dict, cfg: dict, ids: list[int], rope: str) -> np.ndarray:
    """Llama decoder; weights use GGUF names and numpy (out, in) matrices.
    rope='gguf': rotate adjacent pairs (llama.cpp, on permuted q/k rows);
    rope='hf':   rotate halves (transformers, on unpermuted rows)."""
    D, H, KV = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = D // H
    eps, base = cfg["rms_norm_eps"], cfg["rope_theta"]
    T = len(ids)
    f = lambda n: weights[n].astype(np.float64)  # noqa: E731
    x = f("token_embd.weight")[ids]
    pos = np.arange(T, dtype=np.float64)[:, None]
    inv = base ** (-np.arange(0, hd, 2, dtype=np.float64) / hd)
    ang = pos * inv[None, :]                         # (T, hd/2)
    cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]

    def apply_rope(t):                                # t: (T, heads, hd)
        if rope == "gguf":
            a, b = t[..., 0::2], t[..., 1::2]
            out = np.empty_like(t)
            out[..., 0::2] = a * cos - b * sin
            out[..., 1::2] = a * sin + b * cos
            return out
        a, b = t[..., :hd // 2], t[..., hd // 2:]
        return np.concatenate([a * cos - b * sin, b * cos + a * sin], axis=-1)

    mask = np.triu(np.full((T, T), -np.inf), 1)
    for l in range(cfg["num_hidden_layers"]):
        p = f"blk.{l}."
        h = rmsnorm(x, f(p + "attn_norm.weight"), eps)
        q = apply_rope((h @ f(p + "attn_q.weight").T).reshape(T, H, hd))
        k = apply_rope((h @ f(p + "attn_k.weight").T).reshape(T, KV, hd))
        v = (h @ f(p + "attn_v.weight").T).reshape(T, KV, hd)
        rep = H // KV
        k, v = np.repeat(k, rep, axis=1), np.repeat(v, rep, axis=1)
        s = np.einsum("thd,shd->hts", q, k) / math.sqrt(hd) + mask
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        o = np.einsum("hts,shd->thd", s, v).reshape(T, D)
        x = x + o @ f(p + "attn_output.weight").T
        h = rmsnorm(x, f(p + "ffn_norm.weight"), eps)
        g = h @ f(p + "ffn_gate.weight").T
        x = x + ((g / (1 + np.exp(-g))) * (h @ f(p + "ffn_up.weight").T)) @ f(p + "ffn_down.weight").T
    x = rmsnorm(x, f("output_norm.weight"), eps)
    out = f("output.weight") if "output.weight" in weights else f("token_embd.weight")
    return x @ out.T


def log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def chunked_nll(weights, cfg, ids_no_bos, bos, chunk, rope):
    """Sum of -log p over every text token; chunks of `chunk` tokens, each after a fresh BOS."""
    total, n = 0.0, 0
    for s in range(0, len(ids_no_bos), chunk):
        seq = [bos] + ids_no_bos[s:s + chunk]
        lp = log_softmax(forward(weights, cfg, seq, rope))
        total -= sum(lp[i, seq[i + 1]] for i in range(len(seq) - 1))
        n += len(seq) - 1
    return total, n


def gguf_cfg(meta: dict) -> dict:
    return {
        "hidden_size": meta["llama.embedding_length"],
        "num_attention_heads": meta["llama.attention.head_count"],
        "num_key_value_heads": meta["llama.attention.head_count_kv"],
        "num_hidden_layers": meta["llama.block_count"],
        "rms_norm_eps": meta["llama.attention.layer_norm_rms_epsilon"],
        "rope_theta": meta["llama.rope.freq_base"],
    }


def check_gguf(gguf_path: str, hf_dir: str, ref_path: str) -> bool:
    import sentencepiece as spm

    meta, tensors, info = read_gguf(gguf_path)
    weights = {k: v[2] for k, v in tensors.items()}
    cfg = gguf_cfg(meta)
    ref = json.load(open(ref_path))
    ok = True

    def expect(cond, what):
        nonlocal ok
        print(("ok   " if cond else "FAIL ") + what)
        ok &= bool(cond)

    # tokenizer: GGUF vocabulary == sentencepiece model; reference ids reproduce here
    sp = spm.SentencePieceProcessor(model_file=os.path.join(hf_dir, "tokenizer.model"))
    toks = meta["tokenizer.ggml.tokens"]
    expect(len(toks) == meta["llama.vocab_size"] == sp.get_piece_size(), "vocabulary size")
    expect(all(toks[i] == sp.id_to_piece(i) for i in range(len(toks))), "token strings = sentencepiece pieces")
    held = open(os.path.join(ROOT, ref["heldout"]["file"]), encoding="utf-8").read()
    expect([sp.bos_id()] + sp.encode(held) == ref["heldout"]["ids"], "held-out ids (sentencepiece here)")
    expect(all(sp.encode(c["text"]) == c["ids"] for c in ref["tokenizer_cases"]), "tokenizer cases (sentencepiece here)")

    # the GGUF's weights equal the HF f16 weights (after the permutation)
    state, _ = read_safetensors(os.path.join(hf_dir, "model.safetensors"))
    same = True
    for hf_name, a in state.items():
        g = weights[gguf_tensor_name(hf_name)]
        if hf_name.endswith("q_proj.weight"):
            a = llama_permute(a, cfg["num_attention_heads"])
        elif hf_name.endswith("k_proj.weight"):
            a = llama_permute(a, cfg["num_key_value_heads"])
        same &= np.array_equal(a.astype(np.float32), g.astype(np.float32))
    expect(same, "GGUF tensors = HF tensors (permuted q/k)")

    # forward over the GGUF with llama.cpp's rotary layout vs the PyTorch f32 reference
    gen = ref["generation"]
    logits = forward(weights, cfg, gen["prompt_ids"], "gguf")
    first8 = logits[-1, :8]
    err = np.max(np.abs(first8 - np.array(gen["last_prompt_logits_first8"])))
    expect(err < 1e-3, f"last prompt position logits[:8] vs PyTorch: max abs diff {err:.2e}")
    hf_logits = forward(hf_weights_from_state(state, cfg), cfg, gen["prompt_ids"], "hf")
    err_hf = np.max(np.abs(hf_logits - logits))
    expect(err_hf < 1e-9, f"GGUF-layout forward = HF-layout forward (all logits): max abs diff {err_hf:.2e}")

    seq = list(gen["prompt_ids"])
    for _ in range(len(gen["greedy_ids"])):
        seq.append(int(np.argmax(forward(weights, cfg, seq, "gguf")[-1])))
    expect(seq[len(gen["prompt_ids"]):] == gen["greedy_ids"], "greedy continuation ids")

    ppl = ref["perplexity"]
    ids = ref["heldout"]["ids"][1:]
    total, n = chunked_nll(weights, cfg, ids, 1, ppl["chunked"]["chunk_tokens"], "gguf")
    p = math.exp(total / n)
    rel = abs(p - ppl["chunked"]["perplexity"]) / ppl["chunked"]["perplexity"]
    expect(n == ppl["chunked"]["scored_tokens"] and rel < 1e-4,
           f"held-out perplexity {p:.5f} vs PyTorch {ppl['chunked']['perplexity']:.5f} (rel diff {rel:.1e})")
    return ok


def hf_weights_from_state(state: dict, cfg: dict) -> dict:
    """HF tensors under GGUF names, unpermuted (for the rotate-half forward)."""
    return {gguf_tensor_name(k): v for k, v in state.items()}


def selftest():
    """Random small model with odd sizes: permuted GGUF + interleaved rope == HF + rotate-half."""
    rng = np.random.default_rng(0)
    cfg = {"hidden_size": 72, "num_attention_heads": 6, "num_key_value_heads": 2, "num_hidden_layers": 2,
           "rms_norm_eps": 1e-5, "rope_theta": 10000.0}
    D, H, KV, F, V = 72, 6, 2, 50, 37
    hd = D // H
    hf = {"token_embd.weight": rng.normal(size=(V, D)), "output_norm.weight": 1 + 0.1 * rng.normal(size=D)}
    for l in range(2):
        p = f"blk.{l}."
        hf.update({p + "attn_norm.weight": 1 + 0.1 * rng.normal(size=D), p + "ffn_norm.weight": 1 + 0.1 * rng.normal(size=D),
                   p + "attn_q.weight": rng.normal(size=(H * hd, D)) / 8, p + "attn_k.weight": rng.normal(size=(KV * hd, D)) / 8,
                   p + "attn_v.weight": rng.normal(size=(KV * hd, D)) / 8, p + "attn_output.weight": rng.normal(size=(D, D)) / 8,
                   p + "ffn_gate.weight": rng.normal(size=(F, D)) / 8, p + "ffn_up.weight": rng.normal(size=(F, D)) / 8,
                   p + "ffn_down.weight": rng.normal(size=(D, F)) / 8})
    gg = dict(hf)
    for l in range(2):
        gg[f"blk.{l}.attn_q.weight"] = llama_permute(hf[f"blk.{l}.attn_q.weight"], H)
        gg[f"blk.{l}.attn_k.weight"] = llama_permute(hf[f"blk.{l}.attn_k.weight"], KV)
    ids = list(rng.integers(0, V, size=11))
    a, b = forward(hf, cfg, ids, "hf"), forward(gg, cfg, ids, "gguf")
    err = np.max(np.abs(a - b))
    print(f"selftest: max abs diff {err:.2e}")
    assert err < 1e-9
    # GGUF round trip through the writer and reader
    import tempfile
    w = GGUFWriter(arch="llama")
    w.add_uint32("llama.block_count", 2)
    w.add_array("tokenizer.ggml.tokens", ["<unk>", "\u2581a", "é"], ValueType.STRING)
    w.add_tensor("x.weight", gg["blk.0.attn_k.weight"].astype(np.float16))
    w.add_tensor("n.weight", gg["output_norm.weight"].astype(np.float32))
    with tempfile.TemporaryDirectory() as d:
        w.write(os.path.join(d, "t.gguf"))
        meta, tens, info = read_gguf(os.path.join(d, "t.gguf"))
    assert meta["tokenizer.ggml.tokens"] == ["<unk>", "\u2581a", "é"] and meta["llama.block_count"] == 2
    assert tens["x.weight"][1] == (D, KV * hd) and tens["x.weight"][0] == GGMLType.F16
    assert np.array_equal(tens["x.weight"][2], gg["blk.0.attn_k.weight"].astype(np.float16))
    assert all(o % 32 == 0 for o in info["offsets"].values())
    print("selftest: writer/reader round trip ok")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hf-dir", default=os.path.join(ROOT, "models/kjv-llama"))
    ap.add_argument("--gguf", default=os.path.join(ROOT, "models/kjv-llama.gguf"))
    ap.add_argument("--reference", default=os.path.join(ROOT, "models/kjv-reference.json"))
    ap.add_argument("--selftest", action="store_true")
    ap.add_argument("--no-check", action="store_true")
    args = ap.parse_args()
    if args.selftest:
        selftest()
        return
    info = build_gguf(args.hf_dir, args.gguf)
    print(f"wrote {args.gguf}: {info['tensors']} tensors, {info['params']} parameters, "
          f"{os.path.getsize(args.gguf)} bytes")
    if not args.no_check:
        if not check_gguf(args.gguf, args.hf_dir, args.reference):
            sys.exit("GGUF check failed")


if __name__ == "__main__":
    main()
