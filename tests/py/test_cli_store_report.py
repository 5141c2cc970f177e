"""`models add` records a model once per content (sha256 from hashlib, arch and file type read
independently with gguf-py); `report` shows it and every row of the model card."""
import hashlib
import os
import sqlite3
import subprocess
import sys
import tempfile

import gguf

from checks import check, finish

EXE = os.environ["SCOUT_EVAL"]


def run(*args):
    out = subprocess.run([EXE, *args], capture_output=True, text=True)
    assert out.returncode == 0, (args, out.stderr)
    return out.stdout


with tempfile.TemporaryDirectory() as tmp:
    model = os.path.join(tmp, "m.gguf")
    db = os.path.join(tmp, "r.db")
    run("model", "init", "--arch", "llama4", "--preset", "tiny-maverick", "--dtype", "bf16", "-o", model)
    run("models", "add", "--db", db, model)
    run("models", "add", "--db", db, model)  # same content: same row
    rows = sqlite3.connect(db).execute("SELECT sha256, arch, file_type, file_size FROM models").fetchall()
    check(len(rows) == 1, f"one row per content, got {len(rows)}")
    sha = hashlib.sha256(open(model, "rb").read()).hexdigest()
    ref = gguf.GGUFReader(model)
    check(rows[0][0] == sha, "sha256 of the file")
    check(rows[0][1] == ref.fields["general.architecture"].contents(), "architecture")
    check(rows[0][2] == "BF16" and ref.fields["general.file_type"].contents() == 32, "file type label")
    check(rows[0][3] == os.path.getsize(model), "file size")
    run("report", "--db", db, "--out", tmp)
    report = open(os.path.join(tmp, "report.md")).read()
    check(sha[:12] in report and "llama4" in report, "model listed in the report")
    for bench in ["Arena Elo", "MATH-500", "MMLU-Pro", "MMMU", "GPQA Diamond", "GPQA", "IFEval", "BBH",
                  "LiveCodeBench", "MATH", "MuSR", "AIME", "AA Math", "AA Intelligence", "AA Coding", "HLE"]:
        check(f"| {bench} |" in report, f"card row {bench}")
    bad = subprocess.run([EXE, "models", "add", "--db", db, os.path.join(tmp, "missing.gguf")],
                         capture_output=True, text=True)
    check(bad.returncode == 1 and "missing.gguf" in bad.stderr, "missing file: clear error")

finish()
