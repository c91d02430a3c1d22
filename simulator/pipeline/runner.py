"""Run a prepared scenario: the hazard map's ensemble in checkpointed parts, then its land release,
each grown until the scenario's precision targets are met (``simulator.results.precision``)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from simulator.engine.ensemble import Ensemble
from simulator.engine.prepare import Setup
from simulator.pipeline.backends import LocalBackend
from simulator.pipeline.checkpoint import Checkpoint
from simulator.release.land_release import LandRelease, Plan, ReleaseSums, make_plan
from simulator.release.zone_items import Extra
from simulator.results.precision import deadline_error, map_settled
from simulator.results.release_tables import deadline_chances
from simulator.results.result import Result, polygon_extra
from simulator.results.uncertainty import jackknife_se

Progress = Callable[[int], None] | None

JACKKNIFE_SCORED = 100
"""Scored realizations each leave-one-group-out plan is measured on (common to all of them). Each
contributes its chance of meeting the deadline, a smooth function of the plan, so 100 give the
map's error as well as 200 or 400 did (demo, 841 realizations: 0.0079, 0.0073)."""
MAP_ROUNDS = 4
"""Times the hazard map may grow for the error of P(deadline) before the run stops trying."""


def run(
    setup: Setup,
    *,
    threads: int | None = None,
    backend=None,
    progress: Progress = None,
    grow: Progress = None,
    checkpoint: Checkpoint | None = None,
    checkpoint_every: int | None = None,
) -> Result:
    """Run the ensemble of a prepared scenario, then its land release if it has clearance.

    ``backend`` (default: this process on ``threads`` numba threads, see
    ``simulator.pipeline.backends``) changes speed only, never results; ``progress(n)`` is called
    as realizations finish and ``grow(n)`` when a precision target adds ``n`` to do. With a
    ``checkpoint``, the state is saved every ``checkpoint_every`` realizations and a matching
    saved state is resumed from.
    """
    backend = backend or LocalBackend(threads)
    sim = setup.scenario.simulation
    every = checkpoint_every or sim.realizations
    t0 = time.perf_counter()
    ensemble = checkpoint.load_ensemble() if checkpoint is not None else None
    if ensemble is not None and progress is not None:
        progress(ensemble.realizations)
    total = max(sim.realizations, ensemble.realizations if ensemble else 0)
    ensemble = _grow_map(setup, backend, ensemble, total, every, progress, checkpoint)
    while sim.target is not None and ensemble.realizations < sim.target.max_realizations \
            and not map_settled(setup, ensemble, sim.target):
        more = _grown(ensemble.realizations, sim.realizations, sim.target.max_realizations, grow)
        ensemble = _grow_map(setup, backend, ensemble, more, every, progress, checkpoint)
    timings = {"ensemble": time.perf_counter() - t0}
    release = None
    if setup.scenario.clearance is not None:
        t0 = time.perf_counter()
        release, ensemble = _release_with_map_error(setup, ensemble, backend, progress, grow, checkpoint, every)
        timings["land_release"] = time.perf_counter() - t0
    return Result(setup, ensemble, timings, release)


def _grow_map(setup, backend, ensemble: Ensemble | None, total: int, every: int, progress: Progress,
              checkpoint: Checkpoint | None) -> Ensemble:
    """``ensemble`` with realizations added up to ``total``, checkpointed every ``every``."""
    for start in range(ensemble.realizations if ensemble else 0, total, every):
        part = backend.ensemble(setup, min(every, total - start), start, progress)
        ensemble = part if ensemble is None else ensemble.merge(part)
        if checkpoint is not None and ensemble.realizations < total:
            checkpoint.save_ensemble(ensemble)
    return ensemble


def _grown(total: int, step: int, cap: int, grow: Progress, wanted: int = 0) -> int:
    """``total`` after one more step of realizations (or up to ``wanted``; at most ``cap``), told to ``grow``."""
    more = min(cap, max(total + step, wanted))
    if grow is not None:
        grow(more - total)
    return more


