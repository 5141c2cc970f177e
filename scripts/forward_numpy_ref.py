#!/usr/bin/env python3
"""An independent, deliberately plain numpy (float64) forward pass for llama / llama4 GGUFs.

It is the oracle for scout-eval's engine on what llama.cpp cannot check cheaply: llama4's
chunked attention and NoPE attention temperature only act past 8192 positions, so here both
can be shrunk (--chunk, --temp-floor) and the engine run with the same override.

Written from the model definitions (Hugging Face transformers modeling_llama4.py /
modeling_llama.py, with GGUF's tensor layout), not from the C++ code, and in a different
style: whole-sequence matrices, explicit attention masks, complex-number RoPE, and a dense
evaluation of every expert followed by selection.

  .cache/venv/bin/python scripts/forward_numpy_ref.py MODEL.gguf --tokens-from DIR --out OUT
        [--chunk N] [--temp-floor N]

--tokens-from DIR reads DIR/i.tokens.json (e.g. a ref-logits dump); OUT receives
OUT/i.tokens.json and OUT/i.logits.f32 (float32 [n_tokens x n_vocab]) in the same format.
"""
import argparse
import json
import os

import numpy as np
import gguf


class Model:
    def __init__(self, path):
        r = gguf.GGUFReader(path)
        self.meta = {k: self._value(f) for k, f in r.fields.items()}
        self.arch = self.meta["general.architecture"]
        self.w = {}
        for t in r.tensors:
            a = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float64)
            self.w[t.name] = a.reshape([int(d) for d in reversed(t.shape)])
        a = self.arch + "."
        m = self.meta
        self.n_layer = m[a + "block_count"]
        self.n_head = m[a + "attention.head_count"]
        self.n_head_kv = m.get(a + "attention.head_count_kv", self.n_head)
        self.n_embd = m[a + "embedding_length"]
        self.head_dim = m.get(a + "attention.key_length", self.n_embd // self.n_head)
        self.n_rot = m.get(a + "rope.dimension_count", self.head_dim)
        self.base = m.get(a + "rope.freq_base", 10000.0)
        self.eps = m[a + "attention.layer_norm_rms_epsilon"]
        self.n_expert = m.get(a + "expert_count", 0)
        self.n_used = m.get(a + "expert_used_count", 0)
        self.moe_step = m.get(a + "interleave_moe_layer_step", 1)
        self.is_llama4 = self.arch == "llama4"
        # Llama 4: every 4th layer global NoPE, others chunked RoPE (HF no_rope_layers,
        # attention_chunk_size 8192); temperature floor_scale 8192, attn_scale 0.1.
        self.chunk = 8192 if self.is_llama4 else 0
        self.temp_floor, self.temp_scale = 8192, 0.1
        self.qk_norm = self.is_llama4 and self.n_expert != 128
        self.out_w = self.w.get("output.weight", self.w["token_embd.weight"])

    @staticmethod
    def _value(f):
        vt = f.types[0]
        if vt == gguf.GGUFValueType.STRING:
            return bytes(f.parts[f.data[0]]).decode("utf-8", "replace")
        if vt == gguf.GGUFValueType.ARRAY:
            return None  # arrays (vocab) are not needed here
        v = f.parts[f.data[0]][0]
        return float(v) if vt in (gguf.GGUFValueType.FLOAT32, gguf.GGUFValueType.FLOAT64) else int(v)

    def nope(self, il):
        return self.is_llama4 and (il + 1) % 4 == 0

    def moe(self, il):
        return self.n_expert > 0 and (il + 1) % self.moe_step == 0


def rms(x, eps):
    return x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + eps)


def silu(x):
    return x / (1.0 + np.exp(-x))


def rope(x, pos, m):
    """x [T, heads, head_dim]; adjacent pairs (2i, 2i+1) as complex numbers, rotated by
    pos * base^(-2i/n_rot) / rope_freqs[i]."""
    half = m.n_rot // 2
    inv_freq = m.base ** (-2.0 * np.arange(half) / m.n_rot)
    if "rope_freqs.weight" in m.w:
        inv_freq = inv_freq / m.w["rope_freqs.weight"]
    angle = pos[:, None] * inv_freq[None, :]                       # [T, half]
    z = x[..., 0:m.n_rot:2] + 1j * x[..., 1:m.n_rot:2]             # [T, heads, half]
    z = z * np.exp(1j * angle)[:, None, :]
    out = x.copy()
    out[..., 0:m.n_rot:2] = z.real
    out[..., 1:m.n_rot:2] = z.imag
    return out


