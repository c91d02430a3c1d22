"""What the scatter kernel reads, prepared from a scenario: strike tables, grid, per-cell arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class KernelInputs:
    """Everything the scatter kernel reads, prepared from a scenario.

    ``f``/``ti``: strike tables sorted by epoch; ``key``: the root random key (two uint64);
    ``cell_class``: per cell (flat) index into ``class_mult``, the dud multipliers; ``zone``:
    per cell reporting zone in ``[0, n_zones)``; ``tile``: the window of the grid these
    per-cell arrays cover (default: the whole grid).
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
    tile: tuple[int, int, int, int] | None = None

    @property
    def window(self) -> np.ndarray:
        """(first column, first row, columns, rows) of the part of the grid accumulated: a tile or all of it."""
        return np.array(self.tile if self.tile is not None else (0, 0, self.nx, self.ny), np.int64)

    @property
    def n_cells(self) -> int:
        """Cells accumulated (the tile's)."""
        return int(self.window[2] * self.window[3])
