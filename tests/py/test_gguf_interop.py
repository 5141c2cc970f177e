"""GGUF interoperability with the `gguf` PyPI package (an independent reader and writer).

1. A file written by gguf-py (every value type, nested arrays, several tensor types) reads back
   in `scout-eval inspect --json --hash` with the same metadata and the same tensor bytes.
2. `scout-eval model init` output loads in gguf-py with the metadata and shapes scout-eval
   reports; the same seed gives the same bytes, another seed other bytes.
3. Corrupted files make `scout-eval inspect` exit 1 with one clear message, never a crash.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import gguf

from checks import check, finish

EXE = os.environ["SCOUT_EVAL"]


def inspect_json(path, model_complete=True):
    """inspect exits 0 for a complete model, 3 for a valid GGUF that is not a runnable model."""
    out = subprocess.run([EXE, "inspect", "--json", "--hash", "--all-metadata", path],
                         capture_output=True, text=True)
    assert out.returncode == (0 if model_complete else 3), (out.returncode, out.stderr)
    return json.loads(out.stdout)


def field_value(field):
    """Decode a gguf-py ReaderField into plain Python values (nested arrays included)."""
    return field.contents()


def flatten(v):
    if isinstance(v, list):
        return [x for item in v for x in flatten(item)]
    return [v]


def same_value(ours, theirs):
    if isinstance(theirs, float) or isinstance(theirs, np.floating):
        return np.float32(ours) == np.float32(theirs) or (np.isnan(ours) and np.isnan(theirs))
    if isinstance(theirs, list):
        return isinstance(ours, list) and len(ours) == len(theirs) and all(
            same_value(a, b) for a, b in zip(ours, theirs))
    if isinstance(theirs, (bool, np.bool_)):
        return bool(ours) == bool(theirs)
    return ours == theirs


def python_written_file(path):
    w = gguf.GGUFWriter(path, arch="llama")
    w.add_uint8("t.u8", 250)
    w.add_int8("t.i8", -100)
    w.add_uint16("t.u16", 65000)
    w.add_int16("t.i16", -32000)
    w.add_uint32("t.u32", 4_000_000_000)
    w.add_int32("t.i32", -2_000_000_000)
    w.add_float32("t.f32", 3.14159)
    w.add_uint64("t.u64", 2**63 + 5)
    w.add_int64("t.i64", -(2**62))
    w.add_float64("t.f64", 2.718281828459045)
    w.add_bool("t.bool", True)
    w.add_string("t.str", "héllo wörld 日本語 🦙")
    w.add_array("t.arr_i32", [1, -2, 3])
    w.add_array("t.arr_f32", [0.5, -1.25])
    w.add_array("t.arr_str", ["a", "", "ü"])
    w.add_array("t.nested", [[1, 2], [3, 4, 5]])
    rng = np.random.default_rng(1)
    w.add_tensor("f32.weight", rng.standard_normal((3, 64)).astype(np.float32))
    w.add_tensor("f16.weight", rng.standard_normal((2, 32)).astype(np.float16))
    raw_q8 = rng.integers(0, 256, size=(4, 2 * 34), dtype=np.uint8)  # 4 rows of 64 q8_0 values
    w.add_tensor("q8.weight", raw_q8, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    raw_q4k = rng.integers(0, 256, size=(2, 144), dtype=np.uint8)
    w.add_tensor("q4k.weight", raw_q4k, raw_dtype=gguf.GGMLQuantizationType.Q4_K)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def test_reads_python_written_file(tmp):
    path = os.path.join(tmp, "py.gguf")
    python_written_file(path)
    ours = inspect_json(path, model_complete=False)  # arch "llama" but no model tensors
    check(ours["problems"] != [] and not ours["valid"], "not a runnable model: problems reported")
    ref = gguf.GGUFReader(path)
    for name, field in ref.fields.items():
        if name.startswith("GGUF."):
            continue
        check(name in ours["metadata"], f"key {name} read")
        if name in ours["metadata"]:
            mine = ours["metadata"][name]
            if len(field.types) > 2:  # nested array: gguf-py's contents() flattens it
                mine = flatten(mine)
            check(same_value(mine, field_value(field)),
                  f"value of {name}: ours {ours['metadata'][name]!r} vs {field_value(field)!r}")
    check(len(ours["metadata"]) == len([k for k in ref.fields if not k.startswith("GGUF.")]), "metadata count")
    by_name = {t["name"]: t for t in ours["tensors"]}
    check(len(by_name) == len(ref.tensors), "tensor count")
    for t in ref.tensors:
        o = by_name.get(t.name)
        check(o is not None, f"tensor {t.name} present")
        if o is None:
            continue
        check(o["type"].lower() == t.tensor_type.name.lower(), f"{t.name} type {o['type']} vs {t.tensor_type.name}")
        check(o["shape"] == [int(d) for d in t.shape], f"{t.name} shape {o['shape']} vs {list(t.shape)}")
        check(o["bytes"] == int(t.n_bytes), f"{t.name} byte size")
        digest = hashlib.sha256(np.ascontiguousarray(t.data).tobytes()).hexdigest()
        check(o["sha256"] == digest, f"{t.name} bytes identical")


def run_model_init(path, seed, preset="tiny-scout", dtype="f16", arch="llama4"):
    out = subprocess.run([EXE, "model", "init", "--arch", arch, "--preset", preset, "--seed", str(seed),
                          "--dtype", dtype, "-o", path], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def sha_file(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_model_init_loads_in_gguf_py(tmp):
    for arch, preset, dtype in [("llama4", "tiny-scout", "f16"), ("llama4", "tiny-maverick", "bf16"),
                                ("llama", "tiny-llama", "f32")]:
        a, b, c = (os.path.join(tmp, f"{preset}-{k}.gguf") for k in "abc")
        run_model_init(a, 7, preset, dtype, arch)
        run_model_init(b, 7, preset, dtype, arch)
        run_model_init(c, 8, preset, dtype, arch)
        check(sha_file(a) == sha_file(b), f"{preset}: same seed, same bytes")
        check(sha_file(a) != sha_file(c), f"{preset}: another seed, other bytes")
        ours = inspect_json(a)
        check(ours["valid"] and ours["problems"] == [], f"{preset}: scout-eval validates it: {ours['problems']}")
        ref = gguf.GGUFReader(a)
        check(ref.fields["general.architecture"].contents() == arch, f"{preset}: arch in gguf-py")
        by_name = {t["name"]: t for t in ours["tensors"]}
        check(len(ref.tensors) == len(by_name), f"{preset}: tensor count")
        for t in ref.tensors:
            o = by_name[t.name]
            check(o["shape"] == [int(d) for d in t.shape], f"{preset} {t.name}: shape")
            check(o["sha256"] == hashlib.sha256(np.ascontiguousarray(t.data).tobytes()).hexdigest(),
                  f"{preset} {t.name}: bytes")
            if t.tensor_type.name in ("F16", "F32"):
                values = np.asarray(t.data, dtype=np.float32)
                check(np.isfinite(values).all(), f"{preset} {t.name}: finite")
        for key, value in ours["metadata"].items():
            check(key in ref.fields, f"{preset}: {key} in gguf-py")
            if key in ref.fields and not isinstance(value, list):
                check(same_value(value, ref.fields[key].contents()), f"{preset}: {key} value")
        text = subprocess.run([EXE, "inspect", a], capture_output=True, text=True)
        check(text.returncode == 0 and f"architecture: {arch}" in text.stdout, f"{preset}: inspect text arch")
        check(all(f"  {t.name} " in text.stdout for t in ref.tensors), f"{preset}: inspect lists every tensor")
        check("verdict: OK" in text.stdout, f"{preset}: inspect verdict OK")
        tokens = ref.fields["tokenizer.ggml.tokens"].contents()
        hp = ours["hparams"]
        check(len(tokens) == hp["n_vocab"], f"{preset}: vocab size matches tokens")
        if arch == "llama4":
            gate = next(t for t in ref.tensors if t.name.endswith("ffn_gate_exps.weight"))
            check(list(gate.shape) == [hp["n_embd"], hp["n_ff_exp"], hp["n_expert"]], f"{preset}: expert tensor shape")
            # Routing spreads: top-1 of the router over unit-RMS inputs uses every expert, none
            # for more than 3x its fair share.
            router = next(t for t in ref.tensors if t.name.endswith("ffn_gate_inp.weight"))
            w = np.asarray(router.data, dtype=np.float32).reshape(hp["n_expert"], hp["n_embd"])
            x = np.random.default_rng(0).standard_normal((4096, hp["n_embd"])).astype(np.float32)
            counts = np.bincount((x @ w.T).argmax(axis=1), minlength=hp["n_expert"])
            check(counts.min() > 0 and counts.max() < 3 * 4096 / hp["n_expert"], f"{preset}: routing spread {counts}")


SCALAR_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


def tensor_info_positions(data):
    """Walks a GGUF header (written from the spec, independent of scout-eval) and returns, per
    tensor info, the byte positions of its name length, rank, dims, type and offset fields."""
    u32 = lambda p: int.from_bytes(data[p:p + 4], "little")
    u64 = lambda p: int.from_bytes(data[p:p + 8], "little")
    n_tensors, n_kv, pos = u64(8), u64(16), 24

    def skip_value(t, pos):
        if t in SCALAR_SIZES:
            return pos + SCALAR_SIZES[t]
        if t == 8:
            return pos + 8 + u64(pos)
        elem, count, pos = u32(pos), u64(pos + 4), pos + 12
        for _ in range(count):
            pos = skip_value(elem, pos)
        return pos

    for _ in range(n_kv):
        pos += 8 + u64(pos)
        pos = skip_value(u32(pos), pos + 4)
    infos = []
    for _ in range(n_tensors):
        info = {"name_len": pos}
        pos += 8 + u64(pos)
        info["rank"] = pos
        rank = u32(pos)
        info["dims"] = [pos + 4 + 8 * d for d in range(rank)]
        pos += 4 + 8 * rank
        info["type"], info["offset"] = pos, pos + 4
        pos += 12
        infos.append(info)
    return infos


def patch(data, pos, value, size):
    return data[:pos] + value.to_bytes(size, "little") + data[pos + size:]


def test_corrupted_files_exit_cleanly(tmp):
    good = os.path.join(tmp, "good.gguf")
    run_model_init(good, 1, "tiny-llama", "f16", "llama")
    data = open(good, "rb").read()
    infos = tensor_info_positions(data)
    first, second = infos[0], infos[1]
    matrix = next(i for i in infos if len(i["dims"]) == 2)
    variants = {
        "truncated in the data": data[: len(data) // 2],
        "truncated in the header": data[:200],
        "truncated before the data": data[: infos[-1]["offset"] + 8],
        "bad magic": b"GGUX" + data[4:],
        "version 1": patch(data, 4, 1, 4),
        "version 99": patch(data, 4, 99, 4),
        "huge tensor count": patch(data, 8, 2**62, 8),
        "huge kv count": patch(data, 16, 2**62, 8),
        "kv count too large": patch(data, 16, int.from_bytes(data[16:24], "little") + 3, 8),
        "first key length huge": patch(data, 24, 2**50, 8),
        "first value type unknown": patch(data, 24 + 8 + int.from_bytes(data[24:32], "little"), 77, 4),
        "tensor name length huge": patch(data, first["name_len"], 2**40, 8),
        "rank 0": patch(data, first["rank"], 0, 4),
        "rank 9": patch(data, first["rank"], 9, 4),
        "dimension overflow": patch(patch(data, matrix["dims"][0], 2**40, 8), matrix["dims"][1], 2**40, 8),
        "dimension beyond int64": patch(data, first["dims"][0], 2**64 - 1, 8),
        "unknown tensor type": patch(data, first["type"], 1000, 4),
        "removed tensor type": patch(data, first["type"], 5, 4),
        "row not a whole block": patch(patch(data, matrix["type"], 8, 4), matrix["dims"][0], 255, 8),
        "offset past the end": patch(data, first["offset"], 2**45, 8),
        "offset unaligned": patch(data, second["offset"], int.from_bytes(data[second["offset"]:second["offset"] + 8], "little") + 4, 8),
        "tensors overlap": patch(data, second["offset"], 0, 8),
        "garbage": bytes(range(256)) * 4,
        "empty": b"",
    }
    check(len(variants) >= 20, "at least 20 corrupted variants")
    for name, content in variants.items():
        path = os.path.join(tmp, f"bad-{name.replace(' ', '_')}.gguf")
        open(path, "wb").write(content)
        out = subprocess.run([EXE, "inspect", path], capture_output=True, text=True)
        check(out.returncode == 1, f"{name}: exit code 1, got {out.returncode}")
        lines = [l for l in out.stderr.splitlines() if l.strip()]
        check(len(lines) == 1 and path in lines[0] and "error" in lines[0], f"{name}: one clear message: {out.stderr!r}")
        print(f"  {name}: {lines[0] if lines else ''}", file=sys.stderr)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        test_reads_python_written_file(tmp)
        test_model_init_loads_in_gguf_py(tmp)
        test_corrupted_files_exit_cleanly(tmp)
    finish()
