#!/usr/bin/env python3
"""kiln on every available backend and the PyTorch peer, on one model, in one run.

  compare.py MODEL_DIR [--kiln build/tools/kiln] [--backends cpu,vulkan,opencl]
             [--prompt-len 512] [--gen 128] [--reps 5] [--compile] [--out DIR]
  compare.py --from-json DIR     # the table from JSON files written earlier

Runs `kiln bench MODEL_DIR --backend B --json DIR/kiln-B.json` for each
backend (one that cannot open is reported and skipped) and `torch_llama.py
MODEL_DIR --json DIR/torch.json` (skipped with the reason when torch is
missing), then prints one table: backend, prefill tok/s, decode tok/s,
ms/token, % of the roofline (each row's own device copy bandwidth) and the
ratio of its decode tok/s to the peer's best decode tok/s.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEFAULT_BACKENDS = ("cpu", "vulkan", "opencl")


# ---- rows ------------------------------------------------------------------------
def kiln_row(report: dict) -> dict:
    return {"name": f"kiln {report['backend']}", "device": report.get("device", ""), "backend": report["backend"],
            "prefill_tok_s": report["prefill_tok_s"], "decode_tok_s": report["decode_tok_s"],
            "ms_per_token": report["ms_per_token"], "roofline_share": report["roofline_share"],
            "submits": report.get("per_token", {}).get("submits"),
            "dispatches": report.get("per_token", {}).get("dispatches")}


def peer_rows(report: dict) -> list[dict]:
    return [{"name": f"torch {r['mode']} ({report['device_type']}, {report['dtype']})", "device": report["device"],
             "prefill_tok_s": r["prefill_tok_s"], "decode_tok_s": r["decode_tok_s"],
             "ms_per_token": r["ms_per_token"], "roofline_share": r["roofline_share"], "peer": True}
            for r in report["results"]]


def on_peer_device(row: dict, peer_report: dict) -> bool:
    """Whether a row ran on the kind of device the peer ran on: a ratio
    between a CPU and a GPU says nothing. The cpu plugin and OpenCL on a CPU
    (PoCL) are CPU rows."""
    if row.get("peer"):
        return True
    cpu_like = row["backend"] == "cpu" or any(w in row["device"].lower() for w in ("cpu", "pthread", "pocl"))
    return cpu_like == (peer_report["device_type"] == "cpu")


def table(kiln_reports: list[dict], peer_report: dict | None, notes: list[str] = ()) -> str:
    """The comparison as a Markdown table (pasteable into bench/README.md).
    The ratio is to the peer's best decode tok/s, on rows of the peer's kind
    of device only."""
    rows = [kiln_row(r) for r in kiln_reports]
    peers = peer_rows(peer_report) if peer_report else []
    best_peer = max(peers, key=lambda r: r["decode_tok_s"]) if peers else None
    lines = ["| backend | device | prefill tok/s | decode tok/s | ms/token | % of roofline | decode vs peer |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for row in rows + peers:
        comparable = best_peer is not None and on_peer_device(row, peer_report)
        ratio = f"{row['decode_tok_s'] / best_peer['decode_tok_s']:.2f}x" if comparable else "-"
        lines.append(f"| {row['name']} | {row['device']} | {row['prefill_tok_s']:.1f} | {row['decode_tok_s']:.1f} | "
                     f"{row['ms_per_token']:.3f} | {100 * row['roofline_share']:.1f} % | {ratio} |")
    if best_peer:
        lines.append(f"\nThe peer: {best_peer['name']}, {best_peer['decode_tok_s']:.1f} decode tok/s.")
    if notes:
        lines.append("")
        lines.extend(notes)
    return "\n".join(lines)


# ---- running ----------------------------------------------------------------------
def run_kiln(args, backend: str) -> tuple[dict | None, str]:
    out = os.path.join(args.out, f"kiln-{backend}.json")
    command = [args.kiln, "bench", args.model, "--backend", backend, "--prompt-len", str(args.prompt_len),
               "--gen", str(args.gen), "--reps", str(args.reps), "--json", out] + args.kiln_arg
    print("$", " ".join(command), file=sys.stderr, flush=True)
    done = subprocess.run(command, stdout=sys.stderr, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        return None, f"kiln {backend}: skipped ({done.stderr.strip().splitlines()[-1] if done.stderr else done.returncode})"
    with open(out) as f:
        return json.load(f), ""


def run_peer(args) -> tuple[dict | None, str]:
    out = os.path.join(args.out, "torch.json")
    command = [sys.executable, os.path.join(HERE, "torch_llama.py"), args.model, "--prompt-len",
               str(args.prompt_len), "--gen", str(args.gen), "--reps", str(args.reps), "--json", out]
    if args.compile:
        command.append("--compile")
    if args.peer_device:
        command += ["--device", args.peer_device]
    print("$", " ".join(command), file=sys.stderr, flush=True)
    done = subprocess.run(command, stdout=sys.stderr, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        return None, f"torch: skipped ({done.stderr.strip().splitlines()[-1] if done.stderr else done.returncode})"
    with open(out) as f:
        return json.load(f), ""


def load_dir(path: str) -> tuple[list[dict], dict | None]:
    kiln = []
    for file in sorted(glob.glob(os.path.join(path, "kiln-*.json"))):
        with open(file) as f:
            kiln.append(json.load(f))
    peer = None
    if os.path.exists(os.path.join(path, "torch.json")):
        with open(os.path.join(path, "torch.json")) as f:
            peer = json.load(f)
    return kiln, peer


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", nargs="?", help="HF folder (config.json + safetensors)")
    parser.add_argument("--kiln", default=os.path.join(ROOT, "build", "tools", "kiln"))
    parser.add_argument("--backends", default=",".join(DEFAULT_BACKENDS))
    parser.add_argument("--prompt-len", type=int, default=512)
    parser.add_argument("--gen", type=int, default=128)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--compile", action="store_true", help="the peer also measures torch.compile")
    parser.add_argument("--peer-device", default=None, help="cuda or cpu (default: cuda when available)")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--kiln-arg", action="append", default=[], help="passed to every kiln bench (repeatable)")
    parser.add_argument("--out", default="bench-results", help="folder for the JSON files")
    parser.add_argument("--from-json", default=None, metavar="DIR", help="print the table of earlier JSON files")
    args = parser.parse_args(argv)
    if args.from_json:
        kiln, peer = load_dir(args.from_json)
        print(table(kiln, peer))
        return 0
    if not args.model:
        parser.error("MODEL_DIR is required (or --from-json DIR)")
    os.makedirs(args.out, exist_ok=True)
    kiln, notes = [], []
    for backend in args.backends.split(","):
        report, why = run_kiln(args, backend)
        if report:
            kiln.append(report)
        else:
            notes.append(why)
    peer = None
    if not args.no_peer:
        peer, why = run_peer(args)
        if why:
            notes.append(why)
    print(table(kiln, peer, notes))
    return 0 if kiln else 1


if __name__ == "__main__":
    sys.exit(main())
