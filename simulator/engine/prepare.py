"""From a loaded scenario to everything a run needs: grid, land-use raster, strike table."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from pyproj import CRS, Transformer

from simulator.config.loading import LoadedScenario
from simulator.engine.layout import root_key
from simulator.engine.memory import estimate_peak_bytes, gib, machine_bytes
from simulator.errors import InputError
from simulator.inputs.delivery import strike_table
from simulator.inputs.grid import Grid
from simulator.inputs.kernel_inputs import KernelInputs, disc_half_widths
from simulator.inputs.land_use import UNCOVERED, LandUseLayer, rasterize_land_use, read_land_use
from simulator.inputs.population import read_population
from simulator.inputs.sanity import check_grid, check_inputs
from simulator.inputs.strikes import StrikeColumns, from_inline, read_strike_records
from simulator.inputs.timeaxis import TimeSteps
from simulator.kernels import strike_table as T

OUTSIDE_DUD_MULTIPLIER = 1.0
"""Assumption: items landing outside the study area (ground unknown) keep their profile's dud rate."""


@dataclass(frozen=True)
class Setup:
    """The prepared run: grid, classes, land-use codes per cell (``len(class_keys)`` for cells outside
    the study area), strikes (in scenario order, with each one's reporting step and whether its aim
    point lies on the grid), time steps, kernel inputs."""

    loaded: LoadedScenario
    grid: Grid
    class_keys: tuple[str, ...]
    land_use: LandUseLayer
    landuse_codes: np.ndarray
    strikes: StrikeColumns
    strike_step: np.ndarray
    on_grid: np.ndarray
    steps: TimeSteps
    epoch_steps: np.ndarray
    kernel: KernelInputs
    memory_bytes: int
    population: np.ndarray | None = None  # people per cell, from risk.population

    @property
    def scenario(self):
        return self.loaded.scenario

    @property
    def inside(self) -> np.ndarray:
        """Cells (bool, grid shape) in the study area: all but those ``land_use.outside`` excludes."""
        return self.landuse_codes < len(self.class_keys)

    @cached_property
    def class_cells(self) -> np.ndarray:
        """Cells of each land-use class (int64 [class], counted once: read-only); none outside the study area."""
        cells = np.bincount(self.landuse_codes.ravel(), minlength=len(self.class_keys) + 1)[:len(self.class_keys)]
        cells.setflags(write=False)
        return cells

    @property
    def class_people(self) -> np.ndarray | None:
        """People per land-use class from ``population`` (None without one); none outside the study area."""
        if self.population is None:
            return None
        n = len(self.class_keys)
        return np.bincount(self.landuse_codes.ravel(), weights=self.population.ravel(), minlength=n + 1)[:n]


def prepare(loaded: LoadedScenario, threads: int = 1, force: bool = False) -> Setup:
    """Read the land-use layer, build the grid and the strike table for ``loaded``."""
    sc = loaded.scenario
    spec = sc.land_use
    layer = read_land_use(
        spec.path, layer=spec.layer, class_field=spec.class_field, class_map=spec.class_map(),
        default_class=spec.default_class, crs=sc.study_area.crs, source_crs=spec.source_crs, scenario=loaded.path,
        single_class=spec.single_class,
    )
    extent = sc.study_area.extent_m or tuple(layer.polygons.total_bounds)
    check_grid(loaded, extent, sc.study_area.cell_size_m)
    grid = Grid.from_extent(layer.crs, extent, sc.study_area.cell_size_m)
    memory = check_memory(loaded, grid, threads, force)
    keys = tuple(spec.classes)
    codes = {key: i for i, key in enumerate(keys)}
    landuse = rasterize_land_use(layer, grid, codes, spec.ordered_precedence())
    covered = landuse != UNCOVERED
    landuse[~covered] = len(keys) if spec.outside else codes[spec.default_class]  # len(keys): outside
    steps = TimeSteps.from_axis(sc.time)
    strikes = all_strikes(loaded, grid)
    check_inputs(loaded, grid, covered, strikes, layer.polygons.total_bounds)
    strike_step = np.searchsorted(np.array(steps.dates, "datetime64[D]"), strikes.date, side="left")
    epoch_steps = np.unique(strike_step)
    order = np.argsort(strike_step, kind="stable")
    f, ti = strike_table(strikes, loaded.profiles, np.searchsorted(epoch_steps, strike_step))
    check_submunitions(loaded, ti)
    flat = landuse.ravel()
    kernel = KernelInputs(
        f=np.ascontiguousarray(f[order]),
        ti=np.ascontiguousarray(ti[order]),
        key=root_key(sc.simulation.seed),
        x0=grid.x0, y0=grid.y0, cell_size_m=grid.cell_size_m, nx=grid.nx, ny=grid.ny,
        cell_class=flat,
        class_mult=np.array([*(spec.classes[k].dud_multiplier for k in keys), OUTSIDE_DUD_MULTIPLIER]),
        zone=flat.astype(np.int32),
        n_zones=len(keys) + spec.outside,  # the last, with land_use.outside: the land outside the study area
        n_epochs=len(epoch_steps),
        disc=disc_half_widths(sc.hazard.reference_distance_m, grid.cell_size_m),
    )
    xmin, ymin, xmax, ymax = grid.bounds
    on_grid = (strikes.x >= xmin) & (strikes.x <= xmax) & (strikes.y >= ymin) & (strikes.y <= ymax)
    population = None if sc.risk is None or sc.risk.population is None else read_population(sc.risk.population, grid)
    return Setup(loaded, grid, keys, layer, landuse, strikes, strike_step, on_grid, steps, epoch_steps, kernel, memory,
                 population)


