"""Running study variants (common random numbers, no precision target) and writing a study's files."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.config.keypath import Setting
from simulator.config.loading import LoadedScenario
from simulator.outputs.safe import write_csv
from simulator.outputs.writer import staged_directory
from simulator.pipeline import simulate
from simulator.results.provenance import versions
from simulator.results.result import Result

FIGURE_DPI = 120
"""Resolution of a study's figures, dots per inch."""


def run_variant(loaded: LoadedScenario, *, threads: int | None = None,
                progress: Callable[[int], None] | None = None) -> Result:
    """Prepare and run a validated scenario (``simulator.pipeline.simulate``) at exactly its
    ``simulation.realizations``: a study compares variants on common random numbers, so any
    precision target is left out."""
    sc = loaded.scenario
    if sc.simulation.target is not None:
        fixed = sc.model_copy(update={"simulation": sc.simulation.model_copy(update={"target": None})})
        loaded = replace(loaded, scenario=fixed)
    return simulate(loaded, threads=threads, progress=progress)


def progress_units(loaded: LoadedScenario) -> int:
    """Realizations a run passes through (twice with land release), for progress bars."""
    n = loaded.scenario.simulation.realizations
    return 2 * n if loaded.scenario.clearance is not None else n


def realizations_setting(realizations: int | None) -> list[Setting]:
    """``[Setting("simulation.realizations", n)]`` or nothing."""
    return [] if realizations is None else [Setting("simulation.realizations", int(realizations))]


def as_settings(values: Mapping[str, Any] | Sequence[Setting] | None) -> list[Setting]:
    """Settings from a ``{path: value}`` mapping or a sequence of ``Setting``."""
    if values is None:
        return []
    if isinstance(values, Mapping):
        return [Setting(k, v) for k, v in values.items()]
    return list(values)


def write_study(target: Path, name: str, tables: dict[str, pd.DataFrame], figures: dict[str, Any], record: dict, *,
                overwrite: bool = False) -> Path:
    """Write a study's ``tables`` (CSV), ``figures`` (PNG, by file name) and ``record`` (``<name>.json``,
    with versions) into ``target``, all or nothing (``staged_directory``)."""
    import json

    import matplotlib.pyplot as plt

    with staged_directory(target, overwrite) as folder:
        for file, table in tables.items():
            write_csv(table, folder / file)
        for file, figure in figures.items():
            figure.savefig(folder / file, dpi=FIGURE_DPI)
            plt.close(figure)
        (folder / f"{name}.json").write_text(json.dumps(record | {"versions": versions()}, indent=2, default=str) + "\n")
    return target
