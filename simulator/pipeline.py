"""Run a scenario: load, prepare, simulate. Each stage takes data and returns data."""

from __future__ import annotations

import time
from collections.abc import Callable

import numba

from simulator.ensemble import run_ensemble
from simulator.loading import LoadedScenario
from simulator.release import make_plan, run_land_release
from simulator.result import Result
from simulator.setup import Setup, prepare


def simulate(
    loaded: LoadedScenario, *, threads: int | None = None, progress: Callable[[int], None] | None = None
) -> Result:
    """Prepare ``loaded`` and run its Monte Carlo ensemble."""
    t0 = time.perf_counter()
    setup = prepare(loaded, threads=threads or numba.config.NUMBA_NUM_THREADS)
    result = run(setup, threads=threads, progress=progress)
    result.timings_s["prepare"] = time.perf_counter() - t0 - result.timings_s["ensemble"]
    return result


def run(setup: Setup, *, threads: int | None = None, progress: Callable[[int], None] | None = None) -> Result:
    """Run the ensemble of a prepared scenario.

    ``threads`` changes speed only, never results; ``progress(n)`` is called after each
    batch of ``n`` realizations.
    """
    sim = setup.scenario.simulation
    t0 = time.perf_counter()
    ensemble = run_ensemble(setup.kernel, sim.realizations, threads=threads, batch_size=sim.batch_size, progress=progress)
    timings = {"ensemble": time.perf_counter() - t0}
    release = None
    if setup.scenario.clearance is not None:
        t0 = time.perf_counter()
        plan = make_plan(setup, ensemble)
        release = run_land_release(setup, plan, sim.realizations, threads, sim.batch_size, progress)
        timings["land_release"] = time.perf_counter() - t0
    return Result(setup, ensemble, timings, release)


def progress_total(setup: Setup) -> int:
    """Realizations a run passes through: twice when land release is simulated."""
    n = setup.scenario.simulation.realizations
    return 2 * n if setup.scenario.clearance is not None else n
