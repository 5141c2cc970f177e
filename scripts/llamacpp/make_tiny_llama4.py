#!/usr/bin/env python3
"""Write a tiny random Llama-4-Scout-shaped GGUF that the pinned llama.cpp loads and runs.

It is a loadability reference for scout-eval's own random-model generator: it writes the
same metadata keys that llama.cpp's convert_hf_to_gguf.py writes for Llama-4-Scout (see
docs/REFERENCE-LLAMACPP.md, "llama4 in llama.cpp"), with every key spelled out, the tensor
names and ggml shapes llama.cpp's llama4 loader asks for, and a tiny byte-level BPE vocab
(256 byte tokens + Llama 4 special tokens, no merges) with the "llama4" pre-tokenizer.

  .cache/venv/bin/python scripts/llamacpp/make_tiny_llama4.py OUT.gguf [--seed 0]
      [--embd 64] [--heads 4] [--kv-heads 2] [--layers 4] [--experts 4] [--ff 32]
      [--moe-step 1] [--no-rope-freqs] [--type f32|f16]

Then e.g.:  .cache/llama.cpp/build/bin/ref-logits --model OUT.gguf --prompt-file P --out D
"""
import argparse
import math

import numpy as np
import gguf

SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|header_start|>", "<|header_end|>",
            "<|eot|>", "<|eom|>", "<|python_start|>", "<|finetune_right_pad|>"]


def gpt2_byte_tokens():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    m = dict(zip(bs, cs))
    return [chr(m[b]) for b in range(256)]


