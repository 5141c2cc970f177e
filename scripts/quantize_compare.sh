#!/usr/bin/env bash
# scout-eval quantize against llama-quantize (llama.cpp b11312, built by scripts/llamacpp/build.sh)
# on the same inputs: every tensor's type, every block's bytes, whole files; and the dry-run plans
# of every mix llama-quantize knows. Writes the CI fixture with WRITE_FIXTURE=1.
#
#   scripts/quantize_compare.sh [WORKDIR]      (default .cache/quantize-compare)
#
# Env: SCOUT_EVAL (default build/cli/scout-eval), LLAMA_BIN (default .cache/llama.cpp/build/bin),
#      MODELS (subset of the names below), TYPES, PLAN_TYPES, THREADS (default 2),
#      WRITE_FIXTURE=1 (rewrite tests/data/quantize/llamacpp-b11312.json), SKIP_SMOLLM2=1.
# Output: WORKDIR/results.jsonl and WORKDIR/summary.md (the tables in docs/QUANTIZATION.md).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
E="${SCOUT_EVAL:-$ROOT/build/cli/scout-eval}"
L="${LLAMA_BIN:-$ROOT/.cache/llama.cpp/build/bin}"
PY="${PYTHON:-$ROOT/.cache/venv/bin/python}"
W="${1:-$ROOT/.cache/quantize-compare}"
T="${THREADS:-2}"
CMP="$ROOT/scripts/quantize_compare.py"
SMOL_Q41="$ROOT/.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"

# The 7 mixes of the issue first, then the other mixes scout-eval can write.
TYPES="${TYPES:-F16 BF16 Q8_0 Q6_K Q5_K_M Q4_K_M Q4_0 Q5_K_S Q4_K_S Q5_1 Q5_0 Q4_1 F32}"
FIXTURE_TENSOR_TYPES="F16 BF16 Q8_0 Q6_K Q5_K_M Q4_K_M Q4_0"
# Every mix the rules cover (plans only: most need quantizers scout-eval does not have).
PLAN_TYPES="${PLAN_TYPES:-Q4_0 Q4_1 MXFP4_MOE Q5_0 Q5_1 IQ2_XXS IQ2_XS IQ2_S IQ2_M IQ1_S IQ1_M TQ1_0 TQ2_0 \
Q2_K Q2_K_S IQ3_XXS IQ3_S IQ3_M IQ3_XS Q3_K_S Q3_K_M Q3_K_L IQ4_NL IQ4_XS Q4_K_S Q4_K_M Q5_K_S Q5_K_M Q6_K Q8_0 F16 BF16 F32}"

# name|how to make it (scout-eval model init arguments, or a special)|tensor hashes in the fixture
ALL_MODELS=(
  "tiny-scout|--arch llama4 --preset tiny-scout --dtype f16|fixture"
  "tiny-maverick|--arch llama4 --preset tiny-maverick --dtype f16|fixture"
  "tiny-llama|--arch llama --preset tiny-llama --dtype f16|fixture"
  "tiny-scout-bf16|--arch llama4 --preset tiny-scout --dtype bf16|"
  "tiny-llama-80L|--arch llama --preset tiny-llama --layers 80 --dtype f16|"
  "odd-llama4-8e|make_tiny_llama4|"
  "smollm2-f16|smollm2|"
)
MODELS="${MODELS:-tiny-scout tiny-maverick tiny-llama tiny-scout-bf16 tiny-llama-80L odd-llama4-8e smollm2-f16}"

mkdir -p "$W"
RES="$W/results.jsonl"
: > "$RES"
FIX_ARGS=()
status=0

