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

from simulator.kernels import scatter_ensemble
from simulator.engine.kernel_inputs import KernelInputs
from simulator.engine.tiles import tile_kernels


@dataclass
class Ensemble:
    """Summed results of ``realizations`` realizations.

    ``sum_count``/``sum_sq`` (int64 per cell): sums of the remnant count and its square;
    ``hits`` (int32 [epoch, cell]): realizations whose cell first held a remnant at that
    epoch; ``zone_items``/``zone_cells`` (int64 [realization, epoch, zone]): remnants and
    newly contaminated cells; ``totals`` (int64 [realization, 3]): dropped, remnants,
    remnants outside the grid.
    """

    realizations: int
    sum_count: np.ndarray
    sum_sq: np.ndarray
    hits: np.ndarray
    zone_items: np.ndarray
    zone_cells: np.ndarray
    totals: np.ndarray

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
        """Probability of at least one remnant per cell (flat) after every epoch [epoch, cell]."""
        return np.cumsum(self.hits, axis=0) / self.realizations

    def p_after(self, epoch: int) -> np.ndarray:
        """Probability of at least one remnant per cell (flat) after ``epoch`` (-1: the last)."""
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
        )


TILE_CELLS = 2048
"""Side of the tiles (cells) that grids larger than one tile are run in: 4 million cells, so that
a thread's accumulators stay under about 300 MB."""


def run_ensemble(
    inputs: KernelInputs,
    realizations: int,
    first: int = 0,
    threads: int | None = None,
    batch_size: int = 64,
    progress: Callable[[int], None] | None = None,
    tile_cells: int = TILE_CELLS,
) -> Ensemble:
    """Run realizations ``first .. first + realizations - 1``; call ``progress(n)`` after each batch.

    A grid wider or taller than ``tile_cells`` is run tile by tile (see ``simulator.engine.tiles``);
    the result is the same ensemble.
    """
    if inputs.tile is None and max(inputs.nx, inputs.ny) > tile_cells:
        tiles = tile_kernels(inputs, tile_cells)
        done = ((tile, _run_window(tile, realizations, first, threads, batch_size, None)) for tile in tiles)
        return assemble(inputs, realizations, done, len(tiles), progress)
    return _run_window(inputs, realizations, first, threads, batch_size, progress)


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
    reported = 0
    for k, (tile, ensemble) in enumerate(done, start=1):
        c0, r0, tnx, tny = tile.tile
        window = (slice(r0, r0 + tny), slice(c0, c0 + tnx))
        sum_count[window] = ensemble.sum_count.reshape(tny, tnx)
        sum_sq[window] = ensemble.sum_sq.reshape(tny, tnx)
        hits[(slice(None), *window)] = ensemble.hits.reshape(-1, tny, tnx)
        zone_items += ensemble.zone_items
        zone_cells += ensemble.zone_cells
        totals += ensemble.totals
        if progress is not None:
            due = realizations * k // n_tiles
            progress(due - reported)
            reported = due
    if progress is not None and reported < realizations:
        progress(realizations - reported)
    return Ensemble(realizations, sum_count.ravel(), sum_sq.ravel(), hits.reshape(inputs.n_epochs, -1), zone_items,
                    zone_cells, totals)


def _run_window(inputs, realizations, first, threads, batch_size, progress) -> Ensemble:
    threads = threads or numba.config.NUMBA_NUM_THREADS
    numba.set_num_threads(threads)
    n_cells = inputs.n_cells
    sum_count = np.zeros((threads, n_cells), np.int64)
    sum_sq = np.zeros((threads, n_cells), np.int64)
    hits = np.zeros((threads, inputs.n_epochs, n_cells), np.int32)
    per_real = (realizations, inputs.n_epochs, inputs.n_zones)
    zone_items = np.zeros(per_real, np.int64)
    zone_cells = np.zeros(per_real, np.int64)
    totals = np.zeros((realizations, 3), np.int64)
    key0, key1 = (np.uint64(k) for k in inputs.key)
    for start in range(0, realizations, batch_size):
        n = min(batch_size, realizations - start)
        batch = slice(start, start + n)
        scatter_ensemble(
            inputs.f, inputs.ti, key0, key1, first + start, n, threads, inputs.x0, inputs.y0, inputs.cell_size_m,
            inputs.nx, inputs.ny, inputs.window, inputs.cell_class, inputs.class_mult, inputs.zone, inputs.n_zones, inputs.n_epochs,
            sum_count, sum_sq, hits, zone_items[batch], zone_cells[batch], totals[batch],
        )
        if progress is not None:
            progress(n)
    return Ensemble(
        realizations,
        sum_count.sum(axis=0),
        sum_sq.sum(axis=0),
        hits.sum(axis=0, dtype=np.int32),
        zone_items,
        zone_cells,
        totals,
    )


def root_key(seed: int) -> tuple[int, int]:
    """Two well-mixed uint64 words from the scenario seed (numpy's SeedSequence)."""
    words = np.random.SeedSequence(seed).generate_state(2, np.uint64)
    return int(words[0]), int(words[1])
