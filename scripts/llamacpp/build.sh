#!/usr/bin/env bash
# Builds llama.cpp as an INDEPENDENT REFERENCE implementation (CPU only) from the llama.cpp
# tree vendored in the PyPI source distribution of llama-cpp-python, plus our small
# ref-logits tool (scripts/llamacpp/ref_logits.cpp) linked against the built libllama.
# Nothing of llama.cpp is committed: everything lands under .cache/llama.cpp (git-ignored).
#
#   scripts/llamacpp/build.sh            # idempotent: skips steps that are already done
#   JOBS=1 scripts/llamacpp/build.sh     # parallelism (default 2; never more on the shared box)
#   LLAMACPP_FORCE=1 scripts/llamacpp/build.sh   # re-extract and reconfigure from scratch
#
# Layout:  .cache/llama.cpp/dl/     the downloaded sdist
#          .cache/llama.cpp/src/    vendor/llama.cpp from the sdist
#          .cache/llama.cpp/build/  CMake build; binaries and shared libs in build/bin/
set -euo pipefail

# ---- pins --------------------------------------------------------------------------------
LCP_VERSION=0.3.36
LCP_SHA256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
# The vendored llama.cpp of that sdist (CHANGELOG: "update llama.cpp to ggml-org/llama.cpp@0c1e57098");
# the sdist carries no .git, so the build number is passed by hand (release tag b11312).
LLAMA_COMMIT=0c1e57098
LLAMA_BUILD_NUMBER=11312

root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/scripts/llamacpp"
base="$root/.cache/llama.cpp"
dl="$base/dl"
src="$base/src"
build="$base/build"
jobs=${JOBS:-2}
stamp="$src/.scout-eval-stamp"
want_stamp="llama-cpp-python==$LCP_VERSION sha256=$LCP_SHA256 llama.cpp@$LLAMA_COMMIT b$LLAMA_BUILD_NUMBER"

log() { echo "llamacpp/build: $*" >&2; }

if [ "${LLAMACPP_FORCE:-0}" = 1 ]; then
  log "LLAMACPP_FORCE=1: removing $src and $build"
  rm -rf "$src" "$build"
fi

# ---- 1. download the sdist ---------------------------------------------------------------
tarball="$dl/llama_cpp_python-$LCP_VERSION.tar.gz"
mkdir -p "$dl"
if [ ! -f "$tarball" ] || [ "$(sha256sum "$tarball" | cut -d' ' -f1)" != "$LCP_SHA256" ]; then
  log "downloading llama-cpp-python==$LCP_VERSION sdist"
  rm -f "$tarball"
  pip=pip
  [ -x "$root/.cache/venv/bin/pip" ] && pip="$root/.cache/venv/bin/pip"
  "$pip" download -q --disable-pip-version-check --no-deps --no-binary :all: --no-build-isolation \
    -d "$dl" "llama-cpp-python==$LCP_VERSION" 2>/dev/null ||
  "$pip" download -q --disable-pip-version-check --no-deps --no-binary :all: \
    -d "$dl" "llama-cpp-python==$LCP_VERSION"
  got=$(sha256sum "$tarball" | cut -d' ' -f1)
  if [ "$got" != "$LCP_SHA256" ]; then
    log "sha256 mismatch for $tarball: $got (want $LCP_SHA256)"
    exit 1
  fi
fi

# ---- 2. extract vendor/llama.cpp -> src ----------------------------------------------------
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want_stamp" ]; then
  log "extracting vendor/llama.cpp to $src"
  rm -rf "$src" "$build" "$base/extract.tmp"
  mkdir -p "$base/extract.tmp"
  tar -xzf "$tarball" -C "$base/extract.tmp" "llama_cpp_python-$LCP_VERSION/vendor/llama.cpp"
  mv "$base/extract.tmp/llama_cpp_python-$LCP_VERSION/vendor/llama.cpp" "$src"
  rm -rf "$base/extract.tmp"
  # the sdist keeps a dangling submodule .git file; drop it so no git ever looks at it
  rm -f "$src/.git"
  echo "$want_stamp" > "$stamp"
fi

# ---- 3. configure + build the tools --------------------------------------------------------
targets=(llama llama-quantize llama-perplexity llama-bench llama-batched-bench llama-tokenize
  llama-simple llama-completion llama-imatrix test-tokenizer-0 llama-gguf llama-gguf-split
  llama-gguf-hash test-llama-archs)
if [ ! -f "$build/build.ninja" ] && [ ! -f "$build/Makefile" ]; then
  gen=()
  command -v ninja >/dev/null && gen=(-G Ninja)
  log "configuring (CPU only) in $build"
  cmake -S "$src" -B "$build" "${gen[@]}" \
    -DCMAKE_BUILD_TYPE=Release \
    -DBUILD_SHARED_LIBS=ON \
    -DGGML_NATIVE=ON -DGGML_CUDA=OFF -DGGML_METAL=OFF -DGGML_VULKAN=OFF -DGGML_RPC=OFF \
    -DLLAMA_OPENSSL=OFF -DLLAMA_LLGUIDANCE=OFF \
    -DLLAMA_BUILD_TESTS=ON -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_EXAMPLES=ON \
    -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF \
    -DLLAMA_BUILD_NUMBER="$LLAMA_BUILD_NUMBER" -DLLAMA_BUILD_COMMIT="$LLAMA_COMMIT" \
    >"$base/configure.log" 2>&1 || { tail -40 "$base/configure.log" >&2; exit 1; }
fi
log "building ${#targets[@]} targets with -j$jobs (log: $base/build.log)"
start=$(date +%s)
cmake --build "$build" -j"$jobs" --target "${targets[@]}" >"$base/build.log" 2>&1 ||
  { tail -60 "$base/build.log" >&2; exit 1; }
log "llama.cpp targets up to date ($(( $(date +%s) - start )) s)"

# ---- 4. ref-logits (ours) ------------------------------------------------------------------
bin="$build/bin"
rl="$bin/ref-logits"
if [ ! -x "$rl" ] || [ "$here/ref_logits.cpp" -nt "$rl" ] || [ "$bin/libllama.so" -nt "$rl" ]; then
  log "compiling ref-logits"
  "${CXX:-g++}" -std=c++17 -O2 -Wall -Wextra \
    -I"$src/include" -I"$src/ggml/include" \
    "$here/ref_logits.cpp" -o "$rl" \
    -L"$bin" -lllama -lggml -lggml-base -Wl,-rpath,"$bin" -lpthread
fi

echo "llama.cpp reference binaries (llama-cpp-python $LCP_VERSION, llama.cpp $LLAMA_COMMIT / b$LLAMA_BUILD_NUMBER):"
for t in "${targets[@]}" ref-logits; do
  [ "$t" = llama ] && continue
  if [ -x "$bin/$t" ]; then echo "  $bin/$t"; else echo "  (missing) $bin/$t"; fi
done
