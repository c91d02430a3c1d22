"""``remnant run``: run a scenario with a progress bar, then print its summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from simulator.cli.console import Count, err, out
from simulator.cli.summary import print_summary
from simulator.config.demo import demo_scenario
from simulator.config.variants import load_scenario
from simulator.engine.analytic import expected_count
from simulator.engine.memory import gib, machine_bytes
from simulator.engine.prepare import prepare
from simulator.errors import InputError
from simulator.outputs.netcdf import NETCDF_FILE, write_netcdf
from simulator.outputs.writer import check_writable, write_analytic
from simulator.pipeline import Reporter, execute
from simulator.pipeline.backends import checked_threads
from simulator.rerun import check_run

ScenarioArg = Annotated[Path | None, typer.Argument(help="scenario TOML file; default: the embedded demo district")]


class ConsoleReporter(Reporter):
    """Land-use notes, the memory estimate and a progress bar on stderr.

    The bar counts realizations; with land release each realization is passed through twice
    (once for the hazard map, once scored against the plan), so it counts passes and says so.
    Writing the outputs is its last row.
    """

    def __init__(self, show: bool, warn: bool):
        self.show, self.warn = show, warn
        self.bar: Progress | None = None

    def prepared(self, setup, total: int) -> None:
        if self.show:
            for line in setup.land_use.report.lines():
                err.print(f"land use: {line}", highlight=False, markup=False)  # values from the user's layer
            err.print(f"estimated peak memory: {gib(setup.memory_bytes)} (this machine: {gib(machine_bytes())})",
                      highlight=False)
        off = int((~setup.on_grid).sum())
        if off and self.warn:
            err.print(f"[yellow]warning:[/] {off} strike aim points lie outside the study area", highlight=False)
        released = setup.scenario.clearance is not None
        self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), Count(), TimeElapsedColumn(),
                            TimeRemainingColumn(), console=err, disable=not self.show)
        self.bar.start()
        self.task = self.bar.add_task("realizations", total=total,
                                      unit="map + release passes" if released else "")

    def advance(self, n: int) -> None:
        self.bar.advance(self.task, n)

    def grow(self, n: int) -> None:
        self.bar.update(self.task, total=self.bar.tasks[0].total + n)

    def writing(self) -> None:
        self.bar.update(self.task, completed=self.bar.tasks[0].total)
        self.bar.add_task("writing outputs", total=None, unit="")

    def checkpoint_replaced(self) -> None:
        if self.warn:
            err.print("note: an interrupted run's checkpoint was found and is replaced; use --resume to continue one",
                      highlight=False)

    def finished(self) -> None:
        if self.bar is not None:
            for task in self.bar.tasks[1:]:
                self.bar.update(task.id, total=1, completed=1)
            self.bar.stop()


def run(
    scenario: ScenarioArg = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="output folder; default: outputs/<name>")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", metavar="KEY.PATH=VALUE", help="override a scenario value: key.path=value")] = None,
    realizations: Annotated[int | None, typer.Option(help="number of realizations", min=1)] = None,
    seed: Annotated[int | None, typer.Option(help="random seed", min=0)] = None,
    threads: Annotated[int | None, typer.Option(help="CPU threads (results do not depend on it)", min=1)] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="replace an existing output folder")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="finish an interrupted run from its checkpoint")] = False,
    checkpoint_every: Annotated[int, typer.Option(help="save a checkpoint every N realizations", min=1)] = 1000,
    check: Annotated[Path | None, typer.Option(help="rerun the run in this folder and compare its outputs")] = None,
    analytic: Annotated[bool, typer.Option("--analytic", help="fast preview: the expected density computed without sampling")] = False,
    force: Annotated[bool, typer.Option("--force", help="run even when the estimated memory exceeds the machine's")] = False,
    workers: Annotated[int | None, typer.Option(help="run on a local Dask cluster of N worker processes", min=1)] = None,
    scheduler: Annotated[str | None, typer.Option(help="run on the Dask cluster of this tls://HOST:PORT")] = None,
    dashboard: Annotated[bool, typer.Option("--dashboard", help="serve the Dask dashboard on 127.0.0.1; print its address")] = False,
    tls_ca_file: Annotated[Path | None, typer.Option(help="the tls:// cluster's CA certificate (PEM)")] = None,
    tls_cert: Annotated[Path | None, typer.Option(help="this client's certificate for tls:// (PEM)")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="its private key (PEM); default: in --tls-cert")] = None,
    insecure: Annotated[bool, typer.Option("--insecure", help="allow plain tcp:// beyond this machine: anyone reaching "
                                                "it runs code on every worker")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress bar or summary table")] = False,
    json_: Annotated[bool, typer.Option("--json", help="print the summary as JSON on stdout")] = False,
    netcdf: Annotated[bool, typer.Option("--netcdf", help=f"also write the rasters as NetCDF ({NETCDF_FILE})")] = False,
) -> None:
    """Run a scenario's Monte Carlo ensemble and write maps, hazard polygons and tables."""
    threads = checked_threads(threads)
    if check is not None:
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
    if analytic and netcdf:
        raise InputError(None, "--netcdf", None, "leave out --analytic", problem="needs a Monte Carlo run;")
    if analytic:
        setup = prepare(loaded, threads=threads)
        summary = write_analytic(setup, expected_count(setup), target, overwrite=overwrite,
                                 extra={"overrides": overrides})
        if json_:
            print(json.dumps(summary | {"output": str(target)}, indent=2))
        elif not quiet:
            out.print(f"analytic preview: {summary['expected_duds_on_grid']:,.1f} expected duds on the grid; "
                      f"outputs: {target}", highlight=False)
        return
    backend = None
    if workers is not None or scheduler is not None:
        from simulator.pipeline.dask_backend import DaskBackend  # distributed is an optional extra

        backend = DaskBackend(workers=workers, scheduler=scheduler, dashboard=dashboard, tls_ca_file=tls_ca_file,
                              tls_cert=tls_cert, tls_key=tls_key, insecure=insecure,
                              announce=lambda url: err.print(f"dask dashboard: {url}", highlight=False, markup=False))
        backend.client  # connect now, so that a bad --scheduler fails before any work
    elif dashboard or insecure or tls_ca_file or tls_cert or tls_key:
        raise InputError(None, "--dashboard, --insecure and --tls-*", None, "give --workers N or --scheduler ADDRESS",
                         problem="apply only to a Dask run;")
    try:
        result = execute(loaded, target, threads=threads, backend=backend, resume=resume,
                         checkpoint_every=checkpoint_every, overwrite=overwrite, force=force,
                         extra={"overrides": overrides}, reporter=ConsoleReporter(not quiet and not json_, not quiet))
    finally:
        if backend is not None:
            backend.close()
    if netcdf:
        write_netcdf(result, target / NETCDF_FILE)
    if json_:
        print(json.dumps(result.summary | {"output": str(target)}, indent=2))
    elif not quiet:
        print_summary(result.summary, target)
