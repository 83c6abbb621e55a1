"""An independent NumPy forward pass of Llama-family decoders, in float64.

Written from the Hugging Face modules (transformers' modeling_llama.py and
modeling_qwen2.py), not from kiln's C++: rotate_half rotary embeddings on the
checkpoint's own q/k rows, repeat_kv for grouped-query attention, RMSNorm,
the SiLU-gated MLP, Llama 3 rope scaling (_compute_llama3_parameters) and
Qwen2's q/k/v biases. Weights use HF tensor names and HF layouts.

`config` is a dict with config.json's keys.
"""
from __future__ import annotations

import math

import numpy as np


def head_dim(config: dict) -> int:
    return config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]


def inverse_frequencies(config: dict) -> np.ndarray:
    """inv_freq[i] = theta^(-2i/d), reshaped by llama3 scaling when configured."""
    d = head_dim(config)
    inv_freq = 1.0 / (config.get("rope_theta", 10000.0) ** (np.arange(0, d, 2, dtype=np.float64) / d))
    scaling = config.get("rope_scaling")
    if not scaling or scaling.get("rope_type", scaling.get("type")) in (None, "default"):
        return inv_freq
    assert scaling.get("rope_type", scaling.get("type")) == "llama3"
    factor = scaling["factor"]
    low, high = scaling["low_freq_factor"], scaling["high_freq_factor"]
    old_context = scaling["original_max_position_embeddings"]
    low_freq_wavelen, high_freq_wavelen = old_context / low, old_context / high
    wavelen = 2 * math.pi / inv_freq
    scaled = np.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    smooth = (old_context / wavelen - low) / (high - low)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    medium = ~(wavelen < high_freq_wavelen) & ~(wavelen > low_freq_wavelen)
    return np.where(medium, smoothed, scaled)


def rotate_half(x: np.ndarray) -> np.ndarray:
    half = x.shape[-1] // 2
    return np.concatenate([-x[..., half:], x[..., :half]], axis=-1)


def apply_rotary(x: np.ndarray, positions: np.ndarray, inv_freq: np.ndarray) -> np.ndarray:
    """x: [T, heads, d]; HF's apply_rotary_pos_emb with emb = cat(freqs, freqs)."""
    freqs = positions[:, None].astype(np.float64) * inv_freq[None, :]
    emb = np.concatenate([freqs, freqs], axis=-1)[:, None, :]
    return x * np.cos(emb) + rotate_half(x) * np.sin(emb)


def rms_norm(x: np.ndarray, weight: np.ndarray, eps: float) -> np.ndarray:
    variance = np.mean(x * x, axis=-1, keepdims=True)
    return weight * (x / np.sqrt(variance + eps))


def silu(x: np.ndarray) -> np.ndarray:
    return x / (1.0 + np.exp(-x))


def linear(x: np.ndarray, weights: dict, name: str) -> np.ndarray:
    """nn.Linear: x @ W.T (+ b); W is [out, in]."""
    y = x @ weights[name + ".weight"].T
    if name + ".bias" in weights:
        y = y + weights[name + ".bias"]
    return y


def attention(x: np.ndarray, weights: dict, prefix: str, config: dict, inv_freq: np.ndarray) -> np.ndarray:
    T = x.shape[0]
    d = head_dim(config)
    heads, kv_heads = config["num_attention_heads"], config.get("num_key_value_heads") or config["num_attention_heads"]
    q = linear(x, weights, prefix + "q_proj").reshape(T, heads, d)
    k = linear(x, weights, prefix + "k_proj").reshape(T, kv_heads, d)
    v = linear(x, weights, prefix + "v_proj").reshape(T, kv_heads, d)
    positions = np.arange(T)
    q, k = apply_rotary(q, positions, inv_freq), apply_rotary(k, positions, inv_freq)
    n_rep = heads // kv_heads                       # repeat_kv: kv head j serves query heads j*n_rep ...
    k, v = np.repeat(k, n_rep, axis=1), np.repeat(v, n_rep, axis=1)
    scores = np.einsum("thd,shd->hts", q, k) * d ** -0.5
    scores = scores + np.triu(np.full((T, T), -np.inf), 1)[None]
    scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
    probs = scores / scores.sum(axis=-1, keepdims=True)
    out = np.einsum("hts,shd->thd", probs, v).reshape(T, heads * d)
    return linear(out, weights, prefix + "o_proj")


def forward(config: dict, weights: dict, ids: list[int]) -> np.ndarray:
    """Logits [len(ids), vocab] of the whole sequence (causal, so row t is the
    prediction after ids[:t+1]). `weights`: HF names -> float64 arrays."""
    eps = config.get("rms_norm_eps", 1e-6)
    inv_freq = inverse_frequencies(config)
    x = weights["model.embed_tokens.weight"][np.asarray(ids)]
    for layer in range(config["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        x = x + attention(rms_norm(x, weights[p + "input_layernorm.weight"], eps), weights, p + "self_attn.",
                          config, inv_freq)
        h = rms_norm(x, weights[p + "post_attention_layernorm.weight"], eps)
        x = x + linear(silu(linear(h, weights, p + "mlp.gate_proj")) * linear(h, weights, p + "mlp.up_proj"),
                       weights, p + "mlp.down_proj")
    x = rms_norm(x, weights["model.norm.weight"], eps)
    head = weights["model.embed_tokens.weight"] if config.get("tie_word_embeddings") else weights["lm_head.weight"]
    return x @ head.T


def greedy(config: dict, weights: dict, prompt: list[int], count: int) -> tuple[list[int], float]:
    """`count` argmax tokens after `prompt` (recomputing the whole sequence each
    step), and the smallest top-1 / top-2 logit margin met on the way."""
    ids, margin = list(prompt), math.inf
    for _ in range(count):
        last = forward(config, weights, ids)[-1]
        top2 = np.sort(last)[-2:]
        margin = min(margin, float(top2[1] - top2[0]))
        ids.append(int(np.argmax(last)))
    return ids[len(prompt):], margin
