#!/usr/bin/env python3
"""Print a ref-logits dump in readable form: for each prompt, each position's token and the
argmax (top-k) next-token predictions, decoded with the vocabulary stored in the GGUF.

  .cache/venv/bin/python scripts/llamacpp/show_logits.py --model M.gguf --dump DIR [--top 3]

Needs numpy and gguf (both in .cache/venv from scripts/setup.sh). Decoding is the GPT-2
byte-level mapping for BPE vocabs and the U+2581 space marker for SPM vocabs; it is for
eyeballing only, not an oracle.
"""
import argparse
import json
import os
import sys

import numpy as np
from gguf import GGUFReader


def byte_decoder():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def load_vocab(path):
    r = GGUFReader(path)
    f = r.fields["tokenizer.ggml.tokens"]
    toks = [bytes(f.parts[i]).decode("utf-8", "replace") for i in f.data]
    model = bytes(r.fields["tokenizer.ggml.model"].parts[-1]).decode()
    return toks, model


def piece(tok, model, bd):
    if model == "gpt2":
        return bytes(bd.get(ch, ord("?")) for ch in tok).decode("utf-8", "replace")
    if model == "llama":
        return tok.replace("\u2581", " ")
    return tok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--dump", required=True)
    ap.add_argument("--top", type=int, default=3)
    a = ap.parse_args()
    toks, model = load_vocab(a.model)
    bd = byte_decoder()
    meta = json.load(open(os.path.join(a.dump, "meta.json")))
    n_vocab = meta["n_vocab"]
    for i in range(meta["n_prompts"]):
        ids = json.load(open(os.path.join(a.dump, f"{i}.tokens.json")))
        lg = np.fromfile(os.path.join(a.dump, f"{i}.logits.f32"), dtype="<f4")
        if lg.size != len(ids) * n_vocab:
            sys.exit(f"prompt {i}: {lg.size} floats, expected {len(ids)} x {n_vocab}")
        lg = lg.reshape(len(ids), n_vocab)
        text = "".join(piece(toks[t], model, bd) for t in ids)
        print(f"== prompt {i}: {len(ids)} tokens: {text!r}")
        for p, t in enumerate(ids):
            top = np.argsort(-lg[p])[: a.top]
            preds = ", ".join(f"{piece(toks[k], model, bd)!r}({lg[p][k]:.2f})" for k in top)
            print(f"  {p:4d} {t:6d} {piece(toks[t], model, bd)!r:>16} -> {preds}")
        # greedy continuation implied by the last row
        print(f"  next: {piece(toks[int(np.argmax(lg[-1]))], model, bd)!r}")


if __name__ == "__main__":
    main()
