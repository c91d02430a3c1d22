"""The files ``remnant compare --out`` writes: the table, completion curves overlaid, difference maps."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import rasterio
from matplotlib.colors import TwoSlopeNorm

from simulator.outputs.safe import write_csv
from simulator.outputs.staging import staged_directory
from simulator.results.comparison import DIFFERENCE_SOURCE, Comparison, completion_curve, difference_maps
from simulator.results.provenance import versions

DPI = 120
"""Resolution of the figures, dots per inch."""
COLOURS = ("#1b5e9e", "#c0392b", "#2e7d32", "#7b3294", "#e08214", "#4d4d4d")
"""One colour per run, in order (repeated beyond six runs)."""
NO_CHANGE = 1e-12
"""A difference map whose largest absolute change is below this is drawn on a fixed +-0.01 scale."""


def completion_figure(comparison: Comparison):
    """SHA remaining over time of every run with land release: P50 line and P5-P95 band."""
    fig, ax = plt.subplots(figsize=(9, 5), layout="constrained")
    drawn = 0
    for k, run in enumerate(comparison.runs):
        curve = completion_curve(run)
        if curve is None:
            continue
        colour = COLOURS[k % len(COLOURS)]
        ax.fill_between(curve["date"], curve["remaining_ha_p5"], curve["remaining_ha_p95"], color=colour, alpha=0.2,
                        linewidth=0, step="post")
        ax.step(curve["date"], curve["remaining_ha_p50"], where="post", color=colour, label=f"{run.label}: P50 "
                "(band P5-P95)")
        drawn += 1
        deadline = ((run.summary.get("land_release") or {}).get("deadline") or {}).get("date")
        if deadline:
            ax.axvline(pd.Timestamp(deadline), color=colour, linestyle=":", linewidth=1.2,
                       label=f"{run.label}: deadline {deadline}")
    if not drawn:
        ax.text(0.5, 0.5, "no run has land release", ha="center", va="center", transform=ax.transAxes)
    else:
        ax.legend(frameon=False, fontsize=9)
    ax.set_xlabel("date")
    ax.set_ylabel("suspected hazardous area not yet released (ha)")
    ax.grid(alpha=0.3)
    ax.set_title("Land release: SHA remaining over time", loc="left")
    return fig


def difference_figure(comparison: Comparison, differences: list[np.ndarray], extent: tuple[float, ...]):
    """One panel per later run: its probability of contamination minus the first run's."""
    n = len(differences)
    fig, axes = plt.subplots(1, n, figsize=(6 * n + 1, 5.5), layout="constrained", squeeze=False)
    for ax, diff, run in zip(axes[0], differences, comparison.runs[1:]):
        finite = diff[np.isfinite(diff)]
        top = float(np.abs(finite).max()) if finite.size else 0.0
        top = top if top > NO_CHANGE else 0.01
        image = ax.imshow(diff, cmap="RdBu_r", norm=TwoSlopeNorm(0.0, -top, top), extent=extent,
                          interpolation="nearest")
        ax.set_title(f"{run.label} minus {comparison.labels[0]}", loc="left", fontsize=10)
        ax.set_xlabel("easting (m)")
        ax.set_ylabel("northing (m)")
        ax.ticklabel_format(style="plain", useOffset=False)
        ax.tick_params(axis="x", labelrotation=30)
        fig.colorbar(image, ax=ax, shrink=0.8, label="difference in P(cell contaminated)")
    fig.suptitle("Difference in the probability of contamination\n(red: more likely contaminated than in the first "
                 "run)", fontsize=11)
    return fig


def write_comparison(comparison: Comparison, target: Path, *, overwrite: bool = False) -> list[str]:
    """Write ``comparison.csv``, ``comparison.json``, ``completion.png``, ``difference.png`` and one
    ``p_contaminated_difference_<k>.tif`` per later run into ``target``, all or nothing; the names written."""
    differences = difference_maps(comparison.runs)  # refuses runs on different grids before writing
    with rasterio.open(comparison.runs[0].folder / DIFFERENCE_SOURCE) as source:
        profile = source.profile | {"dtype": "float32", "nodata": np.nan, "count": 1}
        bounds = source.bounds
    extent = (bounds.left, bounds.right, bounds.bottom, bounds.top)
    written = []
    with staged_directory(target, overwrite) as folder:
        write_csv(comparison.table(), folder / "comparison.csv")
        (folder / "comparison.json").write_text(json.dumps(comparison.record() | {"versions": versions()}, indent=2)
                                                + "\n")
        for name, figure in (("completion.png", completion_figure(comparison)),
                             ("difference.png", difference_figure(comparison, differences, extent))):
            figure.savefig(folder / name, dpi=DPI)
            plt.close(figure)
        for k, diff in enumerate(differences, start=2):
            with rasterio.open(folder / f"p_contaminated_difference_{k}.tif", "w", **profile) as sink:
                sink.write(diff.astype(np.float32), 1)
                sink.set_band_description(1, f"P(contaminated) of run {k} minus run 1")
        written = sorted(p.name for p in folder.iterdir())
    return written
