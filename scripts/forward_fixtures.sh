#!/usr/bin/env bash
# Regenerates the forward-pass reference fixtures in tests/data/forward/ from two independent
# implementations: llama.cpp (the ref-logits tool, scripts/llamacpp/build.sh) and the plain
# numpy forward pass (scripts/forward_numpy_ref.py). Needs a built scout-eval (for the random
# models), .cache/venv and, for the SmolLM2 fixture, .cache/models (scripts/setup.sh).
#
#   scripts/forward_fixtures.sh [path/to/scout-eval]
#   FORWARD_FIXTURES=wiki scripts/forward_fixtures.sh ...   # only the *-wiki* fixtures (last section)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
S=${1:-$root/build/cli/scout-eval}
REF=$root/.cache/llama.cpp/build/bin/ref-logits
QUANT=$root/.cache/llama.cpp/build/bin/llama-quantize
PY=$root/.cache/venv/bin/python
OUT=$root/tests/data/forward
SMOL=$root/.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf
for f in "$S" "$REF" "$QUANT" "$PY"; do [ -x "$f" ] || { echo "forward_fixtures: missing $f" >&2; exit 1; }; done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ref_version="llama.cpp b11312 (0c1e57098, vendored in llama-cpp-python 0.3.36)"

fixture() {  # dump out top_k info model-args... [--engine JSON]
  local dump=$1 out=$2 k=$3 info=$4; shift 4
  "$PY" "$root/scripts/forward_make_fixture.py" "$dump" --out "$OUT/$out" --top-k "$k" --info "$info" "$@"
}

# ---- Prompts of 1 to ~1000 tokens (wikitext), llama.cpp defaults, with its noise floor ---------
# Each fixture also stores "reference_noise": llama.cpp against itself after a one-ulp change of
# blk.0.attn_norm.weight (scripts/forward_perturb_ulp.py), measured like the engine. With
# quantized weights every matmul re-quantizes its input (Q8_0/Q8_1/Q8_K), which turns any
# rounding-level difference into a full quantization step somewhere: that floor is what an
# exact re-implementation can reach, and the tests bound the engine relative to it.
wiki_fixtures() {  # model out top_k engine-json prompts model-args...
  local m=$1 out=$2 k=$3 engine=$4 prompts=$5; shift 5
  "$REF" --model "$m" --prompt-file "$prompts" --out "$work/w-ref" 2>/dev/null
  "$PY" "$root/scripts/forward_perturb_ulp.py" "$m" "$work/w-ulp.gguf" >/dev/null
  "$REF" --model "$work/w-ulp.gguf" --prompt-file "$prompts" --out "$work/w-ulp" 2>/dev/null
  fixture "$work/w-ref" "$out" "$k" \
    "{\"tool\":\"ref-logits (defaults: F16 KV cache, flash attention auto)\",\"version\":\"$ref_version\"}" \
    --model-sha256 "$(sha256sum "$m" | cut -d' ' -f1)" --engine "$engine" "$@" \
    --noise "$work/w-ulp" --noise-info '{"tool":"same ref-logits run on the model with blk.0.attn_norm.weight moved up one ulp (scripts/forward_perturb_ulp.py)"}'
  rm -rf "$work/w-ref" "$work/w-ulp" "$work/w-ulp.gguf"
}
if [ -f "$SMOL" ]; then
  wiki_fixtures "$SMOL" llamacpp-smollm2-q4_1-wiki.json 4 '{"kv_type":"f16"}' "$OUT/prompts-wiki-smollm2.txt" \
    --model-file ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"
  "$S" quantize "$SMOL" "$work/smollm2-f16.gguf" --type F16 >/dev/null 2>&1
  wiki_fixtures "$work/smollm2-f16.gguf" llamacpp-smollm2-f16-wiki.json 4 '{"kv_type":"f16"}' \
    "$OUT/prompts-wiki-smollm2.txt" --model-file ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf" --quantize F16
else
  echo "forward_fixtures: $SMOL missing; SmolLM2 wiki fixtures not regenerated" >&2
