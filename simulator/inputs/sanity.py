"""Meaning checks: inputs each valid alone that together make no sense, refused or warned before work.

``check_grid`` bounds the grid in exact arithmetic before it is built; ``check_inputs`` looks
at the prepared land use and strikes together: land use that misses the study area, aim points
written in degrees under a projected CRS, strikes far from the study area.
"""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np

from simulator.config.loading import LoadedScenario
from simulator.errors import InputError, InputWarning, one_line
from simulator.inputs.grid import Grid
from simulator.inputs.strikes import StrikeColumns

MAX_CELLS = 2**31 - 1
"""Cells a grid may have: the kernels index cells and count them in 32-bit integers."""

MAX_REACH_M = 20_000.0
"""Assumption: no strike lands remnants farther than this from its aim point (footprint plus
delivery errors of the catalog's profiles are a few kilometres at most); aim points farther
from the study area than this cannot contaminate it."""

MIN_COVERED = 0.5
"""Below this share of the study area's cells in a land-use polygon, a run warns."""

_DEGREES = (180.0, 90.0)


def check_grid(loaded: LoadedScenario, extent: tuple[float, float, float, float], cell_size_m: float) -> None:
    """Refuse a grid of more than ``MAX_CELLS`` cells, counted exactly (no float overflow)."""
    xmin, ymin, xmax, ymax = (Fraction(v) for v in extent)
    size = Fraction(cell_size_m)
    nx = max(1, math.ceil((xmax - math.floor(xmin / size) * size) / size))
    ny = max(1, math.ceil((math.ceil(ymax / size) * size - ymin) / size))
    if nx * ny > MAX_CELLS:
        least = math.isqrt(math.ceil((xmax - xmin) * (ymax - ymin) / MAX_CELLS)) + 1  # exact: no float overflow
        raise InputError(loaded.path, "study_area.cell_size_m", cell_size_m,
                         f"use cells of at least {float(least):.3g} m or a smaller extent: a grid has at most {MAX_CELLS:,} cells",
                         problem=f"gives a grid of {_big(nx)} x {_big(ny)} cells over extent {_box(extent)};")


def check_inputs(loaded: LoadedScenario, grid: Grid, covered: np.ndarray, strikes: StrikeColumns,
                 land_use_bounds) -> None:
    """Refuse or warn (one line each) about land use and strikes that do not fit the study area.

    ``covered`` (bool, grid shape): cells whose centre a land-use polygon covers;
    ``land_use_bounds``: (xmin, ymin, xmax, ymax) of the land-use polygons in the grid CRS (m).
    """
    sc = loaded.scenario
    share = float(covered.mean()) if covered.size else 0.0
    if share == 0.0:
        field = "study_area.extent_m" if sc.study_area.extent_m is not None else "land_use.path"
        raise InputError(loaded.path, field, list(sc.study_area.extent_m) if sc.study_area.extent_m else str(sc.land_use.path),
                         "make the study area and the land-use layer overlap (check extent_m and the CRSs)",
                         problem=f"no land-use polygon covers any cell of the study area {_box(grid.bounds)} "
                         f"(the polygons span {_box(land_use_bounds)});")
    if share < MIN_COVERED and not sc.land_use.outside:  # with outside, uncovered cells are meant
        _warn(f"{loaded.path}: land_use: only {share:.1%} of the study area's cells lie in a land-use polygon; "
              f"the others get default_class {sc.land_use.default_class!r}")
    _check_degrees(loaded, grid)
    distance = _distance_outside(grid, strikes.x, strikes.y)
    far = distance > MAX_REACH_M
    if len(strikes) and far.all():
        raise InputError(loaded.path, "strikes" if sc.strike_records is None else "strike_records", None,
                         "check the aim points, their CRS and study_area.extent_m",
                         problem=f"every strike aims more than {MAX_REACH_M / 1000:g} km outside the study area "
                         f"{_box(grid.bounds)} (nearest: {distance.min() / 1000:.3g} km), so none can reach it;")
    if far.any():
        ids = ", ".join(repr(str(i)) for i in strikes.id[far][:10]) + (", ..." if far.sum() > 10 else "")
        _warn(f"{loaded.path}: strikes {ids} aim more than {MAX_REACH_M / 1000:g} km outside the study area "
              "and cannot reach it")


def _check_degrees(loaded: LoadedScenario, grid: Grid) -> None:
    """Refuse ``aim_point = { x, y }`` written in degrees under a projected CRS, far from the grid."""
    for i, strike in enumerate(loaded.scenario.strikes):
        aim = strike.aim_point
        if aim.x is None or abs(aim.x) > _DEGREES[0] or abs(aim.y) > _DEGREES[1]:
            continue
        if _distance_outside(grid, np.array([aim.x]), np.array([aim.y]))[0] > MAX_REACH_M:
            raise InputError(loaded.path, f"strikes[{i}].aim_point", {"x": aim.x, "y": aim.y},
                             f"write aim_point = {{ lon = {aim.x:g}, lat = {aim.y:g} }} if these are degrees",
                             problem=f"looks like degrees, but x and y are metres in {grid.crs};")


def _distance_outside(grid: Grid, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Distance (m) from each point to the grid's rectangle (0 inside)."""
    xmin, ymin, xmax, ymax = grid.bounds
    dx = np.maximum(np.maximum(xmin - x, x - xmax), 0.0)
    dy = np.maximum(np.maximum(ymin - y, y - ymax), 0.0)
    return np.hypot(dx, dy)


def _warn(message: str) -> None:
    warnings.warn(InputWarning(one_line(message)), stacklevel=3)


def _box(bounds) -> str:
    return "[" + ", ".join(f"{v:.10g}" for v in bounds) + "]"


def _big(n: int) -> str:
    return f"{n:,}" if n < 10**15 else f"about 10^{len(str(n)) - 1}"
