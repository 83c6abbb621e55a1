#!/usr/bin/env python3
"""Train the SentencePiece BPE tokenizer of the KJV model.

Reads models/train/data/train.txt (from prepare_corpus.py) and writes
models/kjv-llama/tokenizer.model: a Llama-style SentencePiece model
(BPE, byte fallback <0x00>..<0xFF>, <unk>=0 <s>=1 </s>=2, digits split,
identity normalisation, no whitespace collapsing, dummy "▁" prefix on).

The model is trained on each verse twice, once as is and once with a leading
space, with the dummy prefix off, and the dummy prefix is switched on in the
saved model afterwards. Training text and use then agree: a verse that starts
a line of the training stream (after "\\n") begins with a bare word ("And"),
while text at the start of a prompt gets the "▁" prefix ("▁And"), and the
vocabulary holds both forms. (SentencePiece itself only ever sees single
verses: it cannot train on text with newlines, which therefore encode as the
byte token <0x0A>, as in Llama.)

Usage (from the repository root):
  /usr/bin/python3 models/train/train_tokenizer.py [--vocab-size 4096]
"""
import argparse
import os
import tempfile

import sentencepiece as spm


def read_varint(buf, i):
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def set_add_dummy_prefix(proto: bytes) -> bytes:
    """Set ModelProto.normalizer_spec.add_dummy_prefix (field 3 of field 3) to true.

    A minimal protobuf wire-format edit (no protobuf module here): the bool is a
    one-byte varint, so flipping it keeps every length unchanged.
    """
    buf = bytearray(proto)
    i = 0
    while i < len(buf):
        key, i = read_varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, i = read_varint(buf, i)
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            n, i = read_varint(buf, i)
            if field == 3:     # normalizer_spec
                j, end = i, i + n
                while j < end:
                    k, j2 = read_varint(buf, j)
                    f, w = k >> 3, k & 7
                    if f == 3 and w == 0:       # add_dummy_prefix
                        assert buf[j2] in (0, 1)
                        buf[j2] = 1
                        return bytes(buf)
                    if w == 0:
                        _, j = read_varint(buf, j2)
                    elif w == 2:
                        m, j3 = read_varint(buf, j2)
                        j = j3 + m
                    elif w == 1:
                        j = j2 + 8
                    elif w == 5:
                        j = j2 + 4
                    else:
                        raise ValueError("unexpected wire type")
                raise ValueError("normalizer_spec has no add_dummy_prefix field")
            i += n
        else:
            raise ValueError("unexpected wire type")
    raise ValueError("no normalizer_spec")


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", default=os.path.join(root, "models/train/data/train.txt"))
    ap.add_argument("--output", default=os.path.join(root, "models/kjv-llama/tokenizer.model"))
    ap.add_argument("--vocab-size", type=int, default=4096)
    args = ap.parse_args()

    verses = [l for l in open(args.input, encoding="utf-8").read().split("\n") if l]
    sentences = []
    for v in verses:
        sentences.append(v)
        sentences.append(" " + v)

    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)   # a fixed relative model_prefix keeps the saved trainer_spec reproducible
        prefix = "kjv-llama-sp"
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(sentences),
            model_prefix=prefix,
            model_type="bpe",
            vocab_size=args.vocab_size,
            character_coverage=1.0,
            byte_fallback=True,
            split_digits=True,
            split_by_unicode_script=True,
            split_by_number=True,
            allow_whitespace_only_pieces=True,
            max_sentencepiece_length=16,
            normalization_rule_name="identity",
            remove_extra_whitespaces=False,
            add_dummy_prefix=False,            # switched on below
            unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
            unk_piece="<unk>", bos_piece="<s>", eos_piece="</s>",
            input_sentence_size=0,
            shuffle_input_sentence=False,
            num_threads=2,
            minloglevel=2,
        )
        proto = open(prefix + ".model", "rb").read()
        os.chdir(cwd)

    proto = set_add_dummy_prefix(proto)
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "wb") as f:
        f.write(proto)

    sp = spm.SentencePieceProcessor(model_file=args.output)
    assert sp.piece_to_id("<unk>") == 0 and sp.bos_id() == 1 and sp.eos_id() == 2
    assert sp.id_to_piece(3) == "<0x00>" and sp.id_to_piece(258) == "<0xFF>"
    assert sp.encode("And the LORD", out_type=str)[0].startswith("\u2581")
    text = open(args.input, encoding="utf-8").read()
    ids = sp.encode(text)
    assert sp.decode(ids) == text
    print(f"wrote {args.output}: vocab {sp.get_piece_size()}, train text {len(text)} bytes -> "
          f"{len(ids)} tokens ({len(text) / len(ids):.2f} bytes/token)")
    print("sample:", sp.encode("And the LORD said unto Moses,\nAnd God said", out_type=str))


if __name__ == "__main__":
    main()
