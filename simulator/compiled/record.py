"""Record ``signatures.txt`` (see ``warmup``): each kernel a short run of the demo compiles when called
from Python, with its argument types.

``NUMBA_CACHE_DIR=$(mktemp -d) python -m simulator.compiled.record`` (an empty cache: a kernel loaded
from a cache is not compiled, so it would not be recorded).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numba
from numba.core import event

from simulator.compiled.cache import SUBFOLDER
from simulator.compiled.warmup import SIGNATURES
from simulator.config.demo import demo_scenario
from simulator.config.variants import load_scenario
from simulator.pipeline import execute

RECORD_REALIZATIONS = 20
"""Realizations of the recorded run: enough to call every kernel of the demo."""


class TopLevel(event.Listener):
    """numba's compiles not nested in another: ``calls`` (``module:qualname<TAB>types``) and
    ``cpu_s``, the process CPU seconds they took."""

    def __init__(self):
        self.calls: set[str] = set()
        self.cpu_s = 0.0
        self._depth = 0
        self._start = 0.0

    def on_start(self, ev):
        if self._depth == 0:
            fn = ev.data["dispatcher"].py_func
            self.calls.add(f"{fn.__module__}:{fn.__qualname__}\t{ev.data['args']}")
            self._start = time.process_time()
        self._depth += 1

    def on_end(self, ev):
        self._depth -= 1
        if self._depth == 0:
            self.cpu_s += time.process_time() - self._start


def demo_compiles() -> list[str]:
    """Run the demo (``RECORD_REALIZATIONS``, outputs written to a temporary folder) and return, as
    lines of ``signatures.txt``, each kernel it compiled (not loaded from the cache) when called from Python."""
    loaded = load_scenario(demo_scenario(), [f"simulation.realizations={RECORD_REALIZATIONS}",
                                             f"simulation.target.max_realizations={RECORD_REALIZATIONS}"])
    listener = TopLevel()
    with tempfile.TemporaryDirectory(prefix="remnant-record-") as folder, event.install_listener(
            "numba:compile", listener):
        execute(loaded, Path(folder) / "out")
    return sorted(line for line in listener.calls if line.startswith("simulator.kernels."))


def main() -> int:
    """Write ``signatures.txt`` from ``demo_compiles``, in an empty kernel cache only."""
    cached = Path(numba.config.CACHE_DIR or ".") / SUBFOLDER
    if not numba.config.CACHE_DIR or any(cached.glob("*.nbi")):
        print("record: run with an empty kernel cache: NUMBA_CACHE_DIR=$(mktemp -d) python -m "
              "simulator.compiled.record", file=sys.stderr)
        return 2
    SIGNATURES.write_text("".join(line + "\n" for line in demo_compiles()))
    print(f"wrote {SIGNATURES}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
