"""Benchmark results: the record of one measurement, a printed table, the JSON document."""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Result:
    """One measurement: ``value`` in ``unit`` (higher is better for rates), the numpy ``baseline``
    in the same unit where there is one and ``ratio`` = value / baseline; ``peak_rss_mb``: peak
    resident memory of the case (MB); ``seconds``: best wall time of one timed call; ``compile_s``:
    the warm-up call, which compiles or loads the cached kernel; ``detail``: sizes and extras."""

    name: str
    value: float
    unit: str
    peak_rss_mb: float
    baseline: float | None = None
    seconds: float | None = None
    compile_s: float | None = None
    detail: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None

    def to_json(self) -> dict:
        out = {"name": self.name, "value": self.value, "unit": self.unit}
        if self.baseline is not None:
            out |= {"baseline": self.baseline, "ratio": self.ratio}
        out["peak_rss_mb"] = round(self.peak_rss_mb, 1) if self.peak_rss_mb is not None else None
        out |= {k: v for k, v in (("seconds", self.seconds), ("compile_s", self.compile_s)) if v is not None}
        if self.detail:
            out["detail"] = self.detail
        return out


def human(value: float | None, unit: str = "") -> str:
    """``263412345.0`` -> ``263 M`` (rates from 1000, anything from 100 000); else three significant digits."""
    if value is None or not math.isfinite(value):
        return "-"
    for scale, suffix in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if abs(value) >= scale and (unit.endswith("/s") or abs(value) >= 1e5):
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}"


def _table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(columns)]
        print(f"\n{title}")
        print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
        for row in rows:
            print("  ".join(v.ljust(w) for v, w in zip(row, widths)))
        return
    table = Table(title=title, title_justify="left")
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i == 0 or column in ("unit", "target", "note") else "right")
    for row in rows:
        table.add_row(*row)
    Console(width=140).print(table)


def print_report(doc: dict) -> None:
    """Print the results, the scaling fits and the targets as tables."""
    m = doc["machine"]
    print(f"{m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; Python {m['python']}, numba {m['numba']} "
          f"({m['threading_layer']}), numpy {m['numpy']}; load {m['load_1min']} -> {doc['load_1min_end']}")
    rows = [
        [r["name"], human(r["value"], r["unit"]), r["unit"], human(r.get("baseline"), r["unit"]),
         human(r.get("ratio")), human(r.get("peak_rss_mb")), human(r.get("seconds")), human(r.get("compile_s"))]
        for r in doc["results"]
    ]
    columns = ["name", "value", "unit", "baseline", "ratio", "peak MB", "s", "compile s"]
    _table(f"results ({doc['mode']})", columns, rows)
    rows = []
    for name, fit in doc["scaling"].items():
        points = ", ".join(f"{_short(x)}: {y:.3g}" for x, y in fit["points"])
        rows.append([name, f"{fit['slope']:.2f}" if "slope" in fit else "-", f"{fit['x']} -> {fit['y']}", points])
    _table("scaling (log-log slope)", ["series", "slope", "axes", "points"], rows)
    rows = [[t["target"], human(t["value"]), t["goal"], "met" if t["met"] else "MISSED", human(t.get("previous")),
             human(t.get("vs_previous")), t.get("note", "")] for t in doc["targets"]]
    _table("targets", ["target", "value", "goal", "verdict", "saved run", "now / saved", "note"], rows)


def _short(x: float) -> str:
    return f"{x:.0e}".replace("e+0", "e") if x >= 1e5 else f"{x:g}"


def write_json(doc: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n")
    print(f"wrote {path}", file=sys.stderr)

