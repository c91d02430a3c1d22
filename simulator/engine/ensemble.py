"""The Monte Carlo ensemble: realizations run in batches through the scatter kernel.

Accumulators are integer sums, so batches and threads may run in any order and merge to
the same bytes. Nothing is kept per submunition; per realization only small tables
(per epoch and zone) are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numba
import numpy as np

from simulator.engine.layout import GROUP_BLOCK, GROUPS, TILE_CELLS, group_epochs, group_of
from simulator.engine.scatter import CellSums, scatter
from simulator.engine.tiles import tile_kernels
from simulator.inputs.kernel_inputs import KernelInputs


@dataclass
class Ensemble:
    """Summed results of ``realizations`` realizations.

    ``sum_count``/``sum_sq`` (int64 per cell): sums of the remnant count and its square;
    ``hits`` (int32 [epoch, cell]): realizations whose cell was first contaminated (within
    the reference distance of a remnant) at that epoch; ``zone_items``/``zone_cells`` (int64 [realization, epoch, zone]): remnants and
    newly contaminated cells; ``totals`` (int64 [realization, 3]): dropped, remnants,
    remnants outside the grid; ``group_hits`` (int32 [GROUPS, epoch, cell]): ``hits`` per group
    of realizations (``group_of``), for the jackknife errors of figures computed from the whole
    ensemble; on grids with more than ``GROUP_EPOCH_CELLS`` epochs x cells, one epoch only (the
    realizations contaminated by the last).
    """

    realizations: int
    sum_count: np.ndarray
    sum_sq: np.ndarray
    hits: np.ndarray
    zone_items: np.ndarray
    zone_cells: np.ndarray
    totals: np.ndarray
    group_hits: np.ndarray

    def mean_count(self) -> np.ndarray:
        """Expected remnants per cell (flat)."""
        return self.sum_count / self.realizations

    def count_standard_error(self) -> np.ndarray:
        """Standard error of ``mean_count`` per cell (flat)."""
        n = self.realizations
        mean = self.sum_count / n
        var = np.maximum(self.sum_sq / n - mean**2, 0.0) * n / max(n - 1, 1)
        return np.sqrt(var / n)

    def p_contaminated(self) -> np.ndarray:
        """Probability that a cell is contaminated (flat) after every epoch [epoch, cell]."""
        return np.cumsum(self.hits, axis=0) / self.realizations

    def p_after(self, epoch: int) -> np.ndarray:
        """Probability that a cell is contaminated (flat) after ``epoch`` (-1: the last)."""
        epoch = epoch % len(self.hits)
        return self.hits[: epoch + 1].sum(axis=0, dtype=np.int32) / self.realizations

    def merge(self, other: Ensemble) -> Ensemble:
        """The ensemble of both sets of realizations (``other`` follows ``self``)."""
        return Ensemble(
            self.realizations + other.realizations,
            self.sum_count + other.sum_count,
            self.sum_sq + other.sum_sq,
            self.hits + other.hits,
            np.concatenate([self.zone_items, other.zone_items]),
            np.concatenate([self.zone_cells, other.zone_cells]),
            np.concatenate([self.totals, other.totals]),
            self.group_hits + other.group_hits,
        )

    def group_sizes(self) -> np.ndarray:
        """Realizations in each group (int64 [GROUPS])."""
        return np.bincount(group_of(np.arange(self.realizations)), minlength=GROUPS)

    def group_contaminated(self) -> np.ndarray:
        """Per group, realizations in which each cell is contaminated by the last epoch [GROUPS, cell]."""
        if self.group_hits.shape[1] == 1:
            return self.group_hits[:, 0]  # kept for the last epoch only: already the sum
        return self.group_hits.sum(axis=1, dtype=np.int32)

    def hazard_map(self) -> HazardMap:
        """What a planner knows: the probability of contamination per epoch and the density."""
        return HazardMap(self.hits, self.realizations, self.mean_count())

    def hazard_map_without(self, group: int) -> HazardMap | None:
        """The hazard map of the realizations outside ``group`` (the density kept whole), or None
        where the groups' hits were kept for the last epoch only."""
        if self.group_hits.shape[1] != self.hits.shape[0]:
            return None
        n = self.realizations - int(self.group_sizes()[group])
        return HazardMap(self.hits - self.group_hits[group], n, self.mean_count())


