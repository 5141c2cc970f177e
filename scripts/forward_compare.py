#!/usr/bin/env python3
"""Compare two logits dumps in the ref-logits format (DIR/i.tokens.json + DIR/i.logits.f32).

  scripts/forward_compare.py REF_DIR OURS_DIR [--json]

For every prompt both dumps hold (same token ids required) and every position, with the
REFERENCE's top token r:
  top-1 agreement       argmax(ours) == r
  |dlogprob|            |log_softmax(ours)[r] - log_softmax(ref)[r]|
  max |dlogit|          after centring each row on its mean (logits are shift-invariant)
Prints per-prompt and overall numbers: top-1 agreement, median / p95 / max |dlogprob|.
"""
import argparse
import json
import os
import sys

import numpy as np


def load(d, i):
    with open(os.path.join(d, f"{i}.tokens.json")) as f:
        toks = json.load(f)
    logits = np.fromfile(os.path.join(d, f"{i}.logits.f32"), dtype="<f4")
    return toks, logits.reshape(len(toks), -1).astype(np.float64)


def log_softmax(x):
    m = x.max(axis=1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))


def compare(ref_dir, ours_dir):
    i, rows = 0, []
    per_prompt = []
    while os.path.exists(os.path.join(ref_dir, f"{i}.tokens.json")):
        rt, rl = load(ref_dir, i)
        ot, ol = load(ours_dir, i)
        if rt != ot:
            sys.exit(f"prompt {i}: token ids differ:\n ref  {rt}\n ours {ot}")
        rlp, olp = log_softmax(rl), log_softmax(ol)
        top = rl.argmax(axis=1)
        idx = np.arange(len(rt))
        agree = ol.argmax(axis=1) == top
        dlp = np.abs(olp[idx, top] - rlp[idx, top])
        dlogit = np.abs((ol - ol.mean(axis=1, keepdims=True)) - (rl - rl.mean(axis=1, keepdims=True))).max()
        per_prompt.append({"prompt": i, "n_tokens": len(rt), "top1": float(agree.mean()),
                           "median_dlogprob": float(np.median(dlp)), "max_dlogprob": float(dlp.max()),
                           "max_dlogit": float(dlogit)})
        rows.append((agree, dlp))
        i += 1
    if not rows:
        sys.exit(f"no prompts in {ref_dir}")
    agree = np.concatenate([a for a, _ in rows])
    dlp = np.concatenate([d for _, d in rows])
    return {"n_prompts": i, "n_positions": int(agree.size), "top1": float(agree.mean()),
            "median_dlogprob": float(np.median(dlp)), "p95_dlogprob": float(np.percentile(dlp, 95)),
            "max_dlogprob": float(dlp.max()), "prompts": per_prompt}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ref")
    ap.add_argument("ours")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    r = compare(a.ref, a.ours)
    if a.json:
        print(json.dumps(r, indent=1))
        return
    for p in r["prompts"]:
        print(f"prompt {p['prompt']}: {p['n_tokens']} tokens, top-1 {p['top1']:.3f}, "
              f"median |dlogprob| {p['median_dlogprob']:.2e}, max {p['max_dlogprob']:.2e}, max |dlogit| {p['max_dlogit']:.2e}")
    print(f"all: {r['n_positions']} positions, top-1 agreement {r['top1']:.4f}, median |dlogprob| "
          f"{r['median_dlogprob']:.2e}, p95 {r['p95_dlogprob']:.2e}, max {r['max_dlogprob']:.2e}")


if __name__ == "__main__":
    main()
