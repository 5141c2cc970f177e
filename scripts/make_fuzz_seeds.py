"""Writes small valid GGUF files (via the gguf PyPI package) as the fuzzer's seed corpus.
Run: .cache/venv/bin/python scripts/make_fuzz_seeds.py  (outputs are committed in fuzz/seeds/)."""
import os

import numpy as np
import gguf

out = os.path.join(os.path.dirname(__file__), "..", "fuzz", "seeds")
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(0)


def write(name, build):
    path = os.path.join(out, name)
    w = gguf.GGUFWriter(path, arch="llama")
    build(w)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def metadata_only(w):
    w.add_uint32("llama.block_count", 1)
    w.add_string("tokenizer.ggml.model", "gpt2")
    w.add_array("tokenizer.ggml.tokens", ["a", "b", "ab"])
    w.add_array("nested", [[1, 2], [3]])
    w.add_float64("f64", 1.5)
    w.add_bool("flag", True)


def with_tensors(w):
    metadata_only(w)
    w.add_tensor("f32", rng.standard_normal((2, 8)).astype(np.float32))
    w.add_tensor("f16", rng.standard_normal((8,)).astype(np.float16))
    w.add_tensor("q8", rng.integers(0, 256, size=(1, 34), dtype=np.uint8), raw_dtype=gguf.GGMLQuantizationType.Q8_0)


def k_quant(w):
    w.add_uint32("general.alignment", 64)
    w.add_tensor("q4k", rng.integers(0, 256, size=(1, 144), dtype=np.uint8), raw_dtype=gguf.GGMLQuantizationType.Q4_K)


write("metadata.gguf", metadata_only)
write("tensors.gguf", with_tensors)
write("kquant.gguf", k_quant)
