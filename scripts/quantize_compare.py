#!/usr/bin/env python3
"""Compare scout-eval's quantized GGUFs with llama-quantize's (read with gguf-py, independently
of scout-eval's reader). Used by scripts/quantize_compare.sh; see docs/QUANTIZATION.md.

  quantize_compare.py compare OURS.gguf REF.gguf --label L [--results R.jsonl]
      per tensor: same name, shape and type; identical blocks (bytes); whole file identical.
      Exit 1 when a tensor's type, shape or presence differs.
  quantize_compare.py plan OURS_DRYRUN.txt REF_DRYRUN.txt --label L [--results R.jsonl]
      the per-tensor types of `scout-eval quantize --dry-run` against `llama-quantize --dry-run`.
  quantize_compare.py summary R.jsonl           Markdown tables of a results file.
  quantize_compare.py fixture OUT.json --model NAME=INIT_ARGS=INPUT.gguf ... --file TYPE=REF.gguf ...
      (see quantize_compare.sh) writes the CI fixture: per-tensor types and sha256 of
      llama-quantize's outputs for the tiny models.
"""
import argparse
import hashlib
import json
import re
import sys

import numpy as np
import gguf


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def tensors(path):
    """name -> (type name, shape in ggml order, raw bytes as a numpy uint8 view)."""
    r = gguf.GGUFReader(path)
    out = {}
    for t in r.tensors:
        raw = r.data[t.data_offset:t.data_offset + t.n_bytes]
        out[t.name] = (t.tensor_type.name, [int(x) for x in t.shape], np.asarray(raw, dtype=np.uint8))
    order = [t.name for t in r.tensors]
    return out, order


def block_bytes(type_name):
    qt = gguf.GGMLQuantizationType[type_name]
    _, type_size = gguf.GGML_QUANT_SIZES[qt]
    return type_size


def dequant(raw, type_name, shape):
    qt = gguf.GGMLQuantizationType[type_name]
    return gguf.quants.dequantize(raw, qt).reshape(-1)


def cmd_compare(a):
    ours, ours_order = tensors(a.ours)
    ref, ref_order = tensors(a.ref)
    res = {"kind": "quantize", "label": a.label, "tensors": len(ref), "type_mismatch": [], "missing": [],
           "blocks": 0, "blocks_equal": 0, "tensors_equal": 0, "order_equal": ours_order == ref_order,
           "file_equal": sha256_file(a.ours) == sha256_file(a.ref), "max_abs_diff": 0.0, "types": {}}
    for name, (rtype, rshape, rraw) in ref.items():
        res["types"][rtype] = res["types"].get(rtype, 0) + 1
        if name not in ours:
            res["missing"].append(name)
            continue
        otype, oshape, oraw = ours[name]
        if otype != rtype or oshape != rshape:
            res["type_mismatch"].append(f"{name}: ours {otype} {oshape}, llama-quantize {rtype} {rshape}")
            continue
        bs = block_bytes(rtype)
        nb = len(rraw) // bs
        eq = np.all(oraw.reshape(nb, bs) == rraw.reshape(nb, bs), axis=1)
        res["blocks"] += int(nb)
        res["blocks_equal"] += int(eq.sum())
        if eq.all():
            res["tensors_equal"] += 1
        else:
            d = np.abs(dequant(oraw, otype, oshape) - dequant(rraw, rtype, rshape))
            res["max_abs_diff"] = max(res["max_abs_diff"], float(np.nanmax(d)))
    res["missing"] += [n for n in ours if n not in ref]
    ok = not res["type_mismatch"] and not res["missing"]
    frac = res["blocks_equal"] / max(1, res["blocks"])
    print(f"{a.label}: {res['tensors']} tensors, types {'agree' if ok else 'DIFFER'}, "
          f"blocks identical {res['blocks_equal']}/{res['blocks']} ({100 * frac:.4f}%), "
          f"file {'identical' if res['file_equal'] else 'differs'}")
    for m in res["type_mismatch"][:20] + res["missing"][:20]:
        print("   ", m)
    if a.results:
        with open(a.results, "a") as f:
            f.write(json.dumps(res) + "\n")
    return 0 if ok else 1


OURS_LINE = re.compile(r"^\[\s*\d+/\s*\d+\] (\S+)\s+\[[^\]]*\] (\S+) -> (\S+)")
REF_LINE = re.compile(r"^\[\s*\d+/\s*\d+\] (\S+)\s+- \[[^\]]*\], type =\s*(\S+), size =.*?(?:\((\w+)\))?\s*$")


def parse_plan(path, ours):
    plan = {}
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        m = (OURS_LINE if ours else REF_LINE).match(line)
        if not m:
            continue
        if ours:
            plan[m.group(1)] = m.group(3)
        else:
            plan[m.group(1)] = m.group(3) or m.group(2)
    return plan


