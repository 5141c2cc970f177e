#!/usr/bin/env bash
# The main job. Today (the harness is still landing): generate a random-weight tiny Llama 4
# Scout, validate and inspect it and the embedded SmolLM2 GGUF, generate a chat answer with
# SmolLM2, record both models in the SQLite store and write the report. Outputs in out/ (override with SCOUT_OUT).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${SCOUT_OUT:-$root/out}
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
exe="$root/build/cli/scout-eval"
smollm2="$root/.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"
mkdir -p "$out"
"$exe" model init --arch llama4 --preset tiny-scout --seed 0 -o "$out/tiny-scout-f16.gguf"
"$exe" inspect "$smollm2" >"$out/inspect-smollm2.txt"
"$exe" inspect "$out/tiny-scout-f16.gguf" >"$out/inspect-tiny-scout.txt"
grep -E "^(architecture|verdict)" "$out/inspect-smollm2.txt" "$out/inspect-tiny-scout.txt"
# Greedy chat generation on the real model with the native engine.
"$exe" generate --model "$smollm2" --chat -n 48 \
  --prompt "What is the capital of France? Answer in one sentence." | tee "$out/generate-smollm2.txt"
"$exe" models add --db "$out/results.db" "$smollm2" "$out/tiny-scout-f16.gguf"
"$exe" report --db "$out/results.db" --out "$out"
echo "main: results in $out (results.db, report.md, inspect-*.txt)"
