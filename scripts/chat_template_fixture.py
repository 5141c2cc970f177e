#!/usr/bin/env python3
"""Render reference chat prompts with the models' own Jinja templates (the oracle for
tests/engine/chat_template_test.cpp).

Templates (tests/data/tokenizer/templates/):
  smollm2.jinja   tokenizer.chat_template of SmolLM2-135M-Instruct, read from its GGUF here
  llama3.jinja    Meta-Llama-3-8B-Instruct's chat_template (tokenizer_config.json)
  llama3.1.jinja  Llama 3.1 8B Instruct (llama.cpp models/templates, same as 3.3 70B)
  llama4.jinja    Llama 4 Scout/Maverick (transformers models/llama4/processing_llama4.py)
They are rendered the way transformers' apply_chat_template does: a sandboxed Jinja2
environment with trim_blocks and lstrip_blocks, its json.dumps-based `tojson`, and
raise_exception. Output: tests/data/tokenizer/chat_expected.json.

Usage: python scripts/chat_template_fixture.py --smollm2 .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf
Needs: pip install jinja2 gguf
"""
import argparse
import json
import os

import gguf
import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "tests", "data", "tokenizer")
TEMPLATES = os.path.join(DATA, "templates")
BOS = "<|begin_of_text|>"

CONVERSATIONS = [
    [{"role": "user", "content": "Hello!"}],
    [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "What is 2+2?"},
     {"role": "assistant", "content": "4"}, {"role": "user", "content": "And 3+3?"}],
    [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello, how can I help?"},
     {"role": "user", "content": "Tell me a joke."}],
    [{"role": "system", "content": "  \n Padded system prompt.\t\n"},
     {"role": "user", "content": "  padded user message \n\n"},
     {"role": "assistant", "content": "\n padded answer  "}],
    [{"role": "user", "content": ""}],
    [{"role": "system", "content": ""}, {"role": "user", "content": "empty system"}],
    [{"role": "user", "content": "Unicode: 你好 🦙 naïve — ‘quotes’ \u3000wide\u3000 \u00a0nbsp\u00a0"}],
    [{"role": "user", "content": "\x1c\u2028edge whitespace\u2029\x1f\r\n"}],
    [{"role": "user", "content": "Looks special: <|eot|> <|eot_id|> <|im_end|> <|header_start|>"}],
    [{"role": "user", "content": "Call the tool"}, {"role": "assistant", "content": "ok"},
     {"role": "tool", "content": "{\"result\": \"x\\y\"}\n\ttab \x01 ctrl é"}],
    [{"role": "user", "content": "line one\nline two\n\n  indented"},
     {"role": "assistant", "content": "```python\nprint('hi')\n```"}],
    [{"role": "system", "content": "Only a system message."}],
    [{"role": "user", "content": "first"}, {"role": "system", "content": "a later system message"},
     {"role": "user", "content": "second"}],
    [{"role": "observer", "content": "a custom role"}, {"role": "user", "content": "ok"}],
]


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    # transformers overrides Jinja's HTML-escaping tojson with plain json.dumps.
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    return env


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smollm2", required=True, help="SmolLM2-135M-Instruct GGUF")
    args = ap.parse_args()
    smol = gguf.GGUFReader(args.smollm2).fields["tokenizer.chat_template"].contents()
    with open(os.path.join(TEMPLATES, "smollm2.jinja"), "w", encoding="utf-8", newline="") as fh:
        fh.write(smol)

    env = environment()
    cases = []
    for name in ("smollm2", "llama3", "llama3.1", "llama4"):
        with open(os.path.join(TEMPLATES, name + ".jinja"), encoding="utf-8", newline="") as fh:
            template = env.from_string(fh.read())
        for i, conv in enumerate(CONVERSATIONS):
            for gen in (True, False):
                text = template.render(messages=conv, add_generation_prompt=gen, bos_token=BOS,
                                       eos_token="<|eot|>")
                cases.append({"template": name, "conversation": i, "add_generation_prompt": gen,
                              "rendered": text})
    out = {"bos_token": BOS, "conversations": CONVERSATIONS, "cases": cases}
    path = os.path.join(DATA, "chat_expected.json")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(out, fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    print(f"wrote {path}: {len(cases)} renderings")


if __name__ == "__main__":
    main()
