#!/usr/bin/env bash
# The whole test suite, from a fresh clone: set-up, build, every CTest test, then a short
# libFuzzer run over the GGUF reader.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
ctest --test-dir "$root/build" --output-on-failure -j "$(nproc)"
"$root/scripts/fuzz.sh" "${SCOUT_FUZZ_SECONDS:-60}"