def attention_mask(T, chunk):
    p = np.arange(T)[:, None]
    j = np.arange(T)[None, :]
    allowed = j <= p
    if chunk:
        allowed &= (j // chunk) == (p // chunk)
    return allowed


def swiglu(h, gate, up, down):
    return (silu(h @ gate.T) * (h @ up.T)) @ down.T


def layer(m, il, x, pos):
    b = f"blk.{il}."
    w = m.w
    T = x.shape[0]
    hd = m.head_dim
    h = rms(x, m.eps) * w[b + "attn_norm.weight"]
    q = (h @ w[b + "attn_q.weight"].T).reshape(T, m.n_head, hd)
    k = (h @ w[b + "attn_k.weight"].T).reshape(T, m.n_head_kv, hd)
    v = (h @ w[b + "attn_v.weight"].T).reshape(T, m.n_head_kv, hd)
    nope = m.nope(il)
    if nope:
        temp = np.log(np.floor((pos + 1) / m.temp_floor) + 1) * m.temp_scale + 1
        q = q * temp[:, None, None]
        mask = attention_mask(T, 0)
    else:
        q, k = rope(q, pos, m), rope(k, pos, m)
        if m.qk_norm:
            q, k = rms(q, m.eps), rms(k, m.eps)
        mask = attention_mask(T, m.chunk)
    group = m.n_head // m.n_head_kv
    k = np.repeat(k, group, axis=1)
    v = np.repeat(v, group, axis=1)
    scores = np.einsum("thd,shd->hts", q, k) / np.sqrt(hd)
    scores = np.where(mask[None], scores, -np.inf)
    scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
    probs = scores / scores.sum(axis=-1, keepdims=True)
    att = np.einsum("hts,shd->thd", probs, v).reshape(T, m.n_head * hd)
    x = x + att @ w[b + "attn_output.weight"].T

    h = rms(x, m.eps) * w[b + "ffn_norm.weight"]
    if not m.moe(il):
        return x + swiglu(h, w[b + "ffn_gate.weight"], w[b + "ffn_up.weight"], w[b + "ffn_down.weight"])
    logits = h @ w[b + "ffn_gate_inp.weight"].T                    # [T, E]
    gate, up, down = (w[b + f"ffn_{n}_exps.weight"] for n in ("gate", "up", "down"))
    y = swiglu(h, w[b + "ffn_gate_shexp.weight"], w[b + "ffn_up_shexp.weight"], w[b + "ffn_down_shexp.weight"])
    for t in range(T):
        # top-k on the raw logits (stable: ties to the lower index); sigmoid weight scales the
        # expert's input, as Llama4TextMoe does (router_scores * hidden_states).
        chosen = np.argsort(-logits[t], kind="stable")[: m.n_used]
        for e in chosen:
            wgt = 1.0 / (1.0 + np.exp(-logits[t, e]))
            y[t] += swiglu(h[t] * wgt, gate[e], up[e], down[e])
    return x + y


def forward(m, tokens):
    x = m.w["token_embd.weight"][np.array(tokens)]
    pos = np.arange(len(tokens), dtype=np.float64)
    for il in range(m.n_layer):
        x = layer(m, il, x, pos)
    return (rms(x, m.eps) * m.w["output_norm.weight"]) @ m.out_w.T


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--tokens-from", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--chunk", type=int, default=None, help="llama4 attention chunk (default 8192)")
    ap.add_argument("--temp-floor", type=int, default=None, help="llama4 temperature floor_scale (default 8192)")
    a = ap.parse_args()
    m = Model(a.model)
    if a.chunk is not None:
        m.chunk = a.chunk
    if a.temp_floor is not None:
        m.temp_floor = a.temp_floor
    os.makedirs(a.out, exist_ok=True)
    i = 0
    while os.path.exists(os.path.join(a.tokens_from, f"{i}.tokens.json")):
        with open(os.path.join(a.tokens_from, f"{i}.tokens.json")) as f:
            tokens = json.load(f)
        logits = forward(m, tokens).astype("<f4")
        with open(os.path.join(a.out, f"{i}.tokens.json"), "w") as f:
            f.write(json.dumps(tokens) + "\n")
        logits.tofile(os.path.join(a.out, f"{i}.logits.f32"))
        i += 1
    print(f"forward_numpy_ref: {i} prompts -> {a.out}")


if __name__ == "__main__":
    main()
