#!/usr/bin/env python3
"""Greedy continuations of the engine against llama.cpp, token for token.

  scripts/forward_greedy.py --model M.gguf --prompt-file F [-n 32] [--kv-f32] [--threads T]
      [--scout-eval build/cli/scout-eval] [--ref-logits .cache/llama.cpp/build/bin/ref-logits]
      [--near-tie 0.5] [--json]

llama.cpp: `ref-logits --generate N` (argmax, ties to the lower id, one token per decode).
Engine: `scout-eval generate --tokens <llama.cpp's prompt ids> -n N --ignore-eos --json`
(temperature 0 = argmax). Both continue the same token ids, so tokenization is not compared
here (tests/engine covers it).

At the first position where the continuations differ, the script prints both engines' margin
between their top two logits at that step (ours from `scout-eval logits` on the shared
prefix). A divergence is "explained" when llama.cpp's margin there is below --near-tie: a
near-tie that rounding noise can flip. The default 0.5 is about the largest top-token
log-prob change that a one-ulp change of one norm vector causes in llama.cpp itself on
SmolLM2 Q4_1 (docs/ENGINE.md, "Agreement with llama.cpp"). Exit status 1 when some
divergence is not explained.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, check=True, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0 and not check:
        return None
    if r.returncode != 0:
        sys.exit(f"forward_greedy: {' '.join(cmd[:2])} failed ({r.returncode}):\n{r.stderr[-2000:]}")
    return r.stdout


def engine_flags(a):
    return (["--kv-f32"] if a.kv_f32 else []) + (["-t", str(a.threads)] if a.threads else [])


def our_greedy(a, prompt, work):
    """The engine's greedy continuation: `generate --json`, or, when that cannot print the
    text (random models emit byte tokens that are not valid UTF-8 on their own), argmax over
    `logits` of the growing prefix (a full prefill each step, which the engine guarantees to
    equal incremental decoding bit for bit)."""
    out = run([a.scout_eval, "generate", "-m", a.model, "--tokens", " ".join(map(str, prompt)), "-n", str(a.n),
               "--ignore-eos", "--json"] + engine_flags(a), check=False)
    if out is not None:
        return json.loads(out)["tokens"]
    gen = []
    for _ in range(a.n):
        gen.append(our_margin(a, prompt + gen, work)[1])
    return gen


def our_margin(a, prefix, work):
    """Top-1/top-2 logit margin of the engine after `prefix` (its last row), and its argmax."""
    out = os.path.join(work, "ours-margin")
    run([a.scout_eval, "logits", "-m", a.model, "--tokens", " ".join(map(str, prefix)), "-o", out] + engine_flags(a))
    row = np.fromfile(os.path.join(out, "0.logits.f32"), dtype="<f4").reshape(len(prefix), -1)[-1]
    top2 = np.sort(row)[-2:]
    return float(top2[1] - top2[0]), int(np.argmax(row))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--prompt-file", required=True)
    ap.add_argument("-n", type=int, default=32)
    ap.add_argument("--kv-f32", action="store_true")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--scout-eval", default=os.path.join(ROOT, "build", "cli", "scout-eval"))
    ap.add_argument("--ref-logits", default=os.path.join(ROOT, ".cache", "llama.cpp", "build", "bin", "ref-logits"))
    ap.add_argument("--near-tie", type=float, default=0.5)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    a.model = os.path.abspath(a.model)
    a.scout_eval = os.path.abspath(a.scout_eval)

    with tempfile.TemporaryDirectory() as work:
        ref = os.path.join(work, "ref")
        cmd = [a.ref_logits, "--model", a.model, "--prompt-file", os.path.abspath(a.prompt_file), "--out", ref,
               "--generate", str(a.n)]
        if a.kv_f32:
            cmd.append("--kv-f32")
        if a.threads:
            cmd += ["--threads", str(a.threads)]
        run(cmd)
        results, i = [], 0
        while os.path.exists(os.path.join(ref, f"{i}.tokens.json")):
            with open(os.path.join(ref, f"{i}.tokens.json")) as f:
                prompt = json.load(f)
            with open(os.path.join(ref, f"{i}.generated.json")) as f:
                gen = json.load(f)
            ours = our_greedy(a, prompt, work)
            theirs = gen["tokens"]
            k = next((j for j in range(min(len(ours), len(theirs))) if ours[j] != theirs[j]), None)
            r = {"prompt": i, "prompt_tokens": len(prompt), "generated": len(theirs), "identical": k is None}
            if k is not None:
                margin, _ = our_margin(a, prompt + theirs[:k], work)
                r.update({"first_divergence": k, "llamacpp_token": theirs[k], "our_token": ours[k],
                          "llamacpp_top2_margin": gen["top2_margin"][k], "our_top2_margin": margin,
                          "near_tie": gen["top2_margin"][k] < a.near_tie})
            results.append(r)
            i += 1
    if a.json:
        print(json.dumps(results, indent=1))
    else:
        for r in results:
            if r["identical"]:
                print(f"prompt {r['prompt']} ({r['prompt_tokens']} tokens): {r['generated']} greedy tokens identical")
            else:
                print(f"prompt {r['prompt']} ({r['prompt_tokens']} tokens): first divergence at generated token "
                      f"{r['first_divergence']}: llama.cpp {r['llamacpp_token']} vs ours {r['our_token']}; "
                      f"top-2 logit margin there: llama.cpp {r['llamacpp_top2_margin']:.3g}, ours "
                      f"{r['our_top2_margin']:.3g} -> {'near-tie' if r['near_tie'] else 'NOT a near-tie'}")
    sys.exit(0 if all(r["identical"] or r["near_tie"] for r in results) else 1)


if __name__ == "__main__":
    main()
