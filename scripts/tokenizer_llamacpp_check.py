#!/usr/bin/env python3
"""Cross-check the tokenizer fixtures against llama.cpp itself (a second, independent oracle).

Compiles a tiny C program against a llama.cpp build (libllama.so + include/llama.h), tokenizes
tests/data/tokenizer/corpus.inp with a GGUF vocabulary, and compares with a fixture .out file
made by the Hugging Face oracle (scripts/tokenizer_fixture.py). Prints each differing case.

Usage:
  python scripts/tokenizer_llamacpp_check.py --llama-cpp .cache/llama.cpp \
      --gguf .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf --expected smollm2.out [--special]
--llama-cpp is a directory with src/include/llama.h and build/bin/libllama.so.
"""
import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "tests", "data", "tokenizer")
SEP = "\n__ggml_vocab_test__\n"

PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "llama.h"
/* argv: gguf parse_special; stdin: one text; stdout: ids separated by spaces */
int main(int argc, char** argv) {
  llama_backend_init();
  struct llama_model_params mp = llama_model_default_params();
  mp.vocab_only = true;
  struct llama_model* model = llama_model_load_from_file(argv[1], mp);
  if (!model) return 2;
  const struct llama_vocab* vocab = llama_model_get_vocab(model);
  size_t cap = 1 << 20, len = 0;
  char* buf = malloc(cap);
  size_t n;
  while ((n = fread(buf + len, 1, cap - len, stdin)) > 0) {
    len += n;
    if (len == cap) buf = realloc(buf, cap *= 2);
  }
  int32_t max = (int32_t)len + 16;
  llama_token* toks = malloc(sizeof(llama_token) * max);
  int32_t k = llama_tokenize(vocab, buf, (int32_t)len, toks, max, false, atoi(argv[2]) != 0);
  if (k < 0) return 3;
  for (int32_t i = 0; i < k; ++i) printf("%s%d", i ? " " : "", toks[i]);
  printf("\n");
  return 0;
}
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama-cpp", required=True)
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--expected", required=True, help="fixture .out name in tests/data/tokenizer")
    ap.add_argument("--special", action="store_true", help="parse special tokens")
    args = ap.parse_args()
    inc = os.path.join(args.llama_cpp, "src", "include")
    ggml_inc = os.path.join(args.llama_cpp, "src", "ggml", "include")
    lib = os.path.join(args.llama_cpp, "build", "bin")
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = os.path.join(tmp, "tok.c"), os.path.join(tmp, "tok")
        with open(src, "w") as fh:
            fh.write(PROGRAM)
        subprocess.check_call(["cc", "-O1", src, "-I", inc, "-I", ggml_inc, "-L", lib, "-lllama",
                               f"-Wl,-rpath,{os.path.abspath(lib)}", "-o", exe])
        with open(os.path.join(DATA, "corpus.inp"), encoding="utf-8", newline="") as fh:
            cases = fh.read().split(SEP)
        with open(os.path.join(DATA, args.expected)) as fh:
            expected = [line.split() for line in fh.read().split("\n")[: len(cases)]]
        bad = 0
        for i, text in enumerate(cases):
            r = subprocess.run([exe, args.gguf, "1" if args.special else "0"], input=text.encode(),
                               capture_output=True, check=True)
            got = r.stdout.decode().split()
            if got != expected[i]:
                bad += 1
                print(f"case {i} {text[:60]!r}:\n  llama.cpp {' '.join(got)}\n  fixture   {' '.join(expected[i])}")
        print(f"{len(cases) - bad}/{len(cases)} cases agree")
        return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