@dataclass(frozen=True)
class HazardMap:
    """What a planner knows: ``hits`` (int32 [epoch, cell]) the realizations, of ``realizations``,
    first contaminated at each epoch; ``mean_count`` (per cell) the expected remnants."""

    hits: np.ndarray
    realizations: int
    mean_count: np.ndarray

    @property
    def p_by_epoch(self) -> np.ndarray:
        """The probability of contamination after each epoch (float64 [epoch, cell])."""
        return np.cumsum(self.hits, axis=0) / self.realizations

    def reaches(self, threshold: float) -> np.ndarray:
        """``p_by_epoch >= threshold`` (bool [epoch, cell]), computed an epoch and a block of
        cells at a time so that the float64 probabilities are never held at once."""
        out = np.zeros(self.hits.shape, bool)
        for e, running in enumerate(cumulative_rows(self.hits)):
            for start in range(0, len(running), REACH_BLOCK):
                block = slice(start, start + REACH_BLOCK)
                out[e, block] = reaches_hits(running[block], self.realizations, threshold)
        return out

    def reaches_at(self, epoch: np.ndarray, cells: np.ndarray, threshold: float) -> np.ndarray:
        """``p_by_epoch[epoch, cells] >= threshold`` (bool per cell), summing only those cells' hits."""
        total = np.zeros(len(cells), np.int64)
        for e in range(len(self.hits)):
            take = epoch >= e
            total[take] += self.hits[e, cells[take]]
        return reaches_hits(total, self.realizations, threshold)


def reaches_hits(hits: np.ndarray, n: int, threshold: float) -> np.ndarray:
    """``hits / n >= threshold`` in float64 (no realizations: nothing reaches it), as ``hits >= least_hits``."""
    least = least_hits(n, threshold)
    return np.zeros(np.shape(hits), bool) if least is None else np.asarray(hits) >= least


def least_hits(n: int, threshold: float) -> int | None:
    """The fewest hits ``h >= 0`` of ``n`` realizations whose float64 ``h / n`` reaches ``threshold``
    (None: none do, or ``n`` is 0). Division rounds monotonically, so ``hits / n >= threshold``
    exactly when ``hits >= least_hits(n, threshold)``, for hits of any integer type, without a float array."""
    n = int(n)
    if n <= 0 or not threshold < np.inf:  # nan or inf: nothing reaches it
        return None
    if threshold <= 0.0:
        return 0
    h = max(0, int(np.ceil(threshold * n)))
    while h > 0 and (h - 1) / n >= threshold:
        h -= 1
    while h / n < threshold:
        h += 1
    return h


def cumulative_rows(hits: np.ndarray):
    """The cumulative sums of ``hits`` [epoch, cell] over epochs, one epoch at a time (int32, one
    buffer reused: read each row before asking for the next)."""
    running = np.zeros(hits.shape[1], np.int32)
    for row in hits:
        running += row
        yield running


REACH_BLOCK = 1 << 22
"""Cells whose probabilities are held at once (float64) when a map is thresholded."""


def run_ensemble(
    inputs: KernelInputs,
    realizations: int,
    first: int = 0,
    threads: int | None = None,
    batch_size: int = 64,
    progress: Callable[[int], None] | None = None,
    tile_cells: int = TILE_CELLS,
    draw=scatter,
) -> Ensemble:
    """Run realizations ``first .. first + realizations - 1``; call ``progress(n)`` after each batch.
    ``draw`` runs a batch (``scatter``'s signature; the posterior's draws resampled realizations).

    A grid wider or taller than ``tile_cells`` is run tile by tile (see ``simulator.engine.tiles``);
    the result is the same ensemble.
    """
    if inputs.tile is None and max(inputs.nx, inputs.ny) > tile_cells:
        tiles = tile_kernels(inputs, tile_cells)
        done = ((tile, _run_window(tile, realizations, first, threads, batch_size, None)) for tile in tiles)
        return assemble(inputs, realizations, done, len(tiles), progress)
    return _run_window(inputs, realizations, first, threads, batch_size, progress, draw)


