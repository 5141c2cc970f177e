#!/usr/bin/env python3
"""Load test for `scout-eval serve` on loopback, bounded in count and time.

Starts the server (or uses --base-url), records each prompt's answer alone, then runs
--clients concurrent clients (default 64), each sending --requests completions (half of the
clients streaming), while a saboteur sends malformed and oversized bodies. Checks: no failed
or lost request, every answer under load equals the answer alone (continuous batching changes
no result), every bad request got a 4xx JSON error, and the server still answers afterwards.
Prints throughput and latency percentiles (and writes them as JSON with --json).

  .cache/venv/bin/python scripts/load_test_serve.py --exe build/cli/scout-eval \
      --model .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf [--clients 64] [--requests 2]
"""
import argparse
import http.client
import json
import subprocess
import sys
import threading
import time

PROMPTS = [
    "The capital of France is", "Water boils at", "The largest planet in the solar system is",
    "A haiku about autumn:", "def fibonacci(n):", "The three primary colors are", "Once upon a time, there was",
    "The speed of light is",
]


def post(port, body, timeout):
    """Returns (status, parsed JSON or None, seconds, text). Streams when body asks for it."""
    t0 = time.perf_counter()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    c.request("POST", "/v1/completions", body=raw, headers={"Content-Type": "application/json"})
    r = c.getresponse()
    if isinstance(body, dict) and body.get("stream") and r.status == 200:
        text, done = "", False
        for line in r:
            line = line.decode().strip()
            if line == "data: [DONE]":
                done = True
            elif line.startswith("data: "):
                text += json.loads(line[6:])["choices"][0]["text"]
        c.close()
        return (r.status if done else -1), None, time.perf_counter() - t0, text
    data = r.read()
    c.close()
    try:
        j = json.loads(data)
    except ValueError:
        j = None
    text = j["choices"][0]["text"] if r.status == 200 and j else None
    return r.status, j, time.perf_counter() - t0, text


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--exe", default="build/cli/scout-eval")
    ap.add_argument("--model", default=".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    ap.add_argument("--port", type=int, help="use a server already listening here instead of starting one")
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--requests", type=int, default=2, help="requests per client")
    ap.add_argument("--max-tokens", type=int, default=16)
    ap.add_argument("--threads", type=int, default=0, help="engine threads of the started server")
    ap.add_argument("--max-seqs", type=int, default=32)
    ap.add_argument("--time-limit", type=float, default=600, help="seconds before the test gives up")
    ap.add_argument("--json", help="write the numbers here")
    a = ap.parse_args()

    server = None
    port = a.port
    if port is None:
        server = subprocess.Popen([a.exe, "serve", "--model", a.model, "--port", "0", "--quiet", "--max-seqs",
                                   str(a.max_seqs), "--threads", str(a.threads), "--max-body-bytes", "65536"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for line in server.stdout:
            if line.startswith("listening on http://"):
                port = int(line.strip().rsplit(":", 1)[1])
                break
    failures = []
    stats = {}
    try:
        body = lambda p, stream=False: {"prompt": p, "max_tokens": a.max_tokens, "temperature": 0, "stream": stream}
        alone, alone_s = {}, []
        for p in PROMPTS:  # each prompt alone: the reference answers and the unloaded latency
            _, _, sec, alone[p] = post(port, body(p), a.time_limit)
            alone_s.append(sec)

        results, lock = [], threading.Lock()
        deadline = time.perf_counter() + a.time_limit

        def client(i):
            for k in range(a.requests):
                p = PROMPTS[(i + k) % len(PROMPTS)]
                try:
                    st, _, sec, text = post(port, body(p, stream=i % 2 == 1), max(1, deadline - time.perf_counter()))
                except Exception as e:  # noqa: BLE001 - a lost request is what this test looks for
                    st, sec, text = f"exception {e!r}", 0, None
                with lock:
                    results.append((i, p, st, sec, text))

        bad_answers = []

        def saboteur():
            for raw in [b'{"prompt": "x", "max_tokens": ', b"[]", json.dumps({"prompt": "y" * 100_000}).encode(),
                        json.dumps({"prompt": "z", "max_tokens": -1}).encode(), b"\xff\xfe"]:
                st, j, _, _ = post(port, raw, 60)
                bad_answers.append((st, isinstance(j, dict) and "error" in j))
                time.sleep(0.05)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(a.clients)]
        threads.append(threading.Thread(target=saboteur))
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=max(1, deadline - time.perf_counter()))
        wall = time.perf_counter() - t0

        expected = a.clients * a.requests
        ok = [r for r in results if r[2] == 200]
        if len(results) != expected:
            failures.append(f"lost requests: {expected - len(results)} of {expected} never finished")
        for r in results:
            if r[2] != 200:
                failures.append(f"client {r[0]}: status {r[2]}")
            elif r[4] != alone[r[1]]:
                failures.append(f"client {r[0]}: answer under load differs from the answer alone for {r[1]!r}")
        for st, is_json in bad_answers:
            if not (400 <= st < 500 and is_json):
                failures.append(f"bad request answered {st} (JSON error: {is_json})")
        after = post(port, body(PROMPTS[0]), 60)
        if after[0] != 200 or after[3] != alone[PROMPTS[0]]:
            failures.append("the server does not answer correctly after the load")

        lat = [r[3] for r in ok]
        tokens = sum(len(r[4]) for r in ok)  # characters; token counts come from the server below
        n_tokens = 0
        for p in PROMPTS:  # completion tokens per prompt, from a usage count
            _, j, _, _ = post(port, body(p), 60)
            n_tokens += j["usage"]["completion_tokens"] * sum(1 for r in ok if r[1] == p)
        stats = {
            "clients": a.clients, "requests": expected, "ok": len(ok), "failed": len(failures),
            "max_tokens": a.max_tokens, "wall_s": round(wall, 2),
            "requests_per_s": round(len(ok) / wall, 2), "completion_tokens_per_s": round(n_tokens / wall, 1),
            "latency_s": {q: round(pct(lat, int(q[1:])), 3) for q in ("p50", "p90", "p99")} | {"max": round(max(lat), 3)}
            if lat else {},
            "alone_latency_s": round(sum(alone_s) / len(alone_s), 3),
            "bad_requests": [st for st, _ in bad_answers], "output_chars": tokens,
        }
    finally:
        if server:
            server.terminate()
            server.wait(timeout=120)
            tail = server.stderr.read().strip().splitlines()
            stats["server"] = tail[-1] if tail else ""
    print(json.dumps(stats, indent=2))
    if a.json:
        json.dump(stats, open(a.json, "w"), indent=2)
    for f in failures[:20]:
        print("FAIL:", f, file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