def cmd_plan(a):
    ours = parse_plan(a.ours, True)
    ref = parse_plan(a.ref, False)
    diff = [f"{n}: ours {ours.get(n)}, llama-quantize {t}" for n, t in ref.items() if ours.get(n) != t]
    diff += [f"{n}: only in ours" for n in ours if n not in ref]
    ok = bool(ref) and not diff
    print(f"{a.label}: plan of {len(ref)} tensors {'agrees' if ok else 'DIFFERS'}")
    for d in diff[:20]:
        print("   ", d)
    if a.results:
        with open(a.results, "a") as f:
            f.write(json.dumps({"kind": "plan", "label": a.label, "tensors": len(ref), "diff": diff, "ok": ok}) + "\n")
    return 0 if ok else 1


def cmd_summary(a):
    rows = [json.loads(l) for l in open(a.results)]
    q = [r for r in rows if r["kind"] == "quantize"]
    p = [r for r in rows if r["kind"] == "plan"]
    if q:
        print("| model / type | tensors | types agree | identical blocks | identical tensors | file identical | types |")
        print("|---|---:|---|---:|---:|---|---|")
        for r in q:
            frac = 100 * r["blocks_equal"] / max(1, r["blocks"])
            types = ", ".join(f"{n} {t}" for t, n in sorted(r["types"].items()))
            agree = "yes" if not r["type_mismatch"] and not r["missing"] else "**no**"
            print(f"| {r['label']} | {r['tensors']} | {agree} | {r['blocks_equal']}/{r['blocks']} ({frac:.2f}%) | "
                  f"{r['tensors_equal']}/{r['tensors']} | {'yes' if r['file_equal'] else 'no'} | {types} |")
        tb = sum(r["blocks"] for r in q)
        te = sum(r["blocks_equal"] for r in q)
        print(f"\n{len(q)} quantizations: {te}/{tb} blocks identical; "
              f"{sum(r['file_equal'] for r in q)}/{len(q)} files byte-identical; "
              f"type disagreements: {sum(len(r['type_mismatch']) + len(r['missing']) for r in q)}")
    if p:
        bad = [r for r in p if not r["ok"]]
        print(f"\n{len(p)} dry-run plans compared ({sum(r['tensors'] for r in p)} tensor choices): "
              f"{len(p) - len(bad)} agree, {len(bad)} differ" + (": " + ", ".join(r["label"] for r in bad) if bad else ""))
    return 0


def cmd_fixture(a):
    """models: NAME|INIT ARGS|INPUT.gguf; files: NAME|TYPE|REF.gguf[|per-tensor]."""
    fx = {"about": "llama-quantize (llama.cpp b11312, 0c1e57098) outputs for scout-eval's deterministic tiny "
                   "models; made by scripts/quantize_compare.sh, checked by tests/py/test_quantize_fixture.py. "
                   "Tensor hashes are the first 16 hex digits of the sha256 of the tensor's bytes.",
          "models": {}}
    for spec in a.model:
        name, init, path = spec.split("|")
        fx["models"][name] = {"init": init.split(), "input_sha256": sha256_file(path), "quantized": {}}
    for spec in a.file:
        parts = spec.split("|")
        name, qtype, path = parts[:3]
        per_tensor = len(parts) > 3 and parts[3] == "per-tensor"
        entry = {"file_sha256": sha256_file(path)}
        if per_tensor:
            ts, order = tensors(path)
            entry["tensors"] = [[n, ts[n][0], hashlib.sha256(ts[n][2].tobytes()).hexdigest()[:16]] for n in order]
        fx["models"][name]["quantized"][qtype] = entry
    # One line per tensor: readable diffs, a small file.
    text = json.dumps(fx, indent=1)
    text = re.sub(r"\[\s*(\"[^\"]*\"|[\d.]+)(?:,\s*(\"[^\"]*\"|[\d.]+))*\s*\]",
                  lambda m: json.dumps(json.loads(m.group(0))), text)
    with open(a.out, "w") as f:
        f.write(text + "\n")
    print(f"wrote {a.out}")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("compare")
    c.add_argument("ours")
    c.add_argument("ref")
    c.add_argument("--label", default="")
    c.add_argument("--results")
    p = sub.add_parser("plan")
    p.add_argument("ours")
    p.add_argument("ref")
    p.add_argument("--label", default="")
    p.add_argument("--results")
    s = sub.add_parser("summary")
    s.add_argument("results")
    f = sub.add_parser("fixture")
    f.add_argument("out")
    f.add_argument("--model", action="append", default=[])
    f.add_argument("--file", action="append", default=[])
    a = ap.parse_args()
    return {"compare": cmd_compare, "plan": cmd_plan, "summary": cmd_summary, "fixture": cmd_fixture}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
