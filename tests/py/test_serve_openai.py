"""`scout-eval serve` speaks OpenAI's API as the official `openai` client (PyPI) expects:
completions, chat, streaming (server-sent events) and logprobs, with answers equal to the
in-process engine (`scout-eval generate`, `scout-eval logits` + numpy log-softmax); malformed,
oversized and out-of-limit requests get 4xx JSON errors and the server keeps serving; a wrong
API key gets 401; SIGTERM lets a stream in flight finish, then the process exits 0; 64 concurrent clients
(scripts/load_test_serve.py) all get the answers they get alone."""
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading

import numpy as np
import openai

from checks import check, finish

EXE = os.environ["SCOUT_EVAL"]
SRC = os.environ.get("SCOUT_SOURCE_DIR", os.getcwd())
MODEL = os.path.join(SRC, ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf")
KEY = "sk-test-serve-0123456789"
NAME = "smol"


def start_server(*extra):
    """Starts `scout-eval serve` on a free loopback port; returns (process, port)."""
    env = dict(os.environ, SCOUT_TEST_KEY=KEY)
    p = subprocess.Popen([EXE, "serve", "--model", MODEL, "--port", "0", "--name", NAME, "--threads", "2", *extra],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    for line in p.stdout:
        if line.startswith("listening on http://"):
            return p, int(line.strip().rsplit(":", 1)[1])
    raise RuntimeError("server did not start: " + p.stderr.read())


def raw(port, method, path, body=b"", headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request(method, path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def generate_cli(*args):
    out = subprocess.run([EXE, "generate", "--model", MODEL, "--json", "-t", "2", *args], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def is_json_error(status, data, want):
    try:
        e = json.loads(data)["error"]
        return status == want and isinstance(e["message"], str) and "type" in e
    except (ValueError, KeyError, TypeError):
        return False


def log_softmax(rows):
    rows = rows.astype(np.float64)
    m = rows.max(axis=1, keepdims=True)
    return rows - m - np.log(np.exp(rows - m).sum(axis=1, keepdims=True))


server, port = start_server("--api-key-env", "SCOUT_TEST_KEY", "--max-body-bytes", "65536", "--ctx", "512",
                            "--max-tokens-limit", "256")
client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=KEY, max_retries=0, timeout=120)
try:
    check([m.id for m in client.models.list().data] == [NAME], "/v1/models lists the served name")

    # Completion: the same tokens as the in-process engine.
    prompt = "The capital of France is"
    c = client.completions.create(model=NAME, prompt=prompt, max_tokens=12, temperature=0)
    ref = generate_cli("--prompt", prompt, "-n", "12")
    check(c.choices[0].text == ref["text"], f"completion equals `generate`: {c.choices[0].text!r} vs {ref['text']!r}")
    check(c.usage.completion_tokens == len(ref["tokens"]) and c.usage.prompt_tokens == len(ref["prompt_tokens"]),
          "completion usage counts equal the engine's")

    # Chat: the model's chat template, then the same tokens as `generate --chat`.
    q = "What is 2+2? Answer briefly."
    ch = client.chat.completions.create(model=NAME, messages=[{"role": "user", "content": q}], max_tokens=16,
                                        temperature=0)
    ref_chat = generate_cli("--chat", "--prompt", q, "-n", "16")
    check(ch.choices[0].message.content == ref_chat["text"],
          f"chat equals `generate --chat`: {ch.choices[0].message.content!r} vs {ref_chat['text']!r}")
    check(ch.choices[0].message.role == "assistant" and ch.choices[0].finish_reason in ("stop", "length"), "chat shape")

    # Streaming: the deltas add up to the non-streamed answer; usage arrives when asked for.
    parts, finishes, usage = [], [], None
    for ev in client.completions.create(model=NAME, prompt=prompt, max_tokens=12, temperature=0, stream=True,
                                        stream_options={"include_usage": True}):
        if ev.choices:
            parts.append(ev.choices[0].text)
            finishes.append(ev.choices[0].finish_reason)
        if ev.usage:
            usage = ev.usage
    check("".join(parts) == c.choices[0].text and len(parts) > 2, "streamed completion adds up")
    check(finishes[-1] == c.choices[0].finish_reason and usage and usage.completion_tokens == c.usage.completion_tokens,
          "streamed completion: finish reason and usage")
    deltas = [ev.choices[0].delta.content or "" for ev in
              client.chat.completions.create(model=NAME, messages=[{"role": "user", "content": q}], max_tokens=16,
                                             temperature=0, stream=True) if ev.choices]
    check("".join(deltas) == ch.choices[0].message.content and len(deltas) > 2, "streamed chat adds up")

    # Prompt logprobs (echo, max_tokens=0): equal to log-softmax of the engine's own logits.
    text = "Paris is the capital and largest city of France."
    e = client.completions.create(model=NAME, prompt=text, max_tokens=0, echo=True, logprobs=3, temperature=0)
    lp = e.choices[0].logprobs
    with tempfile.TemporaryDirectory() as tmp:
        pf = os.path.join(tmp, "p.txt")
        open(pf, "w").write(text + "\n")
        subprocess.run([EXE, "logits", "--model", MODEL, "--prompt-file", pf, "--out", tmp, "-t", "2"],
                       check=True, capture_output=True)
        ids = json.load(open(os.path.join(tmp, "0.tokens.json")))
        rows = np.fromfile(os.path.join(tmp, "0.logits.f32"), dtype="<f4").reshape(len(ids), -1)
    want = [log_softmax(rows[i - 1:i])[0, ids[i]] for i in range(1, len(ids))]
    check(len(lp.tokens) == len(ids) and lp.token_logprobs[0] is None, "echo: one entry per prompt token, first None")
    check(np.allclose(lp.token_logprobs[1:], want, atol=2e-4), "echo logprobs equal log-softmax of `logits`")
    check(e.choices[0].text == text and "".join(lp.tokens).endswith(text), "echo text and tokens cover the prompt")
    check(all(lp.text_offset[i + 1] == lp.text_offset[i] + len(lp.tokens[i]) for i in range(len(ids) - 1)),
          "text offsets advance by each token's length")
    tops_ok = all(len(t) <= 4 and max(t.values()) >= v - 1e-12 for t, v in zip(lp.top_logprobs[1:], lp.token_logprobs[1:]))
    check(tops_ok, "top_logprobs hold the best 3 (and the chosen token)")
    best = [int(np.argmax(rows[i - 1])) for i in range(1, len(ids))]
    got_best = [max(t.items(), key=lambda kv: kv[1])[1] for t in lp.top_logprobs[1:]]
    check(np.allclose(got_best, [log_softmax(rows[i - 1:i])[0, best[i - 1]] for i in range(1, len(ids))], atol=2e-4),
          "top-1 logprob equals the engine's argmax")

    # Generated-token logprobs: greedy picks the top token; chat logprobs likewise.
    g = client.completions.create(model=NAME, prompt=prompt, max_tokens=6, temperature=0, logprobs=2)
    glp = g.choices[0].logprobs
    check(len(glp.tokens) == g.usage.completion_tokens and "".join(glp.tokens) == g.choices[0].text,
          "completion logprobs: one per generated token")
    check(all(abs(max(t.values()) - v) < 1e-9 for t, v in zip(glp.top_logprobs, glp.token_logprobs)),
          "greedy tokens are the most likely ones")
    cl = client.chat.completions.create(model=NAME, messages=[{"role": "user", "content": q}], max_tokens=6,
                                        temperature=0, logprobs=True, top_logprobs=2)
    items = cl.choices[0].logprobs.content
    check(len(items) == cl.usage.completion_tokens and all(len(i.top_logprobs) == 2 for i in items),
          "chat logprobs: one item per token, two alternatives")
    check(all(abs(i.top_logprobs[0].logprob - i.logprob) < 1e-9 and i.logprob <= 0 for i in items),
          "chat greedy logprobs are the top ones")

    # Errors: JSON bodies with 4xx statuses, and the server keeps serving.
    auth = {"Authorization": "Bearer " + KEY}
    st, data = raw(port, "POST", "/v1/completions", b'{"model": "smol", "prompt": ', auth)
    check(is_json_error(st, data, 400), f"malformed JSON: 400 JSON error ({st} {data[:80]!r})")
    st, data = raw(port, "POST", "/v1/completions", b"[1, 2]", auth)
    check(is_json_error(st, data, 400), "non-object body: 400")
    big = json.dumps({"model": NAME, "prompt": "x" * 100_000}).encode()
    st, data = raw(port, "POST", "/v1/completions", big, auth)
    check(is_json_error(st, data, 413), f"oversized body: 413 JSON error ({st} {data[:80]!r})")
    st, data = raw(port, "POST", "/v1/completions", json.dumps({"model": NAME}).encode(), auth)
    check(is_json_error(st, data, 400), "missing prompt: 400")
    st, data = raw(port, "POST", "/v1/nowhere", b"{}", auth)
    check(is_json_error(st, data, 404), "unknown endpoint: 404 JSON error")
    try:
        client.completions.create(model=NAME, prompt="hello " * 600, max_tokens=4)
        check(False, "over-long prompt rejected")
    except openai.BadRequestError as ex:
        check(ex.body and ex.body.get("code") == "context_length_exceeded", "over-long prompt: context_length_exceeded")
    try:
        client.completions.create(model=NAME, prompt="hi", max_tokens=10_000)
        check(False, "max_tokens over the limit rejected")
    except openai.BadRequestError:
        check(True, "max_tokens over the limit: 400")
    try:
        client.completions.create(model="gpt-4", prompt="hi", max_tokens=1)
        check(False, "unknown model rejected")
    except openai.NotFoundError:
        check(True, "unknown model: 404")
    try:
        client.chat.completions.create(model=NAME, messages=[{"content": "no role"}], max_tokens=1)
        check(False, "message without role rejected")
    except openai.BadRequestError:
        check(True, "message without role: 400")
    try:
        openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="wrong", max_retries=0).models.list()
        check(False, "wrong API key rejected")
    except openai.AuthenticationError:
        check(True, "wrong API key: 401")
    again = client.completions.create(model=NAME, prompt=prompt, max_tokens=12, temperature=0)
    check(again.choices[0].text == c.choices[0].text, "still serving, same answer, after the bad requests")

    # Graceful shutdown: SIGTERM while a stream is running; the stream still completes.
    got, streaming = {}, threading.Event()

    def long_stream():
        pieces, last = [], None
        for ev in client.completions.create(model=NAME, prompt="Once upon a time", max_tokens=48, temperature=0,
                                            stream=True):
            pieces.append(ev.choices[0].text)
            last = ev.choices[0].finish_reason or last
            streaming.set()
        got["text"], got["finish"] = "".join(pieces), last

    t = threading.Thread(target=long_stream)
    t.start()
    check(streaming.wait(timeout=120), "the long stream started")
    server.send_signal(signal.SIGTERM)
    t.join(timeout=120)
    rc = server.wait(timeout=60)
    check(rc == 0, f"exit status 0 after SIGTERM (got {rc})")
    check(got.get("finish") in ("stop", "length") and len(got.get("text", "")) > 0,
          "the stream in flight finished before shutdown")
finally:
    if server.poll() is None:
        server.kill()
    log = server.stderr.read()
    check("shut down:" in log, "shutdown summary printed")
    check(KEY not in log, "the API key is not logged")

# Load: 64 concurrent clients (half streaming) plus bad requests, bounded in count and time; the
# script fails on any failed or lost request, any answer that differs from the answer alone,
# any bad request without a 4xx JSON error, or a server that stops answering.
load = subprocess.run([sys.executable, os.path.join(SRC, "scripts/load_test_serve.py"), "--exe", EXE, "--model", MODEL,
                       "--clients", "64", "--requests", "1", "--max-tokens", "8", "--threads", "2",
                       "--time-limit", "240"], capture_output=True, text=True, timeout=300)
check(load.returncode == 0, "load test: 64 concurrent clients, no failures: " + load.stderr[-500:])

finish()
