#!/usr/bin/env bash
# scout-eval's native engine versus llama.cpp on the same GGUF files and thread count (issue #7;
# not in CI). For each model: llama-bench pp512/tg128 and llama-batched-bench (32 sequences)
# against `scout-eval bench-model` (-p 512 -n 128, and --parallel 32 -d 128 -p 0 -n 128); prints one
# Markdown table (model, type, test, llama.cpp t/s, ours t/s, ratio). See docs/PERFORMANCE.md.
#
#   scripts/perf_vs_llamacpp.sh [--models DIR] [-t THREADS] [--only tiny|scout4] [--types LIST]
#                               [--reps N] [--n-gen N] [--batched-prompt N] [--out DIR]
# --n-gen (default 128) sets tgN for llama-bench and bench-model and the generated tokens of the
# 32-sequence runs; --batched-prompt (default 128) the context each sequence holds first (llama-batched-bench -npp, our -d).
#
# Missing model files are generated with scout-eval `model init` + `quantize`:
#   tiny-scout-{f16,Q8_0,Q4_K_M}.gguf   the tiny-scout preset (a few MB each)
#   scout4-{f16,Q8_0,Q4_K_M}.gguf       4 layers at the real Scout shapes (llama.cpp's llama4
#                                       graph needs >= 4): ~22 + 12 + 7 GB, about 40 GB of disk
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
models=$root/.cache/perf
threads=$(nproc)
only="tiny,scout4"
types="f16,Q8_0,Q4_K_M"
reps=3
n_gen=128
batched_prompt=128
out=$root/out/perf
scout=${SCOUT_EVAL:-$root/build/cli/scout-eval}
llama=${LLAMA_BIN:-$root/.cache/llama.cpp/build/bin}

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
die() { echo "perf_vs_llamacpp: $*" >&2; exit 1; }

while [[ $# -gt 0 ]]; do
  case $1 in
    --models) models=$2; shift 2 ;;
    -t|--threads) threads=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --types) types=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --n-gen) n_gen=$2; shift 2 ;;
    --batched-prompt) batched_prompt=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "perf_vs_llamacpp: unknown option $1" >&2; usage 1 ;;
  esac
done

[[ -x $scout ]] || die "$scout: not built (scripts/build.sh)"
for tool in llama-bench llama-batched-bench; do
  [[ -x $llama/$tool ]] || die "$llama/$tool: not built (scripts/setup.sh builds llama.cpp into .cache/llama.cpp)"
done
mkdir -p "$models" "$out"

# Generates DIR/<family>-<type>.gguf when missing: the F16 model first, then its quantizations.
ensure_model() {
  local family=$1 type=$2 f16=$models/$1-f16.gguf file=$models/$1-$2.gguf
  [[ -f $file ]] && return 0
  if [[ ! -f $f16 ]]; then
    local init=(--arch llama4 --preset tiny-scout)
    if [[ $family == scout4 ]]; then
      init=(--arch llama4 --preset scout --layers 4)
      echo "perf_vs_llamacpp: generating the 4-layer Scout-shaped models needs about 40 GB of disk" >&2
    fi
    "$scout" model init "${init[@]}" --dtype f16 -o "$f16" >&2 || die "model init failed for $f16"
  fi
  [[ $type == f16 ]] && return 0
  "$scout" quantize "$f16" "$file" --type "$type" -t "$threads" >&2 || die "quantize failed for $file"
}

