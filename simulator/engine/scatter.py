"""The scatter kernel behind one call: it owns its accumulators, so the ensemble, land release,
benchmarks and tests run it the same way."""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from simulator.inputs.kernel_inputs import KernelInputs
from simulator.kernels.scatter import scatter_ensemble


@dataclass
class CellSums:
    """Per-thread sums over realizations (int64 [thread, cell]: count, count squared; int32
    [thread, epoch, cell]: realizations first contaminated at each epoch)."""

    sum_count: np.ndarray
    sum_sq: np.ndarray
    hits: np.ndarray

    @classmethod
    def zeros(cls, inputs: KernelInputs, threads: int) -> CellSums:
        n = inputs.n_cells
        return cls(np.zeros((threads, n), np.int64), np.zeros((threads, n), np.int64),
                   np.zeros((threads, inputs.n_epochs, n), np.int32))

    @classmethod
    def rows(cls, threads: int, n_epochs: int) -> CellSums:
        """Sums of no cells, one row per thread: for a ``scatter(..., counts_only=True)`` that reads none."""
        return cls(np.zeros((threads, 0), np.int64), np.zeros((threads, 0), np.int64),
                   np.zeros((threads, n_epochs, 0), np.int32))


@dataclass
class Tallies:
    """Per realization of a batch: remnants and newly contaminated cells per epoch and zone
    (int64 [realization, epoch, zone]); dropped, remnants and remnants off the grid (int64 [realization, 3])."""

    zone_items: np.ndarray
    zone_cells: np.ndarray
    totals: np.ndarray


def scatter(inputs: KernelInputs, first: int, n: int, sums: CellSums, counts_only: bool = False) -> Tallies:
    """Run realizations ``first .. first + n - 1`` on as many threads as ``sums`` has rows,
    adding to ``sums``; return the batch's per-realization tallies. ``counts_only``: their remnants
    per epoch and zone and their totals only (``zone_cells`` zero, ``sums`` untouched: see
    ``CellSums.rows``), the same draws and counts."""
    threads = sums.sum_count.shape[0]  # chunks, each on its own Python thread
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))  # for the parallel kernels that follow
    shape = (n, inputs.n_epochs, inputs.n_zones)
    tallies = Tallies(np.zeros(shape, np.int64), np.zeros(shape, np.int64), np.zeros((n, 3), np.int64))
    key0, key1 = (np.uint64(k) for k in inputs.key)
    scatter_ensemble(
        inputs.f, inputs.ti, key0, key1, first, n, threads, inputs.x0, inputs.y0, inputs.cell_size_m, inputs.nx,
        inputs.ny, inputs.window, inputs.cell_class, inputs.class_mult, inputs.zone, inputs.disc, sums.sum_count,
        sums.sum_sq, sums.hits, tallies.zone_items, tallies.zone_cells, tallies.totals, counts_only,
    )
    return tallies
