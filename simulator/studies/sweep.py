"""Sweeps: run a scenario at each value of one parameter path, or at every combination of the
values of two (a grid), with common random numbers.

Every point keeps the scenario's seed, so realization ``r`` of every point draws from the same
random streams (see ``simulator.config.variants``). The curves are then smooth and their differences
are the effect of the parameter rather than noise. The coupling is strong but not complete:
within a strike, the draws of later carriers shift when an earlier carrier's dud count
changes, and a Beta-distributed dud probability is drawn by rejection, so single realizations
need not move in step; the averages do.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.config.keypath import Setting
from simulator.config.variants import Variant, Variants
from simulator.errors import InputError
from simulator.studies.metrics import METRICS, QUANTILES, RunMetrics
from simulator.studies.runs import progress_units, realizations_setting, run_variant, write_study
from simulator.studies.sweep_plots import grid_figure, sweep_figure

MAX_POINTS = 1000
"""Most values one parameter takes in a sweep."""
MAX_RUNS = 10_000
"""Most model runs (points, or combinations of a grid) one sweep makes."""
VALUE_COLUMNS = ("value", "value_2")
"""The table's columns of the first and the second parameter's values."""


def parse_values(spec: str, where: str = "--values") -> list[float]:
    """``0.02,0.1,0.2`` (a list) or ``0.02:0.40:10`` (start:stop:count, both ends included)."""
    text = spec.strip()
    fix = "give a list such as 0.02,0.1,0.2 or a range start:stop:count such as 0.02:0.40:10"
    if ":" in text:
        pieces = text.split(":")
        if len(pieces) != 3:
            raise InputError(None, where, spec, fix, problem="is not start:stop:count;")
        try:
            start, stop = float(pieces[0]), float(pieces[1])
            count = int(pieces[2])
        except ValueError:
            raise InputError(None, where, spec, fix + " (count a whole number)",
                             problem="is not start:stop:count;") from None
        if not (math.isfinite(start) and math.isfinite(stop)):
            raise InputError(None, where, spec, fix, problem="has a bound that is not a finite number;")
        if not 2 <= count <= MAX_POINTS:
            raise InputError(None, where, spec, f"use a count from 2 to {MAX_POINTS}", problem="has a bad count;")
        return [float(v) for v in np.linspace(start, stop, count)]
    try:
        values = [float(piece) for piece in text.split(",")]
    except ValueError:
        raise InputError(None, where, spec, fix, problem="is not a list of numbers;") from None
    if not values or not all(math.isfinite(v) for v in values):
        raise InputError(None, where, spec, fix, problem="holds a value that is not a finite number;")
    if len(values) > MAX_POINTS:
        raise InputError(None, where, spec, f"use at most {MAX_POINTS} values", problem="has too many values;")
    if len(set(values)) != len(values):
        raise InputError(None, where, spec, "give each value once", problem="repeats a value;")
    return values


@dataclass(frozen=True)
class Axis:
    """One swept parameter: its key path, its values and the label plots give it (default: the path)."""

    parameter: str
    values: list[float]
    label: str | None = None

    @property
    def name(self) -> str:
        return self.label or self.parameter


@dataclass
class SweepResult:
    """A finished sweep over one parameter, or over the grid of two.

    ``table``: one row per value (per combination for a grid: ``value`` the first parameter's,
    ``value_2`` the second's), with ``<metric>_mean`` (and its ``_mean_se``), ``_p5``, ``_p50``,
    ``_p95`` of every per-realization metric of ``simulator.studies.metrics``, the hazard map's
    area ``hazardous_ha`` with its ``hazardous_ha_se`` and ``p_completed_within_horizon``.
    ``per_realization``: one row per value and realization (paired across values: the same
    realization index shares its random streams). ``notes``: values the sweep adjusted.
    """

    axes: list[Axis]
    scale: bool
    table: pd.DataFrame
    per_realization: pd.DataFrame
    scenario: str
    seed: int
    n_realizations: int
    notes: list[str] = field(default_factory=list)
    timings_s: dict[str, float] = field(default_factory=dict)

    @property
    def parameter(self) -> str:
        """The first (or only) parameter's path."""
        return self.axes[0].parameter

    @property
    def is_grid(self) -> bool:
        return len(self.axes) == 2

    def axis_label(self, k: int = 0) -> str:
        """Parameter ``k``'s axis label: its label or path, and ``(x base value)`` for a scaled sweep."""
        name = self.axes[k].name
        return f"{name} (x base value)" if self.scale else name

    @property
    def label(self) -> str:
        """What the sweep varies, for titles."""
        return " and ".join(self.axis_label(k) for k in range(len(self.axes)))

    def plot(self, title: str | None = None):
        """Four panels against the (first) parameter: remnants, contaminated area, hazardous area, years
        to completion; a grid draws one line per value of the second parameter."""
        import matplotlib.pyplot as plt

        figure = sweep_figure(self, title)
        plt.close(figure)  # shown once in a notebook (as the cell's result); saving works the same
        return figure

    def heat_map(self, title: str | None = None):
        """A grid's heat maps: one panel per metric over both parameters."""
        import matplotlib.pyplot as plt

        figure = grid_figure(self, title)
        plt.close(figure)
        return figure

    def record(self) -> dict:
        """What ``sweep.json`` holds."""
        record = {
            "scenario": self.scenario, "parameter": self.parameter, "scale": self.scale,
            "values": self.axes[0].values, "realizations_per_point": self.n_realizations, "seed": self.seed,
            "common_random_numbers": True, "notes": self.notes,
            "timings_s": {k: round(v, 3) for k, v in self.timings_s.items()},
        }
        if self.axes[0].label:
            record["label"] = self.axes[0].label
        if self.is_grid:
            second = self.axes[1]
            record |= {"grid": True, "parameter_2": second.parameter, "values_2": second.values,
                       "combinations": len(self.table)} | ({"label_2": second.label} if second.label else {})
        return record


def _combinations(axes: Sequence[Axis]) -> list[tuple[float, ...]]:
    """Every combination of the axes' values, the first parameter varying slowest."""
    count = math.prod(len(a.values) for a in axes)
    if count > MAX_RUNS:
        raise InputError(None, "--values", " x ".join(str(len(a.values)) for a in axes),
                         f"use at most {MAX_RUNS:,} combinations", problem="makes too many model runs;")
    return list(itertools.product(*(a.values for a in axes)))


def prepare_grid(variants: Variants, axes: Sequence[Axis], *, scale: bool = False,
                 realizations: int | None = None) -> list[Variant]:
    """Validate the scenario at every combination before anything runs (bad values raise ``InputError``)."""
    if not 1 <= len(axes) <= len(VALUE_COLUMNS):
        raise InputError(None, "--param", len(axes), "give --param and --values once, or twice for a grid",
                         problem="parameters: a sweep takes one or two;")
    paths = [a.parameter for a in axes]
    if len(set(paths)) != len(paths):
        raise InputError(None, "--param", paths[0], "give two different parameters", problem="is given twice;")
    for a in axes:
        variants.check(a.parameter, "--param")
    base = realizations_setting(realizations)
    return [variants.variant(base + [Setting(a.parameter, float(v), scale) for a, v in zip(axes, combo)], "--param")
            for combo in _combinations(axes)]


def prepare_sweep(variants: Variants, parameter: str, values: Sequence[float], *, scale: bool = False,
                  realizations: int | None = None) -> list[Variant]:
    """Validate the scenario at every value of one parameter before anything runs."""
    return prepare_grid(variants, [Axis(parameter, [float(v) for v in values])], scale=scale,
                        realizations=realizations)


def run_grid(
    variants: Variants,
    axes: Sequence[Axis],
    *,
    scale: bool = False,
    realizations: int | None = None,
    threads: int | None = None,
    progress: Callable[[int], None] | None = None,
    prepared: list[Variant] | None = None,
) -> SweepResult:
    """Run the scenario at every combination of the axes' values (same seed: common random numbers)."""
    t0 = time.perf_counter()
    axes = [Axis(a.parameter, [float(v) for v in a.values], a.label) for a in axes]
    points = prepared or prepare_grid(variants, axes, scale=scale, realizations=realizations)
    rows, per_real, notes = [], [], []
    for combo, point in zip(_combinations(axes), points):
        notes += [note for note in point.notes if note not in notes]
        metrics = RunMetrics.of(run_variant(point.loaded, threads=threads, progress=progress))
        where = dict(zip(VALUE_COLUMNS, combo))
        rows.append(where | metrics.bands())
        per_real.append(pd.DataFrame(where | {"realization": np.arange(len(metrics.remnants))}
                                     | metrics.per_realization()))
    sc = points[0].loaded.scenario
    return SweepResult(
        axes=axes, scale=scale, table=pd.DataFrame(rows), per_realization=pd.concat(per_real, ignore_index=True),
        scenario=sc.name, seed=sc.simulation.seed, n_realizations=sc.simulation.realizations, notes=notes,
        timings_s={"total": time.perf_counter() - t0},
    )


def run_sweep(
    variants: Variants,
    parameter: str,
    values: Sequence[float],
    *,
    scale: bool = False,
    realizations: int | None = None,
    threads: int | None = None,
    progress: Callable[[int], None] | None = None,
    prepared: list[Variant] | None = None,
    label: str | None = None,
) -> SweepResult:
    """Run the scenario at each value of one ``parameter`` (same seed: common random numbers)."""
    return run_grid(variants, [Axis(parameter, list(values), label)], scale=scale, realizations=realizations,
                    threads=threads, progress=progress, prepared=prepared)


def sweep_progress_total(points: list[Variant]) -> int:
    """Realization passes the sweep makes (twice per realization with land release), for a progress bar."""
    return sum(progress_units(p.loaded) for p in points)


def write_sweep(result: SweepResult, target: Path, *, overwrite: bool = False, extra: dict | None = None) -> Path:
    """Write ``sweep.csv``, ``sweep_realizations.csv``, ``sweep.png`` (and for a grid ``sweep_grid.png``)
    and ``sweep.json`` into ``target``, all or nothing."""
    tables = {"sweep.csv": result.table, "sweep_realizations.csv": result.per_realization}
    figures = {"sweep.png": result.plot()} | ({"sweep_grid.png": result.heat_map()} if result.is_grid else {})
    record = result.record() | {"columns": column_help(result)} | (extra or {})
    return write_study(target, "sweep", tables, figures, record, overwrite=overwrite)


def column_help(result: SweepResult) -> dict[str, str]:
    """What each column of ``sweep.csv`` holds."""
    stats = ", ".join(["mean", "its standard error (mean_se)"] + [f"P{q}" for q in QUANTILES])
    values = {column: f"the value of {axis.parameter}" + (" (a factor on the base values)" if result.scale else "")
              for column, axis in zip(VALUE_COLUMNS, result.axes)}
    return values | {
        **{f"{m.name}_<stat>": f"{m.description} ({m.unit}): {stats} across realizations"
           for m in METRICS.values() if m.per_realization},
        **{m.name: f"{m.description} ({m.unit}), with its standard error {m.name}_se"
           for m in METRICS.values() if not m.per_realization},
        "p_completed_within_horizon": "share of realizations with all hazardous land released by the end of the "
                                      "time axis",
    }
