#!/usr/bin/env python3
"""Copy a GGUF and move every element of one F32 tensor up by one ulp (relative change
<= 1.2e-7): a rounding-level perturbation. Running the reference on the copy measures the
reference's own noise floor: how far its output moves when nothing but float rounding changes
(scripts/forward_fixtures.sh stores it in the fixtures as "reference_noise").

  scripts/forward_perturb_ulp.py IN.gguf OUT.gguf [--tensor blk.0.attn_norm.weight]
"""
import argparse
import shutil

import numpy as np
from gguf import GGUFReader


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--tensor", default="blk.0.attn_norm.weight")
    a = ap.parse_args()
    r = GGUFReader(a.input)
    t = next((t for t in r.tensors if t.name == a.tensor), None)
    if t is None:
        raise SystemExit(f"forward_perturb_ulp: {a.input} has no tensor {a.tensor}")
    if t.data.dtype != np.float32:
        raise SystemExit(f"forward_perturb_ulp: {a.tensor} in {a.input} is not F32")
    old = np.array(t.data, dtype=np.float32).ravel()
    new = np.nextafter(old, np.float32(np.inf)).astype(np.float32)
    shutil.copyfile(a.input, a.output)
    with open(a.output, "r+b") as f:
        f.seek(int(t.data_offset))
        f.write(new.tobytes())
    print(f"forward_perturb_ulp: {a.tensor}: {old.size} values moved up by one ulp -> {a.output}")


if __name__ == "__main__":
    main()
