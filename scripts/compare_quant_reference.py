#!/usr/bin/env python3
"""Collects the runs of scripts/compare_quant_reference.sh: parses llama-perplexity's
--kl-divergence output and scout-eval compare-quant's JSON, writes the Markdown tables of
docs/QUANTIZATION.md and (with --fixture) the CI fixture of llama.cpp's numbers."""
import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

# llama-perplexity's final block: label -> (key, scale to a fraction)
_LINES = {
    r"Mean PPL\(Q\)\s*:": "ppl_test",
    r"Mean PPL\(base\)\s*:": "ppl_base",
    r"Mean PPL\(Q\)/PPL\(base\)\s*:": "ppl_ratio",
    r"Mean\s+KLD:": "kld_mean",
    r"Maximum KLD:": "kld_max",
    r"99\.0%\s+KLD:": "kld_p99",
    r"90\.0%\s+KLD:": "kld_p90",
    r"Median\s+KLD:": "kld_median",
    r"Mean\s+Δp:": "delta_p_mean",
    r"RMS Δp\s*:": "delta_p_rms",
    r"Same top p:": "same_top_p",
}
_PERCENT = {"delta_p_mean", "delta_p_rms", "same_top_p"}
_NUM = r"(-?[0-9.]+(?:e[-+]?[0-9]+)?|nan|-?inf)"


