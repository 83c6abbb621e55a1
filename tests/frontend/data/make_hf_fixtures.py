#!/usr/bin/env python3
"""Builds the HuggingFace fixtures of the tokenizer tests.

  /usr/bin/python3 tests/frontend/data/make_spm_fixture.py --corpus CORPUS
  python3 tests/frontend/data/make_hf_fixtures.py CORPUS OUT_DIR

Needs HuggingFace `tokenizers` (and, optionally, `transformers`), which the
GPU machine has. CORPUS is the training text of spm_tiny.model. It writes into OUT_DIR:

  hf_bytelevel_tokenizer.json  a Llama-3-style byte-level BPE, trained here:
      NFC normaliser, the Llama 3 Split regex then ByteLevel, ignore_merges,
      BOS added by a TemplateProcessing post-processor, special tokens after
      the trained vocabulary, a non-special added token, an lstrip token.
  hf_spm_legacy_tokenizer.json     spm_tiny.model as transformers converts
      Llama tokenizers with legacy=True: Prepend("▁") + Replace(" ", "▁")
      normaliser, BPE with byte fallback, merges from the piece scores.
  hf_spm_metaspace_tokenizer.json  the same with legacy=False: a Metaspace
      pre-tokenizer that prepends "▁" to the first segment only.
  hf_expected.json  for every tokenizer above and for each fixture string,
      the ids and decoded text that `tokenizers` gives; for the byte-level
      one also its variants with the pre-tokenizers of llama.cpp's GGUF
      `pre` names (llama-bpe, qwen2, gpt2), which the GGUF tests check.
"""
import json
import os
import sys
import traceback

from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers
from tokenizers import pre_tokenizers, processors, trainers, Regex

HERE = os.path.dirname(os.path.abspath(__file__))

LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
                r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
               r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

BYTELEVEL_SPECIAL_TEXTS = [
    "<|begin_of_text|>Hello<|eot_id|>",
    "text<|eot_id|> after",
    "<|end_of_text|><|begin_of_text|>",
    "a<|custom|>b and <|custom|> again",
    "x <mask> y",
    "x   <mask>y",
    "<|eot_id|",
    "<<|eot_id|>>",
]
SPM_SPECIAL_TEXTS = [
    "<s>Hello</s> world",
    "Hello <s> there",
    " <s>  x",
    "<unk>",
    "a</s>b",
]


def split_pre_tokenizer(regex):
    return {"type": "Split", "pattern": {"Regex": regex}, "behavior": "Isolated",
            "invert": False}


def byte_level_pre_tokenizer(use_regex):
    return {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
            "use_regex": use_regex}


def train_byte_level(corpus_lines):
    tok = Tokenizer(models.BPE(ignore_merges=True))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=700, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus_lines, trainer)
    tok.add_special_tokens(["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>",
                            AddedToken("<mask>", lstrip=True, special=True)])
    tok.add_tokens([AddedToken("<|custom|>", special=False, normalized=False)])
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single="<|begin_of_text|> $A",
                                      pair="<|begin_of_text|> $A <|begin_of_text|> $B",
                                      special_tokens=[("<|begin_of_text|>", bos)]),
    ])
    return tok


def byte_level_variants(tok):
    """The trained vocabulary and merges under llama.cpp's GGUF pre-tokenizers."""
    base = json.loads(tok.to_str())
    variants = {}
    for name, normalizer, pre, ignore_merges in [
        ("llama-bpe", None, [split_pre_tokenizer(LLAMA3_REGEX), byte_level_pre_tokenizer(False)], True),
        ("qwen2", {"type": "NFC"}, [split_pre_tokenizer(QWEN2_REGEX), byte_level_pre_tokenizer(False)], False),
        ("gpt2", None, [byte_level_pre_tokenizer(True)], False),
    ]:
        d = json.loads(json.dumps(base))
        d["normalizer"] = normalizer
        d["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": pre}
        d["model"]["ignore_merges"] = ignore_merges
        variants[name] = Tokenizer.from_str(json.dumps(d))
    return variants


def sentencepiece_merges(sp):
    """transformers' SentencePieceExtractor: every split of a piece into two
    pieces is a merge, ranked by the score of the merged piece."""
    vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
    scored = []
    for piece, pid in vocab.items():
        local = []
        for k in range(1, len(piece)):
            left, right = piece[:k], piece[k:]
            if left in vocab and right in vocab:
                local.append((left, right, sp.get_score(pid)))
        local.sort(key=lambda m: (vocab[m[0]], vocab[m[1]]))
        scored.extend(local)
    scored.sort(key=lambda m: m[2], reverse=True)
    return vocab, [(m[0], m[1]) for m in scored]