make_input() {  # name how -> path of the F16/F32/BF16 input
  local name="$1" how="$2" out="$W/$1.gguf"
  if [[ ! -f "$out" ]]; then
    case "$how" in
      make_tiny_llama4)
        # 8 experts (the n_expert == 8 rules), hidden 64 (Q4_K/Q5_K/Q6_K fall back), expert FFN 48
        # and dense FFN 40 (not whole 32-blocks: F16), alternating MoE layers, F32 weights.
        "$PY" "$ROOT/scripts/llamacpp/make_tiny_llama4.py" "$out" --experts 8 --embd 64 --ff 48 \
          --ff-dense 40 --moe-step 2 --layers 4 --type f32 >/dev/null ;;
      smollm2)
        # A dequantized copy of the shipped Q4_1 (no F16 SmolLM2 is at hand): the Q4_1/Q8_0 values
        # (d*q + m in float) rounded to F16. Both tools then quantize this same F16 file. The copy
        # itself is compared with llama-quantize --allow-requantize ... F16.
        "$E" quantize "$SMOL_Q41" "$out" --type F16 -t "$T" >/dev/null 2>&1 ;;
      *)
        "$E" model init $how -o "$out" 2>/dev/null ;;
    esac
  fi
  echo "$out"
}

for entry in "${ALL_MODELS[@]}"; do
  IFS='|' read -r name how fixture <<<"$entry"
  [[ " $MODELS " == *" $name "* ]] || continue
  if [[ "$name" == smollm2-f16 && ( -n "${SKIP_SMOLLM2:-}" || ! -f "$SMOL_Q41" ) ]]; then continue; fi
  in="$(make_input "$name" "$how")"
  if [[ "$name" == smollm2-f16 ]]; then
    # The dequantized copy itself, against llama-quantize's (which needs --allow-requantize).
    "$L/llama-quantize" --allow-requantize "$SMOL_Q41" "$W/smollm2-f16.ref.gguf" F16 "$T" >"$W/smollm2-f16.ref.log" 2>&1
    "$PY" "$CMP" compare "$in" "$W/smollm2-f16.ref.gguf" --label "smollm2 Q4_1 -> F16 (dequantized copy)" \
      --results "$RES" || status=1
  fi
  [[ -n "$fixture" ]] && FIX_ARGS+=(--model "$name|$how|$in")
  for ty in $TYPES; do
    ours="$W/$name.$ty.ours.gguf"; ref="$W/$name.$ty.ref.gguf"
    s0=$(date +%s.%N)
    "$E" quantize "$in" "$ours" --type "$ty" -t "$T" >"$W/$name.$ty.ours.log" 2>&1 || { echo "scout-eval failed: $name $ty"; status=1; continue; }
    s1=$(date +%s.%N)
    "$L/llama-quantize" "$in" "$ref" "$ty" "$T" >"$W/$name.$ty.ref.log" 2>&1 || { echo "llama-quantize failed: $name $ty"; status=1; continue; }
    s2=$(date +%s.%N)
    echo "$name $ty: scout-eval $(echo "$s1 - $s0" | bc) s, llama-quantize $(echo "$s2 - $s1" | bc) s" >>"$W/timings.txt"
    "$PY" "$CMP" compare "$ours" "$ref" --label "$name $ty" --results "$RES" || status=1
    if [[ -n "$fixture" ]]; then
      if [[ " $FIXTURE_TENSOR_TYPES " == *" $ty "* ]]; then FIX_ARGS+=(--file "$name|$ty|$ref|per-tensor")
      else FIX_ARGS+=(--file "$name|$ty|$ref"); fi
    fi
    [[ -n "$fixture" || "$name" == smollm2-f16 ]] || rm -f "$ours" "$ref"
  done
  for ty in $PLAN_TYPES; do
    "$E" quantize "$in" --type "$ty" --dry-run >"$W/$name.$ty.plan-ours.txt" 2>&1 || true
    "$L/llama-quantize" --dry-run "$in" "$ty" "$T" >"$W/$name.$ty.plan-ref.txt" 2>&1 || true
    "$PY" "$CMP" plan "$W/$name.$ty.plan-ours.txt" "$W/$name.$ty.plan-ref.txt" --label "$name $ty" --results "$RES" || status=1
  done
done

"$PY" "$CMP" summary "$RES" | tee "$W/summary.md"
if [[ -n "${WRITE_FIXTURE:-}" ]]; then
  mkdir -p "$ROOT/tests/data/quantize"
  "$PY" "$CMP" fixture "$ROOT/tests/data/quantize/llamacpp-b11312.json" "${FIX_ARGS[@]}"
fi
exit $status
