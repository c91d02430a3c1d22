"""The one registry of what sweeps and sensitivity analyses read from a run.

Each ``Metric`` has a name, a unit, how it is read from a run's ``RunMetrics`` (one value per
realization, or one figure for the whole ensemble) and, for an ensemble figure, its Monte Carlo
error. Sweeps band every per-realization metric (mean with its standard error, P5, P50, P95);
a sensitivity analysis needs one number per model run and takes each metric's ``statistic``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from simulator.inputs.timeaxis import DAYS_PER_YEAR
from simulator.kernels import release as K
from simulator.results.precision import area_errors
from simulator.results.release_tables import completion_years
from simulator.results.result import Result
from simulator.results.tables import M2_PER_HA, per_step
from simulator.results.uncertainty import mean_se

QUANTILES = (5, 50, 95)
"""Percentiles a sweep reports of each per-realization metric."""


@dataclass(frozen=True)
class RunMetrics:
    """What a study reads from one run, at the end of the time axis.

    Per realization: ``remnants`` (on the grid), ``contaminated_ha``; with clearance,
    ``remaining_ha`` (hazardous land not yet released) and ``years_to_completion`` (``inf``
    when not complete within the time axis), over the scored realizations; with a ``[risk]``
    table, ``casualties`` expected over the time axis (``simulator.results.risk``). For the
    ensemble: ``hazardous_ha``, the CHA (cells whose probability of contamination reaches
    ``hazard.threshold``), with its jackknife standard error ``hazardous_ha_se``.
    """

    remnants: np.ndarray
    contaminated_ha: np.ndarray
    hazardous_ha: float
    hazardous_ha_se: float = math.nan
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
        cells, cells_se = area_errors(setup, ensemble)["hazardous"]
        remaining = years = horizon = None
        if result.land_release is not None:
            remaining = result.land_release.final[:, :, K.REMAINING_M2].sum(axis=1) / M2_PER_HA
            years = completion_years(setup, result.land_release)
            horizon = (setup.steps.dates[-1] - setup.scenario.clearance.start).days / DAYS_PER_YEAR
        casualties = None if result.risk is None else result.risk.horizon_casualties()
        return cls(remnants, contaminated.astype(float), float(cells * ha_per_cell), float(cells_se * ha_per_cell),
                   remaining, years, horizon, casualties)

    def per_realization(self) -> dict[str, np.ndarray]:
        """The per-realization metrics present in this run, by name."""
        return {m.name: m.read(self) for m in METRICS.values() if m.per_realization and m.read(self) is not None}

    def bands(self) -> dict[str, float]:
        """Flat figures: ``<name>_mean``, ``_mean_se``, ``_p5``, ``_p50``, ``_p95`` of each per-realization
        metric, each ensemble figure with its ``_se``, and ``p_completed_within_horizon``.

        Quantiles of years to completion use the inverted CDF and are ``inf`` when that share
        of realizations is not complete within the time axis; its mean is left out (``nan``)
        unless every realization completes.
        """
        row: dict[str, float] = {}
        for name, values in self.per_realization().items():
            finite = bool(np.all(np.isfinite(values)))
            mean, se = mean_se(values) if finite else (math.nan, math.nan)
            row[f"{name}_mean"], row[f"{name}_mean_se"] = mean, se
            for q in QUANTILES:
                row[f"{name}_p{q}"] = float(np.percentile(values, q, method="linear" if finite else "inverted_cdf"))
        for m in METRICS.values():
            if not m.per_realization:
                row[m.name], row[f"{m.name}_se"] = m.read(self), m.error(self)
        if self.years_to_completion is not None:
            row["p_completed_within_horizon"] = float(np.mean(np.isfinite(self.years_to_completion)))
        return row


@dataclass(frozen=True)
class Metric:
    """A figure studies read from a run: ``read`` gives one value per realization (``per_realization``)
    or one ensemble figure, ``None`` where the run lacks it; ``error`` the ensemble figure's standard
    error; ``statistic`` what a sensitivity analysis takes of it ("mean" or "p50", the median)."""

    name: str
    description: str
    unit: str
    read: Callable[[RunMetrics], np.ndarray | float | None]
    per_realization: bool = True
    error: Callable[[RunMetrics], float] | None = None
    statistic: str = "mean"

    @property
    def axis_label(self) -> str:
        """``description (unit)`` for a plot's axis."""
        return f"{self.description} ({self.unit})"

    @property
    def sensitivity_name(self) -> str:
        """The name of this metric's figure in a sensitivity analysis."""
        return self.name if self.statistic == "mean" or not self.per_realization else f"{self.name}_{self.statistic}"


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("remnants", "remnants on the ground in the study area", "items", lambda m: m.remnants),
    Metric("contaminated_ha", "contaminated area (land within the reference distance of a remnant)", "ha",
           lambda m: m.contaminated_ha),
    Metric("hazardous_ha", "hazard map area at the end of the time axis (P(contaminated) >= hazard.threshold)",
           "ha", lambda m: m.hazardous_ha, per_realization=False, error=lambda m: m.hazardous_ha_se),
    Metric("remaining_ha", "SHA not yet released after survey and clearance", "ha", lambda m: m.remaining_ha),
    Metric("years_to_completion", "years from clearance start until all SHA is released", "years",
           lambda m: m.years_to_completion, statistic="p50"),
    Metric("casualties", "expected casualties over the time axis (with a [risk] table)", "casualties",
           lambda m: m.casualties),
)}
"""Every metric a study reads, by name."""


def sensitivity_figures(metrics: RunMetrics) -> tuple[dict[str, float], bool]:
    """One number per metric for a sensitivity analysis (``Metric.statistic`` of each present one),
    and whether a median lay beyond the time axis (then counted as the years to its end)."""
    figures, capped = {}, False
    for m in METRICS.values():
        values = m.read(metrics)
        if values is None:
            continue
        if not m.per_realization:
            figures[m.sensitivity_name] = float(values)
        elif m.statistic == "mean":
            figures[m.sensitivity_name] = float(np.mean(values))
        else:
            value = float(np.quantile(values, 0.5, method="inverted_cdf"))
            if not math.isfinite(value):
                value, capped = metrics.horizon_years, True
            figures[m.sensitivity_name] = value
    return figures, capped


def sensitivity_descriptions() -> dict[str, str]:
    """``{sensitivity name: description}`` of every metric."""
    return {m.sensitivity_name: (m.description + (", median over realizations (capped at the time axis)"
                                                  if m.statistic == "p50" else
                                                  ", mean over realizations" if m.per_realization else "")
                                 + f", {m.unit}") for m in METRICS.values()}
