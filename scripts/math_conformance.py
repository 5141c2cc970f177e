#!/usr/bin/env python3
"""Build the math-equivalence conformance corpus and score it with math-verify.

Gold answers come from the real MATH-500, MATH and AIME files under shared/datasets.
For each gold answer the script writes hand-designed rewritings (equivalent forms) and
near-misses (changed values, swapped order, wrong bracket types, ...) across the answer
categories the C++ checker handles, then asks math-verify (parse + verify) for a verdict.

Both sides are given to math-verify as `\\boxed{ANSWER}` with its default extraction
configuration (LaTeX then plain expression), gold first: verify() is not symmetric.

Output: tests/data/math/conformance.jsonl, one object per line:
  {"id", "source", "category", "intent", "gold", "pred", "math_verify"}
`intent` is what the variant was designed to be ("equivalent" or "different"); the verdict
that counts is `math_verify`. The output is deterministic (fixed seeds, file order).

Usage (from the repository root):
  .cache/venv-math/bin/python scripts/math_conformance.py [--data DIR] [--out FILE]
The venv needs `math-verify==0.9.0` and `sympy` (pip install into .cache/venv-math).
"""
from __future__ import annotations

import argparse
import json
import logging
import random
import re
import sys
from fractions import Fraction
from pathlib import Path

logging.disable(logging.CRITICAL)

ROOT = Path(__file__).resolve().parent.parent
MATH_SAMPLE = 300  # golds drawn from the full MATH test set (beyond MATH-500)


# ---------------------------------------------------------------- gold answers

def last_boxed(text: str) -> str | None:
    """Content of the last \\boxed{...} (balanced braces), as MATH solutions mark answers."""
    start = max(text.rfind("\\boxed{"), text.rfind("\\fbox{"))
    if start < 0:
        return None
    i = text.index("{", start)
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1 : j]
    return None


def load_golds(data: Path) -> list[tuple[str, str]]:
    """(source, gold) pairs: all of MATH-500, a seeded sample of MATH, all of AIME 24/25."""
    golds: list[tuple[str, str]] = []
    seen: set[str] = set()
    with open(data / "math500" / "test.jsonl") as f:
        for line in f:
            row = json.loads(line)
            golds.append((f"math500:{row['unique_id']}", row["answer"]))
            seen.add(row["problem"])
    rest = []
    with open(data / "math" / "test.jsonl") as f:
        for line in f:
            row = json.loads(line)
            if row["problem"] in seen:
                continue
            ans = last_boxed(row["solution"])
            if ans and len(ans) <= 60:
                rest.append((f"math:{row['idx']}", ans))
    # Prefer non-integer answers: integers are already plentiful in MATH-500.
    rng = random.Random(20240601)
    non_int = [g for g in rest if not re.fullmatch(r"-?\d+", g[1].strip())]
    golds += rng.sample(non_int, MATH_SAMPLE)
    for year in ("aime24", "aime25"):
        with open(data / "aime" / year / "test.jsonl") as f:
            for n, line in enumerate(f):
                row = json.loads(line)
                golds.append((f"{year}:{row.get('id', n)}", str(row["answer"])))
    return golds


# ---------------------------------------------------------------- variant rules
# Each rule returns a list of (category, pred, intent). EQ = designed equivalent,
# NE = designed near-miss.
EQ, NE = "equivalent", "different"

INT_RE = re.compile(r"-?\d+")
FRAC_RE = re.compile(r"(-?)\\[dt]?frac\{(\d+)\}\{(\d+)\}")
DEC_RE = re.compile(r"-?\d*\.\d+")


def fmt_decimal(value: float, places: int) -> str:
    return f"{value:.{places}f}"


def integer_variants(g: str, rng: random.Random) -> list:
    n = int(g)
    out = [
        ("int/decimal-point", f"{n}.0", EQ),
        ("int/assignment", f"x = {n}", EQ),
        ("int/text-unit", f"{n}\\text{{ cm}}", EQ),
        ("int/off-by-one", str(n + 1), NE),
        ("int/sign", str(-n) if n != 0 else "1", NE),
        ("int/fraction", f"\\frac{{{2 * n}}}{{2}}", EQ),
        ("int/dollar", f"\\${n}", EQ),
        ("int/degrees", f"{n}^\\circ", EQ),
        ("int/percent", f"{n}\\%", EQ),
        ("int/scaled-decimal", f"{n / 10:g}" if n % 10 else f"{n // 10}", NE),
        ("int/leading-zero", f"0{n}" if n >= 0 else f"-0{-n}", EQ),
    ]
    if abs(n) >= 1000:
        out.append(("int/thousands-comma", f"{n:,}", EQ))
        out.append(("int/thousands-thinspace", f"{n:,}".replace(",", ",\\!"), EQ))
        out.append(("int/scientific", f"{n / 1000:g}\\times 10^3", EQ))
    if n > 1:
        out.append(("int/power", f"{n}^1", EQ))
        out.append(("int/sum", f"{n - 1}+1", EQ))
    return rng.sample(out, min(4, len(out)))


