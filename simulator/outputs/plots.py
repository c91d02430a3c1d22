"""Figures people read: the map of the district and hazardous area over time."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.colors import ListedColormap, LogNorm
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from simulator.config.scenario import LandUse

MAP_PIXELS = 1500
"""Rasters larger than this many cells a side are drawn reduced (block maxima), to keep memory small."""

MARKED_STRIKES = 500
"""More strikes than this are drawn as dots rather than crosses."""


def district_map(setup, density_per_ha: np.ndarray, hazardous: np.ndarray | None, title: str):
    """Land use, expected remnant density, strike points, outlines of the ``hazardous`` cells
    (bool, grid shape; None: no outlines), legend and scale bar."""
    grid = setup.grid
    classes = setup.scenario.land_use.classes
    xmin, ymin, xmax, ymax = grid.bounds
    extent = (xmin, xmax, ymin, ymax)
    fig, ax = plt.subplots(figsize=(9, 9.5), layout="constrained")
    colours = ListedColormap([classes[k].colour for k in setup.class_keys])
    step = max(1, -(-max(grid.nx, grid.ny) // MAP_PIXELS))
    ax.imshow(np.ma.masked_where(~setup.inside, setup.landuse_codes)[::step, ::step], cmap=colours, vmin=-0.5, vmax=len(setup.class_keys) - 0.5,
              extent=extent, interpolation="nearest", alpha=0.55)
    density_per_ha = block_max(density_per_ha, step)
    shown = np.where(density_per_ha > 0, density_per_ha, np.nan)
    positive = density_per_ha[density_per_ha > 0]
    if positive.size:
        lo = max(positive.min(), np.percentile(positive, 1))
        image = ax.imshow(shown, cmap="inferno_r", norm=LogNorm(vmin=lo, vmax=positive.max()), extent=extent,
                          interpolation="nearest")
        fig.colorbar(image, ax=ax, shrink=0.7, pad=0.02, label="expected remnants per hectare")
    if hazardous is not None and hazardous.any():
        reduced = np.pad(block_max(hazardous.astype(np.uint8), step), 1)  # a border, so edges close and 1 x 1 works
        ys = ymax - (np.arange(reduced.shape[0]) - 0.5) * step * grid.cell_size_m
        xs = xmin + (np.arange(reduced.shape[1]) - 0.5) * step * grid.cell_size_m
        ax.contour(xs, ys, reduced, levels=[0.5], colors="#0057b8", linewidths=1.1,
                   path_effects=[patheffects.withStroke(linewidth=2.6, foreground="white")])
    many = len(setup.strikes) > MARKED_STRIKES
    if many:
        ax.scatter(setup.strikes.x, setup.strikes.y, marker=".", color="black", s=0.3, linewidths=0, alpha=0.4, zorder=5)
    else:
        ax.scatter(setup.strikes.x, setup.strikes.y, marker="X", facecolor="white", edgecolor="black", s=60,
                   linewidths=1.0, zorder=5)
    _scale_bar(ax, xmin, ymin, xmax - xmin, ymax - ymin)
    handles = [Patch(facecolor=classes[k].colour, alpha=0.55, label=classes[k].name) for k in setup.class_keys]
    if hazardous is not None:
        threshold = setup.scenario.hazard.threshold
        handles.append(Line2D([], [], color="#0057b8", label=f"hazard area (P(remnant) >= {threshold:g})",
                              path_effects=[patheffects.withStroke(linewidth=2.6, foreground="white")]))
    handles += [
        Line2D([], [], markerfacecolor="white", markeredgecolor="black", marker="." if many else "X",
               markersize=8, linestyle="", label="strike aim point"),
    ]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.07), ncol=4, frameon=False, fontsize=8)
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_xlabel(f"x (m, {grid.crs})")
    ax.set_ylabel("y (m)")
    ax.ticklabel_format(useOffset=False, style="plain")
    ax.set_title(title)
    return fig


def block_max(values: np.ndarray, step: int) -> np.ndarray:
    """The maximum of each ``step`` x ``step`` block (the array itself when ``step`` is 1)."""
    if step == 1:
        return values
    ny, nx = values.shape
    low = np.iinfo(values.dtype).min if np.issubdtype(values.dtype, np.integer) else -np.inf
    padded = np.full((-(-ny // step) * step, -(-nx // step) * step), low, values.dtype)
    padded[:ny, :nx] = values
    return padded.reshape(padded.shape[0] // step, step, -1, step).max(axis=(1, 3))


def _scale_bar(ax, x0: float, y0: float, width: float, height: float) -> None:
    length = 10 ** np.floor(np.log10(width / 4))
    length *= 5 if width / 4 >= 5 * length else (2 if width / 4 >= 2 * length else 1)
    x, y = x0 + 0.05 * width, y0 + 0.05 * height
    ax.plot([x, x + length], [y, y], color="black", linewidth=3, solid_capstyle="butt")
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(x + length / 2, y + 0.015 * height, label, ha="center", va="bottom", fontsize=9)


def area_over_time(table: pd.DataFrame, land_use: LandUse, title: str):
    """Contaminated (P5-P95 band, P50 line), SHA and CHA per class over time."""
    fig, ax = plt.subplots(figsize=(10, 5.5), layout="constrained")
    dates = pd.to_datetime(table["date"].unique())
    for key, rows in table[~table["total"]].groupby("class", sort=False):
        if rows["contaminated_ha_p95"].max() <= 0 and rows["suspected_ha"].max() <= 0:
            continue
        colour = land_use.classes[key].colour
        name = land_use.classes[key].name
        ax.fill_between(dates, rows["contaminated_ha_p5"], rows["contaminated_ha_p95"], step="post",
                        color=colour, alpha=0.3, linewidth=0)
        ax.step(dates, rows["contaminated_ha_p50"], where="post", color=colour, linewidth=1.5,
                label=f"{name}: contaminated (P50, P5-P95)")
        ax.step(dates, rows["hazardous_ha"], where="post", color=colour, linewidth=1.5, linestyle="--",
                label=f"{name}: CHA")
        ax.step(dates, rows["suspected_ha"], where="post", color=colour, linewidth=1.0, linestyle=":",
                label=f"{name}: SHA")
    ax.set_ylabel("area (ha)")
    ax.set_xlabel("date")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)
    ax.grid(alpha=0.3)
    return fig


ROUTES = (("cancelled_ha", "cancelled (NTS)", ":"), ("reduced_ha", "reduced (TS)", "-."), ("cleared_ha", "cleared (BAC)", "--"))


def land_release(table: pd.DataFrame, land_use: LandUse, title: str):
    """SHA not yet released per class (P50 line, P5-P95 band) and land released by route."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.5), layout="constrained", sharex=True)
    for key, rows in table.groupby("class", sort=False):
        if rows["total"].any() or rows["remaining_ha_p95"].max() <= 0:
            continue
        dates = pd.to_datetime(rows["date"])
        colour, name = land_use.classes[key].colour, land_use.classes[key].name
        left.fill_between(dates, rows["remaining_ha_p5"], rows["remaining_ha_p95"], step="post", color=colour,
                          alpha=0.3, linewidth=0)
        left.step(dates, rows["remaining_ha_p50"], where="post", color=colour, linewidth=1.6, label=name)
    total = table[table["total"]]
    dates = pd.to_datetime(total["date"])
    for column, label, style in ROUTES:
        right.fill_between(dates, total[f"{column}_p5"], total[f"{column}_p95"], step="post", color="grey",
                           alpha=0.2, linewidth=0)
        right.step(dates, total[f"{column}_p50"], where="post", color="black", linestyle=style, label=label)
    right.step(dates, total["remaining_ha_p50"], where="post", color="#b30000", linewidth=2,
               label="SHA not yet released")
    left.set_title("suspected hazardous area (SHA) not yet released, by land use")
    right.set_title("land released by route, all classes")
    for ax in (left, right):
        ax.set_ylabel("area (ha, P50 with P5-P95 band)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, frameon=False)
    fig.suptitle(title)
    return fig


def completion(table: pd.DataFrame, deadline, title: str):
    """Probability that all SHA is released by each date, with the deadline."""
    fig, ax = plt.subplots(figsize=(9, 4.5), layout="constrained")
    dates = pd.to_datetime(table["date"])
    ax.step(dates, table["p_all_released"], where="post", color="black", linewidth=1.8)
    if deadline is not None:
        p = float(table.loc[pd.to_datetime(table["date"]) <= pd.Timestamp(deadline), "p_all_released"].max())
        ax.axvline(pd.Timestamp(deadline), color="#b30000", linestyle="--")
        ax.text(pd.Timestamp(deadline), 0.03, f" deadline {deadline}: P(done) = {p:.0%}", color="#b30000",
                fontsize=9)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("P(all SHA released)")
    ax.set_xlabel("date")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return fig
