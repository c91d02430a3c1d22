"""The study-area raster grid: a north-up grid of square cells in a projected CRS."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from affine import Affine


@dataclass(frozen=True)
class Grid:
    """North-up grid of ``nx`` by ``ny`` square cells of ``cell_size_m`` metres.

    ``x0`` and ``y0`` are the coordinates (m) of the grid's upper-left corner; row 0 is
    the northern row. Flat cell index = ``row * nx + col``.
    """

    crs: str
    x0: float
    y0: float
    cell_size_m: float
    nx: int
    ny: int

    @classmethod
    def from_extent(cls, crs: str, extent_m: tuple[float, float, float, float], cell_size_m: float) -> Grid:
        """Grid covering ``(xmin, ymin, xmax, ymax)`` (m), outer edges snapped outward to whole cells."""
        xmin, ymin, xmax, ymax = extent_m
        x0 = np.floor(xmin / cell_size_m) * cell_size_m
        y0 = np.ceil(ymax / cell_size_m) * cell_size_m
        nx = max(1, int(np.ceil((xmax - x0) / cell_size_m - 1e-9)))
        ny = max(1, int(np.ceil((y0 - ymin) / cell_size_m - 1e-9)))
        return cls(crs, float(x0), float(y0), float(cell_size_m), nx, ny)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols)."""
        return (self.ny, self.nx)

    @property
    def n_cells(self) -> int:
        return self.nx * self.ny

    @property
    def cell_area_m2(self) -> float:
        return self.cell_size_m**2

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) in metres."""
        return (self.x0, self.y0 - self.ny * self.cell_size_m, self.x0 + self.nx * self.cell_size_m, self.y0)

    @property
    def transform(self) -> Affine:
        """The rasterio affine transform from (col, row) to (x, y)."""
        return Affine(self.cell_size_m, 0.0, self.x0, 0.0, -self.cell_size_m, self.y0)

    def cell_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """x (per column) and y (per row) of cell centres, in metres."""
        half = 0.5 * self.cell_size_m
        xs = self.x0 + half + self.cell_size_m * np.arange(self.nx)
        ys = self.y0 - half - self.cell_size_m * np.arange(self.ny)
        return xs, ys