def fraction_variants(g: str, rng: random.Random) -> list:
    m = FRAC_RE.fullmatch(g.replace(" ", ""))
    sign, a, b = m.group(1), int(m.group(2)), int(m.group(3))
    value = Fraction(a, b) * (-1 if sign else 1)
    s = "-" if sign else ""
    out = [
        ("frac/slash", f"{s}{a}/{b}", EQ),
        ("frac/dfrac", f"{s}\\dfrac{{{a}}}{{{b}}}", EQ),
        ("frac/scaled", f"{s}\\frac{{{3 * a}}}{{{3 * b}}}", EQ),
        ("frac/decimal-6", fmt_decimal(float(value), 6), EQ),
        ("frac/decimal-2", fmt_decimal(float(value), 2), NE),
        ("frac/inverted", f"{s}\\frac{{{b}}}{{{a}}}", NE if a != b else EQ),
        ("frac/sign", f"{'' if sign else '-'}\\frac{{{a}}}{{{b}}}", NE),
        ("frac/sign-in-numerator", f"\\frac{{{s}{a}}}{{{b}}}", EQ),
        ("frac/paren-slash", f"{s}({a})/({b})", EQ),
        ("frac/off-by-one", f"{s}\\frac{{{a + 1}}}{{{b}}}", NE),
    ]
    if a < 10 and b < 10:
        out.append(("frac/shorthand", f"{s}\\frac{a}{b}", EQ))
    if value.denominator != 1 and abs(value) > 1:
        whole = abs(value.numerator) // value.denominator
        rem = abs(value.numerator) % value.denominator
        out.append(("frac/mixed-number", f"{s}{whole}\\frac{{{rem}}}{{{value.denominator}}}", EQ))
    if value.denominator in (2, 4, 5, 8, 10, 20, 25, 50):
        out.append(("frac/exact-decimal", f"{float(value):g}", EQ))
        out.append(("frac/percent", f"{float(value) * 100:g}\\%", EQ))
    return rng.sample(out, min(4, len(out)))


def decimal_variants(g: str, rng: random.Random) -> list:
    v = float(g)
    text = g if not g.startswith(".") else "0" + g
    out = [
        ("dec/trailing-zero", text + "0", EQ),
        ("dec/leading-zero", text, EQ),
        ("dec/shifted", f"{v * 10:g}", NE),
        ("dec/fraction", str(Fraction(text).limit_denominator(10**8)).replace("/", "/"), EQ),
        ("dec/last-digit", f"{v + 10 ** -(len(text.split('.')[1])):.{len(text.split('.')[1])}f}", NE),
        ("dec/scientific", f"{v:.3e}".replace("e-0", "\\times10^{-").replace("e-", "\\times10^{-").replace("e+0", "\\times10^{").replace("e+", "\\times10^{") + "}", EQ),
    ]
    return rng.sample(out, min(3, len(out)))


def numeric_value(g: str):
    """Float value of a closed-form gold via sympy (math-verify's parser), or None."""
    from math_verify import parse
    try:
        parsed = parse("\\boxed{" + g + "}")
        if not parsed:
            return None
        expr = parsed[0]
        if getattr(expr, "free_symbols", {1}) or not expr.is_number:
            return None
        value = complex(expr.evalf(30))
        if abs(value.imag) > 1e-12:
            return None
        return value.real
    except Exception:
        return None


def closed_form_variants(g: str, rng: random.Random) -> list:
    """Radicals, pi and other closed forms: decimal approximations and rewritings."""
    out = []
    v = numeric_value(g)
    if v is not None:
        out.append(("closed/decimal-6", fmt_decimal(v, 6), EQ))
        out.append(("closed/decimal-2", fmt_decimal(v, 2), NE))
    m = re.fullmatch(r"(\d*)\s*\\sqrt\{(\d+)\}", g)
    if m:
        k = int(m.group(1) or 1)
        r = int(m.group(2))
        out.append(("sqrt/absorbed", f"\\sqrt{{{k * k * r}}}", EQ))
        out.append(("sqrt/wrong-radicand", f"{m.group(1)}\\sqrt{{{r + 1}}}", NE))
        out.append(("sqrt/power-half", f"{m.group(1)}{'' if k == 1 else ' '}{r}^{{1/2}}" if k != 1 else f"{r}^{{\\frac{{1}}{{2}}}}", EQ))
        if r < 10:
            out.append(("sqrt/shorthand", f"{m.group(1)}\\sqrt{r}", EQ))
    if re.search(r"\d\\pi", g):
        out.append(("pi/explicit-times", re.sub(r"(\d)\\pi", r"\1 \\cdot \\pi", g), EQ))
    if "\\pi" in g:
        out.append(("pi/dropped", g.replace("\\pi", "1"), NE))
    if "\\sqrt" in g and "\\pi" not in g:
        out.append(("sqrt/sign", "-(" + g + ")" if not g.startswith("-") else g[1:], NE))
    out.append(("closed/spacing", g.replace(" ", "") if " " in g else g.replace("{", "{ ", 1), EQ))
    out.append(("closed/dfrac", g.replace("\\frac", "\\dfrac"), EQ))
    return rng.sample(out, min(3, len(out)))


def split_top_level(body: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in body:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts]


