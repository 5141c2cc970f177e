#!/usr/bin/env bash
# For a lent GPU machine only (never CI): build with CUDA, run every CUDA kernel test against
# the CPU reference, write the full log to $OUT (or ./gpu-check-out) and print a short table.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-$root/gpu-check-out}
mkdir -p "$out"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/device.txt"
cmake -S "$root" -B "$root/build-gpu" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSCOUT_CUDA=ON \
  -DSCOUT_BENCH=OFF >"$out/configure.log" 2>&1
cmake --build "$root/build-gpu" --target cuda_tests -j "$(nproc)" >"$out/build.log" 2>&1
"$root/build-gpu/tests/cuda_tests" --gtest_output=json:"$out/cuda_tests.json" 2>&1 | tee "$out/cuda_tests.log" | tail -5
