#!/usr/bin/env python3
"""Writes the weights and sample inputs of the shipped examples.

Run from anywhere with the interpreter that has NumPy:

    /usr/bin/python3 examples/make_examples.py

Every array comes from a fixed seed, so re-running reproduces the committed
files byte for byte. The graphs themselves (mlp.json, llama_block.json) are
written by hand; this script only supplies the tensors they reference, with
the shapes they declare.
"""

import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def linear(rng, rows, cols):
    """A weight scaled like a trained layer's: outputs keep unit variance."""
    return rng.standard_normal((rows, cols)) / np.sqrt(cols)


def norm_weight(rng, dim):
    return 1.0 + 0.1 * rng.standard_normal(dim)


def save(folder, name, array, dtype=np.float32):
    path = os.path.join(HERE, "data", folder, name + ".npy")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.save(path, np.ascontiguousarray(array, dtype=dtype))


def make_mlp():
    """37 -> 64 -> 10. w1 is stored [in, out], w2 [out, in] (transpose_b);
    b2 is written inline in mlp.json."""
    rng = np.random.default_rng(37)
    save("mlp", "w1", linear(rng, 64, 37).T)
    save("mlp", "b1", 0.1 * rng.standard_normal(64))
    save("mlp", "w2", linear(rng, 10, 64))
    save("mlp", "x", rng.standard_normal((5, 37)))


def make_llama_block():
    """Hidden 64, 4 query heads and 2 kv heads of 16, FFN 88. Linear weights
    are stored [out, in] as Hugging Face checkpoints store them."""
    rng = np.random.default_rng(64)
    hidden, heads, kv_heads, head_dim, ffn = 64, 4, 2, 16, 88
    save("llama_block", "attn_norm", norm_weight(rng, hidden))
    save("llama_block", "wq", linear(rng, heads * head_dim, hidden))
    save("llama_block", "wk", linear(rng, kv_heads * head_dim, hidden))
    save("llama_block", "wv", linear(rng, kv_heads * head_dim, hidden))
    save("llama_block", "wo", linear(rng, hidden, heads * head_dim))
    save("llama_block", "ffn_norm", norm_weight(rng, hidden))
    save("llama_block", "w_gate", linear(rng, ffn, hidden))
    save("llama_block", "w_up", linear(rng, ffn, hidden))
    save("llama_block", "w_down", linear(rng, hidden, ffn))
    # A prefill of 5 tokens, then one decode token.
    save("llama_block", "x", rng.standard_normal((5, hidden)))
    save("llama_block", "x_decode", rng.standard_normal((1, hidden)))


if __name__ == "__main__":
    make_mlp()
    make_llama_block()
