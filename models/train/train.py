#!/usr/bin/env python3
"""Train the small KJV Llama model (PyTorch + transformers, on a CUDA GPU).

Inputs (repository paths):
  models/train/data/train.txt, val.txt   from prepare_corpus.py
  models/kjv-llama/tokenizer.model       from train_tokenizer.py
  models/kjv-heldout.txt                 from prepare_corpus.py

Every chapter is one document: <s> + sentencepiece(verses joined by "\\n", final
"\\n") + </s>; the documents are concatenated into one token stream. Training
draws windows of 256 tokens (a quarter of them starting at a chapter start,
the rest anywhere), bf16 autocast, AdamW, cosine schedule, dropout 0.2 on the
embedding output and on each attention/MLP output (forward hooks, removed for
export: the exported model is a plain LlamaForCausalLM). The checkpoint with
the lowest validation loss is kept.

Writes under --out:
  kjv-llama/config.json, kjv-llama/model.safetensors (f16; export.write_hf_model)
  kjv-llama/tokenizer.* files made by transformers from tokenizer.model, when
      they reproduce sentencepiece exactly (tokenizer_report.json says which)
  kjv-reference.json   reference numbers for kiln's tests, computed in f32 on
      the CPU from the exported folder loaded back with from_pretrained
  train.log            (when run with `| tee`)

Usage (GPU machine, repository root):
  python3 models/train/train.py --out OUT
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import os
import shutil
import sys
import tempfile
import time
import traceback

import numpy as np
import sentencepiece as spm
import torch
import torch.nn.functional as F
import transformers
from transformers import LlamaConfig, LlamaForCausalLM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

CFG = dict(
    vocab_size=4096,
    hidden_size=256,
    intermediate_size=688,
    num_hidden_layers=5,
    num_attention_heads=8,
    num_key_value_heads=4,
    max_position_embeddings=512,
    rms_norm_eps=1e-5,
    rope_theta=10000.0,
    tie_word_embeddings=True,
    bos_token_id=1,
    eos_token_id=2,
)

PROMPT = "And the LORD said unto"
N_GENERATE = 60
PPL_CONTEXT = 512           # = max_position_embeddings: BOS + 511 text tokens per chunk

TOKENIZER_CASES = [
    "And the LORD said unto Moses,",
    "In the beginning God created the heaven and the earth.",
    "Hello world",
    "  two leading spaces",
    "trailing spaces  ",
    "multiple   inner    spaces",
    " ",
    "",
    "line one\nline two\n",
    "\n\nblank lines\n\n",
    "tab\tseparated\tcolumns\t",
    "carriage return\r\nnext line",
    "Numbers 3:16 and 1611, 42.",
    "na\u00efve caf\u00e9 \u2014 \u201cquoted\u201d \u2018text\u2019",
    "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8",
    "\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac \u03ba\u03b1\u03b9 \u0420\u0443\u0441\u0441\u043a\u0438\u0439",
    "\u05e2\u05d1\u05e8\u05d9\u05ea \u0648\u0627\u0644\u0639\u0631\u0628\u064a\u0629",
    "emoji \U0001F64F\U0001F525\U0001F44D\U0001F3FD and \U0001F468\u200d\U0001F469\u200d\U0001F467",
    "control \x01\x02\x1b[0m\x7f chars",
    "e\u0301 combining vs \u00e9 precomposed",
    "LORD's house; (selah) [sic] {x} ~!@#$%^&*_+=|\\/?",
]


def log(*a):
    print(*a, flush=True)


# ----------------------------------------------------------------------------
def load_stream(path, sp):
    text = open(path, encoding="utf-8").read()
    chapters = [c.strip("\n") + "\n" for c in text.split("\n\n") if c.strip()]
    stream, starts = [], []
    for ids in sp.encode(chapters):
        starts.append(len(stream))
        stream.extend([sp.bos_id()] + ids + [sp.eos_id()])
    return np.array(stream, dtype=np.int64), np.array(starts, dtype=np.int64), len(chapters)


def add_dropout(model, p):
    def hook(module, inputs, output):
        return F.dropout(output, p, module.training)
    hooks = [model.model.embed_tokens.register_forward_hook(hook)]
    for layer in model.model.layers:
        hooks.append(layer.self_attn.o_proj.register_forward_hook(hook))
        hooks.append(layer.mlp.register_forward_hook(hook))
    return hooks


@torch.no_grad()
def eval_windows(model, stream, T, starts, autocast=True, batch=64):
    """Mean next-token NLL over windows of T tokens beginning at `starts`."""
    was = model.training
    model.eval()
    total, count = 0.0, 0
    ar = torch.arange(T + 1, device=stream.device)
    for i in range(0, len(starts), batch):
        chunk = stream[starts[i:i + batch, None] + ar]
        x, y = chunk[:, :-1], chunk[:, 1:]
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=autocast):
            logits = model(input_ids=x).logits
        total += F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum").item()
        count += y.numel()
    model.train(was)
    return total / count


def train(args, sp):
    dev = torch.device("cuda")
    train_np, train_starts_np, n_train_ch = load_stream(os.path.join(args.data, "train.txt"), sp)
    val_np, _, n_val_ch = load_stream(os.path.join(args.data, "val.txt"), sp)
    log(f"train: {n_train_ch} chapters, {len(train_np)} tokens; val: {n_val_ch} chapters, {len(val_np)} tokens")
    stream = torch.from_numpy(train_np).to(dev)
    ch_starts = torch.from_numpy(train_starts_np).to(dev)
    val = torch.from_numpy(val_np).to(dev)
    T, B = args.seq_len, args.batch
    val_starts = torch.arange(0, len(val_np) - T - 1, T, device=dev)
    # fixed sample of training windows for an eval-mode training loss
    train_eval_starts = torch.linspace(0, len(train_np) - T - 2, 256, device=dev).long()

    torch.manual_seed(args.seed)
    config = LlamaConfig(**CFG, hidden_act="silu", attention_bias=False, mlp_bias=False,
                         initializer_range=0.02, use_cache=False)
    model = LlamaForCausalLM(config).to(dev)
    model.train()
    n_params = sum(p.numel() for p in model.parameters())
    log(f"model: {n_params} parameters, attn {getattr(model.config, '_attn_implementation', '?')}")
    hooks = add_dropout(model, args.dropout)

    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8, fused=True)
    gen = torch.Generator(device=dev)
    gen.manual_seed(args.seed)
    ar = torch.arange(T + 1, device=dev)
    n_aligned = B // 4

    def batch():
        off = torch.randint(0, len(train_np) - T - 1, (B,), device=dev, generator=gen)
        pick = torch.randint(0, len(train_starts_np), (n_aligned,), device=dev, generator=gen)
        off[:n_aligned] = torch.clamp(ch_starts[pick], max=len(train_np) - T - 1)
        chunk = stream[off[:, None] + ar]
        return chunk[:, :-1], chunk[:, 1:]

    total_steps = args.steps
    best = (float("inf"), -1, None)
    history = []
    t0 = time.time()
    ema = None
    step = 0
    while step < total_steps:
        if step < args.warmup:
            lr = args.lr * (step + 1) / args.warmup
        else:
            prog = (step - args.warmup) / max(1, total_steps - args.warmup)
            lr = args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * min(1.0, prog)))
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = batch()
        with torch.autocast("cuda", dtype=torch.bfloat16):
            logits = model(input_ids=x).logits
        loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        if step == 10:
            torch.cuda.synchronize()
            t10 = time.time()
        if step == 60 and args.time_budget > 0:
            torch.cuda.synchronize()
            per_step = (time.time() - t10) / 50
            fit = 60 + int((args.time_budget - (time.time() - t0)) / (per_step * 1.08))  # 8% for evals
            if fit < total_steps:
                total_steps = max(fit, args.warmup + 100)
            log(f"{per_step * 1000:.1f} ms/step -> {total_steps} steps")
        if step % 10 == 0:
            li = loss.item()
            ema = li if ema is None else 0.9 * ema + 0.1 * li
        if step % args.eval_every == 0 or step == total_steps:
            vl = eval_windows(model, val, T, val_starts)
            history.append({"step": step, "train_loss_ema": ema, "val_loss": vl, "lr": lr,
                            "seconds": round(time.time() - t0, 1)})
            log(f"step {step:5d}  lr {lr:.2e}  train(ema) {ema:.4f}  val {vl:.4f}  {time.time() - t0:6.1f}s")
            if vl < best[0]:
                best = (vl, step, {k: v.detach().float().cpu().clone() for k, v in model.state_dict().items()})
    train_seconds = time.time() - t0
    for h in hooks:
        h.remove()
    log(f"best val {best[0]:.4f} at step {best[1]} of {total_steps}; {train_seconds:.0f}s")

    # the shipped weights: best checkpoint rounded to f16
    model.load_state_dict({k: v.half().float() for k, v in best[2].items()})
    model.eval()
    torch.backends.cuda.matmul.allow_tf32 = False
    stats = {
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__, "transformers": transformers.__version__,
        "parameters": n_params,
        "train_tokens_per_epoch": int(len(train_np)), "val_tokens": int(len(val_np)),
        "train_chapters": n_train_ch, "val_chapters": n_val_ch,
        "seq_len": T, "batch": B, "steps": total_steps, "best_step": best[1],
        "tokens_seen": total_steps * B * T, "epochs": round(total_steps * B * T / len(train_np), 1),
        "lr": args.lr, "min_lr": args.min_lr, "warmup": args.warmup, "weight_decay": args.weight_decay,
        "dropout": args.dropout, "seed": args.seed, "train_seconds": round(train_seconds, 1),
        "val_loss_best_bf16": best[0],
        # f16 weights, f32 compute, dropout off, windows of T tokens:
        "val_loss_f16_weights": eval_windows(model, val, T, val_starts, autocast=False),
        "train_loss_f16_weights": eval_windows(model, stream, T, train_eval_starts, autocast=False),
        "history": history,
    }
    log(f"f16 weights, f32: train loss {stats['train_loss_f16_weights']:.4f}  val loss {stats['val_loss_f16_weights']:.4f}")
    state = {k: v.numpy() for k, v in best[2].items()}
    return state, stats


# ----------------------------------------------------------------------------
LLAMA2_NORMALIZER = {"type": "Sequence", "normalizers": [
    {"type": "Prepend", "prepend": "\u2581"},
    {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]}

HF_TOKENIZER_CONFIG = {
    "add_bos_token": True,
    "add_eos_token": False,
    "bos_token": "<s>",
    "clean_up_tokenization_spaces": False,
    "eos_token": "</s>",
    "legacy": True,
    "model_max_length": CFG["max_position_embeddings"],
    "pad_token": None,
    "sp_model_kwargs": {},
    "tokenizer_class": "LlamaTokenizer",
    "unk_token": "<unk>",
    "use_default_system_prompt": False,
}


def compare_tokenizer(encode, decode, sp, texts, with_bos=None):
    enc_bad, dec_bad = [], []
    for t in texts:
        ids = encode(t)
        if ids != sp.encode(t):
            enc_bad.append({"text": t[:80], "hf": ids[:40], "sp": sp.encode(t)[:40]})
        elif decode(ids) != t:
            dec_bad.append({"text": t[:80], "decode": decode(ids)[:80]})
    if with_bos is not None:
        got = with_bos(PROMPT)
        if got != [sp.bos_id()] + sp.encode(PROMPT):
            enc_bad.append({"text": PROMPT, "with_special": got})
    return enc_bad, dec_bad


def make_hf_tokenizer(hf_dir, sp, texts, report, scratch):
    """tokenizer.json + tokenizer_config.json for the HF folder.

    1. transformers converts tokenizer.model (AutoTokenizer on a folder holding it, then
       save_pretrained). transformers 5 writes a Metaspace pre-tokenizer with
       prepend_scheme "first", which does not add the "\u2581" prefix when the text already
       starts with a space, unlike sentencepiece (and llama.cpp).
    2. So the shipped tokenizer.json keeps transformers' vocabulary and merges but uses the
       normaliser of Llama 2's own tokenizer.json (Prepend "\u2581", Replace " " -> "\u2581",
       no pre-tokenizer), which always prepends, as sentencepiece does.
    Every candidate is loaded back (tokenizers.Tokenizer.from_file and AutoTokenizer) and
    compared with sentencepiece on `texts`; the first that matches everywhere is shipped."""
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer
    tok_model = os.path.join(hf_dir, "tokenizer.model")

    def check(name, d):
        entry = {"candidate": name, "files": sorted(os.listdir(d))}
        report.append(entry)
        try:
            raw = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
            e1, d1 = compare_tokenizer(lambda t: raw.encode(t, add_special_tokens=False).ids,
                                       lambda i: raw.decode(i), sp, texts,
                                       lambda t: raw.encode(t).ids)
            at = AutoTokenizer.from_pretrained(d)
            e2, d2 = compare_tokenizer(lambda t: at(t, add_special_tokens=False)["input_ids"],
                                       lambda i: at.decode(i), sp, texts, lambda t: at(t)["input_ids"])
            entry.update(auto_class=type(at).__name__,
                         tokenizers_lib={"encode_mismatches": len(e1), "decode_mismatches": len(d1),
                                         "examples": (e1 + d1)[:4]},
                         auto_tokenizer={"encode_mismatches": len(e2), "decode_mismatches": len(d2),
                                         "examples": (e2 + d2)[:4]})
            ok = not (e1 or d1 or e2 or d2)
            log(f"HF tokenizer {name}: tokenizers {len(e1)}/{len(d1)}, AutoTokenizer({type(at).__name__}) "
                f"{len(e2)}/{len(d2)} encode/decode mismatches")
            return ok
        except Exception:
            entry["error"] = traceback.format_exc()[-3000:]
            log(f"HF tokenizer {name}: failed\n{entry['error']}")
            return False

    # 1. transformers' own conversion
    src = os.path.join(scratch, "src")
    os.makedirs(src, exist_ok=True)
    shutil.copy(tok_model, src)
    json.dump({"tokenizer_class": "LlamaTokenizer", "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
               "add_bos_token": True, "add_eos_token": False}, open(os.path.join(src, "tokenizer_config.json"), "w"))
    native = os.path.join(scratch, "transformers_native")
    AutoTokenizer.from_pretrained(src).save_pretrained(native)
    shutil.copy(tok_model, native)
    candidates = []
    # 2. Llama 2 layout
    tj = json.load(open(os.path.join(native, "tokenizer.json"), encoding="utf-8"))
    assert len(tj["model"]["vocab"]) == CFG["vocab_size"]
    tj["normalizer"] = LLAMA2_NORMALIZER
    tj["pre_tokenizer"] = None
    tj["model"]["unk_token"] = "<unk>"
    for cls in ("LlamaTokenizer", "PreTrainedTokenizerFast"):
        d = os.path.join(scratch, f"llama2_layout_{cls}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(tj, f, ensure_ascii=False)
        with open(os.path.join(d, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump({**HF_TOKENIZER_CONFIG, "tokenizer_class": cls}, f, indent=2)
        shutil.copy(tok_model, d)
        candidates.append((f"llama2_layout_{cls}", d))
    candidates.append(("transformers_native", native))
    chosen = None
    for name, d in candidates:
        if check(name, d) and chosen is None:
            chosen = name
            for f in ("tokenizer.json", "tokenizer_config.json"):
                shutil.copy(os.path.join(d, f), os.path.join(hf_dir, f))
    if chosen is None:   # ship transformers' own files, mismatches documented in the report
        for f in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copy(os.path.join(native, f), os.path.join(hf_dir, f))
        chosen = "transformers_native (with mismatches)"
    for e in report:
        e["chosen"] = e["candidate"] == chosen
    return chosen


# ----------------------------------------------------------------------------
def reference(hf_dir, sp, heldout_rel, train_state_check):
    """Reference numbers from the exported folder, loaded back with from_pretrained, f32 on the CPU."""
    torch.set_num_threads(min(4, os.cpu_count() or 1))
    try:
        m32 = LlamaForCausalLM.from_pretrained(hf_dir, dtype=torch.float32, attn_implementation="eager")
    except TypeError:
        m32 = LlamaForCausalLM.from_pretrained(hf_dir, torch_dtype=torch.float32, attn_implementation="eager")
    m32 = m32.float().eval()
    checks = {"all_float32": all(p.dtype == torch.float32 for p in m32.parameters()),
              "lm_head_tied": torch.equal(m32.lm_head.weight, m32.model.embed_tokens.weight)}
    # loaded weights are exactly the f16-rounded trained weights
    sd = m32.state_dict()
    checks["weights_equal_f16_rounded_training_weights"] = all(
        torch.equal(sd[k], torch.from_numpy(v).half().float()) for k, v in train_state_check.items())
    log(f"loaded HF folder checks: {checks}")
    m64 = copy.deepcopy(m32).double()

    held_text = open(os.path.join(ROOT, heldout_rel), encoding="utf-8").read()
    held = sp.encode(held_text)
    bos = sp.bos_id()

    @torch.no_grad()
    def chunk_nll(m, ids, chunk):
        per = []
        for s in range(0, len(ids), chunk):
            seq = [bos] + ids[s:s + chunk]
            logits = m(input_ids=torch.tensor([seq])).logits[0].double()
            lp = torch.log_softmax(logits, -1)
            tgt = torch.tensor(seq[1:])
            per.extend((-lp[:-1].gather(1, tgt[:, None])[:, 0]).tolist())
        return per

    per32 = chunk_nll(m32, held, PPL_CONTEXT - 1)
    per64 = chunk_nll(m64, held, PPL_CONTEXT - 1)
    first32 = per32[:PPL_CONTEXT - 1]
    ppl = {
        "load_checks": checks,
        "definition": ("Text = models/kjv-heldout.txt exactly as stored (trailing newline included), "
                       "tokenized by sentencepiece without BOS/EOS. The ids are split into consecutive "
                       f"chunks of {PPL_CONTEXT - 1} tokens; each chunk is evaluated in a fresh context as "
                       f"[BOS] + chunk ({PPL_CONTEXT} positions at most = max_position_embeddings), "
                       "and every text token is scored once, predicted from BOS and the chunk tokens "
                       "before it (BOS itself is never a target, no EOS is added). "
                       "perplexity = exp(sum of -log p / number of text tokens). Model: LlamaForCausalLM "
                       "from models/kjv-llama (f16 weights) loaded in float32, eager attention, CPU; "
                       "log-softmax and the sum in float64."),
        "chunked": {"chunk_tokens": PPL_CONTEXT - 1, "context": PPL_CONTEXT, "scored_tokens": len(per32),
                    "chunks": math.ceil(len(held) / (PPL_CONTEXT - 1)),
                    "mean_nll": sum(per32) / len(per32), "perplexity": math.exp(sum(per32) / len(per32)),
                    "perplexity_float64_model": math.exp(sum(per64) / len(per64))},
        "first_window": {"definition": f"only the first chunk: [BOS] + the first {PPL_CONTEXT - 1} text tokens, one window",
                         "scored_tokens": len(first32), "mean_nll": sum(first32) / len(first32),
                         "perplexity": math.exp(sum(first32) / len(first32))},
        "per_token_nll_float32": [round(x, 6) for x in per32],
    }
    log(f"held-out: {len(held)} tokens, perplexity f32 {ppl['chunked']['perplexity']:.4f} "
        f"(f64 model {ppl['chunked']['perplexity_float64_model']:.4f}), first window {ppl['first_window']['perplexity']:.4f}")

    @torch.no_grad()
    def greedy(m, ids, n):
        seq, margins = list(ids), []
        for _ in range(n):
            logits = m(input_ids=torch.tensor([seq])).logits[0, -1]
            top = torch.topk(logits.double(), 2)
            margins.append(float(top.values[0] - top.values[1]))
            seq.append(int(top.indices[0]))
        return seq[len(ids):], margins

    prompt_ids = [bos] + sp.encode(PROMPT)
    g32, margins = greedy(m32, prompt_ids, N_GENERATE)
    g64, _ = greedy(m64, prompt_ids, N_GENERATE)
    with torch.no_grad():
        last = m32(input_ids=torch.tensor([prompt_ids])).logits[0, -1]
        prompt_logits = m32(input_ids=torch.tensor([prompt_ids])).logits[0]
    top8 = torch.topk(last, 8)
    gen = {
        "definition": (f"Prompt '{PROMPT}' tokenized by sentencepiece with BOS prepended; {N_GENERATE} tokens "
                       "chosen greedily (argmax, no penalties, not stopped at EOS), each step recomputing the "
                       "whole sequence; model as for the perplexity (f32, CPU)."),
        "prompt": PROMPT,
        "prompt_ids": prompt_ids,
        "greedy_ids": g32,
        "greedy_text": sp.decode(g32),
        "full_text": sp.decode(prompt_ids[1:] + g32),
        "eos_in_greedy": sp.eos_id() in g32,
        "float64_model_same_ids": g64 == g32,
        "min_top1_top2_logit_margin": min(margins),
        "last_prompt_logits_first8": [float(x) for x in last[:8]],
        "last_prompt_top8": [[int(i), float(v)] for v, i in zip(top8.values, top8.indices)],
        "prompt_argmax_per_position": [int(i) for i in prompt_logits.argmax(-1)],
    }
    log("greedy:", repr(gen["full_text"]))
    log(f"min top1-top2 margin {min(margins):.4f}; f64 same ids: {g64 == g32}")

    samples = []
    gen_t = torch.Generator().manual_seed(0)
    for prompt in (PROMPT, "In the beginning", "Blessed are", "And Jesus said"):
        ids = [bos] + sp.encode(prompt)
        with torch.no_grad():
            for _ in range(N_GENERATE):
                logits = m32(input_ids=torch.tensor([ids])).logits[0, -1] / 0.7
                ids.append(int(torch.multinomial(torch.softmax(logits, -1), 1, generator=gen_t)))
        samples.append(sp.decode(ids[1:]))
        log(f"sample (T=0.7): {samples[-1]!r}")
    return ppl, gen, samples, held


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", default=os.path.join(ROOT, "models/train/data"))
    ap.add_argument("--tokenizer", default=os.path.join(ROOT, "models/kjv-llama/tokenizer.model"))
    ap.add_argument("--heldout", default="models/kjv-heldout.txt")
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--time-budget", type=float, default=0.0, help="if > 0: fewer steps so training ends within this many seconds")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seq-len", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument("--min-lr", type=float, default=1e-4)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--dropout", type=float, default=0.2)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()

    log(f"torch {torch.__version__}, transformers {transformers.__version__}, sentencepiece {spm.__version__}, "
        f"{torch.cuda.get_device_name(0)}")
    sp = spm.SentencePieceProcessor(model_file=args.tokenizer)
    assert sp.get_piece_size() == CFG["vocab_size"] and sp.bos_id() == 1 and sp.eos_id() == 2 and sp.unk_id() == 0

    state, stats = train(args, sp)

    hf_dir = os.path.join(args.out, "kjv-llama")
    export.write_hf_model(hf_dir, state, CFG, transformers.__version__)
    shutil.copy(args.tokenizer, os.path.join(hf_dir, "tokenizer.model"))

    ppl, gen, samples, held = reference(hf_dir, sp, args.heldout, state)

    cases = [{"text": t, "ids": sp.encode(t), "pieces": sp.encode(t, out_type=str)} for t in TOKENIZER_CASES]
    for c in cases:
        assert sp.decode(c["ids"]) == c["text"], c["text"]
    val_text = open(os.path.join(args.data, "val.txt"), encoding="utf-8").read()
    held_text = open(os.path.join(ROOT, args.heldout), encoding="utf-8").read()
    tok_report = []
    ok = make_hf_tokenizer(hf_dir, sp, TOKENIZER_CASES + [held_text, val_text, PROMPT], tok_report,
                           os.path.join(args.out, "tok_candidates"))
    json.dump(tok_report, open(os.path.join(args.out, "tokenizer_report.json"), "w"), indent=1)

    ref = {
        "model": "models/kjv-llama (HF) and models/kjv-llama.gguf (same f16 weights)",
        "config": CFG,
        "tokenizer": {"model": "models/kjv-llama/tokenizer.model", "library": f"sentencepiece {spm.__version__}",
                      "unk_id": sp.unk_id(), "bos_id": sp.bos_id(), "eos_id": sp.eos_id(), "add_bos": True,
                      "hf_tokenizer_files_from": ok},
        "heldout": {"file": args.heldout, "bytes": len(held_text.encode("utf-8")),
                    "ids": [sp.bos_id()] + held, "note": "ids[0] is BOS; the rest is sentencepiece(text)"},
        "perplexity": ppl,
        "generation": gen,
        "samples_temperature_0.7_seed0": samples,
        "tokenizer_cases": cases,
        "tokenizer_cases_note": "sentencepiece encode(text) with add_bos=False, add_eos=False; decode(ids) == text for all",
        "training": stats,
    }
    with open(os.path.join(args.out, "kjv-reference.json"), "w", encoding="utf-8") as f:
        json.dump(ref, f, indent=1, ensure_ascii=False)
        f.write("\n")
    log("done")


if __name__ == "__main__":
    main()