def bracket_variants(g: str, rng: random.Random) -> list:
    """Tuples and intervals: (a,b), [a,b), (a,\\infty), \\left( ... \\right)."""
    plain = g.replace("\\left", "").replace("\\right", "").strip()
    out = []
    if "\\cup" in plain:
        pieces = [p.strip() for p in plain.split("\\cup")]
        out.append(("interval/union-swapped", " \\cup ".join(reversed(pieces)), EQ))
        out.append(("interval/union-dropped", pieces[0], NE))
        out.append(("interval/union-U", " U ".join(pieces), EQ))
        return out
    m = re.fullmatch(r"([(\[])(.*)([)\]])", plain)
    if not m:
        return out
    lb, body, rb = m.groups()
    parts = split_top_level(body)
    out.append(("tuple/left-right-removed" if "\\left" in g else "tuple/left-right-added",
                plain if "\\left" in g else f"\\left{lb}{body}\\right{rb}", EQ))
    out.append(("tuple/no-spaces", lb + ",".join(p.replace(" ", "") for p in parts) + rb, EQ))
    if len(parts) >= 2 and parts[0] != parts[1]:
        swapped = [parts[1], parts[0]] + parts[2:]
        out.append(("tuple/swapped", lb + ", ".join(swapped) + rb, NE))
    if len(parts) == 2:
        other_l = "[" if lb == "(" else "("
        other_r = "]" if rb == ")" else ")"
        if "infty" not in parts[0]:
            out.append(("interval/left-bracket", other_l + body + rb, NE))
        if "infty" not in parts[1]:
            out.append(("interval/right-bracket", lb + body + other_r, NE))
        out.append(("interval/element-sign", lb + parts[0] + ", -(" + parts[1] + ")" + rb, NE))
        if "infty" in body:
            out.append(("interval/infinity-word", (lb + body + rb).replace("\\infty", "\\infty ").replace("\\infty ", "\\infty"), EQ))
    if len(parts) >= 2:
        out.append(("tuple/as-set", "\\{" + ", ".join(parts) + "\\}", EQ))
        out.append(("tuple/element-changed", lb + ", ".join(parts[:-1] + [parts[-1] + "+1"]) + rb, NE))
    return rng.sample(out, min(4, len(out)))


def set_variants(g: str, rng: random.Random) -> list:
    """Lists "a, b" and sets \\{a, b\\}: order does not matter, members do."""
    body = g.strip()
    braced = body.startswith("\\{") and body.endswith("\\}")
    if braced:
        body = body[2:-2]
    parts = split_top_level(body)
    out = []
    if len(parts) >= 2:
        rev = list(reversed(parts))
        out.append(("set/reordered", ("\\{" + ", ".join(rev) + "\\}") if braced else ", ".join(rev), EQ))
        out.append(("set/braces-toggled", ", ".join(parts) if braced else "\\{" + ", ".join(parts) + "\\}", EQ))
        out.append(("set/member-dropped", ", ".join(parts[:-1]), NE))
        out.append(("set/and-word", ", ".join(parts[:-1]) + " \\text{ and } " + parts[-1], EQ))
        out.append(("set/member-added", ", ".join(parts + ["100"]), NE))
    return rng.sample(out, min(3, len(out)))


def text_variants(g: str, rng: random.Random) -> list:
    m = re.fullmatch(r"\\(?:text|textbf|mbox)\{\s*\(?([A-Za-z][A-Za-z ]*?)\)?\s*\}", g.strip())
    if not m:
        return []
    word = m.group(1)
    out = [
        ("text/bare", word, EQ),
        ("text/lowercase", f"\\text{{{word.lower()}}}", EQ),
        ("text/uppercase", word.upper(), EQ),
    ]
    if len(word) == 1:
        other = "E" if word.upper() != "E" else "D"
        out.append(("text/choice-paren", f"({word})", EQ))
        out.append(("text/other-choice", f"\\text{{({other})}}", NE))
    else:
        out.append(("text/truncated", f"\\text{{{word[:-1]}}}", NE))
        out.append(("text/other-word", "\\text{" + word[::-1].capitalize() + "}", NE))
    return rng.sample(out, min(3, len(out)))


def unit_variants(g: str, rng: random.Random) -> list:
    core = re.sub(r"\\(?:text|mbox)\{[^}]*\}(\^\d)?", "", g).replace("^\\circ", "").replace("^{\\circ}", "")
    core = core.replace("\\$", "").replace(",\\!", "").replace("\\!", "").strip()
    out = [("unit/stripped", core, EQ)]
    if INT_RE.fullmatch(core.replace(",", "")):
        n = int(core.replace(",", ""))
        out.append(("unit/stripped-wrong", str(n + 10), NE))
    return out


def matrix_variants(g: str, rng: random.Random) -> list:
    out = [("matrix/compact", re.sub(r"\s+", "", g).replace("\\end", " \\end").replace("\\begin", "\\begin"), EQ)]
    nums = re.findall(r"-?\d+", g.split("}", 1)[1])
    if nums:
        first = nums[0]
        changed = g.replace(first, str(int(first) + 1), 1) if "pmatrix}" in g else g
        out.append(("matrix/entry-changed", changed, NE))
    out.append(("matrix/bmatrix", g.replace("pmatrix", "bmatrix"), EQ))
    return out


def variable_variants(g: str, rng: random.Random) -> list:
    """Expressions in variables, equations, complex numbers."""
    out = []
    if "=" in g:
        lhs, rhs = g.split("=", 1)
        out.append(("equation/sides-swapped", f"{rhs.strip()} = {lhs.strip()}", EQ))
        out.append(("equation/rhs-only", rhs.strip(), EQ if re.fullmatch(r"\s*[a-z]\s*", lhs) else NE))
        out.append(("equation/rhs-changed", f"{lhs.strip()} = {rhs.strip()}+1", NE))
        return out
    if re.search(r"(?<![a-z\\])i\b", g):
        out.append(("complex/conjugate", g.replace("+", "#").replace("-", "+").replace("#", "-") if not g.startswith("-") else g, NE))
        out.append(("complex/spacing", g.replace(" ", "") if " " in g else g.replace("+", " + "), EQ))
        return out
    out.append(("expr/plus-zero", g + " + 0", EQ))
    out.append(("expr/plus-one", g + " + 1", NE))
    out.append(("expr/doubled", f"2({g})", NE))
    out.append(("expr/halved-doubled", f"\\frac{{2({g})}}{{2}}", EQ))
    return rng.sample(out, min(3, len(out)))


