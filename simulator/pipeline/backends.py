"""Where realizations run: in this process on numba threads (the default), or on Dask.

A backend runs a range of realizations of the contamination pass or of the land-release
pass and returns their mergeable results. Every backend gives the same bytes for the same
scenario and seed, because each (realization, strike) has its own random stream and all
accumulators are integer sums.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numba

from simulator.engine.ensemble import Ensemble, run_ensemble
from simulator.engine.prepare import Setup
from simulator.errors import InputError
from simulator.release.land_release import Plan, ReleaseSums, score_plan
from simulator.release.zone_items import Extra

Progress = Callable[[int], None] | None


@dataclass
class LocalBackend:
    """Realizations run here, in parallel on ``threads`` numba threads."""

    threads: int | None = None

    def ensemble(self, setup: Setup, n: int, first: int, progress: Progress) -> Ensemble:
        """Realizations ``first .. first + n - 1`` of the contamination pass."""
        return run_ensemble(setup.kernel, n, first=first, threads=self.threads,
                            batch_size=setup.scenario.simulation.batch_size, progress=progress)

    def release(self, setup: Setup, plan: Plan, n: int, first: int, progress: Progress,
                extra: Extra | None = None) -> ReleaseSums:
        """Land release in realizations ``first .. first + n - 1``, counting ``extra``'s zones too
        (see ``score_plan``)."""
        return score_plan(setup, plan, n, first, self.threads, setup.scenario.simulation.batch_size, progress,
                          extra=extra)

    def close(self) -> None:
        """Nothing to release."""


def checked_threads(threads: int | None) -> int:
    """The thread count to use: ``threads``, at most what numba was started with (default: all of it)."""
    available = numba.config.NUMBA_NUM_THREADS
    if threads is not None and threads > available:
        raise InputError(None, "--threads", threads, f"use at most {available}, or set NUMBA_NUM_THREADS before running",
                         problem="exceeds the threads available;")
    return threads or available
