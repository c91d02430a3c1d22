"""Each work unit's schedule over the scored realizations: the land-release pass records, per unit
(same random streams, so the same outcomes as the run's), the reporting step in which each method
(NTS, TS, BAC teams) first worked it and the step in which it finished it, the area each route
released and the items it held. ``ScheduleSums`` sums these batch by batch (memory flat in
realizations), in its own pass (``unit_schedule``) or in the risk's pass by work unit
(``simulator.results.risk.UnitStates``), which releases the same realizations by the same plan.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.config.clearance import METHODS
from simulator.engine.layout import TILE_CELLS
from simulator.engine.prepare import Setup
from simulator.engine.scatter import scatter
from simulator.kernels import release as K
from simulator.release.bands import ExactBands
from simulator.release.land_release import Plan, run_land_release

SCHEDULE_CHUNK = 64
"""Scored realizations recorded per pass (memory: this many x units x ``K.N_UNIT_METRICS`` floats)."""

QUANTILES = (0.5, 0.9)
@dataclass(frozen=True)
class UnitSchedule:
    """Per unit in work order, over ``realizations`` scored realizations: the share in which each
    method worked it [unit, method]; start and finish steps [unit, method, quantile] (NaN: never, or
    beyond the time axis); mean area released by each route (m2) [unit, route]; items landed in it
    (mean, P95)."""

    realizations: int
    worked: np.ndarray
    start: np.ndarray
    finish: np.ndarray
    released_m2: np.ndarray
    items_mean: np.ndarray
    items_p95: np.ndarray


def step_quantiles(counts: np.ndarray, n: np.ndarray, quantiles=QUANTILES) -> np.ndarray:
    """Quantiles (inverse of the empirical distribution function) of steps given per-step counts
    ``counts`` [..., bins] of ``n`` [...] values each; the last bin stands for "beyond the axis"
    and gives NaN, as does ``n == 0``."""
    cumulative = np.cumsum(counts, axis=-1)
    out = np.full((*counts.shape[:-1], len(quantiles)), np.nan)
    for j, q in enumerate(quantiles):
        step = np.argmax(cumulative >= np.maximum(q * n, 1e-12)[..., None], axis=-1)
        out[..., j] = np.where((n > 0) & (step < counts.shape[-1] - 1), step, np.nan)
    return out


def unit_schedule(setup: Setup, plan: Plan, realizations: int, threads: int | None = None, draw=scatter,
                  tile_cells: int = TILE_CELLS) -> UnitSchedule:
    """Record each unit's schedule over scored realizations ``0 .. realizations - 1`` (``draw``: their scatter
    call, the posterior's with evidence)."""
    sums = ScheduleSums(len(plan.units), len(setup.steps))
    for first in range(0, realizations, SCHEDULE_CHUNK):
        n = min(SCHEDULE_CHUNK, realizations - first)
        units = np.empty((n, len(plan.units), K.N_UNIT_METRICS))
        run_land_release(setup, plan, n, first, threads, setup.scenario.simulation.batch_size, tile_cells=tile_cells,
                         draw=draw, schedule=units)
        sums.add(units)
    return sums.schedule()


class ScheduleSums:
    """Unit schedules (``K.release_units``' rows [realization, unit in work order, ``K.N_UNIT_METRICS``])
    of realizations ``0, 1, ..`` added in order, in batches of any size: summed in chunks of
    ``SCHEDULE_CHUNK`` realizations, so that the areas' floating-point sums, and the schedule, do
    not depend on the batches."""

    def __init__(self, n_units: int, n_steps: int):
        self.n_units, self.n_steps = n_units, n_steps
        self.counts = np.zeros(n_units * 2 * len(METHODS) * (n_steps + 1), np.int64)
        self.released = np.zeros((n_units, len(METHODS)))
        self.items = ExactBands((n_units,), np.ones(n_units))  # items per unit: whole numbers, memory flat
        self.chunk = np.empty((SCHEDULE_CHUNK, n_units, K.N_UNIT_METRICS))
        self.held = self.realizations = 0

    def add(self, rows: np.ndarray) -> None:
        while len(rows):
            take = min(SCHEDULE_CHUNK - self.held, len(rows))
            self.chunk[self.held:self.held + take] = rows[:take]
            self.held, rows = self.held + take, rows[take:]
            if self.held == SCHEDULE_CHUNK:
                self._fold()

    def _fold(self) -> None:
        units, n_cols, bins = self.chunk[:self.held], 2 * len(METHODS), self.n_steps + 1
        steps = units[:, :, K.UNIT_START:K.UNIT_START + n_cols].astype(np.int64)
        steps[steps < 0] = self.n_steps
        index = (np.arange(self.n_units)[:, None] * n_cols + np.arange(n_cols)) * bins + steps
        self.counts += np.bincount(index.ravel(), minlength=self.counts.size)
        self.released += units[:, :, K.UNIT_RELEASED_M2:K.UNIT_RELEASED_M2 + len(METHODS)].sum(axis=0)
        self.items.add(units[:, :, K.UNIT_ITEMS])
        self.realizations += self.held
        self.held = 0

    def schedule(self) -> UnitSchedule:
        """The schedule of the realizations added so far."""
        if self.held:
            self._fold()
        n_units, realizations, released = self.n_units, self.realizations, self.released
        counts = self.counts.reshape(n_units, 2, len(METHODS), self.n_steps + 1)
        started, finished = counts[:, 0], counts[:, 1].copy()
        worked = realizations - started[:, :, -1]
        finished[:, :, -1] -= realizations - worked  # a method that never started never finished either
        if realizations == 0:
            empty = np.zeros(n_units)
            return UnitSchedule(0, np.zeros((n_units, 3)), np.full((n_units, 3, 2), np.nan),
                                np.full((n_units, 3, 2), np.nan), released, empty, empty)
        items = self.items.bands(1.0)
        return UnitSchedule(
            realizations, worked / realizations, step_quantiles(started, worked), step_quantiles(finished, worked),
            released / realizations, items["mean"], items["p95"],
        )


