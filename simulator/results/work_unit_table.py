"""The plan as data: one row per work unit, in the planner's order, with its schedule.

The schedule is measured over the scored realizations: the land-release pass is run again
on them (same random streams, so the same outcomes as the run's) recording, per unit, the
reporting step in which each method (NTS, TS, BAC teams) first worked it and the step in which
it finished it. A step stands for its period (previous reporting date, date]: a start is
reported as the period's first day (not before clearance starts), a finish as its last.
Quantiles are of the realizations in which the method worked the unit; a quantile that falls
beyond the time axis is left empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rasterio import features

from simulator.config.clearance import METHODS
from simulator.engine.layout import TILE_CELLS
from simulator.engine.prepare import Setup
from simulator.engine.scatter import scatter
from simulator.engine.tiles import strike_reach_m
from simulator.kernels import release as K
from simulator.kernels import strike_table as T
from simulator.release.bands import ExactBands
from simulator.release.land_release import Plan, run_land_release
from simulator.results.polygons import contributing_strikes
from simulator.results.result import FOOTPRINT_SD, Result
from simulator.results.tables import M2_PER_HA

SCHEDULE_CHUNK = 64
"""Scored realizations recorded per pass (memory: this many x units x ``K.N_UNIT_METRICS`` floats)."""

QUANTILES = (0.5, 0.9)
ROUTES = ("cancelled", "reduced", "cleared")
"""Area released by NTS (cancelled), TS (reduced) and BAC (cleared), in ``METHODS`` order."""


@dataclass(frozen=True)
class UnitSchedule:
    """Per unit in work order, over ``realizations`` scored realizations: the share in which each
    method worked it [unit, method]; start and finish steps [unit, method, quantile] (NaN: never, or
    beyond the time axis); mean area released by each route (m2) [unit, route]; items landed in it
    (mean, P95)."""

    realizations: int
    worked: np.ndarray
    start: np.ndarray
    finish: np.ndarray
    released_m2: np.ndarray
    items_mean: np.ndarray
    items_p95: np.ndarray


def step_quantiles(counts: np.ndarray, n: np.ndarray, quantiles=QUANTILES) -> np.ndarray:
    """Quantiles (inverse of the empirical distribution function) of steps given per-step counts
    ``counts`` [..., bins] of ``n`` [...] values each; the last bin stands for "beyond the axis"
    and gives NaN, as does ``n == 0``."""
    cumulative = np.cumsum(counts, axis=-1)
    out = np.full((*counts.shape[:-1], len(quantiles)), np.nan)
    for j, q in enumerate(quantiles):
        step = np.argmax(cumulative >= np.maximum(q * n, 1e-12)[..., None], axis=-1)
        out[..., j] = np.where((n > 0) & (step < counts.shape[-1] - 1), step, np.nan)
    return out


def unit_schedule(setup: Setup, plan: Plan, realizations: int, threads: int | None = None, draw=scatter,
                  tile_cells: int = TILE_CELLS) -> UnitSchedule:
    """Record each unit's schedule over scored realizations ``0 .. realizations - 1`` (``draw``: their scatter
    call, the posterior's with evidence)."""
    n_units, n_steps = len(plan.units), len(setup.steps)
    bins = n_steps + 1
    n_cols = 2 * len(METHODS)
    counts = np.zeros(n_units * n_cols * bins, np.int64)
    released = np.zeros((n_units, len(METHODS)))
    items = ExactBands((n_units,), np.ones(n_units))  # items per unit: whole numbers, memory flat in realizations
    for first in range(0, realizations, SCHEDULE_CHUNK):
        n = min(SCHEDULE_CHUNK, realizations - first)
        units = np.empty((n, n_units, K.N_UNIT_METRICS))
        run_land_release(setup, plan, n, first, threads, setup.scenario.simulation.batch_size, tile_cells=tile_cells,
                         draw=draw, schedule=units)
        steps = units[:, :, K.UNIT_START:K.UNIT_START + n_cols].astype(np.int64)
        steps[steps < 0] = n_steps
        index = (np.arange(n_units)[:, None] * n_cols + np.arange(n_cols)) * bins + steps
        counts += np.bincount(index.ravel(), minlength=counts.size)
        released += units[:, :, K.UNIT_RELEASED_M2:K.UNIT_RELEASED_M2 + len(METHODS)].sum(axis=0)
        items.add(units[:, :, K.UNIT_ITEMS])
    counts = counts.reshape(n_units, 2, len(METHODS), bins)
    started, finished = counts[:, 0], counts[:, 1].copy()
    worked = realizations - started[:, :, -1]
    finished[:, :, -1] -= realizations - worked  # a method that never started never finished either
    if realizations == 0:
        empty = np.zeros(n_units)
        return UnitSchedule(0, np.zeros((n_units, 3)), np.full((n_units, 3, 2), np.nan),
                            np.full((n_units, 3, 2), np.nan), released, empty, empty)
    items = items.bands(1.0)
    return UnitSchedule(
        realizations, worked / realizations, step_quantiles(started, worked), step_quantiles(finished, worked),
        released / realizations, items["mean"], items["p95"],
    )