def spm_tokenizer(sp, legacy):
    vocab, merges = sentencepiece_merges(sp)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>",
                               fuse_unk=True, byte_fallback=True))
    if legacy:
        tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"),
                                               normalizers.Replace(" ", "▁")])
    else:
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁",
                                                     prepend_scheme="first", split=False)
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(),
                                     decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    tok.add_special_tokens([AddedToken(t, normalized=False, special=True)
                            for t in ("<unk>", "<s>", "</s>")])
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", sp.bos_id())])
    return tok


def transformers_spm_tokenizer(model_path, legacy):
    """The converter of transformers itself, where this version offers one."""
    import shutil
    import tempfile
    import transformers
    d = tempfile.mkdtemp()
    shutil.copy(model_path, os.path.join(d, "tokenizer.model"))
    with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "LlamaTokenizer", "legacy": legacy,
                   "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}, f)
    tok = transformers.AutoTokenizer.from_pretrained(d, legacy=legacy, from_slow=True)
    return tok.backend_tokenizer if hasattr(tok, "backend_tokenizer") else tok._tokenizer


def cases(tok, texts, full):
    out = []
    for text in texts:
        ids = tok.encode(text, add_special_tokens=False).ids
        case = {"text": text, "ids": ids}
        if full:
            case["ids_add_special"] = tok.encode(text, add_special_tokens=True).ids
            case["decoded"] = tok.decode(ids, skip_special_tokens=False)
            case["decoded_skip_special"] = tok.decode(ids, skip_special_tokens=True)
            try:
                tok.encode_special_tokens = True
                case["ids_no_parse_special"] = tok.encode(text, add_special_tokens=False).ids
            finally:
                tok.encode_special_tokens = False
        out.append(case)
    return out


def save_compact(tok, path):
    with open(path, "w") as f:
        f.write(json.dumps(json.loads(tok.to_str()), ensure_ascii=False, separators=(",", ":")))


def save_expected(expected, path):
    """One case a line, so that a change shows as a readable diff."""
    with open(path, "w") as f:
        f.write("{\n")
        for i, (key, value) in enumerate(expected.items()):
            if isinstance(value, list):
                body = ",\n".join(json.dumps(c, separators=(",", ":")) for c in value)
                f.write("%s: [\n%s\n]" % (json.dumps(key), body))
            else:
                f.write("%s: %s" % (json.dumps(key), json.dumps(value)))
            f.write(",\n" if i + 1 < len(expected) else "\n")
        f.write("}\n")


def report_agreement(name, ours, reference, what):
    same = sum(a["ids"] == b["ids"] for a, b in zip(ours, reference))
    print("%s: %s agrees on %d of %d strings" % (name, what, same, len(reference)))


def main():
    corpus_path, out_dir = sys.argv[1], sys.argv[2]
    with open(os.path.join(HERE, "tokenizer_texts.json")) as f:
        texts = json.load(f)["texts"]
    with open(corpus_path) as f:
        corpus = f.read().splitlines() + texts * 3
    import tokenizers
    expected = {"comment": "tokenizers %s; written by make_hf_fixtures.py" % tokenizers.__version__}

    path = os.path.join(out_dir, "hf_bytelevel_tokenizer.json")
    save_compact(train_byte_level(corpus), path)
    byte_level = Tokenizer.from_file(path)
    expected["bytelevel"] = cases(byte_level, texts + BYTELEVEL_SPECIAL_TEXTS, full=True)
    for name, variant in byte_level_variants(byte_level).items():
        expected["bytelevel_gguf_" + name] = cases(variant, texts, full=False)

    # The sentencepiece library and transformers' own converter are only
    # cross-checks here: spm_tiny_expected.json holds the library's ids.
    import sentencepiece as spm
    model_path = os.path.join(HERE, "spm_tiny.model")
    sp = spm.SentencePieceProcessor(model_file=model_path)
    library = [{"text": t, "ids": sp.encode(t)} for t in texts]
    for name, legacy in (("spm_legacy", True), ("spm_metaspace", False)):
        path = os.path.join(out_dir, "hf_%s_tokenizer.json" % name)
        save_compact(spm_tokenizer(sp, legacy), path)
        expected[name] = cases(Tokenizer.from_file(path), texts + SPM_SPECIAL_TEXTS, full=True)
        report_agreement(name, expected[name], library, "the sentencepiece library")
        try:
            converted = transformers_spm_tokenizer(model_path, legacy)
            report_agreement(name, expected[name], cases(converted, texts, full=False),
                             "transformers' converter")
        except Exception:
            print("%s: transformers' converter failed:\n%s" % (name, traceback.format_exc()))
    save_expected(expected, os.path.join(out_dir, "hf_expected.json"))


if __name__ == "__main__":
    main()