def style_variants(g: str, rng: random.Random) -> list:
    """How models wrap an otherwise identical answer."""
    out = [
        ("style/dollars", f"${g}$", EQ),
        ("style/boxed", f"\\boxed{{{g}}}", EQ),
        ("style/trailing-period", g + ".", EQ),
        ("style/padded", f"  {g} ", EQ),
        ("style/displaystyle", f"\\displaystyle {g}", EQ),
        ("style/answer-text", f"\\text{{The answer is }} {g}", NE),
    ]
    return rng.sample(out, 1)


def classify(g: str) -> str:
    s = g.strip()
    if INT_RE.fullmatch(s):
        return "int"
    if DEC_RE.fullmatch(s):
        return "dec"
    if FRAC_RE.fullmatch(s.replace(" ", "")):
        return "frac"
    if "matrix" in s:
        return "matrix"
    if re.fullmatch(r"\\(?:text|textbf|mbox)\{[^{}]*\}", s):
        return "text"
    if re.search(r"\\(?:text|mbox)\{|\\\$|\^\\circ|\^\{\\circ\}|,\\!", s):
        return "unit"
    if s.startswith(("(", "[", "\\left")) and not re.search(r"\)\s*[a-z(]", s):
        return "bracket"
    if s.startswith("\\{") or (("," in s) and not re.search(r"\d,\d{3}", s)):
        return "set"
    if re.search(r"[a-zA-Z](?<!\\[a-zA-Z])", re.sub(r"\\[a-zA-Z]+", "", s)) or "=" in s:
        return "var"
    return "closed"


RULES = {
    "int": integer_variants,
    "dec": decimal_variants,
    "frac": fraction_variants,
    "closed": closed_form_variants,
    "bracket": bracket_variants,
    "set": set_variants,
    "text": text_variants,
    "unit": unit_variants,
    "matrix": matrix_variants,
    "var": variable_variants,
}


