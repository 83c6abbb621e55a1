#!/usr/bin/python3
"""Builds the SentencePiece fixtures of the tokenizer tests.

  /usr/bin/python3 tests/frontend/data/make_spm_fixture.py [--train]
  /usr/bin/python3 tests/frontend/data/make_spm_fixture.py --corpus PATH

--train trains spm_tiny.model, a small BPE model with byte fallback and the
settings of Llama's tokenizer.model (identity normalisation, dummy prefix,
extra whitespace kept), on Genesis (Debian's bible-kjv) plus a few lines in
other scripts. Without it the committed model is reused, so the expected ids
stay stable.

--corpus writes the training text to PATH and stops (make_hf_fixtures.py
trains its byte-level BPE on the same text).

Otherwise it writes, next to this script:
  spm_tiny_vocab.json     the model as the tokenizer.ggml.* keys of a GGUF
                          `llama` vocabulary; the test writes it into a GGUF
  spm_tiny_expected.json  for each string of tokenizer_texts.json, the ids
                          the sentencepiece library gives (no BOS/EOS) and
                          the text it decodes them back to
"""
import json
import os
import subprocess
import sys

import sentencepiece as spm

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.path.join(HERE, "spm_tiny.model")

# A few lines in other scripts so that some of their characters get pieces of
# their own; the rest of the fixture characters go through byte fallback.
OTHER_SCRIPTS = [
    "Привет, мир! Как дела? В начале сотворил Бог небо и землю.",
    "你好，世界！起初，神创造天地。",
    "こんにちは世界。はじめに神は天と地とを創造された。",
    "مرحبا بالعالم. في البدء خلق الله السماوات والأرض.",
    "Ünïcödé façade naïve café résumé",
]

# GGUF token_type values (llama.cpp's llama_token_type).
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6


def training_lines():
    genesis = subprocess.run(["bible", "-f", "Genesis 1:1-Genesis 50:26"],
                             check=True, capture_output=True, text=True).stdout
    # Drop the "Ge1:1 " verse labels: the model should learn words, not labels.
    lines = [line.split(" ", 1)[1] for line in genesis.splitlines() if " " in line]
    return lines + OTHER_SCRIPTS * 20


def train():
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(training_lines()),
        model_prefix=MODEL[:-len(".model")],
        model_type="bpe",
        vocab_size=600,
        byte_fallback=True,
        character_coverage=0.9995,
        normalization_rule_name="identity",
        add_dummy_prefix=True,
        remove_extra_whitespaces=False,
        allow_whitespace_only_pieces=True,
        split_digits=True,
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
        num_threads=1,
    )
    os.remove(MODEL[:-len(".model")] + ".vocab")


def token_type(sp, i):
    if sp.IsUnknown(i):
        return UNKNOWN
    if sp.IsControl(i):
        return CONTROL
    if sp.IsByte(i):
        return BYTE
    if sp.IsUnused(i):
        return UNUSED
    return NORMAL


def export(sp):
    n = sp.GetPieceSize()
    vocab = {
        "comment": "tokenizer.ggml.* keys of spm_tiny.model; written by make_spm_fixture.py",
        "tokenizer.ggml.model": "llama",
        "tokenizer.ggml.tokens": [sp.IdToPiece(i) for i in range(n)],
        "tokenizer.ggml.scores": [sp.GetScore(i) for i in range(n)],
        "tokenizer.ggml.token_type": [token_type(sp, i) for i in range(n)],
        "tokenizer.ggml.bos_token_id": sp.bos_id(),
        "tokenizer.ggml.eos_token_id": sp.eos_id(),
        "tokenizer.ggml.unknown_token_id": sp.unk_id(),
        "tokenizer.ggml.add_bos_token": True,
        "tokenizer.ggml.add_eos_token": False,
    }
    with open(os.path.join(HERE, "spm_tiny_vocab.json"), "w") as f:
        json.dump(vocab, f, ensure_ascii=True, indent=0)


def expected(sp):
    with open(os.path.join(HERE, "tokenizer_texts.json")) as f:
        texts = json.load(f)["texts"]
    cases = []
    for text in texts:
        ids = sp.EncodeAsIds(text)
        cases.append({"text": text, "ids": ids, "decoded": sp.DecodeIds(ids)})
    with open(os.path.join(HERE, "spm_tiny_expected.json"), "w") as f:
        json.dump({"comment": "sentencepiece %s on spm_tiny.model" % spm.__version__,
                   "cases": cases}, f, ensure_ascii=True, indent=0)


def main():
    if sys.argv[1:2] == ["--corpus"]:
        with open(sys.argv[2], "w") as f:
            f.write("\n".join(training_lines()) + "\n")
        return
    if "--train" in sys.argv[1:]:
        train()
    sp = spm.SentencePieceProcessor(model_file=MODEL)
    export(sp)
    expected(sp)


if __name__ == "__main__":
    main()
