"""From a loaded scenario to everything a run needs: grid, land-use raster, strike table."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
from pyproj import CRS, Transformer

from simulator.delivery import strike_rows
from simulator.ensemble import KernelInputs, root_key
from simulator.errors import InputError
from simulator.grid import Grid
from simulator.land_use import LandUseLayer, rasterize_land_use, read_land_use
from simulator.loading import LoadedScenario
from simulator.timeaxis import TimeSteps

BYTES_PER_CELL = 8 * 2 + 4 + 4 + 8 + 8 + 1 + 4
"""Rough run memory per cell and thread: sums, hits, scratch, means and rasters (bytes)."""


@dataclass(frozen=True)
class StrikePoint:
    """A strike's aim point in the grid CRS, its reporting step and whether it lies on the grid."""

    id: str
    profile: str
    x: float
    y: float
    step: int
    on_grid: bool


@dataclass(frozen=True)
class Setup:
    """The prepared run: grid, classes, land-use codes per cell, strikes, time steps, kernel inputs."""

    loaded: LoadedScenario
    grid: Grid
    class_keys: tuple[str, ...]
    land_use: LandUseLayer
    landuse_codes: np.ndarray
    strikes: tuple[StrikePoint, ...]
    steps: TimeSteps
    epoch_steps: np.ndarray
    kernel: KernelInputs

    @property
    def scenario(self):
        return self.loaded.scenario


def prepare(loaded: LoadedScenario, threads: int = 1) -> Setup:
    """Read the land-use layer, build the grid and the strike table for ``loaded``."""
    sc = loaded.scenario
    spec = sc.land_use
    layer = read_land_use(
        spec.path, layer=spec.layer, class_field=spec.class_field, class_map=spec.class_map(),
        default_class=spec.default_class, crs=sc.study_area.crs, source_crs=spec.source_crs, scenario=loaded.path,
    )
    extent = sc.study_area.extent_m or tuple(layer.polygons.total_bounds)
    grid = Grid.from_extent(layer.crs, extent, sc.study_area.cell_size_m)
    check_memory(loaded, grid, threads)
    keys = tuple(spec.classes)
    codes = {key: i for i, key in enumerate(keys)}
    landuse = rasterize_land_use(layer, grid, codes, spec.ordered_precedence(), default_code=codes[spec.default_class])
    steps = TimeSteps.from_axis(sc.time)
    points = strike_points(loaded, grid)
    epoch_steps = np.unique([p.step for p in points])
    f_rows, i_rows = [], []
    for index, point, strike in sorted(zip(range(len(points)), points, sc.strikes), key=lambda row: row[1].step):
        epoch = int(np.searchsorted(epoch_steps, point.step))
        f, i = strike_rows(strike, loaded.profiles[strike.profile], point.x, point.y, epoch, index)
        f_rows.append(f)
        i_rows.append(i)
    flat = landuse.ravel()
    kernel = KernelInputs(
        f=np.ascontiguousarray(np.array(f_rows)),
        ti=np.ascontiguousarray(np.array(i_rows)),
        key=root_key(sc.simulation.seed),
        x0=grid.x0, y0=grid.y0, cell_size_m=grid.cell_size_m, nx=grid.nx, ny=grid.ny,
        cell_class=flat,
        class_mult=np.array([spec.classes[k].dud_multiplier for k in keys]),
        zone=flat.astype(np.int32),
        n_zones=len(keys),
        n_epochs=len(epoch_steps),
    )
    return Setup(loaded, grid, keys, layer, landuse, tuple(points), steps, epoch_steps, kernel)


def strike_points(loaded: LoadedScenario, grid: Grid) -> list[StrikePoint]:
    """Aim points in the grid CRS (lon/lat transformed), in scenario order."""
    sc = loaded.scenario
    to_grid = Transformer.from_crs(CRS.from_epsg(4326), CRS.from_user_input(grid.crs), always_xy=True)
    steps = TimeSteps.from_axis(sc.time)
    xmin, ymin, xmax, ymax = grid.bounds
    points = []
    for i, strike in enumerate(sc.strikes):
        aim = strike.aim_point
        x, y = (aim.x, aim.y) if aim.x is not None else to_grid.transform(aim.lon, aim.lat)
        if not (np.isfinite(x) and np.isfinite(y)):
            raise InputError(loaded.path, f"strikes[{i}].aim_point", aim.model_dump(exclude_none=True),
                             f"give a point the grid CRS {grid.crs} can hold")
        on_grid = bool(xmin <= x <= xmax and ymin <= y <= ymax)
        points.append(StrikePoint(strike.id, strike.profile, float(x), float(y), steps.step_of(strike.date), on_grid))
    return points


def check_memory(loaded: LoadedScenario, grid: Grid, threads: int) -> None:
    """Refuse a grid whose run would need more memory than the machine has."""
    need = grid.n_cells * BYTES_PER_CELL * (threads + 2)
    have = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    if need > 0.8 * have:
        suggested = grid.cell_size_m * np.sqrt(need / (0.5 * have))
        raise InputError(
            loaded.path, "study_area.cell_size_m", grid.cell_size_m,
            f"use cells of at least {suggested:.3g} m or a smaller extent",
            problem=f"needs about {need / 2**30:.1f} GiB for {grid.nx} x {grid.ny} cells, more than this machine's {have / 2**30:.1f} GiB;",
        )
