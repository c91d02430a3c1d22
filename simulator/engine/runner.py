"""Run a prepared scenario: the ensemble in checkpointed parts, then its land release."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from simulator.engine.checkpoint import Checkpoint
from simulator.engine.backends import LocalBackend
from simulator.engine.ensemble import Ensemble
from simulator.release.land_release import LandRelease, make_plan, release_cost
from simulator.results.result import Result
from simulator.inputs.prepare import Setup


def run(
    setup: Setup,
    *,
    threads: int | None = None,
    backend=None,
    progress: Callable[[int], None] | None = None,
    checkpoint: Checkpoint | None = None,
    checkpoint_every: int | None = None,
) -> Result:
    """Run the ensemble of a prepared scenario, then its land release if it has clearance.

    ``backend`` (default: this process on ``threads`` numba threads, see
    ``simulator.engine.backends``) changes speed only, never results; ``progress(n)`` is called as
    realizations finish. With a ``checkpoint``, the state is saved every ``checkpoint_every``
    realizations and a matching saved state is resumed from.
    """
    backend = backend or LocalBackend(threads)
    total = setup.scenario.simulation.realizations
    every = checkpoint_every or total
    t0 = time.perf_counter()
    ensemble = checkpoint.load_ensemble() if checkpoint is not None else None
    if ensemble is not None and progress is not None:
        progress(ensemble.realizations)
    for start in range(ensemble.realizations if ensemble else 0, total, every):
        part = backend.ensemble(setup, min(every, total - start), start, progress)
        ensemble = part if ensemble is None else ensemble.merge(part)
        if checkpoint is not None and ensemble.realizations < total:
            checkpoint.save_ensemble(ensemble)
    timings = {"ensemble": time.perf_counter() - t0}
    release = None
    if setup.scenario.clearance is not None:
        t0 = time.perf_counter()
        release = land_release(setup, ensemble, backend, progress, checkpoint, every)
        timings["land_release"] = time.perf_counter() - t0
    return Result(setup, ensemble, timings, release)


def land_release(
    setup: Setup, ensemble: Ensemble, backend, progress: Callable[[int], None] | None,
    checkpoint: Checkpoint | None, every: int,
) -> LandRelease:
    """Plan from the hazard map, then release land in every realization (resuming a checkpoint)."""
    total = setup.scenario.simulation.realizations
    plan = make_plan(setup, ensemble)
    done = checkpoint.load_release() if checkpoint is not None else None
    parts = [] if done is None else [done]
    start = 0 if done is None else len(done)
    if start and progress is not None:
        progress(start)
    for first in range(start, total, every):
        parts.append(backend.release(setup, plan, min(every, total - first), first, progress))
        if checkpoint is not None and first + every < total:
            state = np.concatenate(parts)
            checkpoint.save_release(state, len(state))
    state = np.concatenate(parts)
    return LandRelease(plan, state, release_cost(state, setup.scenario.clearance))


def progress_total(setup: Setup) -> int:
    """Realizations a run passes through: twice when land release is simulated."""
    n = setup.scenario.simulation.realizations
    return 2 * n if setup.scenario.clearance is not None else n
