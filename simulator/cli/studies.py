"""The ``remnant sweep`` and ``remnant sensitivity`` commands.

Plain functions with typer ``Annotated`` parameters; ``simulator.cli.app`` registers them with
``app.command()(sweep)`` and ``app.command()(sensitivity)``. Bad input raises
``InputError`` (one line, exit code 2 through ``simulator.cli.app.main``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from simulator.cli.console import Count, err, out
from simulator.config.demo import demo_scenario
from simulator.config.variants import Variants
from simulator.errors import InputError
from simulator.outputs.writer import check_writable
from simulator.pipeline.backends import checked_threads
from simulator.studies.sensitivity import (
    check_factors,
    check_samples,
    model_runs,
    read_ranges,
    run_sensitivity,
    write_sensitivity,
)
from simulator.studies.sweep import Axis, parse_values, prepare_grid, run_grid, sweep_progress_total, write_sweep

ScenarioOpt = Annotated[Path | None, typer.Argument(help="scenario TOML file; default: the embedded demo district")]
SetOpt = Annotated[list[str] | None, typer.Option(
    "--set", metavar="KEY.PATH=VALUE", help="change the base scenario first: key.path=value (wildcards allowed, e.g. strikes[*].carriers=4)")]
RealizationsOpt = Annotated[int | None, typer.Option(help="realizations per run; default: the scenario's", min=1)]
SeedOpt = Annotated[int | None, typer.Option(help="random seed (the same for every run: common random numbers)", min=0)]
ThreadsOpt = Annotated[int | None, typer.Option(help="CPU threads (results do not depend on it)", min=1)]
OverwriteOpt = Annotated[bool, typer.Option("--overwrite", help="replace an existing output folder")]
QuietOpt = Annotated[bool, typer.Option("--quiet", help="no progress bar or messages")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print the results as JSON on stdout")]


def _base(scenario: Path | None, set_: list[str] | None, seed: int | None):
    overrides = list(set_ or [])
    if seed is not None:
        overrides.append(f"simulation.seed={seed}")
    return Variants.read(scenario or demo_scenario(), overrides), overrides


def _progress(label: str, show: bool) -> Progress:
    """A progress bar on stderr counting ``done/total`` with thousands separators and its task's unit."""
    return Progress(TextColumn(f"[bold]{label}"), BarColumn(), Count(), TimeElapsedColumn(), TimeRemainingColumn(),
                    console=err, disable=not show)


