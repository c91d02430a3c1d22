"""Figures people read: the map of the district and hazardous area over time.

Figures are ``matplotlib.figure.Figure`` objects made without pyplot, laid out in pixels at
``FIGURE_DPI`` and saved at that resolution (``save``): no constrained-layout passes, no rescaling at save time, and the map's raster is drawn with a
whole number of screen pixels per (reduced) cell. Hazard colours are those of the QGIS styles
(IMAS: CHA red, SHA orange); density uses ``styles.DENSITY_RAMP``, whose lowest colour is unlike
any farmland or grassland colour. Tick labels are plain numbers (1, 10, 100), never powers.

OpenStreetMap credit: a map whose land-use layer is OpenStreetMap data carries "© OpenStreetMap
contributors (ODbL)". The layer counts as OSM data when its file is an OSM file (``.osm``,
``.pbf``, as GDAL's OSM driver reads them) or its file name has ``osm`` as a word
(``gis_osm_landuse_a_free_1.shp``, ``osm-extract.gpkg``): the names OSM extracts are given.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.colors import ListedColormap, LogNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, NullFormatter

from simulator.config.scenario import LandUse
from simulator.outputs.styles import CHA_COLOUR, DENSITY_RAMP, SHA_COLOUR

FIGURE_DPI = 100
"""Figures are drawn and saved at this many pixels per inch, unless made with another (``figure_px``)."""

PNG_COMPRESSION = 3
"""zlib level of the PNG files: PIL's default (6) makes these figures' files no smaller (1 % larger
at 3, over the demo's seven) and takes half as long again."""

MAP_PIXELS = 900
"""Rasters larger than this many cells a side are drawn reduced (block maxima), to keep memory small."""

MAP_MIN_PIXELS = 560
"""Smaller rasters are drawn with several pixels per cell, so the map is at least this wide or high."""

LAND_USE_ALPHA = 0.55
"""Land use is drawn this opaque under the density."""

MARKED_STRIKES = 500
"""More strikes than this are drawn as dots rather than crosses."""

OSM_CREDIT = "© OpenStreetMap contributors (ODbL)"
OSM_SUFFIXES = (".osm", ".pbf")

HALO = [patheffects.withStroke(linewidth=3.0, foreground="white")]
PLAIN = FuncFormatter(lambda value, _: f"{value:,.10g}")
"""Tick labels as plain numbers with thousands separators: 1, 10, 100, 1,000."""


def save(figure: Figure, path: Path) -> None:
    """Write ``figure`` as PNG at its own resolution, drawn once (no layout engine, no tight bounding box)."""
    figure.savefig(path, dpi=figure.dpi, pil_kwargs={"compress_level": PNG_COMPRESSION})


def figure_px(width: int, height: int, dpi: int = FIGURE_DPI) -> Figure:
    """A figure of ``width`` x ``height`` pixels drawn at ``dpi`` (text sizes are in points), outside
    pyplot (nothing to close, no global state)."""
    return Figure(figsize=(width / dpi, height / dpi), dpi=dpi)


def axes_px(fig, left: float, bottom: float, width: float, height: float, **kwargs):
    """Axes at a rectangle given in pixels from the figure's lower-left corner."""
    w, h = fig.bbox.width, fig.bbox.height
    return fig.add_axes((left / w, bottom / h, width / w, height / h), **kwargs)


def osm_credit(land_use: LandUse) -> str | None:
    """The OpenStreetMap credit when the land-use layer is OSM data (see the module docstring), else None."""
    path = Path(land_use.path)
    words = re.split(r"[^a-z0-9]+", path.name.lower())
    return OSM_CREDIT if path.suffix.lower() in OSM_SUFFIXES or "osm" in words else None


def district_map(setup, density_per_ha: np.ndarray, hazardous: np.ndarray | None, title: str,
                 suspected: np.ndarray | None = None):
    """Land use, expected remnant density, outlines of the ``hazardous`` (CHA) and ``suspected`` (SHA)
    cells (bool, grid shape; None: no outlines), strike points, legend, scale bar and data credit."""
    grid = setup.grid
    classes = setup.scenario.land_use.classes
    xmin, ymin, xmax, ymax = grid.bounds
    extent = (xmin, xmax, ymin, ymax)
    step = max(1, -(-max(grid.nx, grid.ny) // MAP_PIXELS))
    codes = np.ma.masked_where(~setup.inside, setup.landuse_codes)[::step, ::step]  # nothing drawn outside
    scale = max(1, MAP_MIN_PIXELS // max(codes.shape))
    map_w, map_h = codes.shape[1] * scale, codes.shape[0] * scale
    n_entries = len(setup.class_keys) + 1 + (hazardous is not None) + (suspected is not None)
    bottom = 70 + 20 * -(-n_entries // 4)
    fig = figure_px(max(95 + map_w + 150, 760), bottom + map_h + 45)
    left = (fig.bbox.width - (95 + map_w + 150)) / 2 + 95
    ax = axes_px(fig, left, bottom, map_w, map_h)
    colours = ListedColormap([classes[k].colour for k in setup.class_keys])
    ax.imshow(codes, cmap=colours, vmin=-0.5, vmax=len(setup.class_keys) - 0.5, extent=extent,
              interpolation="nearest", alpha=LAND_USE_ALPHA)
    density_per_ha = block_max(density_per_ha, step)
    positive = density_per_ha[density_per_ha > 0]
    if positive.size:
        lo = max(positive.min(), np.percentile(positive, 1))
        image = ax.imshow(np.where(density_per_ha > 0, density_per_ha, np.nan), cmap=DENSITY_RAMP,
                          norm=LogNorm(vmin=lo, vmax=max(positive.max(), lo * 1.0001)), extent=extent,
                          interpolation="nearest")
        cax = axes_px(fig, left + map_w + 14, bottom + map_h * 0.15, 16, map_h * 0.7, label="<colorbar>")
        bar = fig.colorbar(image, cax=cax, label="expected remnants per hectare (items/ha, log scale)")
        bar.ax.yaxis.set_major_formatter(PLAIN)
        bar.ax.yaxis.set_minor_formatter(NullFormatter())
    handles = [Patch(facecolor=classes[k].colour, alpha=LAND_USE_ALPHA, label=classes[k].name) for k in setup.class_keys]
    hazard = setup.scenario.hazard
    for mask, colour, label in ((suspected, SHA_COLOUR, f"SHA outline (P(contaminated) >= {hazard.suspect_threshold:g})"),
                                (hazardous, CHA_COLOUR, f"CHA outline (P(contaminated) >= {hazard.threshold:g})")):
        if mask is None:
            continue
        if mask.any():
            reduced = np.pad(block_max(mask.astype(np.uint8), step), 1)  # a border, so edges close and 1 x 1 works
            ys = ymax - (np.arange(reduced.shape[0]) - 0.5) * step * grid.cell_size_m
            xs = xmin + (np.arange(reduced.shape[1]) - 0.5) * step * grid.cell_size_m
            ax.contour(xs, ys, reduced, levels=[0.5], colors=colour, linewidths=1.4, path_effects=HALO)
        handles.append(Line2D([], [], color=colour, linewidth=1.4, label=label, path_effects=HALO))
    many = len(setup.strikes) > MARKED_STRIKES
    if many:
        ax.scatter(setup.strikes.x, setup.strikes.y, marker=".", color="black", s=0.3, linewidths=0, alpha=0.4, zorder=5)
    else:
        ax.scatter(setup.strikes.x, setup.strikes.y, marker="X", facecolor="white", edgecolor="black", s=60,
                   linewidths=1.0, zorder=5)
    handles.append(Line2D([], [], markerfacecolor="white", markeredgecolor="black", marker="." if many else "X",
                          markersize=8, linestyle="", label="strike aim point"))
    _scale_bar(ax, xmin, ymin, xmax - xmin, ymax - ymin)
    credit = osm_credit(setup.scenario.land_use)
    if credit:
        ax.text(0.995, 0.005, credit, transform=ax.transAxes, ha="right", va="bottom", fontsize=7,
                bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1.5}, zorder=6)
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.005), ncol=4, frameon=False, fontsize=8)
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_xlabel(f"x (m, {grid.crs})")
    ax.set_ylabel("y (m)")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.10g}"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.10g}"))
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
    ax.plot([x, x + length], [y, y], color="black", linewidth=3, solid_capstyle="butt", path_effects=HALO)
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(x + length / 2, y + 0.015 * height, label, ha="center", va="bottom", fontsize=9, path_effects=HALO)


