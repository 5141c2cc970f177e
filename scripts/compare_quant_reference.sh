#!/usr/bin/env bash
# scout-eval compare-quant against llama-perplexity --kl-divergence (llama.cpp b11312, built by
# scripts/llamacpp/build.sh) on the same model files and text. Writes the CI fixture
# tests/data/compare_quant/llamacpp-b11312.json with WRITE_FIXTURE=1 and the tables of
# docs/QUANTIZATION.md (WORKDIR/summary.md).
#
#   scripts/compare_quant_reference.sh [WORKDIR]      (default .cache/compare-quant)
#
# Inputs, all deterministic (the test regenerates them the same way and checks their sha256):
#   text         the first 100 lines of ../shared/datasets/wikitext2/wiki.test.raw, CR removed
#   smol-f16     scout-eval quantize .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf --type F16
#   tiny-scout-f16  scout-eval model init --arch llama4 --preset tiny-scout --dtype f16
#   <model>-<Q8_0|Q6_K|Q4_K_M>  scout-eval quantize <model>-f16 --type Q
# Both tools: --ctx 512, the same --chunks, THREADS threads, F16 KV cache (both defaults;
# llama.cpp's flash attention "auto" = on for CPU), llama.cpp batch 2048 (4 chunks per pass).
#
# Env: SCOUT_EVAL (default build/cli/scout-eval), LLAMA_BIN (default .cache/llama.cpp/build/bin),
#      THREADS (default 2), DOC_CHUNKS (default 16), CI_ONLY=1 (only the runs the CI test repeats),
#      WRITE_FIXTURE=1.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
E="${SCOUT_EVAL:-$ROOT/build/cli/scout-eval}"
L="${LLAMA_BIN:-$ROOT/.cache/llama.cpp/build/bin}"
PY="${PYTHON:-$ROOT/.cache/venv/bin/python}"
W="${1:-$ROOT/.cache/compare-quant}"
T="${THREADS:-2}"
CTX=512
DOC_CHUNKS="${DOC_CHUNKS:-16}"
DATA="${SCOUT_DATA_DIR:-$ROOT/../shared/datasets}"
SMOL_Q41="$ROOT/.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"
HELPER="$ROOT/scripts/compare_quant_reference.py"

# Runs: model|quant|chunks|ci (ci: repeated by tests/py/test_compare_quant.py; keep them cheap:
# tiny-scout is fast enough for 32 chunks, SmolLM2 gets 2 in CI and DOC_CHUNKS here).
RUNS=(
  "tiny-scout|Q8_0|32|ci" "tiny-scout|Q6_K|32|ci" "tiny-scout|Q4_K_M|32|ci"
  "smol|Q8_0|2|ci" "smol|Q4_K_M|2|ci"
)
if [[ "${CI_ONLY:-0}" != 1 ]]; then
  for m in smol tiny-scout; do
    for q in Q8_0 Q6_K Q4_K_M; do RUNS+=("$m|$q|$DOC_CHUNKS|doc"); done
  done
fi

mkdir -p "$W/runs"

# llama.cpp b11312 logs through an asynchronous thread and leaks the logger at exit
# (common/log.cpp, common_log_main), so the last lines of llama-perplexity's output -- the final
# statistics -- are often lost. A preloaded destructor flushes the log before the process ends.
FLUSH="$W/logflush.so"
if [[ ! -f "$FLUSH" ]]; then
  printf '%s\n' 'struct common_log;' 'common_log* common_log_main();' 'void common_log_flush(common_log*);' \
    '__attribute__((destructor)) static void flush_at_exit() { common_log_flush(common_log_main()); }' > "$W/logflush.cpp"
  g++ -shared -fPIC -O1 -o "$FLUSH" "$W/logflush.cpp" -L"$L" -l:libllama-common.so.0 -Wl,-rpath,"$L"
fi
perplexity() { LD_PRELOAD="$FLUSH" "$L/llama-perplexity" "$@"; }
TEXT="$W/wiki-test-100.txt"
head -n 100 "$DATA/wikitext2/wiki.test.raw" | tr -d '\r' > "$TEXT"

