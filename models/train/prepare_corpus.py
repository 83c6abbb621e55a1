#!/usr/bin/env python3
"""Extract the King James Bible from Debian's bible-kjv package as plain prose.

Writes, relative to the repository root:
  models/train/data/train.txt   training chapters
  models/train/data/val.txt     validation chapters (every 50th chapter)
  models/kjv-heldout.txt        the held-out test passage (Ruth 1), never trained on

Format: one verse per line, verse references stripped. In train.txt and
val.txt chapters are separated by one empty line. kjv-heldout.txt is one
chapter, one verse per line, ending with a newline.

Usage (from the repository root; needs the `bible` program of bible-kjv):
  /usr/bin/python3 models/train/prepare_corpus.py
"""
import os
import re
import subprocess
import sys

HELDOUT = ("Ruth", 1)     # test passage: excluded from tokenizer and model training
VAL_EVERY = 50            # chapter index i with i % VAL_EVERY == VAL_OFFSET goes to validation
VAL_OFFSET = 25

REF = re.compile(r"^(\d?[A-Za-z]+)(\d+):(\d+) (.*)$")


def read_chapters():
    raw = subprocess.run(["bible", "-f", "Genesis 1:1-Revelation 22:21"],
                         check=True, capture_output=True, text=True).stdout
    chapters = []   # [(book, chapter, [verses])]
    for line in raw.split("\n"):
        if not line:
            continue
        m = REF.match(line)
        if not m:
            sys.exit(f"unexpected line: {line!r}")
        book, chap, verse, text = m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)
        text = " ".join(text.split())   # collapse any stray whitespace
        if not chapters or chapters[-1][0] != book or chapters[-1][1] != chap:
            chapters.append((book, chap, []))
        chapters[-1][2].append(text)
    return chapters


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    data = os.path.join(root, "models", "train", "data")
    os.makedirs(data, exist_ok=True)
    chapters = read_chapters()
    train, val, heldout = [], [], None
    for i, (book, chap, verses) in enumerate(chapters):
        text = "\n".join(verses) + "\n"
        if (book, chap) == HELDOUT:
            heldout = text
        elif i % VAL_EVERY == VAL_OFFSET:
            val.append(text)
        else:
            train.append(text)
    assert heldout is not None
    for name, chs in (("train.txt", train), ("val.txt", val)):
        with open(os.path.join(data, name), "w", encoding="utf-8", newline="\n") as f:
            f.write("\n".join(chs))
    with open(os.path.join(root, "models", "kjv-heldout.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write(heldout)
    nverses = sum(len(v) for _, _, v in chapters)
    print(f"{len(chapters)} chapters, {nverses} verses: train {len(train)} chapters, "
          f"val {len(val)} chapters, held out {HELDOUT[0]} {HELDOUT[1]} ({len(heldout)} bytes)")


if __name__ == "__main__":
    main()
