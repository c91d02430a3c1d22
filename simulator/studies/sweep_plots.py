"""A sweep's figures: the metrics against the parameter (a line family for a grid) and a grid's heat maps."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from simulator.studies.metrics import METRICS

COLOURS = {"remnants": "#8b1a1a", "contaminated_ha": "#b8860b", "hazardous_ha": "#0057b8",
           "remaining_ha": "#6a3d9a", "years_to_completion": "#2e7d32"}
"""One colour per metric in a one-parameter sweep."""
FAMILY = plt.get_cmap("viridis")
"""Colours of a grid's lines, one per value of the second parameter."""
FAMILY_TOP = 0.85
"""The family's colours stop short of viridis' palest yellow, which reads badly on white."""
HEAT_PANELS = (("remnants_mean", "remnants"), ("contaminated_ha_p50", "contaminated_ha"),
               ("hazardous_ha", "hazardous_ha"), ("years_to_completion_p50", "years_to_completion"))
"""The heat maps of a grid: a column of the table and the metric it belongs to."""
DARK_ABOVE = 0.55
"""Cells whose colour lies above this share of the scale get white numbers."""


def _years(table: pd.DataFrame, q: str) -> np.ndarray:
    """Years to completion at quantile ``q``, ``nan`` where beyond the time axis."""
    values = table[f"years_to_completion_{q}"].to_numpy(float)
    return np.where(np.isfinite(values), values, np.nan)


def _banded(ax, x, table: pd.DataFrame, name: str, colour: str, label: str, band: bool = True) -> None:
    """P5-P95 band, P50 line and mean of one metric (bands left out of a line family)."""
    if name == "years_to_completion":
        lo, mid, hi, mean = _years(table, "p5"), _years(table, "p50"), _years(table, "p95"), None
    else:
        lo, mid, hi, mean = (table[f"{name}_{s}"] for s in ("p5", "p50", "p95", "mean"))
    if band:
        ax.fill_between(x, lo, hi, color=colour, alpha=0.25, linewidth=0, label=f"{label}: P5-P95")
    ax.plot(x, mid, color=colour, marker="o", markersize=3, label=f"{label}: P50")
    if band and mean is not None:
        ax.plot(x, mean, color=colour, linestyle="--", linewidth=1, label=f"{label}: mean")


def _panels(ax_by_metric: dict, x, table: pd.DataFrame, colour=None, prefix: str = "", band: bool = True) -> None:
    for name, ax in ax_by_metric.items():
        if name == "hazardous_ha":
            ax.plot(x, table["hazardous_ha"], color=colour or COLOURS[name], marker="o", markersize=3,
                    label=prefix or "hazard map area")
            if "remaining_ha_p50" in table and band:
                _banded(ax, x, table, "remaining_ha", COLOURS["remaining_ha"], "remaining after clearance")
        elif f"{name}_p50" in table:
            _banded(ax, x, table, name, colour or COLOURS[name], prefix or name.replace("_", " "), band)


def sweep_figure(result, title: str | None = None):
    """The metrics against the (first) parameter: bands for one parameter, one P50 line per value
    of the second parameter for a grid."""
    table = result.table
    fig, axes = plt.subplots(2, 2, figsize=(11, 8), layout="constrained", sharex=True)
    names = ("remnants", "contaminated_ha", "hazardous_ha", "years_to_completion")
    ax_by_metric = dict(zip(names, axes.ravel()))
    if result.is_grid:
        seconds = sorted(table["value_2"].unique())
        for i, v in enumerate(seconds):
            rows = table[table["value_2"] == v].sort_values("value")
            _panels(ax_by_metric, rows["value"].to_numpy(), rows, FAMILY(FAMILY_TOP * i / max(1, len(seconds) - 1)),
                    f"{result.axis_label(1)} = {v:g}", band=False)
    else:
        _panels(ax_by_metric, table["value"].to_numpy(), table)
    for name, ax in ax_by_metric.items():
        ax.set_ylabel(_short_label(name))
        ax.grid(alpha=0.3)
    years = ax_by_metric["years_to_completion"]
    if "years_to_completion_p50" not in table:
        years.text(0.5, 0.5, "no clearance in this scenario", ha="center", va="center", transform=years.transAxes)
        years.set_yticks([])
    elif not np.isfinite(table["years_to_completion_p50"].to_numpy(float)).all():
        years.text(0.02, 0.98, "gaps: not done within the time axis", ha="left", va="top", fontsize=8,
                   transform=years.transAxes)
    for ax in axes.ravel():
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7 if result.is_grid else 8, frameon=False)
    for ax in axes[1]:
        ax.set_xlabel(result.axis_label(0))
    fig.suptitle(title or f"{result.scenario}: {'grid' if result.is_grid else 'sweep'} of {result.label} "
                 f"({result.n_realizations:,} realizations per point, common random numbers)")
    return fig


def _short_label(name: str) -> str:
    metric = METRICS[name]
    short = {"remnants": "remnants on the ground", "contaminated_ha": "contaminated area",
             "hazardous_ha": "hazardous area at the horizon", "years_to_completion": "years to completion"}
    return f"{short.get(name, metric.description)} ({metric.unit})"


def _cell(value: float) -> str:
    """A heat-map cell's number: whole with separators from 100 up, else three significant digits."""
    if not np.isfinite(value):
        return "beyond"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def grid_figure(result, title: str | None = None):
    """Heat maps of a grid: one panel per metric, the first parameter across, the second up."""
    table = result.table
    xs, ys = sorted(table["value"].unique()), sorted(table["value_2"].unique())
    panels = [(column, name) for column, name in HEAT_PANELS if column in table]
    rows = math.ceil(len(panels) / 2)
    fig, axes = plt.subplots(rows, 2, figsize=(11, 4.4 * rows + 0.6), layout="constrained", squeeze=False)
    for ax in axes.ravel()[len(panels):]:
        ax.set_visible(False)
    for ax, (column, name) in zip(axes.ravel(), panels):
        grid = table.pivot(index="value_2", columns="value", values=column).reindex(index=ys, columns=xs)
        values = grid.to_numpy(float)
        shown = np.where(np.isfinite(values), values, np.nan)
        image = ax.imshow(shown, origin="lower", aspect="auto", cmap="magma_r", interpolation="nearest")
        for (i, j), v in np.ndenumerate(values):
            dark = np.isfinite(v) and image.norm(v) > DARK_ABOVE
            ax.text(j, i, _cell(v), ha="center", va="center", fontsize=8, color="white" if dark else "black")
        ax.set_xticks(range(len(xs)), [f"{v:g}" for v in xs], rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(len(ys)), [f"{v:g}" for v in ys], fontsize=8)
        ax.set_xlabel(result.axis_label(0))
        ax.set_ylabel(result.axis_label(1))
        statistic = "mean" if column.endswith("_mean") else "P50" if column.endswith("_p50") else "ensemble"
        ax.set_title(f"{_short_label(name)}, {statistic}", fontsize=9, loc="left")
        fig.colorbar(image, ax=ax, shrink=0.85)
    fig.suptitle(title or f"{result.scenario}: grid of {result.label} ({result.n_realizations:,} realizations "
                 "per combination; 'beyond': not done within the time axis)", fontsize=10)
    return fig
