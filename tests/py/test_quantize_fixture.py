"""`scout-eval quantize` writes the same files as llama-quantize (llama.cpp b11312).

The fixture tests/data/quantize/llamacpp-b11312.json was made once by scripts/quantize_compare.sh
from llama-quantize's outputs on deterministic tiny models (`scout-eval model init` with the
recorded arguments). Here we regenerate the inputs, quantize them with scout-eval to every type
and require the whole file's sha256 to equal llama-quantize's. Where a per-tensor list is stored
(the seven types of the issue), a mismatch is narrowed to the tensors whose type or bytes differ
(read with gguf-py, independently of scout-eval's reader). Refusals must leave no output file.
"""
import hashlib
import json
import os
import subprocess
import tempfile

import gguf

from checks import check, finish

EXE = os.environ["SCOUT_EVAL"]
SRC = os.environ["SCOUT_SOURCE_DIR"]
FIXTURE = os.path.join(SRC, "tests/data/quantize/llamacpp-b11312.json")


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def tensor_hashes(path):
    r = gguf.GGUFReader(path)
    out = {}
    for t in r.tensors:
        raw = bytes(r.data[t.data_offset:t.data_offset + t.n_bytes])
        out[t.name] = (t.tensor_type.name, hashlib.sha256(raw).hexdigest()[:16])
    return out


def explain_mismatch(path, expected_tensors):
    ours = tensor_hashes(path)
    diffs = []
    for name, ty, h in expected_tensors:
        got = ours.get(name)
        if got is None:
            diffs.append(f"{name}: missing")
        elif got != (ty, h):
            diffs.append(f"{name}: ours {got[0]}/{got[1]}, llama-quantize {ty}/{h}")
    return "; ".join(diffs[:8]) or "tensor data equal; metadata or layout differs"


def run(*args):
    return subprocess.run([EXE, *args], capture_output=True, text=True)


with open(FIXTURE) as f:
    fixture = json.load(f)

with tempfile.TemporaryDirectory() as tmp:
    for model, spec in fixture["models"].items():
        src = os.path.join(tmp, f"{model}.gguf")
        r = run("model", "init", *spec["init"], "-o", src)
        check(r.returncode == 0, f"{model}: model init: {r.stderr}")
        check(sha256(src) == spec["input_sha256"], f"{model}: the generated input is the fixture's input")
        for ty, want in spec["quantized"].items():
            out = os.path.join(tmp, f"{model}.{ty}.gguf")
            r = run("quantize", src, out, "--type", ty, "-t", "2")
            if not check(r.returncode == 0, f"{model} {ty}: quantize exit 0: {r.stderr}"):
                continue
            same = sha256(out) == want["file_sha256"]
            why = "" if same or "tensors" not in want else explain_mismatch(out, want["tensors"])
            check(same, f"{model} {ty}: file identical to llama-quantize's ({why})")
            os.remove(out)

    # Refusals: clear message, exit non-zero, no output left behind.
    src = os.path.join(tmp, "tiny-scout.gguf")
    out = os.path.join(tmp, "refused.gguf")
    r = run("quantize", src, out, "--type", "Q3_X")
    check(r.returncode != 0 and "Q3_X" in r.stderr and not os.path.exists(out), "unknown type refused")
    truncated = os.path.join(tmp, "truncated.gguf")
    with open(src, "rb") as f, open(truncated, "wb") as g:
        g.write(f.read(os.path.getsize(src) // 2))
    r = run("quantize", truncated, out, "--type", "Q8_0")
    check(r.returncode != 0 and "truncated.gguf" in r.stderr and not os.path.exists(out),
          f"truncated input refused, no output: {r.stderr.strip()}")
    q8 = os.path.join(tmp, "q8.gguf")
    run("quantize", src, q8, "--type", "Q8_0")
    r = run("quantize", q8, out, "--type", "Q4_K_M")
    check(r.returncode != 0 and "--allow-requantize" in r.stderr and not os.path.exists(out),
          f"requantizing needs --allow-requantize: {r.stderr.strip()}")
finish()
