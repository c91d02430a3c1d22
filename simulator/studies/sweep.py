"""One-parameter sweeps: run a scenario at each value of one parameter path, with common random numbers.

Every point keeps the scenario's seed, so realization ``r`` of every point draws from the same
random streams (see ``simulator.config.variants``). The curves are then smooth and their differences
are the effect of the parameter rather than noise. The coupling is strong but not complete:
within a strike, the draws of later carriers shift when an earlier carrier's dud count
changes, and a Beta-distributed dud probability is drawn by rejection, so single realizations
need not move in step; the averages do.
"""

from __future__ import annotations

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
from simulator.studies.runs import (
    PER_REALIZATION,
    RunMetrics,
    progress_units,
    realizations_setting,
    run_variant,
    write_study,
)

MAX_POINTS = 1000


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


@dataclass
class SweepResult:
    """A finished sweep.

    ``table``: one row per value, with ``<metric>_mean``/``_p5``/``_p50``/``_p95`` of the
    per-realization metrics (remnants on the ground, contaminated area and, with clearance,
    hazardous land remaining and years to completion), the hazard map's area
    ``hazardous_ha`` and ``p_completed_within_horizon``. ``per_realization``: one row per
    value and realization (paired across values: the same realization index shares its
    random streams). ``notes``: values the sweep adjusted (capped dud-rate spreads).
    """

    parameter: str
    scale: bool
    table: pd.DataFrame
    per_realization: pd.DataFrame
    scenario: str
    seed: int
    n_realizations: int
    notes: list[str] = field(default_factory=list)
    timings_s: dict[str, float] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The x-axis label: the path, and ``(x base value)`` for a scaled sweep."""
        return f"{self.parameter} (x base value)" if self.scale else self.parameter

    def plot(self, title: str | None = None):
        """Four panels against the parameter: remnants, contaminated area, hazardous area, years to completion."""
        import matplotlib.pyplot as plt

        figure = sweep_figure(self, title)
        plt.close(figure)  # shown once in a notebook (as the cell's result); saving works the same
        return figure

    def record(self) -> dict:
        """What ``sweep.json`` holds."""
        return {
            "scenario": self.scenario, "parameter": self.parameter, "scale": self.scale,
            "values": self.table["value"].tolist(), "realizations_per_point": self.n_realizations, "seed": self.seed,
            "common_random_numbers": True, "notes": self.notes,
            "timings_s": {k: round(v, 3) for k, v in self.timings_s.items()},
        }


def prepare_sweep(variants: Variants, parameter: str, values: Sequence[float], *, scale: bool = False,
                  realizations: int | None = None) -> list[Variant]:
    """Validate the scenario at every value before anything runs (bad values raise ``InputError``)."""
    variants.check(parameter, "--param")
    base = realizations_setting(realizations)
    return [variants.variant(base + [Setting(parameter, float(v), scale)], "--param") for v in values]


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
) -> SweepResult:
    """Run the scenario at each value of ``parameter`` (same seed: common random numbers)."""
    t0 = time.perf_counter()
    points = prepared or prepare_sweep(variants, parameter, values, scale=scale, realizations=realizations)
    rows, per_real, notes = [], [], []
    for value, point in zip(values, points):
        for note in point.notes:
            if note not in notes:
                notes.append(note)
        metrics = RunMetrics.of(run_variant(point.loaded, threads=threads, progress=progress))
        rows.append({"value": float(value)} | metrics.bands())
        frame = pd.DataFrame({"value": float(value), "realization": np.arange(len(metrics.remnants))}
                             | metrics.per_realization())
        per_real.append(frame)
    sc = points[0].loaded.scenario
    return SweepResult(
        parameter=parameter, scale=scale, table=pd.DataFrame(rows),
        per_realization=pd.concat(per_real, ignore_index=True),
        scenario=sc.name, seed=sc.simulation.seed, n_realizations=sc.simulation.realizations, notes=notes,
        timings_s={"total": time.perf_counter() - t0},
    )


def sweep_progress_total(points: list[Variant]) -> int:
    """Realizations the sweep passes through, for a progress bar."""
    return sum(progress_units(p.loaded) for p in points)


def write_sweep(result: SweepResult, target: Path, *, overwrite: bool = False, extra: dict | None = None) -> Path:
    """Write ``sweep.csv``, ``sweep_realizations.csv``, ``sweep.png`` and ``sweep.json`` into ``target``, all or nothing."""
    tables = {"sweep.csv": result.table, "sweep_realizations.csv": result.per_realization}
    record = result.record() | {"columns": COLUMN_HELP} | (extra or {})
    return write_study(target, "sweep", tables, result.plot(), record, overwrite=overwrite)


COLUMN_HELP = {
    "value": "the parameter value (a factor on the base values for a scaled sweep)",
    **{f"{name}_<stat>": f"{text}: mean, P5, P50, P95 across realizations" for name, text in PER_REALIZATION.items()},
    "hazardous_ha": "area of the hazard map at the end of the time axis (cells with P(remnant) >= "
                    "hazard.threshold), ha",
    "p_completed_within_horizon": "share of realizations with all hazardous land released by the end of the time axis",
}


def sweep_figure(result: SweepResult, title: str | None = None):
    """The sweep's figure: P5-P95 band, P50 line and mean of each metric against the parameter."""
    import matplotlib.pyplot as plt

    table = result.table
    x = table["value"].to_numpy()
    fig, axes = plt.subplots(2, 2, figsize=(11, 8), layout="constrained", sharex=True)
    (a_rem, a_con), (a_haz, a_yrs) = axes

    def banded(ax, name, colour, label):
        ax.fill_between(x, table[f"{name}_p5"], table[f"{name}_p95"], color=colour, alpha=0.25, linewidth=0,
                        label=f"{label}: P5-P95")
        ax.plot(x, table[f"{name}_p50"], color=colour, marker="o", markersize=3, label=f"{label}: P50")
        ax.plot(x, table[f"{name}_mean"], color=colour, linestyle="--", linewidth=1, label=f"{label}: mean")

    banded(a_rem, "remnants", "#8b1a1a", "remnants")
    a_rem.set_ylabel("remnants on the ground (items)")
    banded(a_con, "contaminated_ha", "#b8860b", "contaminated")
    a_con.set_ylabel("contaminated area (ha)")
    a_haz.plot(x, table["hazardous_ha"], color="#0057b8", marker="o", markersize=3, label="hazard map area")
    if "remaining_ha_p50" in table:
        banded(a_haz, "remaining_ha", "#6a3d9a", "remaining after clearance")
    a_haz.set_ylabel("hazardous area at the horizon (ha)")
    if "years_to_completion_p50" in table:
        horizon = None
        yrs = {q: table[f"years_to_completion_{q}"].to_numpy(float) for q in ("p5", "p50", "p95")}
        finite = np.concatenate([v[np.isfinite(v)] for v in yrs.values()])
        top = float(finite.max()) if finite.size else 1.0
        capped = {q: np.where(np.isfinite(v), v, np.nan) for q, v in yrs.items()}
        a_yrs.fill_between(x, capped["p5"], capped["p95"], color="#2e7d32", alpha=0.25, linewidth=0,
                           label="P5-P95 (gaps: not done within the time axis)")
        a_yrs.plot(x, capped["p50"], color="#2e7d32", marker="o", markersize=3, label="P50")
        late = ~np.isfinite(yrs["p50"])
        if late.any():
            horizon = top
            a_yrs.scatter(x[late], np.full(late.sum(), horizon), marker="^", color="#b30000", zorder=5,
                          label="P50 beyond the time axis")
        a_yrs.set_ylabel("years to completion (from clearance start)")
    else:
        a_yrs.text(0.5, 0.5, "no clearance in this scenario", ha="center", va="center", transform=a_yrs.transAxes)
        a_yrs.set_yticks([])
    for ax in axes.ravel():
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8, frameon=False)
    for ax in axes[1]:
        ax.set_xlabel(result.label)
    fig.suptitle(title or f"{result.scenario}: sweep of {result.parameter} "
                 f"({result.n_realizations} realizations per point, common random numbers)")
    return fig