def assemble(
    inputs: KernelInputs, realizations: int, done: Iterable[tuple[KernelInputs, Ensemble]], n_tiles: int,
    progress: Callable[[int], None] | None = None,
) -> Ensemble:
    """The whole grid's ensemble from (tile, tile ensemble) pairs, taken one at a time as they come.

    ``progress`` is told the realizations' share of each tile done, in whole realizations.
    """
    shape = (inputs.ny, inputs.nx)
    sum_count = np.zeros(shape, np.int64)
    sum_sq = np.zeros(shape, np.int64)
    hits = np.zeros((inputs.n_epochs, *shape), np.int32)
    per_real = (realizations, inputs.n_epochs, inputs.n_zones)
    zone_items, zone_cells = np.zeros(per_real, np.int64), np.zeros(per_real, np.int64)
    totals = np.zeros((realizations, 3), np.int64)
    group_hits = np.zeros((GROUPS, group_epochs(inputs.n_epochs, inputs.nx * inputs.ny), *shape), np.int32)
    reported = 0
    for k, (tile, ensemble) in enumerate(done, start=1):
        w0, q0, wnx, wny = tile.tile
        c0, r0, tnx, tny = tile.core
        core = (slice(r0 - q0, r0 - q0 + tny), slice(c0 - w0, c0 - w0 + tnx))
        window = (slice(r0, r0 + tny), slice(c0, c0 + tnx))
        sum_count[window] = ensemble.sum_count.reshape(wny, wnx)[core]
        sum_sq[window] = ensemble.sum_sq.reshape(wny, wnx)[core]
        hits[(slice(None), *window)] = ensemble.hits.reshape(-1, wny, wnx)[(slice(None), *core)]
        for g in np.flatnonzero(ensemble.group_hits.reshape(GROUPS, -1).any(axis=1)):
            # groups without realizations stay untouched zeros, which take no memory
            group_hits[(g, slice(None), *window)] = ensemble.group_hits[g].reshape(-1, wny, wnx)[(slice(None), *core)]
        zone_items += ensemble.zone_items[:, :, :-1]  # the last zone is the tile's halo
        zone_cells += ensemble.zone_cells[:, :, :-1]
        totals += ensemble.totals
        totals[:, 1] -= ensemble.zone_items[:, :, -1].sum(axis=1)  # halo remnants belong to other tiles
        if progress is not None:
            due = realizations * k // n_tiles
            progress(due - reported)
            reported = due
    if progress is not None and reported < realizations:
        progress(realizations - reported)
    return Ensemble(realizations, sum_count.ravel(), sum_sq.ravel(), hits.reshape(inputs.n_epochs, -1), zone_items,
                    zone_cells, totals, group_hits.reshape(GROUPS, group_hits.shape[1], -1))


def _run_window(inputs, realizations, first, threads, batch_size, progress, draw=scatter) -> Ensemble:
    """Realizations ``first .. first + realizations - 1`` of one window (the grid or a tile), in
    batches of at most ``batch_size`` that never cross a ``GROUP_BLOCK`` boundary, each a whole number
    of realizations per thread where it holds more than one per thread (so no thread waits on another)."""
    threads = threads or numba.config.NUMBA_NUM_THREADS
    sums = CellSums.zeros(inputs, threads)
    epochs = group_epochs(inputs.n_epochs, inputs.nx * inputs.ny)
    group_hits = np.zeros((GROUPS, epochs, inputs.n_cells), np.int32)
    before = np.zeros((epochs, inputs.n_cells), np.int32)
    parts = []
    start, end = first, first + realizations
    while start < end:
        block_end = (start // GROUP_BLOCK + 1) * GROUP_BLOCK
        n = min(batch_size, end - start, block_end - start)
        if n > threads:
            n -= n % threads
        parts.append(draw(inputs, start, n, sums))
        now = sums.hits.sum(axis=0, dtype=np.int32)
        now = now if epochs == inputs.n_epochs else now.sum(axis=0, keepdims=True, dtype=np.int32)
        group_hits[group_of(start)] += now - before
        before = now
        start += n
        if progress is not None:
            progress(n)
    return Ensemble(
        realizations,
        sums.sum_count.sum(axis=0),
        sums.sum_sq.sum(axis=0),
        sums.hits.sum(axis=0, dtype=np.int32),
        np.concatenate([p.zone_items for p in parts]),
        np.concatenate([p.zone_cells for p in parts]),
        np.concatenate([p.totals for p in parts]),
        group_hits,
    )