def sweep(
    scenario: ScenarioOpt = None,
    param: Annotated[list[str], typer.Option(
        "--param", metavar="KEY.PATH", help="the value to vary: a key path such as strikes[*].dud_rate.mean, strikes[3].dud_rate.mean, "
                        "clearance.detection_probability or profile.<id>.delivery_error.range_sd_m; give it twice "
                        "(each with its --values) for a grid of every combination")] = ...,
    values: Annotated[list[str], typer.Option(
        "--values", metavar="LIST|START:STOP:COUNT",
        help="a list 0.02,0.1,0.2 or a range start:stop:count such as 0.02:0.40:10 (both ends included); "
             "one per --param, in the same order")] = ...,
    label: Annotated[list[str] | None, typer.Option(
        "--label", metavar="TEXT", help="the parameter's name on plots (default: its key path); one per --param")] = None,
    scale: Annotated[bool, typer.Option("--scale", help="values are factors on the scenario's own values "
                                                        "(e.g. 0.5:2:7)")] = False,
    realizations: RealizationsOpt = None,
    seed: SeedOpt = None,
    threads: ThreadsOpt = None,
    set_: SetOpt = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="output folder; default: outputs/<name>-sweep")] = None,
    overwrite: OverwriteOpt = False,
    quiet: QuietOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Run a scenario at each value of one parameter, or on a grid of two (common random numbers), and plot them."""
    threads = checked_threads(threads)
    axes = _axes(param, values, label or [])
    variants, overrides = _base(scenario, set_, seed)
    points = prepare_grid(variants, axes, scale=scale, realizations=realizations)
    sc = points[0].loaded.scenario
    target = (out_dir or Path.cwd() / "outputs" / f"{sc.name}-sweep").resolve()
    check_writable(target, overwrite)
    show = not quiet and not json_
    n = sc.simulation.realizations
    if show:
        kind = "grid" if len(axes) == 2 else "sweep"
        shape = " x ".join(str(len(a.values)) for a in axes)
        _say(f"{kind} of {' and '.join(a.parameter for a in axes)}{' (as factors)' if scale else ''}: {shape} values x "
             f"{n:,} realizations = {len(points):,} model runs, {len(points) * n:,} realizations, seed "
             f"{sc.simulation.seed} for all (common random numbers)")
    released = sc.clearance is not None
    with _progress("realizations", show) as bar:
        task = bar.add_task("sweep", total=sweep_progress_total(points),
                            unit="map + release passes" if released else "")
        result = run_grid(variants, axes, scale=scale, threads=threads, prepared=points,
                          progress=lambda k: bar.advance(task, k))
    write_sweep(result, target, overwrite=overwrite, extra={"scenario_file": str(variants.path),
                                                            "overrides": overrides, "threads": threads})
    _report(result, target, json_, quiet, _print_sweep, f"outputs: {target} ({result.timings_s['total']:,.1f} s)")


def _axes(params: list[str], values: list[str], labels: list[str]) -> list[Axis]:
    """The swept parameters: ``--param``, ``--values`` and ``--label`` paired in order."""
    if len(values) != len(params):
        raise InputError(None, "--values", len(values), f"give one --values per --param ({len(params)})",
                         problem="lists of values for " + f"{len(params)} parameter(s);")
    if labels and len(labels) != len(params):
        raise InputError(None, "--label", len(labels), f"give one --label per --param ({len(params)}) or none",
                         problem="labels;")
    return [Axis(p, parse_values(v), (labels[k] if labels else None)) for k, (p, v) in enumerate(zip(params, values))]


def _say(text: str) -> None:
    """One plain message on stderr (no rich markup: paths hold brackets)."""
    err.print(text, highlight=False, soft_wrap=True, markup=False)


def _print_json(target: Path, result) -> None:
    record = {"output": str(target), **result.record(), "table": _records(result.table)}
    print(json.dumps(record, indent=2, default=str))


def _records(table) -> list[dict]:
    """Rows of ``table`` for strict JSON: NaN and infinite numbers (e.g. years beyond the time axis) as null."""
    return [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
            for row in table.to_dict(orient="records")]


def _print_sweep(result) -> None:
    table = Table(title=escape(f"{result.scenario}: {result.label}"), title_justify="left")
    columns = [(result.axis_label(k), key, "{:.4g}") for k, key in enumerate(("value", "value_2")[:len(result.axes)])]
    columns += [("remnants P50", "remnants_p50", "{:,.0f}"), ("contaminated ha P50", "contaminated_ha_p50", "{:,.2f}"),
                ("hazard map ha", "hazardous_ha", "{:,.2f}")]
    if "years_to_completion_p50" in result.table:
        columns.append(("years to completion P50", "years_to_completion_p50", "{:,.2f}"))
    for name, _, _ in columns:
        table.add_column(escape(name), justify="right", overflow="fold")
    for _, row in result.table.iterrows():
        table.add_row(*(fmt.format(row[key]) for _, key, fmt in columns))
    out.print(table)


def sensitivity(
    scenario: ScenarioOpt = None,
    ranges: Annotated[Path, typer.Option(
        "--ranges", help='TOML file mapping key paths to ranges: "strikes[*].dud_rate.mean" = [0.02, 0.40], '
                         'or { scale = [0.5, 2.0] } for factors on the scenario\'s values')] = ...,
    samples: Annotated[int, typer.Option(
        help="base samples N (a power of two); N x (parameters + 2) runs", min=2)] = 64,
    realizations: RealizationsOpt = None,
    seed: SeedOpt = None,
    threads: ThreadsOpt = None,
    set_: SetOpt = None,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", help="output folder; default: outputs/<name>-sensitivity")] = None,
    overwrite: OverwriteOpt = False,
    quiet: QuietOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Global sensitivity (Sobol' first-order and total indices with confidence intervals) over parameter ranges."""
    threads = checked_threads(threads)
    check_samples(samples)
    variants, overrides = _base(scenario, set_, seed)
    factors = read_ranges(ranges, variants)
    check_factors(variants, factors, ranges, realizations)
    sc = variants.variant().loaded.scenario
    n = realizations or sc.simulation.realizations
    target = (out_dir or Path.cwd() / "outputs" / f"{sc.name}-sensitivity").resolve()
    check_writable(target, overwrite)
    runs = model_runs(samples, len(factors))
    show = not quiet and not json_
    if show:
        _say(f"Sobol' analysis of {len(factors)} parameters: {samples:,} base samples x ({len(factors)} + 2) = "
             f"{runs:,} model runs of {n:,} realizations ({runs * n:,} realizations)")
    with _progress("model runs", show) as bar:
        task = bar.add_task("runs", total=runs, unit="model runs")
        result = run_sensitivity(variants, factors, samples, realizations=realizations, threads=threads,
                                 progress=lambda k: bar.advance(task, k))
    write_sensitivity(result, target, overwrite=overwrite, extra={
        "scenario_file": str(variants.path), "ranges_file": str(ranges), "overrides": overrides, "threads": threads})
    _report(result, target, json_, quiet, _print_sensitivity, f"outputs: {target}")


def _report(result, target: Path, json_: bool, quiet: bool, table, last_line: str) -> None:
    """The study's record as JSON, or its notes, its table and where the outputs went."""
    if json_:
        _print_json(target, result)
    elif not quiet:
        for note in result.notes:
            _say(f"note: {note}")
        table(result)
        _say(last_line)


def _print_sensitivity(result) -> None:
    table = Table(title=f"Sobol' indices ({result.conf_level:.0%} confidence intervals)", title_justify="left")
    table.add_column("metric", overflow="fold")
    table.add_column("parameter", overflow="fold")
    for name in ("S1", "+-", "ST", "+- "):
        table.add_column(name, justify="right", no_wrap=True)
    for _, row in result.table.iterrows():
        table.add_row(escape(row["metric"]), escape(row["parameter"]),
                      *(f"{row[key]:.3f}" for key in ("S1", "S1_conf", "ST", "ST_conf")))
    out.print(table)
