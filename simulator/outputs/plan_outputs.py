"""The plan as outputs: the work-unit layer (GeoPackage and CSV) and its schedule chart."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from simulator.config.clearance import METHODS
from simulator.outputs.safe import write_csv

PLAN_FILES = ("work_units.gpkg", "work_units.csv", "plan.png")

GANTT_ROWS = 40
"""Units drawn in ``plan.png`` at most: with more, every k-th in work order, so the chart spans the
whole schedule (the title says which)."""

METHOD_COLOURS = {"nts": "#4c72b0", "ts": "#dd8452", "bac": "#c44e52"}
METHOD_LABELS = {"nts": "non-technical survey (NTS)", "ts": "technical survey (TS)", "bac": "clearance (BAC)"}


def write_plan(units: gpd.GeoDataFrame, folder: Path, title: str, deadline) -> None:
    """``work_units.gpkg`` (layer ``work_units``), ``work_units.csv`` (no geometry) and ``plan.png``."""
    units.to_file(folder / "work_units.gpkg", layer="work_units", driver="GPKG")
    write_csv(pd.DataFrame(units.drop(columns="geometry")), folder / "work_units.csv")
    gantt(units, title, deadline).savefig(folder / "plan.png", dpi=120)


def plain(text: str) -> str:
    """``text`` as matplotlib draws it literally: a ``$`` in a user's name would start mathtext."""
    return str(text).replace("$", r"\$")


def gantt(units: pd.DataFrame, title: str, deadline):
    """Which team type (NTS, TS, BAC) works which unit when: per unit in work order a bar from the
    median start to the median finish of each method, a whisker to the P90 finish, and the deadline."""
    step = max(1, -(-len(units) // GANTT_ROWS))
    shown = units.iloc[::step]
    fig = Figure(figsize=(10, 1.6 + 0.22 * max(len(shown), 1)), layout="constrained")  # outside pyplot
    ax = fig.subplots()
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
    return fig
