#!/usr/bin/env bash
# The harness against llama.cpp's own server (llama-cpp-python[server]) on a GGUF, then the
# same tasks on the native engine; prints both scores and how many samples have the same output.
#
#   scripts/llamacpp_server_eval.sh MODEL.gguf [TASKS] [LIMIT]
#     TASKS default mmlu_pro@meta-card (generation: llama.cpp's server has no echo
#     prompt log-probabilities, so log-likelihood protocols stop with a clear error there)
#   env: LLAMACPP_PYTHON  a Python with `pip install 'llama-cpp-python[server]'` (default python3)
#        SCOUT_EVAL       the scout-eval binary (default build/cli/scout-eval)
#        OUT_DIR          where the databases and results JSON go (default out/llamacpp-server)
set -euo pipefail
model=${1:?usage: scripts/llamacpp_server_eval.sh MODEL.gguf [TASKS] [LIMIT]}
tasks=${2:-mmlu_pro@meta-card}
limit=${3:-8}
py=${LLAMACPP_PYTHON:-python3}
exe=${SCOUT_EVAL:-build/cli/scout-eval}
out=${OUT_DIR:-out/llamacpp-server}
mkdir -p "$out"
"$py" -c "import llama_cpp.server" 2>/dev/null || {
  echo "llamacpp_server_eval: $py lacks llama-cpp-python[server] (pip install 'llama-cpp-python[server]')" >&2
  exit 2
}
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$py" -m llama_cpp.server --model "$model" --model_alias gguf --host 127.0.0.1 --port "$port" \
  --n_ctx 8192 --seed 0 >"$out/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 240); do
  curl -sf "http://127.0.0.1:$port/v1/models" >/dev/null && break
  kill -0 "$server" 2>/dev/null || { echo "llamacpp_server_eval: the server died; see $out/server.log" >&2; exit 1; }
  sleep 0.5
done
rm -f "$out"/llamacpp.db* "$out"/native.db*
common=(--tasks "$tasks" --limit "$limit" --no-progress --seed 0)
echo "== llama.cpp server (llama-cpp-python) at 127.0.0.1:$port"
"$exe" run --backend openai --base-url "http://127.0.0.1:$port/v1" --model gguf --concurrency 1 --chat-template "$model" \
  --db "$out/llamacpp.db" --output-json "$out/llamacpp.json" "${common[@]}"
echo "== native engine"
"$exe" run --model "$model" --db "$out/native.db" --output-json "$out/native.json" "${common[@]}"
python3 - "$out/llamacpp.db" "$out/native.db" <<'PY'
import sqlite3, sys
q = "SELECT task, doc_id, repeat, output, score FROM samples ORDER BY task, doc_id, repeat"
a, b = (sqlite3.connect(p).execute(q).fetchall() for p in sys.argv[1:3])
same = sum(x[3] == y[3] for x, y in zip(a, b))
agree = sum(x[4] == y[4] for x, y in zip(a, b))
print(f"samples: {len(a)} vs {len(b)}; identical outputs: {same}; same score: {agree}")
PY
