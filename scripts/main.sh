#!/usr/bin/env bash
# The main job: the `quick` suite (a small fixed subset of every task with data, each under the
# protocol of its model-card number) on the embedded SmolLM2-135M-Instruct with the native CPU
# engine over the real data sets in ../shared/datasets, into the SQLite store, then the report
# (Markdown + self-contained HTML). Outputs in out/ (override with SCOUT_OUT). Rerunning resumes:
# samples already in the store are not evaluated again.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${SCOUT_OUT:-$root/out}
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
exe="$root/build/cli/scout-eval"
smollm2="$root/.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"
mkdir -p "$out"
"$exe" inspect "$smollm2" >"$out/inspect-smollm2.txt"
grep -E "^(architecture|verdict)" "$out/inspect-smollm2.txt"
"$exe" run --model "$smollm2" --suite quick --db "$out/results.db" --output-json "$out/results.json"
"$exe" report --db "$out/results.db" --out "$out"
echo "main: results in $out (results.db, results.json, report.md, report.html)"
