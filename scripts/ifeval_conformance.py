#!/usr/bin/env python3
"""Builds the IFEval conformance fixture: (row, response) pairs with the reference's verdicts.

    .cache/venv-ifeval/bin/python scripts/ifeval_conformance.py [--out PATH]

The reference is lm-eval 0.4.13's lm_eval/tasks/ifeval, run through its own
test_instruction_following_strict / _loose (see scripts/ifeval_reference.py for the offline
setup and pinned versions). Output: tests/data/ifeval/conformance.jsonl, one JSON object a line:
    {"id": n, "group": "...", "row": {key, prompt, instruction_id_list, kwargs},
     "response": "...", "strict": [bool...], "loose": [bool...]}
Deterministic: a fixed seed, no set iteration, sorted language profiles, langdetect seed 0.
tests/tasks/ifeval_conformance_test.cpp requires the C++ checkers to agree on every verdict.
"""

import argparse
import collections
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ifeval_reference  # noqa: E402
import ifeval_samples as samples  # noqa: E402

ROOT = ifeval_reference.ROOT
DEFAULT_OUT = os.path.join(ROOT, "tests", "data", "ifeval", "conformance.jsonl")


def dataset_path():
    base = os.environ.get("SCOUT_DATA_DIR") or os.path.join(os.path.dirname(ROOT), "shared", "datasets")
    return os.path.join(base, "ifeval", "input_data.jsonl")


class Corpus:
    def __init__(self):
        self.items = []
        self.next_key = 100000

    def add_row(self, group, row, response):
        self.items.append((group, row, response))

    def add(self, group, instruction_id, kwargs, response, prompt="Synthetic prompt."):
        self.next_key += 1
        row = {"key": self.next_key, "prompt": prompt, "instruction_id_list": [instruction_id], "kwargs": [kwargs]}
        self.items.append((group, row, response))


def reference_is_deterministic(instruction_id, kwargs):
    """False where lm-eval would draw a random parameter (a falsy or out-of-range kwarg)."""
    if any(not v for v in kwargs.values() if v is not None):
        return False
    if instruction_id == "keywords:letter_frequency":
        letter = kwargs.get("letter") or ""
        return len(letter) == 1 and 97 <= ord(letter.lower()) <= 122
    if instruction_id == "length_constraints:nth_paragraph_first_word":
        return 0 < kwargs["nth_paragraph"] <= kwargs["num_paragraphs"]
    return True


def build(rng, rows):
    c = Corpus()
    gens = [
        samples.keywords_existence,
        samples.keywords_frequency,
        samples.forbidden_words,
        samples.letter_frequency,
        samples.response_language,
        samples.number_sentences,
        samples.number_paragraphs,
        samples.number_words,
        samples.nth_paragraph_first_word,
        samples.number_placeholders,
        samples.postscript,
        samples.number_bullet_lists,
        samples.constrained_response,
        samples.number_highlighted_sections,
        samples.multiple_sections,
        samples.json_format,
        samples.title,
        samples.two_responses,
        samples.repeat_prompt,
        samples.end_checker,
        samples.quotation,
        samples.capital_word_frequency,
        samples.english_capital,
        samples.english_lowercase,
        samples.no_comma,
        samples.empty_and_blank,
        samples.fuzz,
        samples.ambiguous_language,
        samples.mechanics,
    ]
    for gen in gens:
        gen(c, rng, rows)
    samples.dataset_rows(c, rng, rows, reference_is_deterministic)
    return c


def run_reference(utils, row, response):
    inp = utils.InputExample(
        key=row["key"], instruction_id_list=row["instruction_id_list"], prompt=row["prompt"], kwargs=row["kwargs"]
    )
    strict = utils.test_instruction_following_strict(inp, response).follow_instruction_list
    loose = utils.test_instruction_following_loose(inp, response).follow_instruction_list
    return [bool(x) for x in strict], [bool(x) for x in loose]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args()

    wrong = ifeval_reference.check_versions()
    if wrong:
        print(f"warning: reference package versions differ from the pinned ones: {wrong}", file=sys.stderr)
    _, utils = ifeval_reference.load()
    import logging

    logging.disable(logging.CRITICAL)  # langdetect failures are logged at ERROR by lm-eval

    with open(dataset_path(), encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    rng = random.Random(20250601)
    corpus = build(rng, rows)

    stats = collections.defaultdict(lambda: [0, 0, 0, 0])  # id -> [n, strict true, loose true, loose-only]
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as out:
        for n, (group, row, response) in enumerate(corpus.items):
            strict, loose = run_reference(utils, row, response)
            for iid, s, l in zip(row["instruction_id_list"], strict, loose):
                st = stats[iid]
                st[0] += 1
                st[1] += s
                st[2] += l
                st[3] += l and not s
            record = {"id": n, "group": group, "row": row, "response": response, "strict": strict, "loose": loose}
            out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    total = sum(s[0] for s in stats.values())
    print(f"{len(corpus.items)} pairs, {total} instruction verdicts -> {os.path.relpath(args.out, ROOT)}")
    print(f"{'instruction':48} {'n':>5} {'strict':>7} {'loose':>6} {'loose only':>10}")
    for iid in sorted(stats):
        n, s, l, lo = stats[iid]
        print(f"{iid:48} {n:5d} {s:7d} {l:6d} {lo:10d}")


if __name__ == "__main__":
    main()
