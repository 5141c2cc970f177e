#!/usr/bin/env bash
# The CUDA check for a lent GPU machine (never CI). One run: build (or take a carried build),
# run every CUDA kernel test against the CPU reference, time the kernels at Scout's shapes,
# write the full results to $OUT (or ./gpu-check-out) and print a short table last.
#
#   scripts/gpu-check.sh --pack   HERE, before the call: builds cuda_tests (build-cuda/) and
#                                 copies it with the shared libraries it needs, except the
#                                 C library and the CUDA driver/cuBLAS (the GPU image has
#                                 those), into build-gpupack/ (ignored by git; ~10 MB).
#   scripts/gpu-check.sh          THERE: uses build-gpupack/ when it was carried (run tool:
#                                 carry ["build-gpupack"]), else configures and builds with
#                                 CMake on the machine (needs the project's C++ dependencies).
#
# Environment: OUT (results folder), GPU_CHECK_BENCH=0 skips the timings,
# GPU_CHECK_SANITIZE=1 also runs the correctness tests under compute-sanitizer (slow).
# Files written to $OUT (flat, at most 8): device.txt, build.log, cuda_tests.log,
# cuda_tests.json, bench.log, bench.tsv, summary.txt. Exit status: 0 only when every CUDA
# test ran (none skipped) and passed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pack=$root/build-gpupack

if [[ ${1:-} == --pack ]]; then
  build=${BUILD_DIR:-$root/build-cuda}
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSCOUT_CUDA=ON -DSCOUT_BENCH=OFF >/dev/null
  cmake --build "$build" --target cuda_tests -j "${JOBS:-2}"
  rm -rf "$pack"
  mkdir -p "$pack/bin" "$pack/lib"
  cp "$build/tests/cuda_tests" "$pack/bin/"
  # Shared libraries to carry: everything but glibc's own, the loader, the C++ runtime (the
  # GPU image's is newer) and CUDA's driver and cuBLAS (too large; the CUDA image has them).
  ldd "$build/tests/cuda_tests" | awk '/=> \//{print $3}' | while read -r lib; do
    case $(basename "$lib") in
      libc.so*|libm.so*|libdl.so*|librt.so*|libpthread.so*|ld-linux*|libstdc++*|libgcc_s*|libcuda.so*|libcublas*) ;;
      *) cp -L "$lib" "$pack/lib/" ;;
    esac
  done
  du -sh "$pack"
  echo "carry build-gpupack with the call; run: scripts/gpu-check.sh"
  exit 0
fi

out=${OUT:-$root/gpu-check-out}
mkdir -p "$out"
stamp() { echo "[gpu-check $(date +%T)] $*"; }

stamp "device"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.mem --format=csv 2>&1 | tee "$out/device.txt" ||
  echo "nvidia-smi failed: is there a GPU?"
nvcc --version 2>/dev/null | tail -1 >>"$out/device.txt" || true

if [[ -x $pack/bin/cuda_tests ]]; then
  stamp "using the carried build in build-gpupack/"
  bin=$pack/bin/cuda_tests
  export LD_LIBRARY_PATH="$pack/lib:/usr/local/cuda/lib64:/usr/local/cuda/lib:${LD_LIBRARY_PATH:-}"
  if ldd "$bin" | grep -q "not found"; then
    ldd "$bin" | tee "$out/build.log"
    echo "carried binary misses libraries (see build.log); falling back to a build here" | tee -a "$out/build.log"
    bin=""
  else
    ldd "$bin" >"$out/build.log"
  fi
else
  bin=""
fi
if [[ -z $bin ]]; then
  stamp "building cuda_tests"
  build=$root/build-gpu
  if ! { cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSCOUT_CUDA=ON -DSCOUT_BENCH=OFF &&
         cmake --build "$build" --target cuda_tests -j "$(nproc)"; } >>"$out/build.log" 2>&1; then
    tail -30 "$out/build.log"
    echo "BUILD FAILED (full log: $out/build.log)"
    exit 2
  fi
  bin=$build/tests/cuda_tests
fi

stamp "correctness: every CUDA kernel against the CPU reference"
set +e
"$bin" --gtest_filter='-CudaBench.*' --gtest_output=json:"$out/cuda_tests.json" >"$out/cuda_tests.log" 2>&1
test_rc=$?
set -e
grep -E "^\[  (FAILED|SKIPPED) |Failure|actual:|Expected" "$out/cuda_tests.log" | head -40 || true
passed=$(grep -c "^\[       OK \]" "$out/cuda_tests.log" || true)
failed=$(grep -c "^\[  FAILED  \] .*(.* ms)$" "$out/cuda_tests.log" || true)
skipped=$(grep -c "^\[  SKIPPED \] .*(.* ms)$" "$out/cuda_tests.log" || true)

if [[ ${GPU_CHECK_SANITIZE:-0} == 1 ]] && command -v compute-sanitizer >/dev/null; then
  stamp "compute-sanitizer memcheck"
  compute-sanitizer --tool memcheck --error-exitcode 9 "$bin" --gtest_filter='CudaMatmul.*:CudaAttention.*:CudaNorm.*' \
    >>"$out/cuda_tests.log" 2>&1 || { echo "compute-sanitizer reported errors (see cuda_tests.log)"; test_rc=9; }
fi

if [[ ${GPU_CHECK_BENCH:-1} != 0 ]]; then
  stamp "timing at Scout shapes"
  set +e
  SCOUT_CUDA_BENCH=$out "$bin" --gtest_filter='CudaBench.*' >"$out/bench.log" 2>&1
  bench_rc=$?
  set -e
  [[ $bench_rc == 0 ]] || { tail -20 "$out/bench.log"; echo "bench exited with $bench_rc"; }
fi

{
  echo "== gpu-check $(date -u +%FT%TZ): $(head -2 "$out/device.txt" | tail -1)"
  echo "tests: $passed passed, $failed failed, $skipped skipped (exit $test_rc)"
  if [[ -f $out/bench.tsv ]]; then
    grep -E "^ceilings|^device" "$out/bench.log" || true
    awk -F'\t' 'NR == 1 { printf "%-34s %-30s %6s %11s %9s %8s %6s %6s\n", "kernel", "shape", "tok", "us", "GB/s", "TFLOP/s", "%hbm", "%mma"; next }
      { printf "%-34s %-30s %6d %11.1f %9.1f %8.1f %6.1f %6.1f\n", $1, $2, $3, $4, $7, $8, 100 * $9, 100 * $10 }' "$out/bench.tsv"
  fi
} | tee "$out/summary.txt"

if [[ $test_rc != 0 || $failed != 0 || $skipped != 0 || $passed == 0 ]]; then
  echo "GPU CHECK FAILED (tests: see $out/cuda_tests.log)"
  exit 1
fi
echo "GPU CHECK PASSED"
