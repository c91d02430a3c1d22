"""Comparing finished runs: headline figures side by side with their Monte Carlo errors.

Every run folder's ``run.json`` holds a summary whose headline figures carry their Monte Carlo
error as a sibling key: ``<name>_se`` (a standard error) or ``<name>_ci`` (a ``LEVEL`` interval,
``simulator.results.uncertainty``). An interval is turned into a standard error as its width over
``2 z`` (``z`` the normal quantile of ``LEVEL``); for the distribution-free quantile intervals,
which cover at least ``LEVEL``, this errs on the large side.

The rule: run ``k``'s figure differs from the first run's (the baseline) beyond Monte Carlo
error when ``|d| > RULE_K * sqrt(se_1^2 + se_k^2)``. For independent runs that is a two-sided
test at about 95 %; runs with the same seed share random numbers, their errors are positively
correlated and the rule is then conservative (it calls fewer differences than a paired test).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
from scipy import stats

from simulator.errors import InputError
from simulator.results.uncertainty import LEVEL

RUN_RECORD = "run.json"
"""The file every run folder holds (``simulator.outputs.writer``)."""
DIFFERENCE_SOURCE = "p_contaminated.tif"
"""The raster a difference map is made of: the probability that a cell is contaminated."""
RELEASE_TABLE = "land_release.csv"
"""The per-step land-release table a completion curve is read from."""
RULE_K = 2.0
"""A difference exceeds the Monte Carlo error when ``|d| > RULE_K * sqrt(se_1^2 + se_k^2)``."""
Z_LEVEL = float(stats.norm.ppf(0.5 + LEVEL / 2))
"""Half-width of a ``LEVEL`` normal interval in standard errors (1.96 at 95 %)."""

DECIMALS = 6
"""Decimal places of the differences and allowances ``record`` reports."""

LABELS = {
    "expected_duds": ("expected duds", "items"),
    "contaminated_ha_mean": ("contaminated area, mean", "ha"),
    "contaminated_ha_p50": ("contaminated area, P50", "ha"),
    "suspected_ha": ("suspected hazardous area (SHA)", "ha"),
    "hazardous_ha": ("confirmed hazardous area (CHA)", "ha"),
    "land_release.years_to_completion_p50": ("years to release all SHA, P50", "years"),
    "land_release.years_to_completion_p90": ("years to release all SHA, P90", "years"),
    "land_release.p_completed_within_horizon": ("P(all SHA released within the time axis)", "probability"),
    "land_release.deadline.p_released_by_deadline": ("P(all SHA released by the deadline)", "probability"),
    "land_release.items_found_mean": ("items found, mean", "items"),
    "land_release.residual_items_mean": ("items left in released land, mean", "items"),
    "land_release.items_in_hazardous_land_mean": ("items in land still hazardous, mean", "items"),
    "land_release.items_in_unsuspected_land_mean": ("items in land never suspected, mean", "items"),
    "land_release.cost_mean": ("land release cost, mean", "cost units"),
}
"""Plain names and units of the headline figures; others are shown by their key path."""


@dataclass(frozen=True)
class Run:
    """One finished run folder: its ``run.json`` record and a short label (the folder's name)."""

    folder: Path
    record: dict

    @property
    def label(self) -> str:
        return self.folder.name

    @property
    def summary(self) -> dict:
        return self.record["summary"]

    @classmethod
    def read(cls, folder: str | Path) -> Run:
        """The run in ``folder``; ``InputError`` when it is not a finished, sampled remnant run."""
        folder = Path(folder)
        fix = "give the output folder of `remnant run` (it holds run.json)"
        if not folder.is_dir():
            raise InputError(folder, None, None, fix, problem="is not a folder;")
        path = folder / RUN_RECORD
        try:
            record = json.loads(path.read_text())
        except FileNotFoundError:
            raise InputError(folder, None, None, fix, problem=f"is not a remnant run (no {RUN_RECORD});") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(path, None, None, "rerun `remnant run` into this folder",
                             problem=f"cannot be read ({type(exc).__name__});") from None
        summary = record.get("summary") if isinstance(record, dict) else None
        if not isinstance(summary, dict) or "scenario" not in summary:
            raise InputError(path, "summary", None, fix, problem="is not a remnant run record;")
        if summary.get("mode") == "analytic":
            raise InputError(path, "summary.mode", "analytic", "compare runs made without --analytic",
                             problem="is a preview without Monte Carlo errors;")
        return cls(folder, record)


@dataclass(frozen=True)
class Figure:
    """A headline figure of each run (``None`` where a run lacks it) with its standard error."""

    key: str
    label: str
    unit: str
    values: list[float | None]
    errors: list[float | None]

    def difference(self, k: int) -> float | None:
        """Run ``k``'s value minus the baseline's."""
        a, b = self.values[0], self.values[k]
        return None if a is None or b is None else b - a

    def allowance(self, k: int) -> float | None:
        """``RULE_K * sqrt(se_1^2 + se_k^2)``, or ``None`` where an error is unknown."""
        a, b = self.errors[0], self.errors[k]
        return None if a is None or b is None else RULE_K * math.hypot(a, b)

    def exceeds(self, k: int) -> bool | None:
        """Whether run ``k`` differs from the baseline beyond Monte Carlo error (``None``: cannot tell)."""
        d, allowed = self.difference(k), self.allowance(k)
        return None if d is None or allowed is None else abs(d) > allowed


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _error(summary: dict, key: str) -> float | None:
    """The standard error of ``summary[key]``: its ``_se``, or its ``_ci`` width over ``2 z``."""
    se = _number(summary.get(f"{key}_se"))
    if se is not None:
        return se
    ci = summary.get(f"{key}_ci")
    if isinstance(ci, list) and len(ci) == 2:
        lo, hi = (_number(v) for v in ci)
        if lo is not None and hi is not None and math.isfinite(lo) and math.isfinite(hi):
            return (hi - lo) / (2 * Z_LEVEL)
    return None


def headline(summary: dict, prefix: str = "") -> dict[str, tuple[float, float | None]]:
    """``{key path: (value, standard error)}`` of every figure in ``summary`` that has a Monte
    Carlo error (``_se`` or ``_ci`` sibling), nested tables as dotted paths; the error is
    ``None`` where the interval reaches beyond the time axis."""
    found: dict[str, tuple[float, float | None]] = {}
    for key, value in summary.items():
        if isinstance(value, dict):
            found |= headline(value, f"{prefix}{key}.")
        elif (_number(value) is not None and not key.endswith("_se")
              and (f"{key}_se" in summary or f"{key}_ci" in summary)):
            found[prefix + key] = (float(value), _error(summary, key))
    return found


def _rounded(value: float | None) -> float | None:
    """``value`` to ``DECIMALS`` places (differences of rounded figures carry float noise)."""
    return None if value is None else round(value, DECIMALS)


def _fallback_unit(key: str) -> str:
    name = key.rsplit(".", 1)[-1]
    if name.endswith("_ha") or "_ha_" in name:
        return "ha"
    if name.startswith("p_"):
        return "probability"
    return "years" if "years" in name else ""


@dataclass
class Comparison:
    """Runs compared with the first: their headline figures and the rule that judges each difference."""

    runs: list[Run]
    figures: list[Figure]
    notes: list[str] = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        return [run.label for run in self.runs]

    def table(self) -> pd.DataFrame:
        """One row per figure: each run's value and standard error, and each difference from the first run."""
        rows = []
        for f in self.figures:
            row = {"figure": f.label, "key": f.key, "unit": f.unit}
            for k, label in enumerate(self.labels):
                row[f"{label}"] = f.values[k]
                row[f"{label} se"] = f.errors[k]
            for k in range(1, len(self.runs)):
                row[f"difference {k + 1}-1"] = f.difference(k)
                row[f"exceeds error {k + 1}-1"] = f.exceeds(k)
            rows.append(row)
        return pd.DataFrame(rows)

    def record(self) -> dict:
        """What ``remnant compare --json`` prints."""
        return {
            "runs": [{"label": r.label, "folder": str(r.folder), "scenario": r.summary["scenario"],
                      "scenario_sha256": r.record.get("scenario_sha256"), "seed": r.record.get("seed"),
                      "realizations": r.summary.get("realizations")} for r in self.runs],
            "baseline": self.labels[0],
            "rule": f"a difference exceeds the Monte Carlo error when |d| > {RULE_K:g} sqrt(se_1^2 + se_k^2); "
                    f"an interval gives se = width / (2 x {Z_LEVEL:.2f})",
            "figures": [{"key": f.key, "label": f.label, "unit": f.unit, "values": f.values, "se": f.errors,
                         "differences": [_rounded(f.difference(k)) for k in range(1, len(self.runs))],
                         "allowed": [_rounded(f.allowance(k)) for k in range(1, len(self.runs))],
                         "exceeds_error": [f.exceeds(k) for k in range(1, len(self.runs))]}
                        for f in self.figures],
            "notes": self.notes,
        }


def compare_runs(folders: list[str | Path]) -> Comparison:
    """Read the run folders (at least two) and line up their headline figures."""
    if len(folders) < 2:
        raise InputError(None, "RUN_DIR", None, "give two or more run folders", problem="needs a second run;")
    runs = [Run.read(folder) for folder in folders]
    found = [headline(run.summary) for run in runs]
    keys = list(dict.fromkeys(key for figures in found for key in figures))
    figures = []
    for key in keys:
        label, unit = LABELS.get(key, (key, _fallback_unit(key)))
        pairs = [figures.get(key, (None, None)) for figures in found]
        figures.append(Figure(key, label, unit, [p[0] for p in pairs], [p[1] for p in pairs]))
    notes = []
    seeds = {run.record.get("seed") for run in runs}
    if len(seeds) == 1 and len({run.record.get("scenario_sha256") for run in runs}) > 1:
        notes.append("the runs share their seed (common random numbers): the rule is conservative for them")
    if len({run.record.get("scenario_sha256") for run in runs}) == 1 and len(seeds) == 1:
        notes.append("the runs have the same inputs and seed")
    return Comparison(runs, figures, notes)


# ------------------------------------------------------------------------ maps and curves
@dataclass(frozen=True)
class Raster:
    """A band of one run's GeoTIFF: values (``nan`` at nodata) and the grid they lie on."""

    values: np.ndarray
    transform: object
    crs: object


def read_raster(folder: Path, name: str = DIFFERENCE_SOURCE) -> Raster:
    """The first band of ``folder/name`` with nodata as ``nan`` (``InputError`` if missing)."""
    path = folder / name
    if not path.is_file():
        raise InputError(folder, None, None, "rerun `remnant run` into this folder", problem=f"has no {name};")
    with rasterio.open(path) as source:
        values = source.read(1, masked=True).astype(float).filled(np.nan)
        return Raster(values, source.transform, source.crs)


def difference_maps(runs: list[Run]) -> list[np.ndarray]:
    """``p_contaminated`` of each later run minus the first's (``InputError`` if the grids differ)."""
    rasters = [read_raster(run.folder) for run in runs]
    base = rasters[0]
    for run, raster in zip(runs[1:], rasters[1:]):
        if raster.values.shape != base.values.shape or raster.transform != base.transform or raster.crs != base.crs:
            raise InputError(run.folder / DIFFERENCE_SOURCE, None, None,
                             "compare runs on the same study area and cell size",
                             problem=f"lies on another grid than {runs[0].label}'s ({raster.values.shape[1]} x "
                                     f"{raster.values.shape[0]} cells vs {base.values.shape[1]} x "
                                     f"{base.values.shape[0]}, or another origin or CRS);")
    return [raster.values - base.values for raster in rasters[1:]]


def completion_curve(run: Run) -> pd.DataFrame | None:
    """SHA remaining over time (all classes: date, P5, P50, P95, ha) from ``land_release.csv``, or
    ``None`` for a run without land release."""
    path = run.folder / RELEASE_TABLE
    if not path.is_file():
        return None
    table = pd.read_csv(path, parse_dates=["date"])
    total = table[table["total"].astype(str) == "True"]
    return total[["date", "remaining_ha_p5", "remaining_ha_p50", "remaining_ha_p95"]].reset_index(drop=True)
