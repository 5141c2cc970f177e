"""Shared by the Python tests: count checks, report failures, end with the line CTest and CI read."""
import sys

_failures = []
_passed = 0


def check(cond, what):
    global _passed
    if cond:
        _passed += 1
    else:
        _failures.append(what)
        print("FAIL:", what, file=sys.stderr)
    return cond


def finish():
    print(f"{_passed} passed, {len(_failures)} failed")
    sys.exit(1 if _failures else 0)