# Hand-written pairs for behaviour that the rules above do not reach; the gold side is
# still a real dataset answer where one fits, else a typical MATH-style answer.
HANDWRITTEN = [
    ("percent", "50\\%", "0.5"), ("percent", "50\\%", "50"), ("percent", "12.5\\%", "0.125"),
    ("percent", "12.5\\%", "12.5"), ("percent", "25\\%", "\\frac{1}{4}"), ("percent", "25\\%", "26\\%"),
    ("percent", "0.25", "25\\%"), ("percent", "20", "20 percent"), ("percent", "40\\%", "0.4"),
    ("scientific", "1500", "1.5\\times10^3"), ("scientific", "1500", "1.5 \\cdot 10^{3}"),
    ("scientific", "0.0015", "1.5\\times10^{-3}"), ("scientific", "1500", "1.5\\times10^4"),
    ("scientific", "6.02\\times10^{23}", "6.02\\times 10^{23}"), ("scientific", "3\\times10^8", "300000000"),
    ("pm", "3 \\pm 2 \\sqrt{2}", "3+2\\sqrt{2}, 3-2\\sqrt{2}"), ("pm", "3 \\pm 2 \\sqrt{2}", "3-2\\sqrt{2}, 3+2\\sqrt{2}"),
    ("pm", "3 \\pm 2 \\sqrt{2}", "3+2\\sqrt{2}"), ("pm", "\\pm 2", "2, -2"), ("pm", "\\pm 2", "2"),
    ("pm", "\\{1\\pm\\sqrt{5},-2\\}", "-2, 1+\\sqrt{5}, 1-\\sqrt{5}"), ("pm", "\\{1\\pm\\sqrt{5},-2\\}", "1+\\sqrt{5}, 1-\\sqrt{5}"),
    ("pm", "-1 \\pm \\sqrt{3}", "-1+\\sqrt{3},-1-\\sqrt{3}"),
    ("equation", "x=5", "5"), ("equation", "5", "x=5"), ("equation", "x=5", "y=5"), ("equation", "x=5", "x = 5"),
    ("equation", "y = 2x + 3", "2x+3"), ("equation", "y = 2x + 3", "y = 3 + 2x"), ("equation", "y = 2x + 3", "y=2x-3"),
    ("equation", "5x - 7y + 11z + 4 = 0", "-5x + 7y - 11z - 4 = 0"), ("equation", "5x - 7y + 11z + 4 = 0", "10x - 14y + 22z + 8 = 0"),
    ("equation", "5x - 7y + 11z + 4 = 0", "5x - 7y + 11z - 4 = 0"), ("equation", "k = 3", "3"), ("equation", "3", "k = 4"),
    ("equation", "x^2+y^2=25", "y^2+x^2=25"), ("equation", "x^2=4", "x=2"),
    ("interval", "(-\\infty, 3]", "(-\\infty,3)"), ("interval", "(-\\infty, 3]", "(-\\infty, 3]"),
    ("interval", "[1,2)", "[1, 2)"), ("interval", "[1,2)", "(1,2]"), ("interval", "x \\in [-2,7]", "[-2,7]"),
    ("interval", "[-2,7]", "x \\in [-2,7]"), ("interval", "(0,9) \\cup (9,36)", "(9,36) \\cup (0,9)"),
    ("interval", "(-\\infty, 2) \\cup (3, \\infty)", "(-\\infty,2)\\cup(3,\\infty)"), ("interval", "(-\\infty, 2) \\cup (3, \\infty)", "(-\\infty,2]\\cup[3,\\infty)"),
    ("interval", "(5,\\infty)", "(5, \\infty)"), ("interval", "(5,\\infty)", "[5,\\infty)"), ("interval", "(1,2)", "1 < x < 2"),
    ("interval", "(-\\infty,\\infty)", "\\mathbb{R}"), ("interval", "[0,1]", "[0, 1.0]"),
    ("tuple", "(1,2)", "(2,1)"), ("tuple", "(1,2)", "\\{1,2\\}"), ("tuple", "(6,31,-1)", "(6, 31, -1)"),
    ("tuple", "(6,31,-1)", "(6,-1,31)"), ("tuple", "(1,-16,-4,43)", "(1, -16, -4, 43)"), ("tuple", "(1,-16,-4,43)", "(1,-16,-4,42)"),
    ("tuple", "\\left( \\frac{3}{2}, -13 \\right)", "(1.5, -13)"), ("tuple", "\\left( \\frac{3}{2}, -13 \\right)", "(3/2,-13)"),
    ("set", "\\{1,2\\}", "\\{2,1\\}"), ("set", "\\{1,2\\}", "(2,1)"), ("set", "1,2", "2,1"), ("set", "3, 5, 7", "7, 5, 3"),
    ("set", "3, 5, 7", "3, 5"), ("set", "-2,1", "1,-2"), ("set", "1,-2", "1, 2"), ("set", "\\{1,2,3\\}", "\\{1,2,3,3\\}"),
    ("text", "\\text{Evelyn}", "evelyn"), ("text", "\\text{Evelyn}", "Evelyn"), ("text", "\\text{(C)}", "C"),
    ("text", "\\text{(C)}", "(C)"), ("text", "\\text{(C)}", "D"), ("text", "\\text{east}", "East"), ("text", "\\text{Navin}", "Nav"),
    ("text", "\\text{even}", "\\text{odd}"), ("text", "\\text{odd}", "\\text{ odd }"), ("text", "\\text{A}", "a"),
    ("units", "10\\text{ cm}", "10"), ("units", "10", "10\\text{ cm}"), ("units", "15\\mbox{ cm}^2", "15"),
    ("units", "864 \\mbox{ inches}^2", "864"), ("units", "5 \\text{ meters}", "5 m"), ("units", "5", "5 feet"),
    ("units", "\\$32,\\!348", "32348"), ("units", "\\$32,\\!348", "\\$32,348"), ("units", "\\$18.90", "18.9"),
    ("units", "\\$18.90", "18.90"), ("units", "\\$18.90", "19"), ("units", "30^\\circ", "30"), ("units", "30^\\circ", "30^{\\circ}"),
    ("units", "90^\\circ", "\\frac{\\pi}{2}"), ("units", "2c", "2"),
    ("numbers", "1,000", "1000"), ("numbers", "10,\\!080", "10080"), ("numbers", "11,\\! 111,\\! 111,\\! 100", "11111111100"),
    ("numbers", "58,500", "58500"), ("numbers", "58,500", "58.5"), ("numbers", "025", "25"), ("numbers", "25", "025"),
    ("numbers", ".0000672", "6.72\\times10^{-5}"), ("numbers", ".0000672", "0.0000672"), ("numbers", "1.25", "\\frac{5}{4}"),
    ("numbers", "1.25", "1.250"), ("numbers", "1.25", "1.26"), ("numbers", "-3", "- 3"), ("numbers", "-3", "3"),
    ("numbers", "0", "-0"), ("numbers", "0", "0.0"), ("numbers", "\\frac12", "0.5"), ("numbers", "\\frac{1}{3}", "0.333333"),
    ("numbers", "\\frac{1}{3}", "0.3333"), ("numbers", "\\frac{1}{3}", "0.33"), ("numbers", "\\frac{14}{3}", "4\\frac{2}{3}"),
    ("numbers", "\\frac{14}{3}", "4.666667"), ("numbers", "\\frac{14}{3}", "4.67"), ("numbers", "3 \\frac{1}{2}", "3.5"),
    ("numbers", "2^{10}", "1024"), ("numbers", "2^{10}", "1000"), ("numbers", "-\\frac{1}{2}", "\\frac{-1}{2}"),
    ("numbers", "-\\frac{1}{2}", "\\frac{1}{-2}"), ("numbers", "\\dfrac{33}{100}", "0.33"), ("numbers", "\\frac9{19}", "\\frac{9}{19}"),
    ("numbers", "\\frac14", "0.25"), ("numbers", "\\tfrac{3}{4}", "0.75"), ("numbers", "2^{-2}", "\\frac{1}{4}"),
    ("numbers", "10^{100}", "10^{100}"), ("numbers", "2^{100}", "1267650600228229401496703205376"), ("numbers", "2^{100}", "2^{99}"),
    ("radicals", "\\sqrt2", "1.414214"), ("radicals", "\\sqrt{2}", "1.41"), ("radicals", "\\sqrt[3]{8}", "2"),
    ("radicals", "\\sqrt[3]{2}", "2^{1/3}"), ("radicals", "2\\sqrt{3}", "\\sqrt{12}"), ("radicals", "\\frac{\\sqrt{2}}{2}", "\\frac{1}{\\sqrt{2}}"),
    ("radicals", "\\frac{\\sqrt{3}}{3}", "\\frac{1}{\\sqrt3}"), ("radicals", "3\\sqrt{13}", "\\sqrt{117}"), ("radicals", "3\\sqrt{13}", "13\\sqrt{3}"),
    ("radicals", "1+2\\sqrt{3}", "2\\sqrt{3}+1"), ("radicals", "\\sqrt{51}", "\\sqrt {51}"), ("radicals", "\\sqrt{-4}", "2i"),
    ("pi", "\\pi", "3.14159"), ("pi", "\\pi", "3.141593"), ("pi", "2\\pi", "6.283185"), ("pi", "2\\pi", "2 \\pi"),
    ("pi", "-\\frac{\\pi}{6}", "-\\pi/6"), ("pi", "-\\frac{\\pi}{6}", "\\frac{-\\pi}{6}"), ("pi", "-\\frac{\\pi}{6}", "\\frac{\\pi}{6}"),
    ("pi", "\\frac{\\pi}{2}", "90^\\circ"), ("pi", "\\left[ \\frac{\\pi^2}{8}, \\frac{5 \\pi^2}{4} \\right]", "[\\pi^2/8, 5\\pi^2/4]"),
    ("pi", "4\\pi", "4 \\cdot \\pi"), ("pi", "\\pi r^2", "r^2\\pi"),
    ("expr", "x^2+1", "1+x^2"), ("expr", "2k+2", "2(k+1)"), ("expr", "2k+2", "2k+1"), ("expr", "\\cot x", "\\frac{\\cos x}{\\sin x}"),
    ("expr", "1", "\\sin^2 x+\\cos^2 x"), ("expr", "(a+5)(b+2)", "ab+2a+5b+10"), ("expr", "(a+5)(b+2)", "(a+2)(b+5)"),
    ("expr", "x^2+2x+1", "(x+1)^2"), ("expr", "x^2+2x+1", "(y+1)^2"), ("expr", "6r^2-4r-24", "2(3r^2-2r-12)"),
    ("expr", "\\frac{11+9a}{20}", "\\frac{9a+11}{20}"), ("expr", "\\frac{11+9a}{20}", "0.55+0.45a"), ("expr", "3R^2", "3r^2"),
    ("expr", "p - q", "-q+p"), ("expr", "p - q", "q - p"), ("expr", "x^{2}", "x^2"), ("expr", "e^x", "\\exp(x)"),
    ("expr", "\\log_2 8", "3"), ("expr", "\\ln(e^2)", "2"), ("expr", "\\sin(\\pi/6)", "\\frac{1}{2}"), ("expr", "\\binom{5}{2}", "10"),
    ("expr", "5!", "120"), ("expr", "|{-3}|", "3"),
    ("complex", "6+9i", "9i+6"), ("complex", "6+9i", "6-9i"), ("complex", "1-12i", "1 - 12i"), ("complex", "-2 + 7i", "7i-2"),
    ("complex", "i", "\\sqrt{-1}"), ("complex", "1+2i", "(1+2i)"),
    ("base", "2516_8", "2516_8"), ("base", "2516_8", "2516"), ("base", "4210_{5}", "4210_5"), ("base", "204_5", "205_5"),
    ("matrix", "\\begin{pmatrix} -1 & 0 \\\\ 0 & -1 \\end{pmatrix}", "\\begin{pmatrix}-1&0\\\\0&-1\\end{pmatrix}"),
    ("matrix", "\\begin{pmatrix} -7 \\\\ 16 \\\\ 5 \\end{pmatrix}", "(-7,16,5)"),
    ("matrix", "\\begin{pmatrix} -7 \\\\ 16 \\\\ 5 \\end{pmatrix}", "\\begin{pmatrix} -7 \\\\ 16 \\\\ 6 \\end{pmatrix}"),
    ("matrix", "\\begin{pmatrix} 1/2 \\\\ 1 \\end{pmatrix}", "\\begin{pmatrix} 0.5 \\\\ 1 \\end{pmatrix}"),
    ("latex", "\\frac{3}{4}", "\\left(\\frac{3}{4}\\right)"), ("latex", "\\frac{3}{4}", "\\displaystyle\\frac{3}{4}"),
    ("latex", "\\frac{3}{4}", "$\\frac{3}{4}$"), ("latex", "12", "\\mathbf{12}"), ("latex", "12", "\\textbf{12}"),
    ("latex", "12", "{12}"), ("latex", "12", "12."), ("latex", "-4", "-{4}"), ("latex", "\\infty", "\\infty"),
    ("latex", "\\infty", "-\\infty"), ("latex", "\\frac{1}{2}", "\\frac{1}{2}\\ "), ("latex", "12", "\\boxed{12}"),
]


