"""remnant: Monte Carlo simulation of cluster munition remnant contamination and land release.

A humanitarian tool: it models where unexploded submunitions lie and how clearance returns
land to use, never weapon effectiveness or targeting.

The public API is imported on first use, so ``import simulator`` and the command line start fast.
"""

from __future__ import annotations

import importlib

from simulator.compiled import cache as kernel_cache

__version__ = "0.1.0"

kernel_cache.configure()  # before any kernel is compiled or loaded

_PUBLIC = {
    "InputError": "simulator.errors",
    "LoadedScenario": "simulator.config.loading",
    "load_scenario": "simulator.config.loading",
    "RunResult": "simulator.api",
    "Study": "simulator.api",
    "open_scenario": "simulator.api",
    "simulate": "simulator.pipeline",
    "execute": "simulator.pipeline",
    "Result": "simulator.results.result",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    """The public names, imported when first used."""
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")
