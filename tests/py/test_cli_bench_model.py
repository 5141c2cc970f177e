"""`scout-eval bench-model` measures positive rates, reports the settings in --json and records
its results in the store."""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile

from checks import check, finish

EXE = os.environ["SCOUT_EVAL"]


with tempfile.TemporaryDirectory() as tmp:
    model, db = os.path.join(tmp, "m.gguf"), os.path.join(tmp, "b.db")
    subprocess.run([EXE, "model", "init", "--preset", "tiny-scout", "-o", model], check=True, capture_output=True)
    out = subprocess.run([EXE, "bench-model", "-m", model, "-p", "64", "-n", "8", "-r", "1", "-t", "1",
                          "--parallel", "2", "--json", "--db", db], capture_output=True, text=True)
    check(out.returncode == 0, f"exit 0: {out.stderr}")
    j = json.loads(out.stdout)
    check(j["pp_tps"] > 0 and j["tg_tps"] > 0, "positive rates")
    check(j["n_prompt"] == 64 and j["n_gen"] == 8 and j["parallel"] == 2 and j["threads"] == 1, "settings echoed")
    rows = sqlite3.connect(db).execute("SELECT name FROM kernel_benchmarks ORDER BY name").fetchall()
    check([r[0] for r in rows] == ["model pp64", "model tg8"], f"recorded in the store: {rows}")
    bad = subprocess.run([EXE, "bench-model", "-m", os.path.join(tmp, "none.gguf")], capture_output=True, text=True)
    check(bad.returncode != 0 and "none.gguf" in bad.stderr, "missing model: clear error")
finish()