# More hand-written pairs, one per line: "category: gold ||| predicted".
HANDWRITTEN_MORE = r"""
interval: (2,\infty) ||| x > 2
interval: x > 2 ||| (2,\infty)
interval: x > 2 ||| 2 < x
interval: x \ge 2 ||| x > 2
interval: [-1, 1] ||| -1 \le x \le 1
interval: (-1, 1) ||| |x| < 1
interval: \mathbb{R} ||| (-\infty,\infty)
interval: (-\infty,\infty) ||| \mathbb{R}
interval: x \in \mathbb{R} ||| \mathbb{R}
interval: [2,5) ||| x \in [2,5)
interval: [2,5) ||| 2 \le x < 5
interval: 2 \le x < 5 ||| [2,5)
interval: [2,5) ||| [2, 5]
interval: (3,4) ||| [3,4]
interval: \left(\frac{3}{5},\frac{8}{3}\right] ||| (0.6, 8/3]
interval: \left(\frac{3}{5},\frac{8}{3}\right] ||| (\frac35,\frac83]
set: \emptyset ||| \{\}
set: \emptyset ||| \varnothing
set: \{-2, 2\} ||| \pm 2
set: \pm 2 ||| \{-2,2\}
set: -2,2 ||| 2,-2
set: 2, 3 ||| x=2 \text{ or } x=3
set: 2, 3 ||| x = 2, x = 3
set: 2, 3 ||| 2 \text{ and } 3
set: 2,3 ||| \{2, 3\}
set: \left\{ 1, 2 \right\} ||| \{1,2\}
set: (1,2),(3,4) ||| (3,4),(1,2)
set: \{(1,2),(3,4)\} ||| \{(3,4),(1,2)\}
pm: \frac{-1 \pm \sqrt{5}}{2} ||| \frac{-1+\sqrt{5}}{2}, \frac{-1-\sqrt{5}}{2}
pm: 1 \pm \sqrt{2} ||| 1+\sqrt2,1-\sqrt2
pm: 1 \pm \sqrt{2} ||| 1 \mp \sqrt{2}
tuple: (1,2,3) ||| (1,2,3)
tuple: (1,2,3) ||| \langle 1,2,3\rangle
tuple: (3, 4) ||| (3,4)
tuple: (3,4) ||| 3,4
tuple: x=1, y=2 ||| (1,2)
tuple: x=1, y=2 ||| x=1,y=2
tuple: x=1, y=2 ||| y=2, x=1
tuple: a=1,b=2 ||| 1,2
matrix: \begin{pmatrix} 1 \\ 2 \end{pmatrix} ||| \begin{pmatrix} 1 \\ 2 \end{pmatrix}
matrix: \begin{pmatrix} 1 \\ 2 \end{pmatrix} ||| (1,2)
matrix: \begin{pmatrix} 1 & 2 \end{pmatrix} ||| \begin{pmatrix} 1 \\ 2 \end{pmatrix}
matrix: \begin{pmatrix} 0.5 \\ 2 \end{pmatrix} ||| \begin{pmatrix} \frac{1}{2} \\ 2 \end{pmatrix}
matrix: \begin{pmatrix} 1/3 \\ 2 \end{pmatrix} ||| \begin{pmatrix} 0.333333 \\ 2 \end{pmatrix}
percent: 100\% ||| 1
percent: 100 ||| 1
percent: 33\frac{1}{3}\% ||| \frac{1}{3}
percent: 5\% ||| 0.05
percent: 5\% ||| 5
percent: 0.05 ||| 5
percent: 7.5\% ||| 0.075
percent: 20\% ||| 20
percent: 20\% ||| 0.2
percent: 20\% ||| .2
percent: 0.2 ||| 20\%
scientific: 2^{-1} ||| 0.5
scientific: 10^{-3} ||| 0.001
scientific: 1.2 \times 10^{-3} ||| 0.0012
scientific: 1.2e-3 ||| 0.0012
scientific: 2\times 10^{5} ||| 200000
scientific: 2\times 10^{5} ||| 200,000
scientific: 1000000 ||| 10^6
scientific: 1000000 ||| 10^{6}
numbers: -7 ||| -7.0
numbers: -7 ||| - 7
numbers: -7 ||| (-7)
numbers: -7 ||| -(7)
numbers: x = -7 ||| -7
numbers: 4 ||| \sqrt{16}
numbers: 4 ||| 2^2
numbers: 4 ||| 4^1
numbers: 0 ||| 0.000
numbers: -0.5 ||| -\frac12
numbers: \frac{3}{2} ||| 1\frac12
numbers: \frac{3}{2} ||| 1 \frac{1}{2}
numbers: 1.5 ||| \frac{3}{2}
numbers: 1.5 ||| 3/2
numbers: 2.5 ||| 2\frac{1}{2}
numbers: 2.5 ||| \frac{5}{2}
numbers: 1/3 ||| \frac{1}{3}
numbers: 1/3 ||| 0.33
numbers: 1/3 ||| 0.333
numbers: \frac{2}{3} ||| 0.666667
numbers: \frac{2}{3} ||| 0.666666
numbers: \frac{2}{3} ||| 0.67
numbers: 0.\overline{3} ||| \frac{1}{3}
numbers: 5 ||| 5.
numbers: 5 ||| \text{5}
numbers: 1\,000 ||| 1000
numbers: 1{,}000 ||| 1000
numbers: \$1.50 ||| 1.5
numbers: \$1.50 ||| \$1.5
numbers: \frac{1}{2} ||| 0.5.
numbers: \frac{1}{2} ||| \frac{1}{2}.
numbers: 10 ||| 10.
numbers: x = 5 ||| x=5.
numbers: 11 ||| 11_{10}
numbers: 1011_2 ||| 11
latex: \frac{1}{2} ||| $\frac{1}{2}$
latex: \frac{1}{2} ||| \boxed{\frac{1}{2}}
latex: (1,2) ||| (1,2).
radicals: \frac{\sqrt{3}}{2} ||| \sqrt{3}/2
radicals: 5\sqrt{2} ||| 5 \sqrt 2
radicals: 5\sqrt{2} ||| \sqrt{50}
radicals: \frac{5\sqrt{2}}{2} ||| \frac{5}{\sqrt{2}}
radicals: \sqrt{2}+\sqrt{3} ||| \sqrt{5+2\sqrt{6}}
radicals: \frac{1}{\sqrt{2}} ||| 0.707107
radicals: \frac{1}{\sqrt{2}} ||| 0.7071
radicals: 0.7071 ||| \frac{1}{\sqrt{2}}
radicals: 8\sqrt{3} ||| 13.856406
radicals: 8\sqrt{3} ||| 13.86
radicals: \sqrt{x} ||| x^{1/2}
radicals: \sqrt{x^2} ||| |x|
radicals: \sqrt{x^2} ||| x
pi: 3\pi ||| 3 \pi
pi: 3.14 ||| \pi
pi: \frac{\pi}{4} ||| 45^\circ
pi: \frac{\pi}{4} ||| 0.785398
pi: 45 ||| 45^\circ
pi: 45 ||| 45 degrees
pi: 45 ||| \frac{\pi}{4}
pi: \infty ||| \infty
pi: -\infty ||| -\infty
text: \text{(A)} ||| A
text: \textbf{(A)} ||| (A)
text: \mathrm{(A)} ||| A
text: \text{Tuesday} ||| Tuesday
text: \text{Tuesday} ||| \text{tuesday}
text: \text{Tuesday} ||| \text{Wednesday}
text: \text{no solution} ||| \text{No Solution}
text: \text{no solution} ||| \emptyset
text: \text{none} ||| none
text: \text{yes} ||| Yes
text: \text{even} ||| \text{Even}
text: \text{odd} ||| odd
text: 6 ||| six
units: 12 ||| 12 \text{ square units}
units: 12 ||| 12 sq units
units: 6 ||| 6 \text{ inches}
equation: y = -2x + 5 ||| y=5-2x
equation: y = -2x + 5 ||| -2x+5
equation: y = -2x + 5 ||| 2x + y = 5
equation: 2x + 3y = 6 ||| 4x + 6y = 12
equation: 2x + 3y = 6 ||| 2x + 3y = 7
equation: x > 2 ||| 2x > 4
equation: x > 2 ||| -x < -2
equation: x > 2 ||| -2x > -4
expr: a^2 b ||| ba^2
expr: \dfrac{1}{x} ||| x^{-1}
expr: \log_2 3 ||| \frac{\ln 3}{\ln 2}
expr: e ||| \exp(1)
expr: x^2 ||| x\cdot x
expr: x^2 ||| xx
expr: ab ||| ba
expr: \text{ab} ||| ba
expr: \sin x ||| \sin(x)
expr: \sin^2 x ||| (\sin x)^2
expr: 2\sin x\cos x ||| \sin 2x
expr: \frac{a}{b} ||| a/b
expr: \frac{a+b}{2} ||| \frac{b+a}{2}
expr: \frac{x+1}{x-1} ||| 1 + \frac{2}{x-1}
expr: x^3 - 1 ||| (x-1)(x^2+x+1)
complex: -1 ||| -1+0i
complex: 1+i ||| 1 + i
complex: 1+i ||| i+1
complex: 2i ||| 2 i
complex: \frac{1+i}{2} ||| \frac{1}{2}+\frac{i}{2}
complex: 3-4i ||| 3 - 4i
complex: \sqrt{-4} ||| 2i
numbers: 1:1 ||| 1
numbers: 2:3 ||| \frac{2}{3}
numbers: 2:3 ||| 3:2
expr: \sinx ||| \sin x
expr: \pix ||| \pi x
expr: \sec x ||| \secx
scientific: 4036 ||| 4.036\times 10^3
scientific: 4036 ||| 4.036 \cdot 10^{3}
numbers: 0.1+0.2 ||| 0.3
numbers: \frac{3}{10} ||| 0.1+0.2
numbers: 3 ||| 1.5 \cdot 2
numbers: 0.3 ||| 0.1 \cdot 3
expr: x+0.1+0.2 ||| x+0.3
"""
for _line in HANDWRITTEN_MORE.strip().splitlines():
    _category, _pair = _line.split(": ", 1)
    _gold, _pred = _pair.split(" ||| ")
    HANDWRITTEN.append((_category, _gold, _pred))


