"""The plan as outputs: the work-unit layer (GeoPackage and CSV) and its schedule chart."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from simulator.config.clearance import METHODS
from simulator.outputs.plots import figure_px, save
from simulator.outputs.safe import write_csv

PLAN_FILES = ("work_units.gpkg", "work_units.csv", "plan.png")

PLAN_DPI = 120
"""``plan.png`` is drawn at this many pixels per inch, ``PLAN_WIDTH_PX`` wide."""
PLAN_WIDTH_PX = 1200
FIT_PAD_PX = 5
"""Pixels kept free at the edges of ``plan.png`` (constrained layout's default pad at ``PLAN_DPI``)."""

GANTT_ROWS = 40
"""Units drawn in ``plan.png`` at most: with more, every k-th in work order, so the chart spans the
whole schedule (the title says which)."""

METHOD_COLOURS = {"nts": "#4c72b0", "ts": "#dd8452", "bac": "#c44e52"}
METHOD_LABELS = {"nts": "non-technical survey (NTS)", "ts": "technical survey (TS)", "bac": "clearance (BAC)"}


def write_plan(units: gpd.GeoDataFrame, folder: Path, title: str, deadline) -> None:
    """``work_units.gpkg`` (layer ``work_units``), ``work_units.csv`` (no geometry) and ``plan.png``."""
    units.to_file(folder / "work_units.gpkg", layer="work_units", driver="GPKG")
    write_csv(pd.DataFrame(units.drop(columns="geometry")), folder / "work_units.csv")
    save(gantt(units, title, deadline), folder / "plan.png")


def plain(text: str) -> str:
    """``text`` as matplotlib draws it literally: a ``$`` in a user's name would start mathtext."""
    return str(text).replace("$", r"\$")


def gantt(units: pd.DataFrame, title: str, deadline):
    """Which team type (NTS, TS, BAC) works which unit when: per unit in work order a bar from the
    median start to the median finish of each method, a whisker to the P90 finish, and the deadline."""
    step = max(1, -(-len(units) // GANTT_ROWS))
    shown = units.iloc[::step]
    fig = figure_px(PLAN_WIDTH_PX, round(PLAN_DPI * (1.6 + 0.22 * max(len(shown), 1))), dpi=PLAN_DPI)
    ax = fig.add_axes((0.3, 0.1, 0.5, 0.8))  # placed by _fit once its labels and legend are known
    offsets = {"nts": -0.27, "ts": 0.0, "bac": 0.27}
    for row, (_, unit) in enumerate(shown.iterrows()):
        for method in METHODS:
            start, finish = unit[f"{method}_start_p50"], unit[f"{method}_finish_p50"]
            if not start:
                continue
            begin = pd.Timestamp(start)
            end = pd.Timestamp(finish) if finish else None
            y = row + offsets[method]
            width = (end - begin) if end is not None else pd.Timedelta(days=1)
            ax.barh(y, width, left=begin, height=0.25, color=METHOD_COLOURS[method],
                    hatch=None if end is not None else "//")
            late = unit[f"{method}_finish_p90"]
            if late and end is not None and pd.Timestamp(late) > end:
                ax.plot([end, pd.Timestamp(late)], [y, y], color=METHOD_COLOURS[method], linewidth=1)
    ax.set_yticks(range(len(shown)))
    ax.set_yticklabels([f"#{r} unit {i} ({plain(c)})" for r, i, c in
                        zip(shown["priority_rank"], shown["id"], shown["class_name"])], fontsize=7)
    ax.invert_yaxis()
    handles = [Patch(color=METHOD_COLOURS[m], label=METHOD_LABELS[m]) for m in METHODS]
    handles.append(Line2D([], [], color="grey", linewidth=1, label="to the P90 finish"))
    if deadline is not None:
        ax.axvline(pd.Timestamp(deadline), color="#b30000", linestyle="--")
        handles.append(Line2D([], [], color="#b30000", linestyle="--", label=f"deadline {deadline}"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    ax.set_xlabel("date (bars: median start to median finish over the scored realizations)")
    ax.set_ylabel("work unit (priority rank, id, land use)")
    more = f", one unit in {step} of {len(units):,} in work order" if step > 1 else ""
    ax.set_title(f"{title}{more}")
    ax.grid(axis="x", alpha=0.3)
    _fit(fig, ax)
    return fig


def _fit(fig, ax) -> None:
    """Place ``ax`` to leave room, measured from their text, for its work-unit labels and y label
    (left), legend (right), dates and x label (below) and title (above): one draw, no layout engine."""
    renderer = FigureCanvasAgg(fig).get_renderer()
    size = {name: text.get_window_extent(renderer) for name, text in (
        ("x", ax.xaxis.label), ("y", ax.yaxis.label), ("title", ax.title), ("legend", ax.get_legend()))}
    ticks = 7.0 * PLAN_DPI / 72  # a tick and its pad (3.5 points each), in pixels
    units = max((t.get_window_extent(renderer).width for t in ax.get_yticklabels()), default=0.0)
    box = ax.get_window_extent(renderer)
    gap = size["legend"].x0 - box.x1 - 0.01 * box.width  # the legend's pad beyond its anchor, 1 % of the width out
    width, height = fig.bbox.width, fig.bbox.height
    left = FIT_PAD_PX + size["y"].width + ticks + units + ticks / 2
    right = (width - FIT_PAD_PX - size["legend"].width - gap + 0.01 * left) / 1.01
    bottom = FIT_PAD_PX + 2 * size["x"].height + ticks + ticks / 2
    top = height - FIT_PAD_PX - size["title"].height - ticks / 2
    ax.set_position((left / width, bottom / height, (right - left) / width, (top - bottom) / height))
