#!/usr/bin/env python3
"""Turn a logits dump (ref-logits format: DIR/i.tokens.json + DIR/i.logits.f32) into a small
JSON fixture for tests/engine/forward_reference_test.cpp: per prompt the token ids and, per
position (from --from-position on), the reference's top-k token ids and their log-probabilities.

  scripts/forward_make_fixture.py DUMP_DIR --out FILE.json --top-k K --info JSON
      [--model-file PATH | --preset ARCH/PRESET --dtype T] --model-sha256 HEX [--quantize TYPE]
      [--engine JSON] [--noise DUMP_DIR --noise-info JSON]

--info: free-form description of the reference run (tool, version, flags), kept in the file.
--engine: settings the engine must use to be comparable ({"kv_type": "f32", "attn_chunk": 5}).
--quantize: the compared model is the file/preset converted by `scout-eval quantize --type TYPE`
  (byte-identical to llama-quantize's output); --model-sha256 is then the converted file's.
--noise: a second dump of the same prompts by the same reference after a rounding-level change
  (scripts/forward_perturb_ulp.py); its agreement with DUMP_DIR, measured exactly as the test
  measures the engine's, is stored as "reference_noise": the reference's own noise floor.
"""
import argparse
import json
import os

import numpy as np


def load_logprobs(d, i):
    with open(os.path.join(d, f"{i}.tokens.json")) as f:
        tokens = json.load(f)
    logits = np.fromfile(os.path.join(d, f"{i}.logits.f32"), dtype="<f4").astype(np.float64)
    logits = logits.reshape(len(tokens), -1)
    m = logits.max(axis=1, keepdims=True)
    return tokens, logits - m - np.log(np.exp(logits - m).sum(axis=1, keepdims=True))


def add_noise(acc, noise_dir, i, tokens, logp, first, top):
    """The perturbed run's agreement with the reference, as the engine test measures it: top-1
    on the reference's top token, |dlogprob| of the top token and of every stored top-k token."""
    ntok, nlogp = load_logprobs(noise_dir, i)
    if ntok != tokens:
        raise SystemExit(f"--noise: prompt {i} has other token ids")
    for p, row in enumerate(top):
        q = first + p
        acc["agree"] += int(np.argmax(nlogp[q]) == row[0])
        d = np.abs(nlogp[q, row] - logp[q, row])
        acc["d_top"].append(float(d[0]))
        acc["max_any"] = max(acc["max_any"], float(d.max()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dump")
    ap.add_argument("--out", required=True)
    ap.add_argument("--top-k", type=int, default=8)
    ap.add_argument("--info", required=True)
    ap.add_argument("--model-file")
    ap.add_argument("--preset")
    ap.add_argument("--dtype")
    ap.add_argument("--model-sha256", required=True)
    ap.add_argument("--engine", default="{}")
    ap.add_argument("--quantize")
    ap.add_argument("--noise")
    ap.add_argument("--noise-info", default="{}")
    ap.add_argument("--from-position", type=int, default=0,
                    help="store the top-k only for positions >= this (long prompts)")
    a = ap.parse_args()

    if a.model_file:
        model = {"file": a.model_file, "sha256": a.model_sha256}
    else:
        arch, preset = a.preset.split("/")
        model = {"arch": arch, "preset": preset, "dtype": a.dtype, "seed": 0, "sha256": a.model_sha256}
    if a.quantize:
        model["quantize"] = a.quantize
    prompts = []
    noise = {"agree": 0, "d_top": [], "max_any": 0.0}
    i = 0
    while os.path.exists(os.path.join(a.dump, f"{i}.tokens.json")):
        tokens, logp = load_logprobs(a.dump, i)
        # descending log-prob; ties to the lower id (stable sort on the negated values)
        first = a.from_position
        top = np.argsort(-logp[first:], axis=1, kind="stable")[:, : a.top_k]
        prompts.append({
            "tokens": tokens,
            "first_position": first,
            "top_ids": top.tolist(),
            "top_logprobs": [[round(float(logp[first + p, t]), 6) for t in row] for p, row in enumerate(top)],
        })
        if a.noise:
            add_noise(noise, a.noise, i, tokens, logp, first, top)
        i += 1
    if not prompts:
        raise SystemExit(f"no prompts in {a.dump}")
    out = {"reference": json.loads(a.info), "model": model, "engine": json.loads(a.engine),
           "top_k": a.top_k, "prompts": prompts}
    if a.noise:
        d = np.array(noise["d_top"])
        out["reference_noise"] = {"run": json.loads(a.noise_info), "positions": int(d.size),
                                  "top1": noise["agree"] / d.size, "median_top": float(np.median(d)),
                                  "max_top": float(d.max()), "max_any": noise["max_any"]}
        print(f"forward_make_fixture: reference noise floor: top-1 {out['reference_noise']['top1']:.4f}, "
              f"median |dlogprob| {out['reference_noise']['median_top']:.3g}")
    with open(a.out, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(f"forward_make_fixture: {i} prompts, {sum(len(p['top_ids']) for p in prompts)} positions -> {a.out}")


if __name__ == "__main__":
    main()
