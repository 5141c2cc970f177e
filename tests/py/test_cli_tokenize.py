"""`scout-eval tokenize` on a whole file equals the reference ids (HF `tokenizers` built from the
GGUF's own vocabulary, committed in tests/data/tokenizer/) and adds BOS only when asked."""
import os
import subprocess
import sys

from checks import check, finish

EXE = os.environ["SCOUT_EVAL"]
root = os.environ["SCOUT_SOURCE_DIR"]
model = os.path.join(root, ".cache", "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
data = os.path.join(root, "tests", "data", "tokenizer")


def tokenize(*args):
    out = subprocess.run([EXE, "tokenize", "--model", model, *args], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return [int(x) for x in out.stdout.split()]


if not os.path.exists(model):
    print("SmolLM2 not fetched; run scripts/setup.sh", file=sys.stderr)
    sys.exit(1)
want = [int(x) for x in open(os.path.join(data, "smollm2-long.out")).read().split()]
# The reference was made without special-token parsing (llama-tokenize --no-parse-special).
got = tokenize("--text-file", os.path.join(data, "long.txt"), "--no-bos", "--no-parse-special")
check(got == want, f"long.txt ids equal the reference ({len(got)} vs {len(want)} ids)")
with_bos = tokenize("--text-file", os.path.join(data, "long.txt"), "--no-parse-special")
check(with_bos == got, "SmolLM2's vocabulary does not ask for BOS")
missing = subprocess.run([EXE, "tokenize", "--model", model, "--text-file", "/nonexistent.txt"],
                         capture_output=True, text=True)
check(missing.returncode != 0 and "nonexistent" in missing.stderr, "missing file: clear error")
finish()
