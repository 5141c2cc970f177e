#!/usr/bin/env python3
"""Writes tests/data/quant/*.bin: reference data for engine/quant (dequantize/quantize) and
engine/util/half.h, produced by independent implementations: the `gguf` package (gguf-py's
numpy quantizers, which mirror ggml's reference code) and numpy's own float conversions.

gguf-py cannot quantize to K-quants; for those (quant_q{4,5,6,8}_k.bin) the oracle is ggml's
own reference C, compiled from a llama.cpp source tree given with --ggml-src (the root of a
llama.cpp checkout or unpacked llama-cpp-python sdist's vendor/llama.cpp). Without it those
files are left as they are.

Run with the project venv:
  .cache/venv/bin/python scripts/make_quant_fixture.py [--ggml-src LLAMA_CPP_DIR]
The output is deterministic (fixed seeds); tests/data/quant/README.md documents the format.
"""
from __future__ import annotations

import argparse
import ctypes
import struct
import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType as QT
from gguf import quants
from gguf.constants import GGML_QUANT_SIZES as GGUF_PY_SIZES

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "quant"
MAGIC = b"SQF1"
BUDGET_BYTES = 1 << 20

# Elements and bytes per block. gguf-py still lists Q8_1 with float32 d and s (40 bytes);
# ggml's block_q8_1 holds two halves (36 bytes), which is what scout-eval implements.
GGML_QUANT_SIZES = {**GGUF_PY_SIZES, QT.Q8_1: (32, 2 + 2 + 32)}


def write_record(name: str, qtype: QT, blocks: np.ndarray, values: np.ndarray) -> None:
    """One file: magic, type id, element count, byte count, the raw blocks, the floats."""
    blocks = np.ascontiguousarray(blocks, dtype=np.uint8).reshape(-1)
    values = np.ascontiguousarray(values, dtype="<f4").reshape(-1)
    block_size, type_size = GGML_QUANT_SIZES[qtype]
    assert values.size % block_size == 0
    assert blocks.size == values.size // block_size * type_size, (name, blocks.size, values.size)
    header = MAGIC + struct.pack("<III", int(qtype), values.size, blocks.size)
    (OUT / name).write_bytes(header + blocks.tobytes() + values.tobytes())


def u32_as_f32(bits) -> np.ndarray:
    return np.asarray(bits, dtype="<u4").view("<f4")


# ------------------------------------------------------------------ dequantization data

def sane_f16(rng: np.random.Generator, n: int) -> np.ndarray:
    """Finite half scales over a wide range, both signs, with zeros and subnormals mixed in."""
    mag = 10.0 ** rng.uniform(-4.0, 1.5, n)
    sign = rng.choice([-1.0, 1.0], n)
    v = (sign * mag).astype(np.float16)
    v[rng.random(n) < 0.03] = np.float16(0.0)
    v[rng.random(n) < 0.03] = np.float16(3e-7)  # subnormal half
    return v


# Where each block type keeps its half scales (byte offsets inside the block).
HALF_SCALE_OFFSETS = {
    QT.Q4_0: [0], QT.Q4_1: [0, 2], QT.Q5_0: [0], QT.Q5_1: [0, 2], QT.Q8_0: [0],
    QT.Q4_K: [0, 2], QT.Q5_K: [0, 2], QT.Q6_K: [208],
}


def random_blocks(rng: np.random.Generator, qtype: QT, n_blocks: int) -> np.ndarray:
    """Random bytes for every field, then sane scales written over the scale fields."""
    _, type_size = GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
    if qtype == QT.Q8_K:  # float32 d at offset 0
        d = (rng.normal(size=n_blocks) * 10.0 ** rng.uniform(-4, 1, n_blocks)).astype("<f4")
        raw[:, 0:4] = d.view(np.uint8).reshape(n_blocks, 4)
    for off in HALF_SCALE_OFFSETS.get(qtype, []):
        raw[:, off:off + 2] = sane_f16(rng, n_blocks).view(np.uint8).reshape(n_blocks, 2)
    return raw


