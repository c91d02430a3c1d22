"""The ``remnant`` command line: run, validate, catalog, schema, init."""

from __future__ import annotations

import json
import shutil
import signal
import sys
from importlib import resources
from pathlib import Path
from typing import Annotated

import matplotlib
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from simulator.errors import InputError

app = typer.Typer(
    name="remnant",
    help="Simulate cluster munition remnant contamination and land release, for humanitarian mine action.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

INTERRUPTED = 130
"""Exit code of a run stopped by Ctrl-C (128 + SIGINT)."""

ScenarioArg = Annotated[Path | None, typer.Argument(help="scenario TOML file; default: the embedded demo district")]


def demo_scenario() -> Path:
    """The embedded demo scenario: packaged as ``simulator/demo`` in a wheel, ``scenarios/`` in a checkout."""
    packaged = Path(str(resources.files("simulator"))) / "demo" / "demo-district.toml"
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parents[1] / "scenarios" / "demo-district.toml"


def main() -> None:
    """Entry point: bad input is one line on stderr and exit code 2, never a traceback."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    matplotlib.use("Agg")
    try:
        code = app(standalone_mode=False)
    except InputError as exc:
        err.print(Text.assemble(("remnant: error:", "bold red"), " ", exc.line()), highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        code = INTERRUPTED
    except MemoryError:
        err.print("remnant: error: the run ran out of memory; no outputs were written. "
                  "Use larger cells, a smaller extent or fewer realizations.", highlight=False)
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, EOFError):
        sys.exit(1)
    except Exception as exc:  # click usage errors
        from click import ClickException

        if isinstance(exc, ClickException):
            exc.show()
            sys.exit(2)
        raise
    if code == INTERRUPTED:  # typer turns Ctrl-C into this exit code
        err.print("remnant: interrupted; no outputs were written or changed. "
                  "Run the same command with --resume to finish from the last checkpoint.", highlight=False)
    if isinstance(code, int) and code:
        sys.exit(code)


@app.command()
def run(
    scenario: ScenarioArg = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="output folder; default: outputs/<name>")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="override a scenario value: key.path=value")] = None,
    realizations: Annotated[int | None, typer.Option(help="number of realizations", min=1)] = None,
    seed: Annotated[int | None, typer.Option(help="random seed", min=0)] = None,
    threads: Annotated[int | None, typer.Option(help="CPU threads (results do not depend on it)", min=1)] = None,
    overwrite: Annotated[bool, typer.Option(help="replace an existing output folder")] = False,
    resume: Annotated[bool, typer.Option(help="finish an interrupted run from its checkpoint")] = False,
    checkpoint_every: Annotated[int, typer.Option(help="save a checkpoint every N realizations", min=1)] = 1000,
    check: Annotated[Path | None, typer.Option(help="rerun the run in this folder and compare its outputs")] = None,
    analytic: Annotated[bool, typer.Option(help="fast preview: the expected density computed without sampling")] = False,
    force: Annotated[bool, typer.Option(help="run even when the estimated memory exceeds the machine's")] = False,
    workers: Annotated[int | None, typer.Option(help="run on a local Dask cluster of N worker processes", min=1)] = None,
    scheduler: Annotated[str | None, typer.Option(help="run on the Dask cluster of this scheduler address")] = None,
    quiet: Annotated[bool, typer.Option(help="no progress bar or summary table")] = False,
    json_: Annotated[bool, typer.Option("--json", help="print the summary as JSON on stdout")] = False,
) -> None:
    """Run a scenario's Monte Carlo ensemble and write maps, hazard polygons and tables."""
    from simulator.loading import load_scenario
    from simulator.writer import check_writable

    threads = checked_threads(threads)
    if check is not None:
        from simulator.rerun import check_run

        identical = check_run(check, threads, out)
        raise typer.Exit(0 if identical else 1)
    overrides = list(set_ or [])
    if realizations is not None:
        overrides.append(f"simulation.realizations={realizations}")
    if seed is not None:
        overrides.append(f"simulation.seed={seed}")
    loaded = load_scenario(scenario or demo_scenario(), overrides)
    target = (out_dir or loaded.output_dir).resolve()
    check_writable(target, overwrite)
    if analytic:
        summary = preview(loaded, target, overrides, threads, overwrite)
        if json_:
            print(json.dumps(summary | {"output": str(target)}, indent=2))
        elif not quiet:
            out.print(f"analytic preview: {summary['expected_duds_on_grid']:,.1f} expected duds on the grid; "
                      f"outputs: {target}", highlight=False)
        return
    backend = None
    if workers is not None or scheduler is not None:
        from simulator.distributed import DaskBackend

        backend = DaskBackend(workers=workers, scheduler=scheduler)
    try:
        result = execute(loaded, target, overrides, threads, resume=resume, checkpoint_every=checkpoint_every,
                         show=not quiet and not json_, warn=not quiet, overwrite=overwrite, backend=backend,
                         force=force)
    finally:
        if backend is not None:
            backend.close()
    if json_:
        print(json.dumps(result.summary | {"output": str(target)}, indent=2))
    elif not quiet:
        print_summary(result.summary, target)


def preview(loaded, target: Path, overrides: list[str], threads: int, overwrite: bool) -> dict:
    """The analytic expected density of ``loaded``, written to ``target``."""
    from simulator.analytic import expected_count
    from simulator.setup import prepare
    from simulator.writer import write_analytic

    setup = prepare(loaded, threads=threads)
    return write_analytic(setup, expected_count(setup), target, overwrite=overwrite, extra={"overrides": overrides})


def execute(loaded, target: Path, overrides: list[str], threads: int, *, resume: bool = False,
            checkpoint_every: int | None = None, show: bool = False, warn: bool = False, overwrite: bool = False,
            backend=None, force: bool = False):
    """Prepare, run with checkpoints, and write the outputs of ``loaded`` into ``target``."""
    from simulator.checkpoint import Checkpoint
    from simulator.pipeline import progress_total
    from simulator.pipeline import run as run_prepared
    from simulator.provenance import scenario_hash
    from simulator.setup import prepare
    from simulator.writer import write_outputs

    from simulator.memory import gib, machine_bytes

    setup = prepare(loaded, threads=threads, force=force)
    if show:
        for line in setup.land_use.report.lines():
            err.print(f"land use: {line}", highlight=False)
        err.print(f"estimated peak memory: {gib(setup.memory_bytes)} (this machine: {gib(machine_bytes())})",
                  highlight=False)
    off = int((~setup.on_grid).sum())
    if off and warn:
        err.print(f"[yellow]warning:[/] {off} strike aim points lie outside the study area", highlight=False)
    sim = setup.scenario.simulation
    checkpoint = Checkpoint(target, {"scenario_sha256": scenario_hash(setup), "seed": sim.seed,
                                     "realizations": sim.realizations})
    if resume and not checkpoint.matches():
        raise InputError(None, "--resume", str(target), "run without --resume to start afresh",
                         problem="has no checkpoint of this scenario, seed and number of realizations;")
    if not resume:
        if checkpoint.exists() and warn:
            err.print("note: an interrupted run's checkpoint was found and is replaced; use --resume to continue one",
                      highlight=False)
        checkpoint.start()
    with Progress(
        TextColumn("[bold]realizations"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TimeRemainingColumn(), console=err, disable=not show,
    ) as bar:
        task = bar.add_task("realizations", total=progress_total(setup))
        result = run_prepared(setup, threads=threads, backend=backend, progress=lambda k: bar.advance(task, k),
                              checkpoint=checkpoint, checkpoint_every=checkpoint_every)
    write_outputs(result, target, overwrite=overwrite or resume,
                  extra={"overrides": overrides, "threads": threads})
    checkpoint.clear()
    return result


def checked_threads(threads: int | None) -> int:
    """The thread count to use, at most what numba was started with."""
    import numba

    available = numba.config.NUMBA_NUM_THREADS
    if threads is not None and threads > available:
        raise InputError(None, "--threads", threads, f"use at most {available}, or set NUMBA_NUM_THREADS before running",
                         problem="exceeds the threads available;")
    return threads or available


def print_summary(summary: dict, target: Path) -> None:
    table = Table(title=f"{summary['scenario']}: {summary['realizations']} realizations", title_justify="left")
    table.add_column("land use")
    for name in ("remnants (mean)", "contaminated ha P5", "P50", "P95", "hazardous ha"):
        table.add_column(name, justify="right")
    for row in summary["by_class"]:
        table.add_row(row["name"], f"{row['remnants_mean']:.1f}", f"{row['contaminated_ha_p5']:.2f}",
                      f"{row['contaminated_ha_p50']:.2f}", f"{row['contaminated_ha_p95']:.2f}", f"{row['hazardous_ha']:.2f}")
    table.add_row("all", f"{summary['expected_duds'] - summary['duds_outside_grid_mean']:.1f}",
                  f"{summary['contaminated_ha_p5']:.2f}", f"{summary['contaminated_ha_p50']:.2f}",
                  f"{summary['contaminated_ha_p95']:.2f}", f"{summary['hazardous_ha']:.2f}", style="bold")
    out.print(table)
    out.print(
        f"items dropped: {summary['items_dropped']:,}   expected duds: {summary['expected_duds']:,.1f} "
        f"(SE {summary['expected_duds_se']:.1f}), of which outside the study area: {summary['duds_outside_grid_mean']:.1f}",
        highlight=False,
    )
    release = summary.get("land_release")
    if release:
        def years(value):
            return f"{value:.1f} years" if value is not None else "beyond the time horizon"

        out.print(
            f"land release ({release['policy']}, from {release['clearance_start']}): all hazardous land released in "
            f"{years(release['years_to_completion_p50'])} (P50), {years(release['years_to_completion_p90'])} (P90)",
            highlight=False,
        )
        if release["deadline"]:
            deadline = release["deadline"]
            out.print(f"probability of meeting the {deadline['date']} deadline: {deadline['p_released_by_deadline']:.0%}",
                      highlight=False)
        out.print(
            f"items found: {release['items_found_mean']:,.0f}   residual items in released land: "
            f"{release['residual_items_mean']:,.0f}   in land never suspected: {release['items_in_unsuspected_land_mean']:,.0f}"
            f"   cost: {release['cost_mean']:,.0f} (mean)",
            highlight=False,
        )
    out.print(f"outputs: {target}", highlight=False)


@app.command()
def validate(
    scenario: Annotated[Path, typer.Argument(help="scenario TOML file")],
    set_: Annotated[list[str] | None, typer.Option("--set", help="override a scenario value: key.path=value")] = None,
) -> None:
    """Check a scenario and its land-use layer without running it."""
    from simulator.loading import load_scenario
    from simulator.setup import prepare

    setup = prepare(load_scenario(scenario, list(set_ or [])))
    grid = setup.grid
    out.print(f"{scenario}: valid", highlight=False)
    out.print(f"  grid: {grid.nx} x {grid.ny} cells of {grid.cell_size_m:g} m in {grid.crs}", highlight=False)
    out.print(f"  strikes: {len(setup.strikes)} over {len(setup.epoch_steps)} reporting steps", highlight=False)
    for line in setup.land_use.report.lines():
        out.print(f"  land use: {line}", highlight=False)
    off = int((~setup.on_grid).sum())
    if off:
        out.print(f"  [yellow]warning:[/] {off} strike aim points lie outside the study area", highlight=False)


@app.command()
def catalog(json_: Annotated[bool, typer.Option("--json", help="print the catalog as JSON")] = False) -> None:
    """List the delivery profiles with their parameters and public sources."""
    from simulator.profiles import builtin_catalog

    profiles = builtin_catalog()
    if json_:
        print(json.dumps({k: p.model_dump(exclude_none=True) for k, p in profiles.items()}, indent=2))
        return
    for p in profiles.values():
        length, width = p.footprint()
        table = Table(title=f"{p.id}: {p.name} ({p.example})", title_justify="left", show_header=False)
        table.add_column("parameter", style="bold")
        table.add_column("value")
        table.add_column("source", style="dim")
        src = p.sources
        err_ = p.delivery_error
        table.add_row("family", p.family, "")
        table.add_row("submunitions per carrier", str(p.submunitions_per_carrier), src.get("submunitions_per_carrier", ""))
        table.add_row("pattern", f"{p.pattern.kind}, {length:.0f} x {width:.0f} m", src.get("pattern", ""))
        if p.footprint_by_altitude:
            f = p.footprint_by_altitude
            table.add_row("footprint by altitude", f"{f.altitude_m[0]:g}-{f.altitude_m[1]:g} m: "
                          f"{f.length_m[0]:g} x {f.width_m[0]:g} to {f.length_m[1]:g} x {f.width_m[1]:g} m",
                          src.get("footprint_by_altitude", ""))
        table.add_row("delivery error (SD)", f"along {err_.range_sd:.0f} m, across {err_.deflection_sd:.0f} m, "
                      f"common {err_.aim_sd_m:.0f} m", src.get("delivery_error", ""))
        if p.carrier_spacing_m:
            table.add_row("carrier spacing", f"{p.carrier_spacing_m:g} m", src.get("carrier_spacing_m", ""))
        d = p.dud_rate
        ranges = ", ".join(f"{name} {r[0]:.0%}-{r[1]:.0%}" for name, r in (("test", d.test_range), ("field", d.field_range)) if r)
        table.add_row("dud rate", f"mean {d.mean:.0%}, SD {d.spread:.0%}" + (f"; {ranges}" if ranges else ""),
                      src.get("dud_rate", ""))
        out.print(table)
    out.print("Figures marked 'assumption' have no public source; set your own in a scenario's [[profiles]].")


@app.command()
def schema(markdown: Annotated[bool, typer.Option(help="print the Markdown reference instead")] = False) -> None:
    """Print the scenario file's JSON Schema."""
    from simulator.reference import json_schema, markdown_reference

    print(markdown_reference() if markdown else json.dumps(json_schema(), indent=2), end="" if markdown else "\n")


@app.command()
def init(directory: Annotated[Path, typer.Argument(help="folder to create the starter scenario in")]) -> None:
    """Write a commented starter scenario (a copy of the demo district) that validates and runs."""
    target = directory / "scenario.toml"
    if target.exists():
        raise InputError(None, "DIRECTORY", str(directory), "choose an empty folder", problem="already has a scenario.toml;")
    demo = demo_scenario()
    (directory / "data").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(demo.parent / "data" / "demo-district.gpkg", directory / "data" / "demo-district.gpkg")
    text = demo.read_text(encoding="utf-8").replace('name = "demo-district"', 'name = "starter"', 1)
    target.write_text(text, encoding="utf-8")
    out.print(f"wrote {target} and its land-use layer; run it with: remnant run {target}", highlight=False)


from simulator.study_cli import sensitivity, sweep  # noqa: E402

app.command()(sweep)
app.command()(sensitivity)
