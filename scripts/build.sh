#!/usr/bin/env bash
# Configure and build into build/ (CUDA targets too when nvcc is present: compile only).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=${SCOUT_JOBS:-$(nproc)}
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release ${SCOUT_CMAKE_ARGS:-} >/dev/null
cmake --build "$root/build" -j "$jobs"