def llama3_rope_factors(head_dim, theta, factor=16.0, low=1.0, high=1.0, orig=8192):
    # same computation as convert_hf_to_gguf.py LlamaModel.generate_extra_tensors (rope_type llama3)
    freqs = 1.0 / (theta ** (np.arange(0, head_dim, 2, dtype=np.float32) / head_dim))
    low_wl, high_wl = orig / low, orig / high
    out = []
    for f in freqs:
        wl = 2 * math.pi / f
        if wl < high_wl:
            out.append(1.0)
        elif wl > low_wl:
            out.append(factor)
        else:
            s = (orig / wl - low) / (high - low)
            out.append(1 / ((1 - s) / factor + s))
    return np.array(out, dtype=np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--embd", type=int, default=64)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--head-dim", type=int, default=0, help="default embd/heads")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--experts", type=int, default=4)
    ap.add_argument("--experts-used", type=int, default=1)
    ap.add_argument("--ff", type=int, default=32, help="expert (and shared expert) FFN width")
    ap.add_argument("--ff-dense", type=int, default=48, help="dense-layer FFN width (moe-step > 1)")
    ap.add_argument("--moe-step", type=int, default=1, help="interleave_moe_layer_step (Scout: 1)")
    ap.add_argument("--theta", type=float, default=500000.0)
    ap.add_argument("--no-rope-freqs", action="store_true")
    ap.add_argument("--type", choices=["f32", "f16"], default="f32")
    a = ap.parse_args()

    rng = np.random.default_rng(a.seed)
    hd = a.head_dim or a.embd // a.heads
    E, H, KV, L, X, F = a.embd, a.heads, a.kv_heads, a.layers, a.experts, a.ff
    byte_toks = gpt2_byte_tokens()
    tokens = byte_toks + SPECIALS
    ttypes = [gguf.TokenType.NORMAL] * 256 + [gguf.TokenType.CONTROL] * len(SPECIALS)
    V = len(tokens)
    wdt = np.float32 if a.type == "f32" else np.float16

    w = gguf.GGUFWriter(a.out, "llama4")
    # --- metadata: the keys convert_hf_to_gguf.py writes for Llama4ForConditionalGeneration
    w.add_string("general.name", "tiny-llama4-random")
    w.add_uint32("general.file_type", 0 if a.type == "f32" else 1)
    w.add_uint32("llama4.vocab_size", V)
    w.add_uint32("llama4.context_length", 10485760)           # Scout: max_position_embeddings
    w.add_uint32("llama4.embedding_length", E)
    w.add_uint32("llama4.block_count", L)
    w.add_uint32("llama4.feed_forward_length", a.ff_dense)   # HF intermediate_size_mlp
    w.add_uint32("llama4.expert_feed_forward_length", F)     # HF intermediate_size
    w.add_uint32("llama4.interleave_moe_layer_step", a.moe_step)
    w.add_uint32("llama4.expert_count", X)
    w.add_uint32("llama4.expert_used_count", a.experts_used)
    w.add_uint32("llama4.attention.head_count", H)
    w.add_uint32("llama4.attention.head_count_kv", KV)
    w.add_uint32("llama4.attention.key_length", hd)
    w.add_uint32("llama4.attention.value_length", hd)
    w.add_uint32("llama4.rope.dimension_count", hd)
    w.add_float32("llama4.rope.freq_base", a.theta)
    w.add_float32("llama4.attention.layer_norm_rms_epsilon", 1e-5)
    # NOT written (as for the real Scout): llama4.attention.sliding_window -> llama.cpp then
    # uses chunked attention with a fixed chunk of 8192 and the 3-chunked/1-full pattern.
    # --- tokenizer
    w.add_string("tokenizer.ggml.model", "gpt2")
    w.add_string("tokenizer.ggml.pre", "llama4")
    w.add_array("tokenizer.ggml.tokens", tokens)
    w.add_array("tokenizer.ggml.token_type", [int(t) for t in ttypes])
    w.add_array("tokenizer.ggml.merges", ["Ġ t"])  # the key must exist; one harmless merge
    w.add_uint32("tokenizer.ggml.bos_token_id", 256)
    w.add_uint32("tokenizer.ggml.eos_token_id", 256 + SPECIALS.index("<|eot|>"))
    w.add_uint32("tokenizer.ggml.padding_token_id", 256 + SPECIALS.index("<|finetune_right_pad|>"))
    w.add_bool("tokenizer.ggml.add_bos_token", True)

    def t(name, shape_ggml, scale=0.05, dtype=None, data=None):
        # GGUF/ggml shape order is ne0 first; numpy wants the reverse
        if data is None:
            data = rng.standard_normal(tuple(reversed(shape_ggml)), dtype=np.float32) * scale
        w.add_tensor(name, data.astype(dtype or wdt))

    ones = lambda n: (1.0 + 0.1 * rng.standard_normal(n)).astype(np.float32)
    t("token_embd.weight", [E, V], 0.5)
    if not a.no_rope_freqs:
        t("rope_freqs.weight", [hd // 2], data=llama3_rope_factors(hd, a.theta), dtype=np.float32)
    for i in range(L):
        p = f"blk.{i}."
        t(p + "attn_norm.weight", [E], data=ones(E), dtype=np.float32)
        t(p + "attn_q.weight", [E, H * hd], 1 / math.sqrt(E))
        t(p + "attn_k.weight", [E, KV * hd], 1 / math.sqrt(E))
        t(p + "attn_v.weight", [E, KV * hd], 1 / math.sqrt(E))
        t(p + "attn_output.weight", [H * hd, E], 1 / math.sqrt(H * hd))
        t(p + "ffn_norm.weight", [E], data=ones(E), dtype=np.float32)
        if a.moe_step > 0 and (i + 1) % a.moe_step == 0:
            t(p + "ffn_gate_inp.weight", [E, X], 1 / math.sqrt(E), dtype=np.float32)
            t(p + "ffn_gate_exps.weight", [E, F, X], 1 / math.sqrt(E))
            t(p + "ffn_up_exps.weight", [E, F, X], 1 / math.sqrt(E))
            t(p + "ffn_down_exps.weight", [F, E, X], 1 / math.sqrt(F))
            t(p + "ffn_gate_shexp.weight", [E, F], 1 / math.sqrt(E))
            t(p + "ffn_up_shexp.weight", [E, F], 1 / math.sqrt(E))
            t(p + "ffn_down_shexp.weight", [F, E], 1 / math.sqrt(F))
        else:
            t(p + "ffn_gate.weight", [E, a.ff_dense], 1 / math.sqrt(E))
            t(p + "ffn_up.weight", [E, a.ff_dense], 1 / math.sqrt(E))
            t(p + "ffn_down.weight", [a.ff_dense, E], 1 / math.sqrt(a.ff_dense))
    t("output_norm.weight", [E], data=ones(E), dtype=np.float32)
    t("output.weight", [E, V], 1 / math.sqrt(E))

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"wrote {a.out}: llama4, n_vocab {V}, n_embd {E}, heads {H}/{KV}x{hd}, layers {L}, "
          f"experts {X} (top-{a.experts_used}), ff {F}, moe_step {a.moe_step}")


if __name__ == "__main__":
    main()
