"""The harness's OpenAI HTTP backend against `scout-eval serve` on loopback gives the same
samples and scores as the in-process engine for the same model, seed and protocol (a
log-likelihood task through echo/logprobs and a chat generation task); a rerun is answered
from the request cache (the server's access log shows no new requests); the API key never
reaches the database or the results JSON; 503/429 answers are retried; a server without prompt
log-probabilities fails with an error naming the task."""
import http.server
import json
import os
import socket
import sqlite3
import subprocess
import tempfile
import threading
import urllib.request

from checks import check, finish

EXE = os.environ["SCOUT_EVAL"]
SRC = os.environ.get("SCOUT_SOURCE_DIR", os.getcwd())
MODEL = os.path.join(SRC, ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf")
KEY = "sk-http-backend-secret-4242"
TASKS = "gpqa_diamond@open-llm-leaderboard-v2,mmlu_pro@meta-card"
COMMON = ["--tasks", TASKS, "--limit", "4", "--max-tokens", "32", "--no-progress", "--seed", "3"]


class Server:
    """`scout-eval serve` on a free loopback port; its access log is collected in a thread."""

    def __init__(self):
        env = dict(os.environ, SCOUT_TEST_KEY=KEY)
        self.p = subprocess.Popen([EXE, "serve", "--model", MODEL, "--port", "0", "--name", "smol", "--threads", "2",
                                   "--api-key-env", "SCOUT_TEST_KEY"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for line in self.p.stdout:
            if line.startswith("listening on http://"):
                self.port = int(line.strip().rsplit(":", 1)[1])
                break
        else:
            raise RuntimeError("server did not start")
        self.log = []
        threading.Thread(target=lambda: [self.log.append(l) for l in self.p.stderr], daemon=True).start()

    def posts(self):
        return sum(1 for l in self.log if l.startswith("POST "))


def scout(*args, env_extra=None, ok=True):
    env = dict(os.environ, **(env_extra or {}))
    out = subprocess.run([EXE, *args], capture_output=True, text=True, env=env)
    if ok:
        assert out.returncode == 0, (args, out.stderr)
    return out


def samples(db):
    rows = sqlite3.connect(db).execute(
        "SELECT task, doc_id, repeat, output, answer, target, score, extra FROM samples ORDER BY task, doc_id, repeat")
    out = []
    for task, doc, rep, output, answer, target, score, extra in rows:
        e = json.loads(extra) if extra else {}
        e.pop("finish_reason", None)  # engine names ("stop_token") vs OpenAI's ("stop")
        out.append((task, doc, rep, output, answer, target, score, json.dumps(e, sort_keys=True)))
    return out


def metrics(db):
    return sorted(sqlite3.connect(db).execute("SELECT task, metric, value, n FROM metrics").fetchall())


class Proxy(http.server.ThreadingHTTPServer):
    """Forwards to the server, after answering the first `fail` POSTs with the given statuses;
    `strip_logprobs` removes logprobs from answers (a server that has none)."""

    def __init__(self, target_port, fail=(), strip_logprobs=False):
        self.target, self.fail, self.strip, self.lock = target_port, list(fail), strip_logprobs, threading.Lock()
        super().__init__(("127.0.0.1", 0), ProxyHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.lock:
            status = self.server.fail.pop(0) if self.server.fail else None
        if status:
            data = json.dumps({"error": {"message": "try later", "type": "server_error"}}).encode()
        else:
            req = urllib.request.Request(f"http://127.0.0.1:{self.server.target}{self.path}", data=body,
                                         headers={"Content-Type": "application/json",
                                                  "Authorization": self.headers.get("Authorization", "")})
            data = urllib.request.urlopen(req, timeout=300).read()
            if self.server.strip:
                j = json.loads(data)
                for c in j["choices"]:
                    c["logprobs"] = None
                data = json.dumps(j).encode()
            status = 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


srv = Server()
try:
    with tempfile.TemporaryDirectory() as tmp:
        ndb, hdb = os.path.join(tmp, "native.db"), os.path.join(tmp, "http.db")
        njson, hjson = os.path.join(tmp, "native.json"), os.path.join(tmp, "http.json")
        scout("run", "--model", MODEL, "--db", ndb, "--output-json", njson, "--threads", "2", *COMMON)
        url = f"http://127.0.0.1:{srv.port}/v1"
        http_args = ["run", "--backend", "openai", "--base-url", url, "--model", "smol", "--chat-template", MODEL,
                     "--api-key-env", "SCOUT_KEY", "--concurrency", "8", "--db", hdb, *COMMON]
        first = scout(*http_args, "--output-json", hjson, env_extra={"SCOUT_KEY": KEY})
        n_native = samples(ndb)
        check(len(n_native) == 8, f"8 samples in the native run (got {len(n_native)})")
        check(samples(hdb) == n_native, "HTTP samples (outputs, answers, scores, log-probabilities) equal native ones")
        check(metrics(hdb) == metrics(ndb) and len(metrics(ndb)) > 0, "HTTP metrics equal native ones")
        nres, hres = json.load(open(njson))["results"], json.load(open(hjson))["results"]
        check(nres == hres, "the results JSON scores are equal")
        posts = srv.posts()
        check(posts == 4 * 4 + 4, f"one HTTP request per log-likelihood and per generation (got {posts})")

        # A rerun of the same run is complete already; a new run with the same requests (the run
        # rows deleted, the cache kept) is answered from the request cache: no new HTTP requests.
        db = sqlite3.connect(hdb)
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("DELETE FROM runs")
        db.commit()
        db.close()
        second = scout(*http_args, env_extra={"SCOUT_KEY": KEY})
        check(srv.posts() == posts, f"rerun sends no HTTP requests (server saw {srv.posts() - posts} new)")
        check("0 HTTP requests" in second.stderr and "20 answered from the request cache" in second.stderr,
              "rerun reports 20 cache hits: " + second.stderr.strip().splitlines()[-1])
        check(samples(hdb) == n_native, "cached rerun: same samples")

        blobs = b""
        for f in os.listdir(tmp):
            if f.startswith("http.db") or f == "http.json":
                blobs += open(os.path.join(tmp, f), "rb").read()
        check(KEY.encode() not in blobs, "the API key is in neither the database nor the results JSON")
        check(KEY not in first.stdout + first.stderr, "the API key is not printed")

        # Without the key: 401, not retried, one clear line.
        nokey = scout(*http_args[:-len(COMMON)], "--no-request-cache", "--tasks", "mmlu_pro@meta-card", "--limit", "1",
                      "--max-tokens", "4", "--no-progress", ok=False)
        check(nokey.returncode == 1 and "HTTP 401" in nokey.stderr, "missing key: HTTP 401 error")

        # 503, 503, 429, then answers: retried with backoff, same results.
        proxy = Proxy(srv.port, fail=[503, 503, 429])
        rdb = os.path.join(tmp, "retry.db")
        retry = scout("run", "--backend", "openai", "--base-url", f"http://127.0.0.1:{proxy.server_port}", "--model",
                      "smol", "--api-key-env", "SCOUT_KEY", "--concurrency", "1", "--no-request-cache", "--db", rdb,
                      "--tasks", "mmlu_pro@meta-card", "--limit", "2", "--max-tokens", "32", "--no-progress",
                      "--seed", "3", env_extra={"SCOUT_KEY": KEY})
        check("(3 retries)" in retry.stderr, "three retries reported: " + retry.stderr.strip().splitlines()[-1])
        check(samples(rdb) == [s for s in n_native if s[0] == "mmlu_pro"][:2], "retried run: same samples")
        proxy.shutdown()

        # Always 500: gives up after --retries, naming the status.
        proxy = Proxy(srv.port, fail=[500] * 10)
        fail = scout("run", "--backend", "openai", "--base-url", f"http://127.0.0.1:{proxy.server_port}", "--model",
                     "smol", "--retries", "2", "--no-request-cache", "--db", os.path.join(tmp, "f.db"), "--tasks",
                     "mmlu_pro@meta-card", "--limit", "1", "--no-progress", ok=False)
        check(fail.returncode == 1 and "HTTP 500" in fail.stderr and "after 2 retries" in fail.stderr,
              "persistent 500: clear error after 2 retries")
        proxy.shutdown()

        # A server without prompt logprobs: the error names the log-likelihood task.
        proxy = Proxy(srv.port, strip_logprobs=True)
        nolp = scout("run", "--backend", "openai", "--base-url", f"http://127.0.0.1:{proxy.server_port}", "--model",
                     "smol", "--chat-template", MODEL, "--api-key-env", "SCOUT_KEY", "--no-request-cache", "--db",
                     os.path.join(tmp, "n.db"), "--tasks", "mmlu_pro@meta-card,gpqa_diamond@open-llm-leaderboard-v2",
                     "--limit", "1", "--max-tokens", "4", "--no-progress", env_extra={"SCOUT_KEY": KEY}, ok=False)
        check(nolp.returncode == 1 and "gpqa_diamond" in nolp.stderr and "log-probabilities" in nolp.stderr,
              "no logprobs: error names the task: " + nolp.stderr.strip()[-300:])
        proxy.shutdown()

        # A chat log-likelihood task without a client-side template: a clear error.
        notmpl = scout(*[a for a in http_args if a not in ("--chat-template", MODEL)], "--no-request-cache",
                       env_extra={"SCOUT_KEY": KEY}, ok=False)
        check(notmpl.returncode == 1 and "--chat-template" in notmpl.stderr, "chat log-likelihood needs --chat-template")
finally:
    srv.p.terminate()
    srv.p.wait(timeout=60)

finish()
