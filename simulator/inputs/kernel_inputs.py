"""What the scatter kernel reads, prepared from a scenario: strike tables, grid, per-cell arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def disc_half_widths(reference_distance_m: float, cell_size_m: float) -> np.ndarray:
    """Half-widths (cells, int64 [2 r + 1]) of the rows of cells whose centres lie within
    ``reference_distance_m`` of a cell's centre, for row offsets ``-r .. r``; ``[0]`` at 0 m."""
    reach = reference_distance_m / cell_size_m
    r = int(np.floor(reach + 1e-9))
    dy = np.arange(-r, r + 1)
    return np.floor(np.sqrt(np.maximum(reach * reach - dy * dy, 0.0)) + 1e-9).astype(np.int64)


@dataclass(frozen=True)
class KernelInputs:
    """Everything the scatter kernel reads, prepared from a scenario.

    ``f``/``ti``: strike tables sorted by epoch; ``key``: the root random key (two uint64);
    ``cell_class``: per cell (flat) index into ``class_mult``, the dud multipliers; ``zone``:
    per cell reporting zone in ``[0, n_zones)``; ``disc``: the reference-distance disc
    (``disc_half_widths``); ``tile``: the window of the grid these per-cell arrays cover
    (default: the whole grid); ``core``: the part of the window a tile reports (grid columns and
    rows, default: the whole window), the rest being its halo, whose cells are in zone
    ``n_zones - 1``.
    """

    f: np.ndarray
    ti: np.ndarray
    key: tuple[int, int]
    x0: float
    y0: float
    cell_size_m: float
    nx: int
    ny: int
    cell_class: np.ndarray
    class_mult: np.ndarray
    zone: np.ndarray
    n_zones: int
    n_epochs: int
    disc: np.ndarray
    tile: tuple[int, int, int, int] | None = None
    core: tuple[int, int, int, int] | None = None

    @property
    def window(self) -> np.ndarray:
        """(first column, first row, columns, rows) of the part of the grid accumulated: a tile or all of it."""
        return np.array(self.tile if self.tile is not None else (0, 0, self.nx, self.ny), np.int64)

    @property
    def n_cells(self) -> int:
        """Cells accumulated (the tile's)."""
        return int(self.window[2] * self.window[3])

    @property
    def halo_cells(self) -> int:
        """Cells a tile needs beyond its core so that every disc reaching the core is seen."""
        return (len(self.disc) - 1) // 2
