#!/usr/bin/env python3
"""Regenerate the tokenizer test fixtures in tests/data/tokenizer/ from independent oracles.

Oracles (never our own C++ code):
  * llama.cpp's vocab test vectors (ggml-vocab-*.gguf + .inp/.out, made by Hugging Face
    `transformers` from the original tokenizers), copied from the llama.cpp sources vendored in
    the llama-cpp-python sdist on PyPI:  --llama-cpp DIR (the vendor/llama.cpp directory).
  * The Hugging Face `tokenizers` library (PyPI), given the vocabulary and merges read from a
    GGUF with the `gguf` package and the pre-tokenizer pipeline of the model's tokenizer.json:
      smollm2   SmolLM2-135M-Instruct: Digits(individual) + ByteLevel(regex)   (its GGUF)
      llama3    Llama 3 regex Split + ByteLevel, ignore_merges                  (llama-bpe vocab)
      llama4    Llama 4 / GPT-4o regex Split + ByteLevel                       (llama-bpe vocab)
    Each encodes tests/data/tokenizer/corpus.inp twice: with the special tokens registered
    (our parse_special=true) and without (parse_special=false).

Usage:
  python scripts/tokenizer_fixture.py --smollm2 .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf \
      [--llama-cpp .cache/sdist-tok/llama_cpp_python-*/vendor/llama.cpp]
Needs: pip install gguf tokenizers
"""
import argparse
import hashlib
import os
import shutil
import sys

import gguf
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "data", "tokenizer")
SEP = "\n__ggml_vocab_test__\n"

LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
                r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
# Llama 4's tokenizer.json pattern (the GPT-4o one).
LLAMA4_REGEX = (r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+"
                r"(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+"
                r"[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}|"
                r" ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")

CONTROL = 3
USER_DEFINED = 4

# The corpus: each entry one test case. Written to corpus.inp in llama.cpp's .inp format.
CORPUS = [
    "Hello world", " Hello world", "Hello World!", "  leading and trailing  ", "",
    " ", "  ", "\t", "\n", "\n\n\n", "\r\n", " \r\n \n", "a\n\n\nb", "x  \n  y", "end with spaces   ",
    "tabs\tand\t\tmore\t\t\ttabs", "mixed \t \n \t whitespace", "nbsp\u00a0here and\u3000ideographic",
    "I'm sure they'll say it's fine, we've done what'd be right", "DON'T SHOUT, I'M HERE, YOU'LL SEE",
    "O'Neil's 'quoted' ''double'' 's", "rock 'n' roll",
    "3", "33", "333", "3333", "1234567890", "3.14159 and 2,718,281", "x1y22z333w4444",
    "phone: +1 (555) 010-9999", "٣٤٥ Arabic-Indic digits, superscript x² and ½ and Ⅻ",
    "Äpfel ÜBER straße ÉCOLE École", "naïve café résumé coöperate", "e\u0301 (e + combining acute)",
    "ǅungla ǈubljana Ǆ titlecase", "İstanbul ıi Iİ", "ΑΘΗΝΑ Αθήνα", "ПРИВЕТ Привет мир",
    "нещо на Български", "שָׁלוֹם עולם", "مرحبا بالعالم", "नमस्ते दुनिया", "สวัสดีชาวโลก",
    "你好，世界！我想在apple工作1314151天～", "日本語のテキスト、カタカナとひらがな。", "한국어 텍스트입니다",
    "emoji 🦙🚀 ✅ 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈", "😶‍🌫️ (multiple emojis concatenated)", "math ∑∫∂ ≤≥ → ⇒ ∞",
    "def f(x):\n    return x ** 2  # square\n", "int main() {\n\tstd::cout << \"hi\\n\";\n\treturn 0;\n}\n",
    "    four spaces\n        eight spaces\n", "if (a && b || !c) { x->y[i] = *p++; }",
    "path/to/file.txt and http://example.com/a?b=c&d=e#f", "<html><body class=\"x\">text</body></html>",
    "snake_case camelCase PascalCase SCREAMING_CASE kebab-case", "JSONParser HTTPServer iPhone eBay",
    "...!!!???---___===+++", "$100 €50 ¥1000 £20", "a.b,c;d:e!f?g", "(parens) [brackets] {braces}",
    "user@example.com #hashtag @mention", "--flag=value -x", "C:\\Windows\\System32",
    "\u200bzero\u200dwidth\u2060joiners", "\ufeffBOM at start", "control\x01\x02\x7f chars", "\u0000nul",
    "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n",
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
    "<|endoftext|><|endoftext|>text<|im_end|>more", "<|im_start<|im_end|>|> nested-ish <|",
    "<|header_start|>user<|header_end|>\n\nhello<|eot|>", "<file_sep><filename>a.py\n<gh_stars>10",
    "ÜBERstraße McDONALD's HELLO'S world'LL ΣΊΣΥΦΟΣ Σίσυφος ﬁnance",
    "A\u0301BC \u0301abc x\u0301\u0302y \u0301\u0302 ǅǅa ʰmodifier ªordinal",
    "'S'T'RE'VE'M'LL'D 's't 'x ''", "a/b//c /// x/\n/y",
    "a" * 300, " " * 100 + "x", "\n" * 50, "ab" * 200 + " " + "0123456789" * 30,
]


