"""One function runs a scenario: load, prepare, simulate; another writes the outputs."""

from __future__ import annotations

import time
from collections.abc import Callable

import numba

from simulator.ensemble import run_ensemble
from simulator.loading import LoadedScenario
from simulator.result import Result
from simulator.setup import prepare


def simulate(
    loaded: LoadedScenario,
    *,
    threads: int | None = None,
    progress: Callable[[int], None] | None = None,
    on_prepared: Callable[[object], None] | None = None,
) -> Result:
    """Run the Monte Carlo ensemble of ``loaded`` and return the result.

    ``threads`` changes speed only, never results; ``progress(n)`` is called after each batch
    of ``n`` realizations, ``on_prepared(setup)`` once the grid and strikes are ready.
    """
    sim = loaded.scenario.simulation
    threads = threads or numba.config.NUMBA_NUM_THREADS
    t0 = time.perf_counter()
    setup = prepare(loaded, threads=threads)
    if on_prepared is not None:
        on_prepared(setup)
    t1 = time.perf_counter()
    ensemble = run_ensemble(setup.kernel, sim.realizations, threads=threads, batch_size=sim.batch_size, progress=progress)
    t2 = time.perf_counter()
    return Result(setup, ensemble, {"prepare": t1 - t0, "ensemble": t2 - t1})