def planned_methods(plan: Plan) -> list[str]:
    """Per unit in work order, the methods the plan sends it through (BAC also follows evidence or finds)."""
    cha = plan.units.area_cha[plan.order] > 0
    return ["nts+ts+bac" if c and ts else "nts+bac" if c else "nts" for c, ts in zip(cha, plan.ts_first)]


def unit_geometries(setup: Setup, plan: Plan) -> list:
    """Each unit's (multi)polygon, units in their own (not work) order."""
    zone = plan.units.zone.reshape(setup.grid.shape)
    n = len(plan.units)
    unit = np.where(zone < 2 * n, zone // 2, -1).astype(np.int32)
    parts: list[list] = [[] for _ in range(n)]
    for geom, value in features.shapes(unit, mask=unit >= 0, transform=setup.grid.transform, connectivity=4):
        parts[int(value)].append(shapely.geometry.shape(geom))
    return [shapely.union_all(p) for p in parts]


def _dates(setup: Setup, steps: np.ndarray, start: bool) -> list[str]:
    """ISO dates of steps (empty for NaN): a start as its period's first day, a finish as its last."""
    dates = setup.steps.dates
    begin = setup.scenario.clearance.start

    def one(s: float) -> str:
        if np.isnan(s):
            return ""
        k = int(s)
        day: date = max(dates[k - 1] + timedelta(days=1), begin) if start and k > 0 else dates[k]
        return day.isoformat()

    return [one(s) for s in steps]


def work_unit_table(result: Result, threads: int | None = None) -> gpd.GeoDataFrame:
    """The work units as a layer, one row per unit in work order (None-free; empty without land release)."""
    setup, release = result.setup, result.land_release
    plan = release.plan
    units, order = plan.units, plan.order
    schedule = unit_schedule(setup, plan, release.realizations, threads, result.draw, result.tile_cells)
    classes = setup.scenario.land_use.classes
    keys = [setup.class_keys[c] for c in units.unit_class[order]]
    area = (units.area_sha + units.area_cha)[order]
    kernel = setup.kernel
    reach = np.empty(len(kernel.ti))
    reach[kernel.ti[:, T.STREAM]] = strike_reach_m(kernel.f, kernel.ti, FOOTPRINT_SD)
    geoms = unit_geometries(setup, plan)
    geoms = [geoms[u] for u in order]
    strikes = setup.strikes
    data = {
        "id": order + 1,
        "priority_rank": np.arange(1, len(order) + 1),
        "class": keys,
        "class_name": [classes[k].name for k in keys],
        "area_m2": area,
        "area_ha": area / M2_PER_HA,
        "sha_only_m2": units.area_sha[order],
        "cha_m2": units.area_cha[order],
        "items_planned": units.expected_items[order],
        "items_mean": schedule.items_mean,
        "items_p95": schedule.items_p95,
        "method": planned_methods(plan),
    }
    for m, method in enumerate(METHODS):
        data[f"{method}_share"] = schedule.worked[:, m]
        for j, q in enumerate(QUANTILES):
            data[f"{method}_start_p{round(q * 100)}"] = _dates(setup, schedule.start[:, m, j], True)
        for j, q in enumerate(QUANTILES):
            data[f"{method}_finish_p{round(q * 100)}"] = _dates(setup, schedule.finish[:, m, j], False)
    for r, route in enumerate(ROUTES):
        data[f"{route}_m2_mean"] = schedule.released_m2[:, r]
    data["strikes"] = contributing_strikes(geoms, strikes.id, strikes.x, strikes.y, reach,
                                           setup.scenario.hazard.reference_distance_m)
    data["scored_realizations"] = np.full(len(order), schedule.realizations)
    return gpd.GeoDataFrame(pd.DataFrame(data), geometry=geoms, crs=setup.grid.crs)
