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

    # Bytes per decoded token against gguf-py's tensor sizes: all of every tensor a token
    # uses, but only n_expert_used / n_expert of the stacked experts and one embedding row.
    import gguf
    reader = gguf.GGUFReader(model)
    kv = {f.name: f for f in reader.fields.values()}
    n_expert = int(kv["llama4.expert_count"].parts[-1][0])
    n_used = int(kv["llama4.expert_used_count"].parts[-1][0])
    want = 0
    for t in reader.tensors:
        if t.name.endswith("_norm.weight") or t.name == "rope_freqs.weight":
            continue
        if t.name == "token_embd.weight":
            want += int(t.n_bytes) // int(t.shape[-1])
        elif "_exps." in t.name:
            want += int(t.n_bytes) // n_expert * n_used
        else:
            want += int(t.n_bytes)
    one = subprocess.run([EXE, "bench-model", "-m", model, "-p", "0", "-n", "4", "-r", "1", "-t", "1", "--json"],
                         capture_output=True, text=True)
    j1 = json.loads(one.stdout)
    check(j1["decode_bytes_per_token"] == want, f"bytes per token {j1['decode_bytes_per_token']} == gguf-py's {want}")
    check(abs(j1["tg_weight_gbps"] - j1["tg_tps"] * want / 1e9) < 1e-6 * j1["tg_weight_gbps"] + 1e-12, "GB/s = t/s x bytes")
    # Beside each decode run, a plain read of the same bytes: with one repetition the share is
    # that pair's decode GB/s over its read GB/s.
    check(len(j1["tg_read_runs"]) == 1 and j1["tg_read_gbps"] == j1["tg_read_runs"][0] > 0, "one read run, positive")
    check(abs(j1["tg_bandwidth_share"] - j1["tg_weight_gbps"] / j1["tg_read_gbps"]) < 1e-6 * j1["tg_bandwidth_share"],
          f"share {j1['tg_bandwidth_share']} = decode GB/s / read GB/s")
    check(j["tg_read_runs"] == [] and j["tg_bandwidth_share"] == 0, "no read probe with --parallel 2")
    bad = subprocess.run([EXE, "bench-model", "-m", os.path.join(tmp, "none.gguf")], capture_output=True, text=True)
    check(bad.returncode != 0 and "none.gguf" in bad.stderr, "missing model: clear error")
finish()
