"""Running study variants and reducing each run to the metrics sweeps and sensitivity analyses compare."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator.config.keypath import Setting
from simulator.config.loading import LoadedScenario
from simulator.inputs.timeaxis import DAYS_PER_YEAR
from simulator.kernels import release as K
from simulator.outputs.safe import write_csv
from simulator.outputs.writer import staged_directory
from simulator.pipeline import simulate
from simulator.results.provenance import versions
from simulator.results.release_tables import completion_years
from simulator.results.result import Result
from simulator.results.tables import M2_PER_HA, per_step

PER_REALIZATION = {
    "remnants": "remnants on the ground in the study area",
    "contaminated_ha": "contaminated area (ha, land within the reference distance of a remnant)",
    "remaining_ha": "SHA not yet released after survey and clearance (ha)",
    "years_to_completion": "years from clearance start until all SHA is released",
    "casualties": "expected casualties over the time axis (with a [risk] table)",
}
"""Metrics with one value per realization, at the end of the time axis."""


@dataclass(frozen=True)
class RunMetrics:
    """What a study reads from one run, at the end of the time axis.

    Per realization: ``remnants`` (on the grid), ``contaminated_ha``; with clearance,
    ``remaining_ha`` (hazardous land not yet released) and ``years_to_completion`` (``inf``
    when not complete within the time axis), over the scored realizations; with a ``[risk]`` table, ``casualties``
    expected over the time axis (``simulator.results.risk``). For the ensemble:
    ``hazardous_ha``, the CHA (cells whose probability of contamination reaches ``hazard.threshold``).
    """

    remnants: np.ndarray
    contaminated_ha: np.ndarray
    hazardous_ha: float
    remaining_ha: np.ndarray | None = None
    years_to_completion: np.ndarray | None = None
    horizon_years: float | None = None
    casualties: np.ndarray | None = None

    @classmethod
    def of(cls, result: Result) -> RunMetrics:
        setup, ensemble = result.setup, result.ensemble
        ha_per_cell = setup.grid.cell_area_m2 / M2_PER_HA
        remnants = (ensemble.totals[:, 1] - ensemble.totals[:, 2]).astype(float)
        contaminated = per_step(setup, ensemble.zone_cells)[:, -1, :len(setup.class_keys)].sum(axis=1) * ha_per_cell
        threshold = setup.scenario.hazard.threshold
        hazardous = float(np.count_nonzero((ensemble.p_after(-1) >= threshold) & setup.inside.ravel()) * ha_per_cell)
        remaining = years = horizon = None
        if result.land_release is not None:
            remaining = result.land_release.final[:, :, K.REMAINING_M2].sum(axis=1) / M2_PER_HA
            years = completion_years(setup, result.land_release)
            clearance = setup.scenario.clearance
            horizon = (setup.steps.dates[-1] - clearance.start).days / DAYS_PER_YEAR
        casualties = None if result.risk is None else result.risk.horizon_casualties()
        return cls(remnants, contaminated.astype(float), hazardous, remaining, years, horizon, casualties)

    def per_realization(self) -> dict[str, np.ndarray]:
        """The per-realization metrics present in this run."""
        values = {"remnants": self.remnants, "contaminated_ha": self.contaminated_ha}
        if self.remaining_ha is not None:
            values["remaining_ha"] = self.remaining_ha
            values["years_to_completion"] = self.years_to_completion
        if self.casualties is not None:
            values["casualties"] = self.casualties
        return values

    def bands(self) -> dict[str, float]:
        """Flat figures: mean, P5, P50, P95 of each per-realization metric, and ``hazardous_ha``.

        Quantiles of years to completion use the inverted CDF and are ``inf`` when that share
        of realizations is not complete within the time axis; its mean is left out (``nan``)
        unless every realization completes.
        """
        row: dict[str, float] = {}
        for name, values in self.per_realization().items():
            finite = bool(np.all(np.isfinite(values)))
            row[f"{name}_mean"] = float(values.mean()) if finite else math.nan
            for q in (5, 50, 95):
                row[f"{name}_p{q}"] = float(np.percentile(values, q, method="inverted_cdf" if not finite else "linear"))
        row["hazardous_ha"] = self.hazardous_ha
        if self.years_to_completion is not None:
            row["p_completed_within_horizon"] = float(np.mean(np.isfinite(self.years_to_completion)))
        return row


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


def write_study(target: Path, name: str, tables: dict[str, pd.DataFrame], figure, record: dict, *,
                overwrite: bool = False) -> Path:
    """Write a study's ``tables`` (CSV), ``figure`` (``<name>.png``) and ``record`` (``<name>.json``,
    with versions) into ``target``, all or nothing (``staged_directory``)."""
    import json

    import matplotlib.pyplot as plt


    with staged_directory(target, overwrite) as folder:
        for file, table in tables.items():
            write_csv(table, folder / file)
        figure.savefig(folder / f"{name}.png", dpi=120)
        plt.close(figure)
        (folder / f"{name}.json").write_text(json.dumps(record | {"versions": versions()}, indent=2, default=str) + "\n")
    return target
