#!/usr/bin/env python3
"""Writes the small random models of the chat and vocabulary tests.

  make_chat_models.py OUT_DIR

OUT_DIR gets
  chatml.gguf     make_llama_models.py's llama (vocab 300, context 512) whose last two
                  pieces are the control tokens <|im_start|> and <|im_end|>,
                  with Qwen2-Instruct's chat template
  unknown.gguf    the same with a template no kiln row recognises
  plain.gguf      the same without a chat template
  padded/         an HF folder whose config says vocab_size 700 while its
                  tokenizer.model (tests/frontend/data/spm_tiny.model) has
                  600 pieces, as Qwen2 pads vocab_size; the lm_head rows of
                  ids 600.. are zero, so greedy never picks them
  beyond/         the same with the lm_head rows of ids 0..599 zero, so
                  greedy picks an id the tokenizer lacks
  eos_beyond/     the same as padded/ with eos_token_id 650, which the
                  tokenizer cannot cover
"""
import os
import shutil
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import make_llama_models as models  # noqa: E402
from gguf_writer import TokenType, ValueType  # noqa: E402

SPM_MODEL = os.path.join(HERE, "..", "frontend", "data", "spm_tiny.model")
SPM_PIECES = 600

# Qwen2-7B-Instruct's tokenizer_config.json chat_template.
QWEN2_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
UNKNOWN_TEMPLATE = "{% for m in messages %}\n### {{ m['role'] }}: {{ m['content'] }}\x01{% endfor %}"


def chat_vocabulary(template):
    """make_llama_models.add_vocabulary, its last two pieces made control tokens."""
    def add(w, vocab_size):
        original = w.add_array

        def add_array(key, values, elem_type):
            values = list(values)
            if key == "tokenizer.ggml.tokens":
                values[-2:] = ["<|im_start|>", "<|im_end|>"]
            if key == "tokenizer.ggml.token_type":
                values[-2:] = [int(TokenType.CONTROL)] * 2
            original(key, values, elem_type)

        w.add_array = add_array
        models_add_vocabulary(w, vocab_size)
        w.add_array = original
        if template is not None:
            w.add_string("tokenizer.chat_template", template)
    return add


models_add_vocabulary = models.add_vocabulary


def write_chat_ggufs(out):
    config = {**models.BASE, "max_position_embeddings": 512}  # room for a few turns
    weights = models.random_weights(config, np.random.default_rng(7))
    for name, template in (("chatml", QWEN2_TEMPLATE), ("unknown", UNKNOWN_TEMPLATE), ("plain", None)):
        models.add_vocabulary = chat_vocabulary(template)
        models.write_gguf(os.path.join(out, name + ".gguf"), config, weights, "f32")
    models.add_vocabulary = models_add_vocabulary


def write_padded(out, name, zero_rows, changes=None):
    config = {**models.BASE, "vocab_size": 700, **(changes or {})}
    weights = models.random_weights(config, np.random.default_rng(11))
    weights["lm_head.weight"][zero_rows] = 0
    folder = os.path.join(out, name)
    models.write_hf(folder, config, weights, "f32", 1)
    shutil.copyfile(SPM_MODEL, os.path.join(folder, "tokenizer.model"))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    write_chat_ggufs(out)
    write_padded(out, "padded", slice(SPM_PIECES, None))
    write_padded(out, "beyond", slice(0, SPM_PIECES))
    write_padded(out, "eos_beyond", slice(SPM_PIECES, None), {"eos_token_id": 650})


if __name__ == "__main__":
    main()
