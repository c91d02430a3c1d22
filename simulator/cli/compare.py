"""``remnant compare``: finished runs side by side, each difference judged against the Monte Carlo errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from simulator.cli.console import err, out
from simulator.outputs.compare_outputs import write_comparison
from simulator.results.comparison import RULE_K, Comparison, compare_runs

DIGITS = {"probability": 3, "years": 2, "ha": 1, "items": 1, "cost units": 0}
"""Decimals shown per unit."""
MIN_FIGURE_WIDTH = 16
"""Columns kept for a figure's name, so that narrow terminals wrap it rather than the numbers."""


def _number(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{value:,.{DIGITS.get(unit, 3)}f}"


def _pm(value: float | None, se: float | None, unit: str) -> str:
    return _number(value, unit) + ("" if value is None or se is None else f" ± {_number(se, unit)}")


def _verdict(exceeds: bool | None) -> str:
    return {True: "[bold]yes[/]", False: "no", None: "cannot tell"}[exceeds]


def print_comparison(comparison: Comparison) -> None:
    """The figures as a table (value ± standard error per run, then each difference from the first)."""
    labels = comparison.labels
    table = Table(title=f"{len(labels)} runs; differences from run 1 ({escape(labels[0])}); values ± one standard error",
                  title_justify="left")
    table.add_column("figure", overflow="fold", min_width=MIN_FIGURE_WIDTH)
    for k in range(1, len(labels) + 1):
        table.add_column(f"run {k}", justify="right", no_wrap=True)
    for k in range(2, len(labels) + 1):
        table.add_column(f"{k} - 1", justify="right", no_wrap=True)
        table.add_column("beyond error", justify="center")
    for f in comparison.figures:
        cells = [escape(f.label) + (f" ({f.unit})" if f.unit else "")] + [_pm(v, se, f.unit) for v, se in zip(f.values, f.errors)]
        for k in range(1, len(labels)):
            d = f.difference(k)
            cells += ["-" if d is None else f"{d:+,.{DIGITS.get(f.unit, 3)}f}", _verdict(f.exceeds(k))]
        table.add_row(*cells)
    out.print(table)
    for k, run in enumerate(comparison.runs, start=1):
        out.print(f"run {k}: {run.folder} ({run.summary['scenario']}, seed {run.record.get('seed')}, "
                  f"{run.summary.get('realizations', 0):,} realizations)", highlight=False, markup=False)
    out.print(f"beyond error: |difference| > {RULE_K:g} sqrt(se_1^2 + se_k^2); \"cannot tell\" where an error is "
              "unknown (an interval reaching beyond the time axis)", highlight=False, markup=False)
    for note in comparison.notes:
        out.print(f"note: {note}", highlight=False, markup=False)


def compare(
    runs: Annotated[list[Path], typer.Argument(metavar="RUN_DIR", help="two or more output folders of `remnant run`; the first is "
                                                    "the baseline")],
    out_dir: Annotated[Path | None, typer.Option(
        "--out", help="write the table, completion curves and difference maps into this folder")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="replace an existing --out folder")] = False,
    json_: Annotated[bool, typer.Option("--json", help="print the comparison as JSON on stdout")] = False,
) -> None:
    """Compare finished runs: headline figures with their Monte Carlo errors, completion curves, difference maps."""
    comparison = compare_runs(list(runs))
    written = None
    if out_dir is not None:
        written = write_comparison(comparison, out_dir.resolve(), overwrite=overwrite)
    if json_:
        record = comparison.record() | ({"output": str(out_dir.resolve()), "files": written} if written else {})
        print(json.dumps(record, indent=2))
        return
    print_comparison(comparison)
    if written:
        err.print(f"outputs: {out_dir.resolve()} ({', '.join(written)})", highlight=False, markup=False)
