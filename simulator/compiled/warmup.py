"""The kernels a run of the demo calls, compiled before a user's first run: while the wheel is built
(``setup.py``), into a folder shipped inside it, which ``cache.configure`` copies into the user's
keyed cache when that is empty. A first run then loads them instead of compiling (about 9 CPU s).

``signatures.txt`` lists each kernel a run calls from Python, with its argument types as numba
prints them (their callees are compiled with them); ``record`` writes it from a short run of the
demo, and a test checks that after ``compile_all`` that run compiles nothing, so a changed kernel
signature fails the tests until the list is recorded again. Kernels of other scenarios (evidence,
CMRS) are compiled on their first use. Needs numba and numpy only (the wheel's build has no more).

Command line: ``--compile`` compiles every listed kernel into numba's cache folder
(``NUMBA_CACHE_DIR``, set by the caller before ``simulator`` is imported).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from numba.core import types

SIGNATURES = Path(__file__).with_name("signatures.txt")
"""One line per kernel a run calls from Python: ``module:qualname<TAB>argument types``."""


def parse(line: str):
    """The dispatcher and the argument types (a tuple of numba types) of one ``signatures.txt`` line."""
    name, signature = line.rstrip("\n").split("\t")
    module, qualname = name.split(":")
    dispatcher = getattr(importlib.import_module(module), qualname)
    return dispatcher, eval(signature, {"__builtins__": {}}, dict(vars(types)))  # numba's own type reprs


def compile_all(lines: list[str]) -> int:
    """Compile (or load from the cache) every kernel of ``lines`` for its types; return how many."""
    for line in lines:
        dispatcher, signature = parse(line)
        dispatcher.compile(signature)
    return len(lines)


def main(argv: list[str]) -> int:
    """``--compile`` (see the module's docstring)."""
    if argv == ["--compile"]:
        print(f"compiled {compile_all(SIGNATURES.read_text().splitlines())} kernels")
        return 0
    print("usage: python -m simulator.compiled.warmup --compile", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