def parse_llama(log_path):
    text = Path(log_path).read_text(errors="replace")
    if "====== KL divergence statistics" not in text:
        raise SystemExit(f"{log_path}: no KL-divergence statistics (llama-perplexity failed?)")
    out = {}
    for line in text.splitlines():
        for pat, key in _LINES.items():
            m = re.match(r"\s*" + pat + r"\s*" + _NUM + r"(?:\s*±\s*" + _NUM + r")?", line)
            if m and key not in out:
                scale = 0.01 if key in _PERCENT else 1.0
                out[key] = float(m.group(1)) * scale
                if m.group(2) is not None:
                    out[key + "_stderr"] = float(m.group(2)) * scale
    m = re.search(r"computing over (\d+) chunks, n_ctx=(\d+)", text)
    if not m:
        raise SystemExit(f"{log_path}: no chunk count")
    n_chunk, n_ctx = int(m.group(1)), int(m.group(2))
    out["chunks"], out["ctx"] = n_chunk, n_ctx
    out["tokens_scored"] = n_chunk * (n_ctx - 1 - n_ctx // 2)
    missing = set(_LINES.values()) - set(out)
    if missing:
        raise SystemExit(f"{log_path}: missing {sorted(missing)}")
    return out


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def rel(a, b):
    return abs(a - b) / abs(b) if b else float("inf") if a else 0.0


def fmt_pair(ours, ref, digits):
    return f"{ours:.{digits}f} / {ref:.{digits}f}"


def table(rows):
    out = ["| model | type | chunks | tokens | PPL(base) ours / llama.cpp | PPL(Q) ours / llama.cpp | "
           "PPL ratio ours / llama.cpp | mean KLD ours / llama.cpp | KLD median | KLD p99 | KLD max | "
           "same top p ours / llama.cpp | Δp RMS | max rel. diff (PPL, KLD, top p) |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        o, l = r["ours"], r["llama"]
        worst = max(rel(o["ppl_base"], l["ppl_base"]), rel(o["ppl_test"], l["ppl_test"]),
                    rel(o["kld_mean"], l["kld_mean"]), rel(o["same_top_p"], l["same_top_p"]))
        out.append(
            f"| {r['model']} | {r['quant']} | {r['chunks']} | {o['tokens_scored']} | "
            f"{fmt_pair(o['ppl_base'], l['ppl_base'], 4)} | {fmt_pair(o['ppl_test'], l['ppl_test'], 4)} | "
            f"{fmt_pair(o['ppl_ratio'], l['ppl_ratio'], 4)} | "
            f"{o['kld_mean']:.6f} ± {o['kld_stderr']:.6f} / {l['kld_mean']:.6f} ± {l['kld_mean_stderr']:.6f} | "
            f"{fmt_pair(o['kld_median'], l['kld_median'], 6)} | {fmt_pair(o['kld_p99'], l['kld_p99'], 6)} | "
            f"{fmt_pair(o['kld_max'], l['kld_max'], 4)} | "
            f"{100 * o['same_top_p']:.3f}% / {100 * l['same_top_p']:.3f}% | "
            f"{100 * o['delta_p']['rms']:.3f}% / {100 * l['delta_p_rms']:.3f}% | {100 * worst:.2f}% |")
    return "\n".join(out)


def interop(workdir):
    lines = []
    for ours_json in sorted(Path(workdir, "runs").glob("*.ours-on-llama-base.json")):
        name = ours_json.name.split(".")[0]
        same = json.loads(Path(workdir, "runs", f"{name}.ours.json").read_text())
        other = json.loads(ours_json.read_text())
        llama_on_ours = parse_llama(Path(workdir, "runs", f"{name}.llama-on-ours-base.log"))
        llama = parse_llama(Path(workdir, "runs", f"{name}.llama.log"))
        lines.append(
            f"| {name} | {other['kld_mean']:.6f} (own base {same['kld_mean']:.6f}) | "
            f"{other['ppl_base']:.4f} (own {same['ppl_base']:.4f}) | "
            f"{llama_on_ours['kld_mean']:.6f} (own base {llama['kld_mean']:.6f}) | "
            f"{llama_on_ours['ppl_base']:.4f} (own {llama['ppl_base']:.4f}) |")
    if not lines:
        return ""
    return "\n".join([
        "| run | scout-eval on llama.cpp's base file: mean KLD | PPL(base) | "
        "llama-perplexity on scout-eval's base file: mean KLD | PPL(base) |",
        "|---|---|---|---|---|", *lines])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--text", required=True)
    ap.add_argument("--ctx", type=int, required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--summary", required=True)
    ap.add_argument("--fixture")
    a = ap.parse_args()
    w = Path(a.workdir)
    rows, models = [], {}
    for line in Path(w, "runs.tsv").read_text().splitlines():
        name, model, quant, chunks, kind, test_path = line.split("\t")
        llama = parse_llama(w / "runs" / f"{name}.llama.log")
        ours = json.loads((w / "runs" / f"{name}.ours.json").read_text())
        rows.append({"model": model, "quant": quant, "chunks": int(chunks), "ci": kind == "ci",
                     "llama": llama, "ours": ours})
        files = models.setdefault(model, {"F16": sha256(w / f"{model}-F16.gguf")})
        files[quant] = sha256(test_path)

    summary = ["<!-- made by scripts/compare_quant_reference.sh -->", "", table(rows), "", interop(w), ""]
    Path(a.summary).write_text("\n".join(summary))

    if a.fixture:
        keys = ["tokens_scored", "ppl_base", "ppl_test", "ppl_ratio", "kld_mean", "kld_mean_stderr",
                "kld_median", "kld_p90", "kld_p99", "kld_max", "same_top_p", "delta_p_mean", "delta_p_rms"]
        fixture = {
            "about": "llama-perplexity --kl-divergence (llama.cpp b11312, 0c1e57098) on scout-eval's "
                     "deterministic inputs; made by scripts/compare_quant_reference.sh, checked by "
                     "tests/py/test_compare_quant.py. Fractions, not percent.",
            "text": {"source": "wikitext2/wiki.test.raw", "lines": 100, "strip_cr": True,
                     "sha256": sha256(a.text)},
            "ctx": a.ctx,
            "threads": a.threads,
            "llama_flags": "-c 512 --chunks N -t THREADS (defaults: -b 2048, F16 KV cache, flash attention auto)",
            "models": {
                "smol": {"make": "quantize .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf --type F16",
                         "sha256": models.get("smol", {})},
                "tiny-scout": {"make": "model init --arch llama4 --preset tiny-scout --dtype f16",
                               "sha256": models.get("tiny-scout", {})},
            },
            "runs": [{"model": r["model"], "quant": r["quant"], "chunks": r["chunks"], "ci": r["ci"],
                      **{k: r["llama"][k] for k in keys}} for r in rows],
        }
        Path(a.fixture).parent.mkdir(parents=True, exist_ok=True)
        Path(a.fixture).write_text(json.dumps(fixture, indent=1) + "\n")
        print(f"wrote {a.fixture}", file=sys.stderr)


if __name__ == "__main__":
    main()