def _release_with_map_error(setup, ensemble, backend, progress, grow, checkpoint, every):
    """Land release by the plan from ``ensemble``'s map, with the error P(deadline) owes to the
    map; under a deadline target the map grows (and the plan is made and scored again) until
    that error is small enough."""
    target = setup.scenario.simulation.target
    for round_ in range(MAP_ROUNDS + 1):
        release = land_release(setup, make_plan(setup, ensemble.hazard_map()), backend, progress, grow, checkpoint,
                               every, polygon_extra(setup, ensemble))
        release = replace(release, map_replicates=map_replicates(setup, ensemble, backend))
        if target is None or target.p_deadline_se is None or not len(release.map_replicates):
            return release, ensemble
        share = target.p_deadline_se / math.sqrt(2.0)  # the map's part of the error budget
        map_se = jackknife_se(release.map_replicates)
        n = ensemble.realizations
        if map_se <= share or n >= target.max_realizations or round_ == MAP_ROUNDS:
            return release, ensemble
        wanted = math.ceil(n * (map_se / share) ** 2)
        more = _grown(n, setup.scenario.simulation.realizations, target.max_realizations, grow, wanted)
        ensemble = _grow_map(setup, backend, ensemble, more, every, progress, checkpoint)
        if checkpoint is not None:
            checkpoint.clear_release()
    return release, ensemble


def map_replicates(setup: Setup, ensemble: Ensemble, backend) -> np.ndarray:
    """P(deadline) of the plan from the map with each group of realizations left out, all scored
    on the first ``JACKKNIFE_SCORED`` scored realizations (empty without a deadline, or where the
    groups' hits were kept for the last epoch only)."""
    clearance = setup.scenario.clearance
    if clearance.deadline is None:
        return np.zeros(0)
    n = min(JACKKNIFE_SCORED, setup.scenario.simulation.realizations)
    replicates = []
    for group in np.flatnonzero(ensemble.group_sizes()):
        known = ensemble.hazard_map_without(int(group))
        if known is None:
            return np.zeros(0)
        plan = make_plan(setup, known)
        sums = backend.release(setup, plan, n, 0, None)
        replicates.append(float(deadline_chances(setup, LandRelease.of(plan, sums, clearance)).mean()))
    return np.array(replicates)


def land_release(
    setup: Setup, plan: Plan, backend, progress: Progress, grow: Progress, checkpoint: Checkpoint | None,
    every: int, extra: Extra | None = None,
) -> LandRelease:
    """Release land by ``plan`` in the scored realizations (resuming a checkpoint), until
    P(deadline)'s error over them meets its share of the precision target. Each part of
    ``every`` realizations is checkpointed on its own, once. ``extra``: a zone map to count remnants
    in during the same pass (the CHA polygons', see ``Result._items_per_zone``)."""
    sim = setup.scenario.simulation
    clearance = setup.scenario.clearance
    parts = checkpoint.load_release() if checkpoint is not None else []
    have = sum(len(p) for p in parts)
    if have and progress is not None:
        progress(have)
    total = max(sim.realizations, have)
    target = sim.target
    while True:
        for first in range(have, total, every):
            part = backend.release(setup, plan, min(every, total - first), first, progress, extra=extra)
            parts.append(part)
            have = first + len(part)
            if checkpoint is not None and have < total:
                checkpoint.save_release(part, first)
        parts = [ReleaseSums.concat(parts)]
        release = LandRelease.of(plan, parts[0], clearance)
        met = deadline_chances(setup, release)
        if (target is None or target.p_deadline_se is None or met is None or total >= target.max_realizations
                or deadline_error(met) <= target.p_deadline_se / math.sqrt(2.0)):
            return release
        total = _grown(total, sim.realizations, target.max_realizations, grow)


def progress_total(setup: Setup) -> int:
    """Realizations a run passes through at first: twice when land release is simulated."""
    n = setup.scenario.simulation.realizations
    return 2 * n if setup.scenario.clearance is not None else n
