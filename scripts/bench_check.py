#!/usr/bin/env python3
"""Kernel benchmarks in CI: a correctness gate, a results store and a noise-aware regression check.

Runs scout-bench on a filter (default: the CI subset below, under 2 minutes on 2 cores) with
repetitions, then
  1. fails (exit 1, one line per case) when a benchmark reports an error: every kernel checks
     its fast result against its plain reference first and reports "... disagrees with
     reference ..." when they differ. Errors starting with "skipped:" (a SIMD path this CPU
     lacks) are listed but do not fail;
  2. records every result in SQLite (--db; table kernel_benchmarks of harness/store/schema.cpp).
     A file without that table is first made a full scout-eval store by `scout-eval models
     list --db F` (the schema has one owner; creating the table alone would make scout-eval's
     migration fail on the file later);
  3. compares each benchmark's median time with the baseline (--baseline, written by
     --write-baseline) as a ratio. A regression is a new median slower than the baseline's by
     more than max(25%, 3 x the larger coefficient of variation of the two runs). Regressions
     print a table; they fail the run only with --strict, since CI machines differ from the
     one that wrote the baseline.
--from-json FILE reads a saved `scout-bench --benchmark_format=json` output instead of running.
Standard library only. See docs/PERFORMANCE.md.
"""
import argparse
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Tiny shapes of every kernel family on 1 thread and every SIMD path (each path is held against
# the scalar reference), the Scout-shape GEMV (1 token) for Q4_K/Q8_0/F16, attention decode,
# the tiny MoE.
CI_FILTER = "|".join([
    r"^BM_Qgemm/[^/]+/tiny/tokens:(1|32)/[^/]+/threads:1/",
    r"^BM_Qgemm/(q4_K|q8_0|f16)/(ffn_up|ffn_down|attn_q|attn_kv)/tokens:1/(avx2|avx512)/threads:1/",
    r"^BM_ReferenceMatmul/(q4_K|q8_0|bf16)/tiny/tokens:1/",
    r"^BM_QuantizeActivations/[^/]+/tokens:1/",
    r"^BM_DequantizeRow/[^/]+/5120",
    r"^BM_Attention/(tiny|scout)/decode_kv:(128|512)/[^/]+/threads:1/",
    r"^BM_Moe/tiny/[^/]+/tokens:(1|32)/threads:1/",
])

TIME_UNIT = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


class CheckError(Exception):
    pass


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bench", default=os.path.join(ROOT, "build", "bench", "scout-bench"), help="scout-bench binary")
    p.add_argument("--scout-eval", default=None,
                   help="scout-eval binary that initializes a new --db (default: build/cli/scout-eval beside --bench)")
    p.add_argument("--filter", default=CI_FILTER, help="benchmark regex (default: the CI subset)")
    p.add_argument("--repetitions", type=int, default=3)
    p.add_argument("--min-time", default="0.05", help="seconds per repetition (--benchmark_min_time)")
    p.add_argument("--db", help="SQLite file to record the results in")
    p.add_argument("--baseline", default=os.path.join(ROOT, "bench", "baseline.json"))
    p.add_argument("--write-baseline", action="store_true", help="store this run as the baseline")
    p.add_argument("--strict", action="store_true", help="regressions fail the run (exit 1)")
    p.add_argument("--list", action="store_true", help="print the benchmarks the filter selects")
    p.add_argument("--from-json", help="a saved scout-bench JSON output instead of running it")
    p.add_argument("--save-json", help="also keep scout-bench's raw JSON output here")
    return p.parse_args(argv)


def run_bench(args):
    if not os.access(args.bench, os.X_OK):
        raise CheckError(f"{args.bench}: no scout-bench binary (build the scout-bench target or pass --bench)")
    with tempfile.TemporaryDirectory() as tmp:
        out = args.save_json or os.path.join(tmp, "bench.json")
        cmd = [args.bench, f"--benchmark_filter={args.filter}", f"--benchmark_repetitions={args.repetitions}",
               f"--benchmark_min_time={args.min_time}", f"--benchmark_out={out}", "--benchmark_out_format=json"]
        # The console table goes to stderr as progress; the JSON file is what is parsed.
        rc = subprocess.run(cmd, stdout=sys.stderr).returncode
        if rc != 0:
            raise CheckError(f"{args.bench} exited with status {rc}")
        return load_json(out)


def load_json(path):
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise CheckError(f"{path}: not a scout-bench JSON output ({e})")
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise CheckError(f"{path}: no 'benchmarks' list")
    return data


def summarize(data):
    """Per benchmark: the repetitions' median time, coefficient of variation and counters, or its error."""
    runs, errors = {}, {}
    for b in data["benchmarks"]:
        name = b.get("run_name", b.get("name"))
        if b.get("error_occurred"):
            errors[name] = b.get("error_message", "")
            continue
        if b.get("run_type", "iteration") != "iteration":
            continue  # aggregates are recomputed from the repetitions
        runs.setdefault(name, []).append(b)
    results = {}
    for name, reps in runs.items():
        if name in errors:
            continue
        secs = [r["real_time"] * TIME_UNIT[r.get("time_unit", "ns")] for r in reps]
        mean = statistics.fmean(secs)
        cv = statistics.stdev(secs) / mean if len(secs) > 1 and mean > 0 else 0.0

        def median_of(key):
            vals = [r[key] for r in reps if isinstance(r.get(key), (int, float))]
            return statistics.median(vals) if vals else None

        counters = {k: median_of(k) for k in reps[0]
                    if k not in ("real_time", "cpu_time", "iterations", "repetitions", "repetition_index",
                                 "threads", "family_index", "per_family_instance_index")
                    and isinstance(reps[0][k], (int, float))}
        results[name] = {"median_s": statistics.median(secs), "cv": cv, "n": len(secs), "counters": counters}
    return results, errors


def gate(errors):
    """One line per benchmark that reported an error; returns the number of real failures."""
    failed = 0
    for name, msg in sorted(errors.items()):
        if msg.startswith("skipped:"):
            print(f"skip {name}: {msg}")
        else:
            failed += 1
            print(f"FAIL {name}: {msg}")
    return failed


def device_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown cpu"


def git_revision():
    try:
        r = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        return r.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def threads_of(name):
    m = re.search(r"/threads:(\d+)", name)
    return int(m.group(1)) if m else 1


def has_table(db_path):
    con = sqlite3.connect(db_path)
    try:
        return con.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='kernel_benchmarks'").fetchone()
    finally:
        con.close()


def prepare_store(db_path, scout_eval):
    """A new --db is made a store by scout-eval itself: the schema has one owner."""
    if has_table(db_path):
        return
    if not (scout_eval and os.access(scout_eval, os.X_OK)):
        raise CheckError(f"{db_path}: has no kernel_benchmarks table and no scout-eval at {scout_eval} can create the "
                         "store (build it, or pass --scout-eval)")
    r = subprocess.run([scout_eval, "models", "list", "--db", db_path], capture_output=True, text=True)
    if r.returncode != 0 or not has_table(db_path):
        raise CheckError(f"{db_path}: scout-eval could not open it as a store: {r.stderr.strip()}")


def record(db_path, results, meta, scout_eval):
    prepare_store(db_path, scout_eval)
    con = sqlite3.connect(db_path)
    try:
        device, rev = device_name(), git_revision()
        with con:
            for name, r in sorted(results.items()):
                c = r["counters"]
                gbps = c.get("bytes_per_second")
                gbps = gbps / 1e9 if gbps else c.get("KV_GB/s") or c.get("weight_GB/s")
                gflops = c.get("GFLOP/s")
                params = {"source": "scout-bench", "median_of": r["n"], "cv": r["cv"], "counters": c, **meta}
                con.execute("INSERT INTO kernel_benchmarks (name, params, backend, device, threads, git_revision,"
                            " seconds_per_iter, gb_per_s, gflop_per_s) VALUES (?, ?, 'cpu', ?, ?, ?, ?, ?, ?)",
                            (name, json.dumps(params), device, threads_of(name), rev, r["median_s"], gbps, gflops))
    finally:
        con.close()


def regressions(results, baseline):
    rows = []
    for name, r in sorted(results.items()):
        b = baseline.get(name)
        if not b or b.get("median_s", 0) <= 0:
            continue
        ratio = r["median_s"] / b["median_s"]
        allowed = max(0.25, 3 * max(r["cv"], b.get("cv", 0.0)))
        if ratio > 1 + allowed:
            rows.append((name, b["median_s"], r["median_s"], ratio, allowed))
    return rows


def print_regressions(rows, strict):
    word = "REGRESSION" if strict else "warning: regression"
    print(f"{word}: {len(rows)} benchmark(s) slower than the baseline beyond noise")
    print("| benchmark | baseline ms | now ms | ratio | allowed |")
    print("|---|---:|---:|---:|---:|")
    for name, base, now, ratio, allowed in rows:
        print(f"| {name} | {base * 1e3:.4g} | {now * 1e3:.4g} | {ratio:.2f}x | {1 + allowed:.2f}x |")


def write_baseline(path, results, meta):
    out = {"meta": {**meta, "device": device_name(), "git_revision": git_revision()},
           "benchmarks": {n: {"median_s": r["median_s"], "cv": r["cv"], "n": r["n"]} for n, r in sorted(results.items())}}
    with open(path, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")


def load_baseline(path):
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            return json.load(f)["benchmarks"]
    except (OSError, ValueError, KeyError) as e:
        raise CheckError(f"{path}: unreadable baseline ({e})")


def list_subset(args):
    if not os.access(args.bench, os.X_OK):
        raise CheckError(f"{args.bench}: no scout-bench binary (build the scout-bench target or pass --bench)")
    r = subprocess.run([args.bench, "--benchmark_list_tests", f"--benchmark_filter={args.filter}"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise CheckError(f"{args.bench} --benchmark_list_tests failed: {r.stderr.strip()}")
    print(r.stdout, end="")
    return 0


def main(argv):
    args = parse_args(argv)
    if args.list:
        return list_subset(args)
    data = load_json(args.from_json) if args.from_json else run_bench(args)
    results, errors = summarize(data)
    meta = {"filter": args.filter, "repetitions": args.repetitions, "min_time": args.min_time}
    failed = gate(errors)
    if args.db:
        scout_eval = args.scout_eval or os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(args.bench))),
                                                     "cli", "scout-eval")
        record(args.db, results, meta, scout_eval)
    status = 1 if failed else 0
    if args.write_baseline:
        write_baseline(args.baseline, results, meta)
        print(f"baseline written: {args.baseline} ({len(results)} benchmarks)")
    else:
        baseline = load_baseline(args.baseline)
        if baseline is None:
            print(f"no baseline at {args.baseline}: regression check skipped")
        else:
            rows = regressions(results, baseline)
            if rows:
                print_regressions(rows, args.strict)
                status = 1 if args.strict else status
            compared = sum(1 for n in results if n in baseline)
            print(f"compared {compared} benchmark(s) with the baseline: {len(rows)} regression(s)")
    print(f"bench_check: {len(results)} benchmark(s) measured, {failed} disagreeing with their reference"
          + (f", recorded in {args.db}" if args.db else ""))
    return status


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except CheckError as e:
        print(f"bench_check: {e}", file=sys.stderr)
        sys.exit(2)