def _finish(ax, ylabel: str, xlabel: str = "date") -> None:
    ax.set_ylabel(ylabel)
    ax.set_xlabel(xlabel)
    ax.grid(alpha=0.3)
    ax.yaxis.set_major_formatter(PLAIN)


def area_over_time(table: pd.DataFrame, land_use: LandUse, title: str):
    """Contaminated (P5-P95 band, P50 line), SHA and CHA per class over time."""
    fig = figure_px(1000, 550)
    ax = axes_px(fig, 75, 55, 570, 450)
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
    _finish(ax, "area (ha)")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize=8)
    return fig


ROUTES = (("cancelled_ha", "cancelled (NTS)", ":"), ("reduced_ha", "reduced (TS)", "-."), ("cleared_ha", "cleared (BAC)", "--"))


def _deadline(axes, deadline) -> None:
    """A dashed red line at ``deadline`` (a date or None) on each of ``axes``, labelled on the first."""
    if deadline is None:
        return
    when = pd.Timestamp(deadline)
    for i, ax in enumerate(axes):
        ax.axvline(when, color="#b30000", linestyle="--", linewidth=1.2, label=f"deadline {deadline}" if i == 0 else None)


def land_release(table: pd.DataFrame, land_use: LandUse, title: str, deadline=None):
    """SHA not yet released per class (P50 line, P5-P95 band) and land released by route, with the deadline."""
    fig = figure_px(1300, 560)
    left = axes_px(fig, 75, 55, 540, 440)
    right = axes_px(fig, 720, 55, 540, 440, sharex=left)
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
    right.step(dates, total["remaining_ha_p50"], where="post", color=SHA_COLOUR, linewidth=2,
               label="SHA not yet released")
    _deadline((right, left), deadline)
    left.set_title("suspected hazardous area (SHA) not yet released, by land use", fontsize=10)
    right.set_title("land released by route, all classes", fontsize=10)
    for ax in (left, right):
        _finish(ax, "area (ha, P50 with P5-P95 band)")
        ax.legend(fontsize=8, frameon=False)
    fig.suptitle(title, y=0.975)
    return fig