# One model: raw outputs under $out/<model>.{llama-bench,batched,ours,ours-parallel}.json.
measure() {
  local file=$1 base
  base=$out/$(basename "$file" .gguf)
  echo "perf_vs_llamacpp: $(basename "$file"), $threads threads" >&2
  "$llama/llama-bench" -m "$file" -p 512 -n "$n_gen" -t "$threads" -r "$reps" -o json >"$base.llama-bench.json" 2>"$base.log" ||
    die "llama-bench failed on $file (see $base.log)"
  # Once, on the tiny file, llama-batched-bench exited 0 without printing its result line: one
  # more try, then stop with the reason rather than a summary that cannot be made.
  local try
  for try in 1 2; do
    "$llama/llama-batched-bench" -m "$file" -c 8192 -b 2048 -ub 512 -npp "$batched_prompt" -ntg "$n_gen" -npl 32 -t "$threads" \
      --output-format jsonl >"$base.batched.json" 2>>"$base.log" || die "llama-batched-bench failed on $file (see $base.log)"
    grep -q '^{' "$base.batched.json" && break
    [[ $try == 2 ]] && die "llama-batched-bench printed no result for $file twice (see $base.log)"
    echo "perf_vs_llamacpp: llama-batched-bench printed no result for $file; running it again" >&2
  done
  "$scout" bench-model -m "$file" -p 512 -n "$n_gen" -t "$threads" -r "$reps" --json >"$base.ours.json" 2>>"$base.log" ||
    die "scout-eval bench-model failed on $file (see $base.log)"
  "$scout" bench-model -m "$file" --parallel 32 -d "$batched_prompt" -p 0 -n "$n_gen" -t "$threads" -r "$reps" --json \
    >"$base.ours-parallel.json" 2>>"$base.log" || die "scout-eval bench-model --parallel failed on $file (see $base.log)"
  echo "$base"
}

bases=()
IFS=, read -ra families <<<"$only"
IFS=, read -ra type_list <<<"$types"
for family in "${families[@]}"; do
  [[ $family == tiny ]] && family=tiny-scout
  [[ $family == tiny-scout || $family == scout4 ]] || die "--only: unknown model family '$family' (tiny, scout4)"
  for type in "${type_list[@]}"; do
    ensure_model "$family" "$type"
    bases+=("$(measure "$models/$family-$type.gguf")")
  done
done

python3 - "$threads" "$n_gen" "${bases[@]}" <<'EOF'
import json, os, sys

threads, n_gen, bases = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
print(f"\n{threads} threads\n")
print("| model | type | test | llama.cpp t/s | ours t/s | ratio |")
print("|---|---|---|---:|---:|---:|")
for base in bases:
    name = os.path.basename(base)
    family, qtype = name.rsplit("-", 1)
    with open(base + ".llama-bench.json") as f:
        lb = json.load(f)
    with open(base + ".batched.json") as f:
        batched = [json.loads(line) for line in f if line.startswith("{")]
    with open(base + ".ours.json") as f:
        ours = json.load(f)
    with open(base + ".ours-parallel.json") as f:
        par = json.load(f)
    pp = next(x["avg_ts"] for x in lb if x["n_prompt"] == 512 and x["n_gen"] == 0)
    tg = next(x["avg_ts"] for x in lb if x["n_prompt"] == 0 and x["n_gen"] == n_gen)
    rows = [("pp512", pp, ours["pp_tps"]), (f"tg{n_gen}", tg, ours["tg_tps"]),
            (f"tg{n_gen} x32 sequences", batched[-1]["speed_tg"], par["tg_tps"])]
    for test, theirs, mine in rows:
        print(f"| {family} | {qtype} | {test} | {theirs:.1f} | {mine:.1f} | {mine / theirs:.2f}x |")
    print(f"| {family} | {qtype} | decode weight GB/s (ours, {ours['decode_bytes_per_token'] / 1e9:.3f} GB/token) | "
          f"{tg * ours['decode_bytes_per_token'] / 1e9:.1f} | {ours['tg_weight_gbps']:.1f} | |")
    # bench-model reads the same bytes on the same threads before each decode run; the share is
    # the median over those pairs (read GB/s: the median of the read runs).
    print(f"| {family} | {qtype} | decode share of a plain read of its bytes (read: {ours['tg_read_gbps']:.1f} GB/s) | | "
          f"{100 * ours['tg_bandwidth_share']:.0f}% | |")
EOF
echo "raw outputs: $out" >&2