def all_strikes(loaded: LoadedScenario, grid: Grid) -> StrikeColumns:
    """The scenario's strikes then its strike records, aim points in the grid CRS."""
    sc = loaded.scenario
    to_grid = Transformer.from_crs(CRS.from_epsg(4326), CRS.from_user_input(grid.crs), always_xy=True)
    parts = [from_inline(sc.strikes, to_grid)]
    bad = ~(np.isfinite(parts[0].x) & np.isfinite(parts[0].y))
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(loaded.path, f"strikes[{i}].aim_point", sc.strikes[i].aim_point.model_dump(exclude_none=True),
                         f"give a point the grid CRS {grid.crs} can hold")
    records = sc.strike_records
    if records is not None:
        centre = to_grid.transform((grid.bounds[0] + grid.bounds[2]) / 2, (grid.bounds[1] + grid.bounds[3]) / 2,
                                   direction="INVERSE")
        parts.append(read_strike_records(
            records, scenario=loaded.path, grid_crs=grid.crs, profiles=loaded.profiles, time=sc.time,
            taken_ids={s.id: f"strikes[{i}] of the scenario" for i, s in enumerate(sc.strikes)}, centre_lon_lat=centre,
        ))
    return StrikeColumns.concat(parts)


MAX_PER_REALIZATION = 2**31 - 1
"""Submunitions one realization may drop: the kernel counts remnants per cell in int32."""


def check_submunitions(loaded: LoadedScenario, ti: np.ndarray) -> None:
    """Refuse a scenario dropping more submunitions per realization than a cell count can hold."""
    total = int((ti[:, T.CARRIERS].astype(object) * ti[:, T.SUBMUNITIONS].astype(object)).sum())  # exact
    if total > MAX_PER_REALIZATION:
        field = "strikes" if loaded.scenario.strike_records is None else "strike_records"
        raise InputError(
            loaded.path, field, None, "split the strikes over several scenarios and add their results",
            problem=f"drop {total:,} submunitions in each realization, more than the {MAX_PER_REALIZATION:,} "
            "a run can count;",
        )


def check_memory(loaded: LoadedScenario, grid: Grid, threads: int, force: bool = False) -> int:
    """The run's estimated peak memory (bytes); refused when above 80 % of this machine's unless ``force``."""
    sc = loaded.scenario
    steps = len(TimeSteps.from_axis(sc.time))
    need = estimate_peak_bytes(
        grid, epochs=min(steps, len(sc.strikes)) if sc.strike_records is None else steps, threads=threads,
        realizations=sc.simulation.realizations, zones=len(sc.land_use.classes), steps=steps,
        clearance=sc.clearance is not None,
    )
    have = machine_bytes()
    if need > 0.8 * have and not force:
        suggested = grid.cell_size_m * np.sqrt(need / (0.5 * have))
        raise InputError(
            loaded.path, "study_area.cell_size_m", grid.cell_size_m,
            f"use cells of at least {suggested:.3g} m, a smaller extent or fewer realizations (or --force)",
            problem=f"needs about {gib(need)} for {grid.nx} x {grid.ny} cells, more than 80 % of this machine's "
            f"{gib(have)};",
        )
    return need
