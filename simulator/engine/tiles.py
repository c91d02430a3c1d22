"""Tiles: country-size grids run piece by piece, so memory stays bounded.

Each tile runs the strikes whose footprint can reach it, with each strike's own random
stream, and accumulates the remnants that land in it or in its halo: the cells within the
reference distance of its edge, so that contamination reaching into the tile from outside is
seen. Only the tile's core is reported; halo cells form a zone of their own whose remnants are
taken off the tile's totals. A strike's dropped items and the remnants it places outside the
study area are counted in one tile only, its home (the tile holding its aim point, or the
nearest). Tiles therefore sum to the whole grid.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from simulator.inputs.kernel_inputs import KernelInputs
from simulator.kernels import strike_table as T

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


def strike_reach_m(f: np.ndarray, ti: np.ndarray, sds: float = REACH_SD) -> np.ndarray:
    """Per strike, the distance (m) from its aim point within which its remnants land (delivery
    errors taken to ``sds`` standard deviations)."""
    pattern = np.maximum(f[:, T.HALF_ALONG], f[:, T.HALF_ACROSS])
    stick = 0.5 * np.maximum(ti[:, T.CARRIERS] - 1, 0) * f[:, T.CARRIER_SPACING]
    error = np.sqrt(f[:, T.AIM_SD] ** 2 + np.maximum(f[:, T.CARRIER_SD_ALONG], f[:, T.CARRIER_SD_ACROSS]) ** 2)
    return pattern + stick + sds * error


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
    halo = inputs.halo_cells
    tiles = []
    for c0, r0, tnx, tny in plan_tiles(inputs.nx, inputs.ny, tile_cells):
        w0, q0 = max(c0 - halo, 0), max(r0 - halo, 0)
        w1, q1 = min(c0 + tnx + halo, inputs.nx), min(r0 + tny + halo, inputs.ny)
        home = (col >= c0) & (col < c0 + tnx) & (row >= r0) & (row < r0 + tny)
        reaches = (hi_col >= w0) & (lo_col < w1) & (hi_row >= q0) & (lo_row < q1)
        chosen = np.flatnonzero(home | reaches)
        if chosen.size == 0:
            continue
        ti = inputs.ti[chosen].copy()
        ti[:, T.HOME] = home[chosen]
        window = (slice(q0, q1), slice(w0, w1))
        zone = np.full((q1 - q0, w1 - w0), inputs.n_zones, np.int32)
        zone[r0 - q0:r0 - q0 + tny, c0 - w0:c0 - w0 + tnx] = grid_zone[r0:r0 + tny, c0:c0 + tnx]
        tiles.append(replace(
            inputs, f=np.ascontiguousarray(inputs.f[chosen]), ti=ti, tile=(w0, q0, w1 - w0, q1 - q0),
            core=(c0, r0, tnx, tny), cell_class=np.ascontiguousarray(grid_class[window]).ravel(),
            zone=zone.ravel(), n_zones=inputs.n_zones + 1,
        ))
    return tiles