def dequantize_q8_k(blocks: np.ndarray) -> np.ndarray:
    """gguf-py has no Q8_K dequantizer: ggml's is y = d * q with a float32 d (one rounding)."""
    d = blocks[:, 0:4].copy().view("<f4")
    qs = blocks[:, 4:4 + 256].copy().view(np.int8).astype(np.float32)
    return (d * qs).astype(np.float32)


def write_dequant_fixtures(rng: np.random.Generator) -> None:
    # F16: every half bit pattern (also the fp16_to_fp32 table of half_test).
    halves = np.arange(1 << 16, dtype="<u2")
    write_record("dequant_f16.bin", QT.F16, halves.view(np.uint8),
                 quants.dequantize(halves.view(np.uint8), QT.F16))
    # F32 / BF16: random bit patterns (NaNs, infs and subnormals included).
    f32 = rng.integers(0, 1 << 32, size=1024, dtype=np.uint64).astype("<u4").view(np.uint8)
    write_record("dequant_f32.bin", QT.F32, f32, quants.dequantize(f32, QT.F32))
    bf16 = rng.integers(0, 1 << 16, size=2048, dtype=np.uint32).astype("<u2").view(np.uint8)
    write_record("dequant_bf16.bin", QT.BF16, bf16, quants.dequantize(bf16, QT.BF16))
    n_blocks = {QT.Q4_0: 64, QT.Q4_1: 64, QT.Q5_0: 64, QT.Q5_1: 64, QT.Q8_0: 64,
                QT.Q4_K: 8, QT.Q5_K: 8, QT.Q6_K: 8, QT.Q8_K: 8}
    for qtype, nb in n_blocks.items():
        blocks = random_blocks(rng, qtype, nb)
        if qtype == QT.Q8_K:
            values = dequantize_q8_k(blocks)
        else:
            values = quants.dequantize(blocks, qtype)
        write_record(f"dequant_{qtype.name.lower()}.bin", qtype, blocks, values)


# ------------------------------------------------------------------ quantization data

def special_blocks() -> list[np.ndarray]:
    """32-element blocks that exercise edge cases of the 32-block quantizers.

    Not here: a block of only -0.0. ggml's Q4_0/Q5_0 keep max = +0.0 (no |v| beats 0), so
    d = +0 / -8 = -0 (half 0x8000); gguf-py picks the element itself, -0 / -8 = +0. The C++
    test pins ggml's behaviour for that block instead.
    """
    f32 = np.float32
    return [
        np.zeros(32, f32),                                      # all zero: d = 0
        np.full(32, 0.75, f32),                                 # constant positive
        np.full(32, -3.0, f32),                                 # constant negative
        np.where(np.arange(32) == 7, 5.0, 0.0).astype(f32),     # single spike
        np.arange(-24, 8, dtype=f32),                           # integers: exact grid
        (np.arange(32, dtype=f32) - 16) * 0.5,                  # half-steps: round ties
        np.arange(-8, 8, 0.5, dtype=f32),                       # Q4_0 ties at level edges
        np.concatenate([[127.0], np.arange(-15.5, 15.5)]).astype(f32),  # Q8_0 d = 1, k.5 ties
        np.concatenate([np.full(16, -2.0), np.full(16, 2.0)]).astype(f32),  # +-amax tie
        np.linspace(-1e-7, 1e-7, 32, dtype=f32),                # scale underflows in f16
        np.linspace(-9e6, 3e6, 32, dtype=f32),                  # scale overflows in f16
        np.linspace(100.0, 101.0, 32, dtype=f32),               # large offset, small range
    ]


def ulp32(v: float) -> Fraction:
    """Spacing of float32 values in the binade of |v| (v a normal float32, nonzero)."""
    return Fraction(2) ** (int(np.floor(np.log2(abs(v)))) - 23)