fi
for preset in tiny-scout tiny-maverick; do
  m=$work/$preset-f16.gguf
  "$S" model init --arch llama4 --preset "$preset" --dtype f16 -o "$m" 2>/dev/null
  wiki_fixtures "$m" "llamacpp-$preset-f16-wiki.json" 4 '{"kv_type":"f16"}' "$OUT/prompts-wiki-tiny.txt" \
    --preset "llama4/$preset" --dtype f16
  "$S" quantize "$m" "$work/$preset-q4_k_m.gguf" --type Q4_K_M >/dev/null 2>&1
  wiki_fixtures "$work/$preset-q4_k_m.gguf" "llamacpp-$preset-q4_k_m-wiki.json" 4 '{"kv_type":"f16"}' \
    "$OUT/prompts-wiki-tiny.txt" --preset "llama4/$preset" --dtype f16 --quantize Q4_K_M
done
if [ "${FORWARD_FIXTURES:-all}" = wiki ]; then ls -la "$OUT"; exit 0; fi

# Tiny random models: llama.cpp in full F32 (F32 weights, F32 KV cache, no flash attention)
# and with its defaults on F16 weights (F16 KV cache, flash attention auto).
for spec in llama4/tiny-scout llama4/tiny-maverick llama/tiny-llama; do
  arch=${spec%/*} preset=${spec#*/}
  for dtype in f32 f16; do
    m=$work/$preset-$dtype.gguf
    "$S" model init --arch "$arch" --preset "$preset" --dtype "$dtype" -o "$m" 2>/dev/null
    sha=$(sha256sum "$m" | cut -d' ' -f1)
    if [ $dtype = f32 ]; then
      "$REF" --model "$m" --prompt-file "$OUT/prompts-tiny.txt" --out "$work/ref-$preset-$dtype" --kv-f32 --fa off 2>/dev/null
      fixture "$work/ref-$preset-$dtype" "llamacpp-$preset-f32.json" 16 \
        "{\"tool\":\"ref-logits --kv-f32 --fa off\",\"version\":\"$ref_version\"}" \
        --preset "$spec" --dtype f32 --model-sha256 "$sha" --engine '{"kv_type":"f32"}'
    elif [ $arch = llama4 ]; then
      "$REF" --model "$m" --prompt-file "$OUT/prompts-tiny.txt" --out "$work/ref-$preset-$dtype" 2>/dev/null
      fixture "$work/ref-$preset-$dtype" "llamacpp-$preset-f16.json" 16 \
        "{\"tool\":\"ref-logits (defaults: F16 KV cache, flash attention auto)\",\"version\":\"$ref_version\"}" \
        --preset "$spec" --dtype f16 --model-sha256 "$sha" --engine '{"kv_type":"f16"}'
    fi
  done
done

# numpy: llama4 chunked attention and NoPE temperature at small scale (chunk 5, floor 3), on the
# token ids llama.cpp produced for the same prompts.
for preset in tiny-scout tiny-maverick; do
  m=$work/$preset-f32.gguf
  "$PY" "$root/scripts/forward_numpy_ref.py" "$m" --tokens-from "$work/ref-$preset-f32" --out "$work/np-$preset" \
    --chunk 5 --temp-floor 3
  fixture "$work/np-$preset" "numpy-$preset-f32-chunk5-temp3.json" 16 \
    '{"tool":"scripts/forward_numpy_ref.py --chunk 5 --temp-floor 3 (float64)"}' \
    --preset "llama4/$preset" --dtype f32 --model-sha256 "$(sha256sum "$m" | cut -d' ' -f1)" \
    --engine '{"kv_type":"f32","attn_chunk":5,"attn_temp_floor":3}'
done

# A committed llama4 model whose widths all differ (embd 64, expert FFN 32, dense FFN 48, head
# 16), with top-2 routing over 4 experts, MoE on alternate layers and an untied output head:
# written once by scripts/llamacpp/make_tiny_llama4.py (kept if present, so its bytes stay put).
T4=$OUT/tiny-llama4-e64-ff32-top2.gguf
T4_REL=tests/data/forward/tiny-llama4-e64-ff32-top2.gguf
[ -f "$T4" ] || "$PY" "$root/scripts/llamacpp/make_tiny_llama4.py" "$T4" --embd 64 --ff 32 --ff-dense 48 \
  --experts 4 --experts-used 2 --moe-step 2 --type f32
