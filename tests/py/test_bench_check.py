"""scripts/bench_check.py: the CI subset of scout-bench passes its correctness gate and lands in
the store; a kernel that disagrees with its reference fails the gate (a real one, with the
tolerance set to 0, and a recorded one); a 2x slower benchmark is flagged as a regression
and fails only with --strict, while a slower one within its noise is not flagged."""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile

from checks import check, finish

SRC = os.environ["SCOUT_SOURCE_DIR"]
SCRIPT = os.path.join(SRC, "scripts", "bench_check.py")
# scout-eval is build/cli/scout-eval; scout-bench is built beside it in build/bench/.
BENCH = os.path.join(os.path.dirname(os.path.dirname(os.environ["SCOUT_EVAL"])), "bench", "scout-bench")


def bench_check(*args, env=None):
    return subprocess.run([sys.executable, SCRIPT, "--bench", BENCH, *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


def fake_run(name, ms, n=3):
    return [{"name": name, "run_name": name, "run_type": "iteration", "repetitions": n, "repetition_index": i,
             "iterations": 100, "real_time": ms * 1e3 * (1 + 0.01 * i), "cpu_time": ms * 1e3, "time_unit": "us"}
            for i in range(n)]


def ci_subset(tmp):
    """The CI subset for real: every case agrees with its reference, results stored and parsed."""
    db, raw = os.path.join(tmp, "bench.db"), os.path.join(tmp, "raw.json")
    listed = bench_check("--list")
    check(listed.returncode == 0, f"--list exits 0: {listed.stderr}")
    names = [n for n in listed.stdout.split("\n") if n]
    check(len(names) > 50 and any(n.startswith("BM_Moe/tiny") for n in names)
          and any(n.startswith("BM_Attention/") for n in names), f"CI subset covers the families: {len(names)}")
    r = bench_check("--db", db, "--save-json", raw, "--scout-eval", os.environ["SCOUT_EVAL"])
    check(r.returncode == 0, f"CI subset passes the gate: {r.stdout[-2000:]} {r.stderr[-2000:]}")
    check("FAIL" not in r.stdout, "no case disagrees with its reference")
    with open(raw) as f:
        data = json.load(f)
    run_names = {b["run_name"] for b in data["benchmarks"] if b.get("run_type") == "iteration"}
    check(len(run_names) == len(names), f"JSON holds every listed benchmark: {len(run_names)} vs {len(names)}")
    con = sqlite3.connect(db)
    rows = con.execute("SELECT name, seconds_per_iter, threads, params FROM kernel_benchmarks").fetchall()
    check({row[0] for row in rows} == run_names, f"one store row per benchmark: {len(rows)}")
    check(all(row[1] > 0 and row[2] >= 1 for row in rows), "positive times, thread counts")
    check(all(json.loads(row[3])["median_of"] == 3 for row in rows), "medians of 3 repetitions")
    gemv = con.execute("SELECT gb_per_s FROM kernel_benchmarks WHERE name LIKE 'BM_Qgemm/q4_K/ffn_up/tokens:1/%'").fetchall()
    check(gemv and all(g[0] and g[0] > 0.1 for g in gemv), f"Scout-shape GEMV bandwidth recorded: {gemv}")
    con.close()
    store = subprocess.run([os.environ["SCOUT_EVAL"], "models", "list", "--db", db], capture_output=True, text=True)
    check(store.returncode == 0, f"the file stays a scout-eval store: {store.stderr}")


def real_disagreement():
    """Tolerance 0: the flash-style attention rounds differently from the double oracle."""
    r = bench_check("--filter", "^BM_Attention/tiny/decode_kv:128/full/threads:1/", "--repetitions", "1",
                    "--baseline", os.devnull + ".none", env={"SCOUT_BENCH_TOLERANCE": "0"})
    check(r.returncode == 1, f"a kernel off its reference fails the gate: rc {r.returncode}")
    check("FAIL BM_Attention/tiny/decode_kv:128/full/threads:1" in r.stdout and "disagrees with reference" in r.stdout,
          f"one clear line names it: {r.stdout}")


def fake_results(tmp):
    """Recorded outputs: one error, one 2x slower, one slower within its noise."""
    runs = fake_run("BM_Same", 1.0) + fake_run("BM_Slow2x", 2.0) + fake_run("BM_Noisy", 1.4)
    err = {"name": "BM_Bad", "run_name": "BM_Bad", "run_type": "iteration", "error_occurred": True,
           "error_message": "qgemm disagrees with reference (Isa::Reference, bit for bit)"}
    skip = {"name": "BM_Absent", "run_name": "BM_Absent", "run_type": "iteration", "error_occurred": True,
            "error_message": "skipped: path not available on this CPU"}
    baseline = {"meta": {}, "benchmarks": {"BM_Same": {"median_s": 1.0e-3, "cv": 0.01, "n": 3},
                                           "BM_Slow2x": {"median_s": 1.0e-3, "cv": 0.01, "n": 3},
                                           "BM_Noisy": {"median_s": 1.0e-3, "cv": 0.2, "n": 3}}}
    paths = {k: os.path.join(tmp, k + ".json") for k in ("bad", "slow", "base")}
    for key, obj in (("bad", {"benchmarks": runs + [err, skip]}), ("slow", {"benchmarks": runs + [skip]}),
                     ("base", baseline)):
        with open(paths[key], "w") as f:
            json.dump(obj, f)
    db = os.path.join(tmp, "fake.db")
    r = bench_check("--from-json", paths["bad"], "--baseline", paths["base"], "--db", db)
    check(r.returncode == 1, f"error entry fails the gate: rc {r.returncode}")
    check("FAIL BM_Bad: qgemm disagrees with reference" in r.stdout, f"the failing case named: {r.stdout}")
    check("FAIL BM_Absent" not in r.stdout and "skip BM_Absent" in r.stdout, "a missing SIMD path is not a failure")
    check("| BM_Slow2x |" in r.stdout and "| BM_Noisy |" not in r.stdout and "| BM_Same |" not in r.stdout,
          f"only the 2x slower case is a regression: {r.stdout}")
    n = sqlite3.connect(db).execute("SELECT count(*) FROM kernel_benchmarks").fetchone()[0]
    check(n == 3, f"measured cases recorded, errors not: {n}")
    warn = bench_check("--from-json", paths["slow"], "--baseline", paths["base"])
    check(warn.returncode == 0 and "warning: regression" in warn.stdout, "without --strict a regression only warns")
    strict = bench_check("--from-json", paths["slow"], "--baseline", paths["base"], "--strict")
    check(strict.returncode == 1 and "REGRESSION" in strict.stdout, "with --strict it fails")
    broken = os.path.join(tmp, "broken.json")
    with open(broken, "w") as f:
        f.write("{not json")
    bad = bench_check("--from-json", broken)
    check(bad.returncode == 2 and "broken.json" in bad.stderr, f"unreadable JSON: one clear error: {bad.stderr}")


if not check(os.access(BENCH, os.X_OK), f"scout-bench built at {BENCH}"):
    finish()
with tempfile.TemporaryDirectory() as tmp:
    fake_results(tmp)
    real_disagreement()
    ci_subset(tmp)
finish()