model_path() { echo "$W/$1-$2.gguf"; }  # model, F16|quant
make_models() {
  local f16
  f16="$(model_path smol F16)"
  [[ -f "$f16" ]] || "$E" quantize "$SMOL_Q41" "$f16" --type F16 -t "$T" >/dev/null
  f16="$(model_path tiny-scout F16)"
  [[ -f "$f16" ]] || "$E" model init --arch llama4 --preset tiny-scout --dtype f16 -o "$f16" >/dev/null
  for m in smol tiny-scout; do
    for q in Q8_0 Q6_K Q4_K_M; do
      local out
      out="$(model_path "$m" "$q")"
      [[ -f "$out" ]] || "$E" quantize "$(model_path "$m" F16)" "$out" --type "$q" -t "$T" >/dev/null
    done
  done
}

# llama.cpp's base file for (model, chunks), made once.
llama_base() {
  local m="$1" n="$2" kld="$W/runs/llama-base-$1-$2.kld"
  if [[ ! -f "$kld" ]]; then
    perplexity -m "$(model_path "$m" F16)" -f "$TEXT" -c "$CTX" --chunks "$n" -t "$T" \
      --kl-divergence-base "$kld" > "$W/runs/llama-base-$m-$n.log" 2>&1
  fi
  echo "$kld"
}

# Our base file for (model, chunks), made once by the first compare-quant with --save-base.
OURS_BASE_DONE=()
ours_base_args() {
  local m="$1" n="$2" kld="$W/runs/ours-base-$1-$2.kld"
  if [[ " ${OURS_BASE_DONE[*]-} " == *" $m-$n "* ]]; then echo "--base-logits $kld"; else echo "--save-base $kld"; fi
}

make_models
: > "$W/runs.tsv"
for r in "${RUNS[@]}"; do
  IFS='|' read -r m q n kind <<< "$r"
  name="$m-$q-$n"
  base="$(model_path "$m" F16)" test="$(model_path "$m" "$q")"
  kld="$(llama_base "$m" "$n")"
  echo "== $name: llama-perplexity" >&2
  perplexity -m "$test" -c "$CTX" -t "$T" --kl-divergence --kl-divergence-base "$kld" \
    > "$W/runs/$name.llama.log" 2>&1
  echo "== $name: scout-eval compare-quant" >&2
  # shellcheck disable=SC2046
  "$E" compare-quant --base "$base" --test "$test" --text "$TEXT" --ctx "$CTX" --chunks "$n" -t "$T" \
    $(ours_base_args "$m" "$n") --json --no-store > "$W/runs/$name.ours.json"
  OURS_BASE_DONE+=("$m-$n")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$m" "$q" "$n" "$kind" "$test" >> "$W/runs.tsv"
done

# Interchangeability of the base-logits files, both ways, on the first CI run of each model:
# our compare-quant on llama.cpp's base file, llama-perplexity on ours.
for m in tiny-scout smol; do
  n=$([[ $m == smol ]] && echo 2 || echo 32)
  q=Q4_K_M
  "$E" compare-quant --base "$(model_path "$m" F16)" --test "$(model_path "$m" $q)" --text "$TEXT" \
    --base-logits "$(llama_base "$m" "$n")" -t "$T" --json --no-store > "$W/runs/$m-$q-$n.ours-on-llama-base.json"
  perplexity -m "$(model_path "$m" $q)" -c "$CTX" -t "$T" --kl-divergence \
    --kl-divergence-base "$W/runs/ours-base-$m-$n.kld" > "$W/runs/$m-$q-$n.llama-on-ours-base.log" 2>&1
done

args=(--workdir "$W" --text "$TEXT" --ctx "$CTX" --threads "$T" --summary "$W/summary.md")
[[ "${WRITE_FIXTURE:-0}" == 1 ]] && args+=(--fixture "$ROOT/tests/data/compare_quant/llamacpp-b11312.json")
"$PY" "$HELPER" "${args[@]}"
cat "$W/summary.md"