T4_SHA=$(sha256sum "$T4" | cut -d' ' -f1)
"$REF" --model "$T4" --prompt-file "$OUT/prompts-tiny.txt" --out "$work/ref-t4" --kv-f32 --fa off 2>/dev/null
fixture "$work/ref-t4" "llamacpp-tiny-llama4-e64-top2-f32.json" 16 \
  "{\"tool\":\"ref-logits --kv-f32 --fa off\",\"version\":\"$ref_version\"}" \
  --model-file "$T4_REL" --model-sha256 "$T4_SHA" --engine '{"kv_type":"f32"}'
# Past llama4's real chunk of 8192: prompt-long.txt is 8349 tokens with this vocabulary; the
# fixture keeps positions 8100.. (the temperature steps up at 8191, chunked layers restart at 8192).
"$REF" --model "$T4" --prompt-file "$OUT/prompt-long.txt" --out "$work/ref-t4-long" --kv-f32 --fa off 2>/dev/null
fixture "$work/ref-t4-long" "llamacpp-tiny-llama4-e64-top2-f32-long.json" 16 \
  "{\"tool\":\"ref-logits --kv-f32 --fa off\",\"version\":\"$ref_version\"}" \
  --model-file "$T4_REL" --model-sha256 "$T4_SHA" --engine '{"kv_type":"f32"}' --from-position 8100
"$PY" "$root/scripts/forward_numpy_ref.py" "$T4" --tokens-from "$work/ref-t4" --out "$work/np-t4" --chunk 5 --temp-floor 3
fixture "$work/np-t4" "numpy-tiny-llama4-e64-top2-f32-chunk5-temp3.json" 16 \
  '{"tool":"scripts/forward_numpy_ref.py --chunk 5 --temp-floor 3 (float64)"}' \
  --model-file "$T4_REL" --model-sha256 "$T4_SHA" --engine '{"kv_type":"f32","attn_chunk":5,"attn_temp_floor":3}'

# SmolLM2-135M-Instruct Q4_1, llama.cpp defaults.
if [ -f "$SMOL" ]; then
  "$REF" --model "$SMOL" --prompt-file "$OUT/prompts-smollm2.txt" --out "$work/ref-smollm2" 2>/dev/null
  fixture "$work/ref-smollm2" "llamacpp-smollm2-q4_1.json" 8 \
    "{\"tool\":\"ref-logits (defaults: F16 KV cache, flash attention auto)\",\"version\":\"$ref_version\"}" \
    --model-file ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf" --model-sha256 "$(sha256sum "$SMOL" | cut -d' ' -f1)" \
    --engine '{"kv_type":"f16"}'
  # The same Q4_1 weights dequantized to F32 by llama-quantize, run by llama.cpp in full F32:
  # isolates the engine's on-the-fly dequantization from llama.cpp's Q8_1 activation rounding.
  "$QUANT" --allow-requantize "$SMOL" "$work/smollm2-f32.gguf" F32 >/dev/null 2>&1
  "$REF" --model "$work/smollm2-f32.gguf" --prompt-file "$OUT/prompts-smollm2.txt" --out "$work/ref-smollm2-f32" \
    --kv-f32 --fa off 2>/dev/null
  fixture "$work/ref-smollm2-f32" "llamacpp-smollm2-q4_1-as-f32.json" 8 \
    "{\"tool\":\"llama-quantize --allow-requantize Q4_1 -> F32; ref-logits --kv-f32 --fa off\",\"version\":\"$ref_version\"}" \
    --model-file ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf" --model-sha256 "$(sha256sum "$SMOL" | cut -d' ' -f1)" \
    --engine '{"kv_type":"f32"}'
else
  echo "forward_fixtures: $SMOL missing; SmolLM2 fixture not regenerated" >&2
fi
ls -la "$OUT"
