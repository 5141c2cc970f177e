"""The HTML report opens in a real browser: headless Chromium (installed by scripts/setup.sh)
parses report.html from a quick-suite run, and the DOM it builds holds the card table, the
per-task tables, the inline SVG charts and IFEval's per-instruction rows; a screenshot renders.

The run uses the test-only fake backend (answers by hashing the prompt), so the test is about
the report, not a model. Without the data sets the run cannot happen: the test then fails,
since CI always has them beside the checkout.
"""
import os
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser

from checks import check, finish

EXE = os.environ["SCOUT_EVAL"]
SRC = os.environ["SCOUT_SOURCE_DIR"]
DATA = os.environ.get("SCOUT_DATA_DIR", os.path.join(SRC, "..", "shared", "datasets"))


class Dom(HTMLParser):
    """Counts elements and collects the text of the DOM Chromium serialized."""

    def __init__(self):
        super().__init__()
        self.tags = {}
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1

    def handle_data(self, data):
        self.text.append(data)


def browser():
    for name in ("chromium-headless-shell", "chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


chrome = browser()
check(chrome is not None, "a headless Chromium is installed (scripts/setup.sh installs chromium-headless-shell)")
with tempfile.TemporaryDirectory() as tmp:
    fake = os.path.join(tmp, "fake.json")
    with open(fake, "w") as f:
        f.write('{"default": "hash"}')
    db = os.path.join(tmp, "r.db")
    r = subprocess.run([EXE, "run", "--suite", "quick", "--no-progress", "--fake-backend", fake, "--db", db,
                        "--data-dir", DATA], capture_output=True, text=True)
    check(r.returncode == 0, f"quick suite on the fake backend: {r.stderr[-2000:]}")
    r = subprocess.run([EXE, "report", "--db", db, "--out", tmp], capture_output=True, text=True)
    check(r.returncode == 0, f"report: {r.stderr}")
    page = os.path.join(tmp, "report.html")
    if chrome and os.path.exists(page):
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files"]
        dom = subprocess.run([chrome, *flags, "--dump-dom", "file://" + page], capture_output=True, text=True,
                             timeout=120)
        check(dom.returncode == 0 and "<html" in dom.stdout, f"Chromium loaded the page: {dom.stderr[-1000:]}")
        parsed = Dom()
        parsed.feed(dom.stdout)
        text = " ".join(parsed.text)
        check(parsed.tags.get("table", 0) >= 5, f"tables in the DOM: {parsed.tags.get('table', 0)}")
        check(parsed.tags.get("svg", 0) >= 1 and parsed.tags.get("rect", 0) >= 5, "inline SVG charts with bars")
        for needle in ("MMLU-Pro", "GPQA Diamond", "IFEval", "MuSR", "ifeval/punctuation:no_comma",
                       "inst_level_strict_acc", "95% CI"):
            check(needle in text, f"the rendered text holds {needle!r}")
        shot = os.path.join(tmp, "shot.png")
        s = subprocess.run([chrome, *flags, "--window-size=1280,2000", f"--screenshot={shot}", "file://" + page],
                           capture_output=True, text=True, timeout=120)
        ok = s.returncode == 0 and os.path.exists(shot)
        check(ok and open(shot, "rb").read(8) == b"\x89PNG\r\n\x1a\n" and os.path.getsize(shot) > 20_000,
              f"a screenshot renders: {s.stderr[-500:]}")
finish()