def fma_trap(id_: np.float32, offset: float, p: float) -> np.float32 | None:
    """A float32 x with x * id within 0.4 ulp below p (so float32(x * id) == p and
    float32(x * id) + offset is the integer n = p + offset) while the exact x * id + offset lies
    more than 0.6 ulp below n: one fused multiply-add would round it under n and truncate to
    n - 1. Needs |p| in a higher binade than n (p in [-8, -4) for offset 8.5, say)."""
    n = p + offset
    below_n = ulp32(np.nextafter(np.float32(n), np.float32(0)))
    start = np.float32(p / float(id_))
    for k in range(-4, 5):
        x = np.float32(start + np.float32(k) * np.spacing(start))
        gap = Fraction(p) - Fraction(float(x)) * Fraction(float(id_))  # p - exact x * id
        if 0.6 * below_n < gap < 0.4 * ulp32(p):
            return x
    return None


def fma_sensitive_blocks(rng: np.random.Generator, divisor: int, offset: float,
                         count: int) -> list[np.ndarray]:
    """Q4_0 (divisor -8, offset 8.5) / Q5_0 (-16, 16.5) blocks in which several elements give
    a different level if `x * id + offset` is contracted into an FMA, which ggml's reference
    build (and gguf-py) do not do. They pin down scout-eval's fp-contract=off."""
    targets = [-(k + 0.5) for k in range(-divisor // 2, -divisor)]  # |p| in the top binade
    blocks = []
    while len(blocks) < count:
        max_ = np.float32(divisor * 10.0 ** rng.uniform(-2, 2))  # largest-magnitude element
        d = np.float32(max_ / np.float32(divisor))
        id_ = np.float32(1) / d
        found = (fma_trap(id_, offset, rng.choice(targets)) for _ in range(64))
        traps = [t for t in found if t is not None][:12]
        if len(traps) < 6:
            continue
        fill = (rng.uniform(-0.9, 0.9, 32 - 1 - len(traps)) * abs(max_)).astype(np.float32)
        blocks.append(np.concatenate([[max_], traps, fill]).astype(np.float32))
    return blocks


def quant_input_rows(rng: np.random.Generator, n_blocks: int) -> np.ndarray:
    """Random 32-element blocks at many scales and offsets, then the special blocks."""
    specials = (special_blocks() + fma_sensitive_blocks(rng, -8, 8.5, 4)
                + fma_sensitive_blocks(rng, -16, 16.5, 4))
    n_random = n_blocks - len(specials)
    scale = (10.0 ** rng.uniform(-3, 2, (n_random, 1))).astype(np.float32)
    offset = np.where(rng.random((n_random, 1)) < 0.3, rng.normal(size=(n_random, 1)) * 3, 0.0)
    gauss = rng.normal(size=(n_random, 32))
    unif = rng.uniform(-1, 1, size=(n_random, 32))
    body = np.where(rng.random((n_random, 1)) < 0.7, gauss, unif)
    rows = ((body + offset) * scale).astype(np.float32)
    return np.concatenate([rows, np.stack(specials)]).reshape(-1)


def quantize_q8_1(x: np.ndarray) -> np.ndarray:
    """Q8_1 = Q8_0's d and qs (gguf-py) plus s = f16(float(sum(qs)) * d), d = amax / 127."""
    q8_0 = quants.quantize(x, QT.Q8_0).reshape(-1, 34)
    blocks = x.reshape(-1, 32)
    d = (np.abs(blocks).max(axis=1) / np.float32(127)).astype(np.float32)
    qs = q8_0[:, 2:].view(np.int8)
    s = (qs.astype(np.int32).sum(axis=1).astype(np.float32) * d).astype(np.float16)
    return np.concatenate([q8_0[:, 0:2], s.view(np.uint8).reshape(-1, 2), q8_0[:, 2:]], axis=1)


def edge_floats(rng: np.random.Generator) -> np.ndarray:
    """Floats that stress fp32 -> fp16/bf16 rounding: ties, boundaries, NaNs, random bits."""
    f = np.float32
    fixed = [0.0, -0.0, np.inf, -np.inf, 65504.0, 65520.0, 65536.0, 1e5, 3.4028235e38,
             np.nextafter(f(65520), f(0)), np.nextafter(f(65504), f(np.inf)), 1.0, -1.0, 0.1,
             2.0 ** -14, np.nextafter(f(2.0 ** -14), f(0)), 2.0 ** -24, 2.0 ** -25, 3 * 2.0 ** -26,
             np.nextafter(f(2.0 ** -25), f(1)), np.nextafter(f(2.0 ** -25), f(0)), 2.0 ** -26,
             1.17549435e-38, 1e-45, -1e-45, 1.0009765625 + 2.0 ** -11]
    fixed_bits = u32_as_f32([
        0x7fc00000, 0xffc00000, 0x7f800001, 0x7fbfffff, 0xff800001, 0x7fffffff,  # NaNs
        0x7fe00000, 0x7f802000, 0x7fa00000,
        0x007fffff, 0x807fffff, 0x00000001, 0x00008000,  # float subnormals
        0x7f7f8000, 0x7f7fffff, 0x3f808000, 0x3f818000, 0xbf808000])  # bf16 ties / overflow
    # Exact midpoints between neighbouring finite halves, and one float-ulp either side.
    h = rng.integers(0, 0x7bff, size=600).astype("<u2")
    lo = h.view(np.float16).astype(np.float32)
    hi = (h + 1).astype("<u2").view(np.float16).astype(np.float32)
    mid = ((lo.astype(np.float64) + hi.astype(np.float64)) / 2).astype(np.float32)
    half_ties = np.concatenate([mid, np.nextafter(mid, f(np.inf)), np.nextafter(mid, f(0))])
    half_ties *= rng.choice(np.array([-1, 1], np.float32), half_ties.size)  # exact sign flips
    # bf16 ties: low 16 bits exactly 0x8000, and one ulp either side.
    b = rng.integers(0, 1 << 16, size=400).astype(np.uint32)
    bf_ties = u32_as_f32(np.concatenate([(b << 16) | 0x8000, (b << 16) | 0x7fff,
                                         (b << 16) | 0x8001]))
    random_bits = u32_as_f32(rng.integers(0, 1 << 32, size=1024, dtype=np.uint64))
    normal = (rng.normal(size=1024) * 10.0 ** rng.uniform(-9, 6, 1024)).astype(np.float32)
    parts = [np.array(fixed, np.float32), fixed_bits, half_ties, bf_ties, random_bits, normal]
    return np.concatenate(parts).astype(np.float32)


def write_quant_fixtures(rng: np.random.Generator) -> None:
    x = quant_input_rows(rng, 128)
    for qtype in (QT.Q4_0, QT.Q4_1, QT.Q5_0, QT.Q5_1, QT.Q8_0):
        write_record(f"quant_{qtype.name.lower()}.bin", qtype, quants.quantize(x, qtype), x)
    write_record("quant_q8_1.bin", QT.Q8_1, quantize_q8_1(x), x)
    e = edge_floats(rng)
    # numpy's float32 -> float16 cast (round to nearest even; NaN payloads differ from ggml,
    # which the tests handle) and gguf-py's bf16 (ggml_compute_fp32_to_bf16's algorithm).
    write_record("quant_f16.bin", QT.F16, e.astype(np.float16).view(np.uint8), e)
    write_record("quant_bf16.bin", QT.BF16, quants.quantize(e, QT.BF16), e)


# ------------------------------------------------------------------ K-quants from ggml's C

# ggml-quants.c calls a few ggml.c functions on paths these fixtures never take.
GGML_STUBS = """
#include <stdlib.h>
void ggml_abort(const char * file, int line, const char * fmt, ...) { abort(); }
size_t ggml_row_size(int type, long long ne) { abort(); }
size_t ggml_type_size(int type) { abort(); }
const char * ggml_type_name(int type) { return "?"; }
"""


def build_ggml_quants(src_root: Path, work: Path) -> ctypes.CDLL:
    """Compiles ggml/src/ggml-quants.c into a shared library as ggml builds it into ggml-base
    (release, no -march: no FMA contraction on x86-64). -ffp-contract=off keeps it so on
    hosts whose base ISA has FMA (aarch64), where the compiler would otherwise fuse."""
    ggml = src_root / "ggml"
    (work / "stubs.c").write_text(GGML_STUBS)
    lib = work / "libggml_quants_ref.so"
    cmd = ["cc", "-O2", "-DNDEBUG", "-std=gnu11", "-fPIC", "-shared", "-ffp-contract=off",
           f"-I{ggml / 'include'}", f"-I{ggml / 'src'}", f"-I{ggml / 'src' / 'ggml-cpu'}",
           str(ggml / "src" / "ggml-quants.c"), str(work / "stubs.c"), "-lm", "-o", str(lib)]
    subprocess.run(cmd, check=True)
    return ctypes.CDLL(str(lib))


def kquant_input_rows(rng: np.random.Generator) -> np.ndarray:
    """256-element blocks of several shapes, each at a random scale over 1e-4..1e3."""
    n = 256
    g = lambda: rng.normal(size=n)  # noqa: E731
    shapes = [
        g(),                                                        # Gaussian
        3.0 + g(),                                                  # offset
        rng.uniform(-1, 1, n),                                      # uniform
        rng.laplace(size=n),                                        # heavy tails
        g() * np.where(rng.random(n) < 0.02, 25.0, 1.0),            # rare outliers
        np.where(rng.random(n) < 0.25, g(), 0.0),                   # sparse
        np.where((np.arange(n) // 32) % 3 == 0, 0.0, g()),          # zero sub-blocks
        np.where((np.arange(n) // 16) % 5 == 0, 1.5, g()),          # constant sub-blocks
        np.round(g() * 4),                                          # integers
        np.abs(g()) + 0.1,                                          # all positive
        -np.abs(g()),                                               # all negative
        np.zeros(n),                                                # all zero
    ]
    blocks = []
    for i in range(24):
        scale = 10.0 ** rng.uniform(-4, 3)
        blocks.append((shapes[i % len(shapes)] * scale).astype(np.float32))
        shapes[i % len(shapes)] = np.roll(shapes[i % len(shapes)], 7)  # vary the repeats
    return np.concatenate(blocks)


def write_kquant_fixtures(rng: np.random.Generator, ggml_src: Path) -> None:
    x = kquant_input_rows(rng)
    with tempfile.TemporaryDirectory() as tmp:
        lib = build_ggml_quants(ggml_src, Path(tmp))
        for qtype, fn in ((QT.Q4_K, "quantize_row_q4_K_ref"), (QT.Q5_K, "quantize_row_q5_K_ref"),
                          (QT.Q6_K, "quantize_row_q6_K_ref"), (QT.Q8_K, "quantize_row_q8_K_ref")):
            block_size, type_size = GGML_QUANT_SIZES[qtype]
            out = np.zeros(x.size // block_size * type_size, np.uint8)  # Q8_K: bsums of zero
            f = getattr(lib, fn)                                        # blocks stay unset
            f.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
            f(x.ctypes.data, out.ctypes.data, x.size)
            write_record(f"quant_{qtype.name.lower()}.bin", qtype, out, x)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ggml-src", type=Path, help="llama.cpp source tree (K-quant oracle)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        write_dequant_fixtures(np.random.default_rng(20240501))
        write_quant_fixtures(np.random.default_rng(20240502))
        if args.ggml_src:
            write_kquant_fixtures(np.random.default_rng(20240503), args.ggml_src)
    total = sum(p.stat().st_size for p in OUT.glob("*.bin"))
    print(f"{OUT} holds {len(list(OUT.glob('*.bin')))} files, {total} bytes")
    if total >= BUDGET_BYTES:
        print("fixture exceeds its 1 MiB budget", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
