"""How much memory a run will need, estimated before it starts."""

from __future__ import annotations

import os

from simulator.engine.layout import GROUPS, TILE_CELLS, group_epochs
from simulator.inputs.grid import Grid

BASE_BYTES = 400 * 2**20
"""Python, numpy, numba, GDAL and the other libraries once loaded (bytes)."""
BAND_VALUES = 1000
"""Assumption: distinct values one land-release figure (a step, class and metric) takes across
realizations; each is a whole number of items or cells, and its histogram stops growing once
these are seen."""


def machine_bytes() -> int:
    """Physical memory of this machine (bytes)."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def estimate_peak_bytes(
    grid: Grid, *, epochs: int, threads: int, realizations: int, zones: int, steps: int, clearance: bool
) -> int:
    """An upper estimate of a run's peak memory (bytes).

    Whole-grid arrays per cell: the sums of counts and squares (16 B), first hits per epoch
    (4 B each), the jackknife groups' hits (4 B per group and kept epoch), land-use codes and
    zones (5 B), the result rasters and their temporaries (about 40 B); with land release, the
    plan's zones and what it is cut from (4 B, and 2 B per epoch). Per thread, the accumulators
    of one tile and the kernel's scratch (20 B per cell); the land-release pass is tiled too and
    counts items per zone only (8 B of scratch per tile cell and thread). Per realization, the tables by epoch and zone, and land release's final
    state by class and its completion step; its bands are histograms of 16 B per value seen,
    taken as at most ``BAND_VALUES`` values per step, class and metric.
    """
    cells = grid.n_cells
    tile = min(grid.nx, TILE_CELLS) * min(grid.ny, TILE_CELLS)
    per_cell = 16 + 4 * epochs + 4 * GROUPS * group_epochs(epochs, cells) + 5 + 40
    scratch = 16 + 4 * epochs + 20
    total = BASE_BYTES + cells * per_cell + threads * tile * scratch
    total += realizations * (epochs * zones * 16 + 24)
    if clearance:
        total += cells * (4 + 2 * epochs) + threads * tile * 8 + realizations * (zones * 64 + 8)
        total += steps * (zones + 1) * 8 * min(realizations, BAND_VALUES) * 16
    return int(total)


def gib(n: float) -> str:
    """``n`` bytes as text in GiB."""
    return f"{n / 2**30:.1f} GiB"