def write_corpus():
    path = os.path.join(OUT, "corpus.inp")
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(SEP.join(CORPUS))
    return CORPUS


def long_text():
    """A long document (> 64 KiB) built from the corpus, for the chunked-encoding path."""
    parts = []
    i = 0
    while sum(len(p) for p in parts) < 150_000:
        parts.append(CORPUS[i % len(CORPUS)])
        i += 1
    return "\n".join(parts)


def read_gguf_vocab(path):
    r = gguf.GGUFReader(path)
    f = r.fields
    tokens = f["tokenizer.ggml.tokens"].contents()
    types = f["tokenizer.ggml.token_type"].contents()
    merges = f["tokenizer.ggml.merges"].contents()
    return tokens, types, merges


def hf_tokenizer(tokens, types, merges, pre, ignore_merges, with_specials):
    vocab = {t: i for i, t in enumerate(tokens)}
    pairs = [tuple(m.split(" ", 1)) for m in merges]
    tk = Tokenizer(models.BPE(vocab=vocab, merges=pairs, ignore_merges=ignore_merges,
                              fuse_unk=False, byte_fallback=False))
    tk.pre_tokenizer = pre
    tk.decoder = decoders.ByteLevel()
    if with_specials:
        tk.add_special_tokens([AddedToken(tokens[i], special=True, normalized=False)
                               for i, t in enumerate(types) if t == CONTROL])
    users = [AddedToken(tokens[i], special=False, normalized=False)
             for i, t in enumerate(types) if t == USER_DEFINED]
    if users:
        tk.add_tokens(users)
    return tk


def split_regex(regex):
    return pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(regex), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])


def smollm_pre():
    return pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])


def write_ids(name, tk, texts):
    path = os.path.join(OUT, name)
    with open(path, "w", encoding="utf-8") as fh:
        for text in texts:
            ids = tk.encode(text, add_special_tokens=False).ids
            fh.write(" ".join(str(i) for i in ids) + "\n")
    print(f"wrote {path}")


def oracle_fixtures(prefix, gguf_path, pre, ignore_merges, with_long):
    tokens, types, merges = read_gguf_vocab(gguf_path)
    texts = list(CORPUS)
    for specials, suffix in ((False, ""), (True, "-special")):
        tk = hf_tokenizer(tokens, types, merges, pre, ignore_merges, specials)
        write_ids(f"{prefix}{suffix}.out", tk, texts)
        # Sanity: the oracle itself round-trips.
        for text in texts:
            assert tk.decode(tk.encode(text, add_special_tokens=False).ids, skip_special_tokens=False) == text, text
    if with_long:
        tk = hf_tokenizer(tokens, types, merges, pre, ignore_merges, False)
        text = long_text()
        with open(os.path.join(OUT, "long.txt"), "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        write_ids(f"{prefix}-long.out", tk, [text])


def copy_llama_cpp(src):
    for name in ("ggml-vocab-llama-bpe.gguf", "ggml-vocab-gpt-2.gguf"):
        for ext in ("", ".inp", ".out"):
            shutil.copyfile(os.path.join(src, "models", name + ext), os.path.join(OUT, name + ext))
            print(f"copied {name + ext}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smollm2", required=True, help="SmolLM2-135M-Instruct GGUF")
    ap.add_argument("--llama-cpp", help="llama.cpp source tree (vendor/llama.cpp of the sdist)")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    if args.llama_cpp:
        copy_llama_cpp(args.llama_cpp)
    write_corpus()
    llama_bpe = os.path.join(OUT, "ggml-vocab-llama-bpe.gguf")
    oracle_fixtures("smollm2", args.smollm2, smollm_pre(), False, True)
    oracle_fixtures("llama3", llama_bpe, split_regex(LLAMA3_REGEX), True, False)
    oracle_fixtures("llama4", llama_bpe, split_regex(LLAMA4_REGEX), False, True)
    with open(os.path.join(OUT, "oracle_versions.txt"), "w") as fh:
        import tokenizers
        fh.write(f"tokenizers {tokenizers.__version__}\n")
        fh.write(f"smollm2 gguf sha256 {hashlib.sha256(open(args.smollm2, 'rb').read()).hexdigest()}\n")


if __name__ == "__main__":
    sys.exit(main())
