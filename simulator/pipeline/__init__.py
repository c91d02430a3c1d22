"""The one way a scenario is run: inputs -> ensemble -> land release -> results -> outputs.

``execute`` is called by the command line, ``remnant run --check``, the Python API and the
studies; with an output folder it checkpoints the run and writes every output, without one it
returns the ``Result`` only. A ``Reporter`` hears what a caller may want to show.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from simulator.config.loading import LoadedScenario
from simulator.engine.ensemble import run_ensemble
from simulator.engine.posterior import condition
from simulator.engine.prepare import Setup, prepare
from simulator.errors import InputError
from simulator.outputs.writer import write_outputs
from simulator.pipeline.backends import checked_threads
from simulator.pipeline.checkpoint import Checkpoint
from simulator.pipeline.evidence import PosteriorBackend
from simulator.pipeline.runner import progress_total, run
from simulator.release.cmrs import run_cmrs
from simulator.results.evidence import EvidenceOutcome
from simulator.results.provenance import scenario_hash
from simulator.results.result import Result


class Reporter:
    """Told as a run goes; the default tells nobody. Subclass to show progress."""

    def prepared(self, setup: Setup, total: int) -> None:
        """Inputs are ready; ``total`` progress units (realizations, twice with land release) follow."""

    def advance(self, n: int) -> None:
        """``n`` more progress units are done."""

    def grow(self, n: int) -> None:
        """A precision target adds ``n`` progress units to do."""

    def writing(self) -> None:
        """The run is done; its outputs are being written."""

    def checkpoint_replaced(self) -> None:
        """An interrupted run's checkpoint was found and is started afresh."""

    def finished(self) -> None:
        """The run and its outputs are done (or it failed)."""


def execute(
    loaded: LoadedScenario,
    target: Path | None = None,
    *,
    threads: int | None = None,
    backend=None,
    resume: bool = False,
    checkpoint_every: int | None = None,
    overwrite: bool = False,
    force: bool = False,
    extra: dict | None = None,
    reporter: Reporter | None = None,
) -> Result:
    """Prepare and run ``loaded``; with a ``target`` folder, checkpoint and write every output there.

    ``backend`` (default: this process) changes speed, never results; ``extra`` is recorded in
    run.json; ``resume`` finishes an interrupted run whose checkpoint has the same inputs.
    """
    reporter = reporter or Reporter()
    threads = checked_threads(threads)
    t0 = time.perf_counter()
    setup = prepare(loaded, threads=threads, force=force)
    posterior = condition(setup, threads)  # evidence read and weighed before anything is written
    prepared_s = time.perf_counter() - t0
    checkpoint = None
    if target is not None:
        sim = setup.scenario.simulation
        checkpoint = Checkpoint(target, {"scenario_sha256": scenario_hash(setup), "seed": sim.seed,
                                         "realizations": sim.realizations})
        if resume and not checkpoint.matches():
            raise InputError(None, "--resume", str(target), "run without --resume to start afresh",
                             problem="has no checkpoint of these inputs, seed and number of realizations;")
        if not resume:
            if checkpoint.exists():
                reporter.checkpoint_replaced()
            checkpoint.start()
    try:
        reporter.prepared(setup, progress_total(setup))
        result = run(setup, threads=threads, backend=backend if posterior is None else
                     PosteriorBackend(backend, posterior, threads), progress=reporter.advance, grow=reporter.grow,
                     checkpoint=checkpoint, checkpoint_every=checkpoint_every)
        result.timings_s["prepare"] = prepared_s
        if posterior is not None:
            result.evidence = EvidenceOutcome(setup, posterior, run_ensemble(
                setup.kernel, result.ensemble.realizations, threads=threads, batch_size=setup.scenario.simulation.batch_size))
        if result.land_release is not None and setup.scenario.clearance.cmrs is not None:
            t0 = time.perf_counter()
            result.cmrs = run_cmrs(setup, result.land_release.realizations, threads)
            result.timings_s["cmrs"] = time.perf_counter() - t0
        if target is not None:
            reporter.writing()
            write_outputs(result, target, overwrite=overwrite or resume, extra=(extra or {}) | {"threads": threads})
            checkpoint.clear()
    finally:
        reporter.finished()
    return result


class ProgressReporter(Reporter):
    """Calls ``progress(n)`` as progress units finish."""

    def __init__(self, progress: Callable[[int], None]):
        self.progress = progress

    def advance(self, n: int) -> None:
        self.progress(n)


def simulate(loaded: LoadedScenario, *, threads: int | None = None,
             progress: Callable[[int], None] | None = None) -> Result:
    """Prepare and run ``loaded`` without writing anything; ``progress(n)`` as realizations finish."""
    return execute(loaded, None, threads=threads, reporter=None if progress is None else ProgressReporter(progress))
