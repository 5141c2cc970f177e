#!/usr/bin/env bash
# Builds the libFuzzer target over the GGUF reader (clang, ASan + UBSan) and runs it for
# N seconds (default 60) from the committed seeds. Any crash or sanitizer report fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
build="$root/build-fuzz"
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DSCOUT_FUZZ_ONLY=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target fuzz_gguf -j "$(nproc)" >/dev/null
corpus="$build/corpus"
mkdir -p "$corpus"
cp -n "$root"/fuzz/seeds/* "$corpus"/
echo "fuzz: running fuzz_gguf for ${seconds}s" >&2
"$build/fuzz/fuzz_gguf" "$corpus" -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=2048 \
  -print_final_stats=1 2>"$build/fuzz.log" || { tail -50 "$build/fuzz.log" >&2; exit 1; }
grep -E "stat::number_of_executed_units|Done" "$build/fuzz.log" | tail -2 >&2
echo "fuzz: clean" >&2