def completion(table: pd.DataFrame, deadline, title: str):
    """Probability that all SHA is released by each date, with the deadline."""
    fig = figure_px(900, 450)
    ax = axes_px(fig, 75, 55, 800, 355)
    dates = pd.to_datetime(table["date"])
    ax.step(dates, table["p_all_released"], where="post", color="black", linewidth=1.8)
    if deadline is not None:
        p = float(table.loc[pd.to_datetime(table["date"]) <= pd.Timestamp(deadline), "p_all_released"].max())
        _deadline((ax,), deadline)
        ax.text(pd.Timestamp(deadline), 0.03, f" deadline {deadline}: P(done) = {p:.0%}", color="#b30000",
                fontsize=9)
    ax.set_ylim(0, 1.02)
    _finish(ax, "P(all SHA released) (probability)")
    ax.set_title(title)
    return fig


def path_label(path: str, width: int = 22) -> str:
    """A long parameter path (``strikes[*].dud_rate.mean``) broken into lines of about ``width``
    characters at its dots and brackets, so tick labels of several paths do not overlap."""
    parts = re.split(r"(?<=[.\]])", path)
    lines, line = [], ""
    for part in parts:
        if line and len(line) + len(part) > width:
            lines.append(line)
            line = ""
        line += part
    return "\n".join([*lines, line])