# ---------------------------------------------------------------- scoring

def verdict(gold: str, pred: str) -> bool:
    from math_verify import parse, verify
    g = parse("\\boxed{" + gold + "}")
    p = parse("\\boxed{" + pred + "}")
    return bool(verify(g, p))


def build(data: Path) -> list[dict]:
    pairs: list[tuple[str, str, str, str, str]] = []  # source, category, intent, gold, pred
    for source, gold in load_golds(data):
        kind = classify(gold)
        rng = random.Random(f"{source}|{gold}")  # stable per gold, independent of order
        pairs.append((source, f"{kind}/identity", EQ, gold, gold))
        for category, pred, intent in RULES[kind](gold.strip(), rng) + style_variants(gold.strip(), rng):
            if pred != gold:
                pairs.append((source, category, intent, gold, pred))
    # Cross pairs: each gold against the next gold of the same kind (nearly always a
    # different answer of the same shape), to catch false positives.
    by_kind: dict[str, list[tuple[str, str]]] = {}
    for source, gold in load_golds(data):
        by_kind.setdefault(classify(gold), []).append((source, gold))
    for kind, items in sorted(by_kind.items()):
        for (source, gold), (_, other) in zip(items, items[1:]):
            if kind == "int" and random.Random(source).random() > 0.2:
                continue  # integers against integers teach little; keep a fifth
            pairs.append((source, f"cross/{kind}", NE if gold != other else EQ, gold, other))
    for category, gold, pred in HANDWRITTEN:
        pairs.append(("handwritten", f"hand/{category}", "", gold, pred))
    seen: set[tuple[str, str]] = set()
    rows = []
    for source, category, intent, gold, pred in pairs:
        if (gold, pred) in seen:
            continue
        seen.add((gold, pred))
        rows.append({
            "id": len(rows),
            "source": source,
            "category": category,
            "intent": intent,
            "gold": gold,
            "pred": pred,
            "math_verify": verdict(gold, pred),
        })
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "datasets")
    ap.add_argument("--out", type=Path, default=ROOT / "tests" / "data" / "math" / "conformance.jsonl")
    args = ap.parse_args()
    rows = build(args.data)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    agree = sum(1 for r in rows if r["intent"] and (r["intent"] == EQ) == r["math_verify"])
    designed = sum(1 for r in rows if r["intent"])
    print(f"{len(rows)} pairs -> {args.out} ({sum(r['math_verify'] for r in rows)} equivalent per math-verify; "
          f"math-verify matches the designed intent on {agree}/{designed})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
