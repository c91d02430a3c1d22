"""Tiles: country-size grids run piece by piece, so memory stays bounded.

Each tile runs the strikes whose footprint can reach it, with each strike's own random
stream, and accumulates only the remnants that land in it. A strike's dropped items and
the remnants it places outside the study area are counted in one tile only, its home (the
tile holding its aim point, or the nearest). Tiles therefore sum to the whole grid.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from simulator.kernels import strike_table as T
from simulator.engine.kernel_inputs import KernelInputs

REACH_SD = 8.0
"""Delivery errors reach this many standard deviations: a remnant lands farther from its
aim with probability about exp(-32), once in 1e14, and is then missed by the tile it lands in."""


def plan_tiles(nx: int, ny: int, tile_cells: int) -> list[tuple[int, int, int, int]]:
    """(first column, first row, columns, rows) of square tiles of ``tile_cells`` side covering the grid."""
    return [
        (col, row, min(tile_cells, nx - col), min(tile_cells, ny - row))
        for row in range(0, ny, tile_cells)
        for col in range(0, nx, tile_cells)
    ]


def strike_reach_m(f: np.ndarray, ti: np.ndarray) -> np.ndarray:
    """Per strike, the distance (m) from its aim point within which its remnants land."""
    pattern = np.maximum(f[:, T.HALF_ALONG], f[:, T.HALF_ACROSS])
    stick = 0.5 * np.maximum(ti[:, T.CARRIERS] - 1, 0) * f[:, T.CARRIER_SPACING]
    error = np.sqrt(f[:, T.AIM_SD] ** 2 + np.maximum(f[:, T.CARRIER_SD_ALONG], f[:, T.CARRIER_SD_ACROSS]) ** 2)
    return pattern + stick + REACH_SD * error


def tile_kernels(inputs: KernelInputs, tile_cells: int) -> list[KernelInputs]:
    """The kernel inputs of every tile that has strikes to run, each with its strike subset."""
    reach = strike_reach_m(inputs.f, inputs.ti)
    cell = inputs.cell_size_m
    x, y = inputs.f[:, T.AIM_X], inputs.f[:, T.AIM_Y]
    col = np.clip((x - inputs.x0) // cell, 0, inputs.nx - 1)
    row = np.clip((inputs.y0 - y) // cell, 0, inputs.ny - 1)
    lo_col, hi_col = (x - reach - inputs.x0) // cell, (x + reach - inputs.x0) // cell
    lo_row, hi_row = (inputs.y0 - y - reach) // cell, (inputs.y0 - y + reach) // cell
    grid_class = inputs.cell_class.reshape(inputs.ny, inputs.nx)
    grid_zone = inputs.zone.reshape(inputs.ny, inputs.nx)
    tiles = []
    for c0, r0, tnx, tny in plan_tiles(inputs.nx, inputs.ny, tile_cells):
        home = (col >= c0) & (col < c0 + tnx) & (row >= r0) & (row < r0 + tny)
        reaches = (hi_col >= c0) & (lo_col < c0 + tnx) & (hi_row >= r0) & (lo_row < r0 + tny)
        chosen = np.flatnonzero(home | reaches)
        if chosen.size == 0:
            continue
        ti = inputs.ti[chosen].copy()
        ti[:, T.HOME] = home[chosen]
        window = (slice(r0, r0 + tny), slice(c0, c0 + tnx))
        tiles.append(replace(
            inputs, f=np.ascontiguousarray(inputs.f[chosen]), ti=ti, tile=(c0, r0, tnx, tny),
            cell_class=np.ascontiguousarray(grid_class[window]).ravel(),
            zone=np.ascontiguousarray(grid_zone[window]).ravel(),
        ))
    return tiles
