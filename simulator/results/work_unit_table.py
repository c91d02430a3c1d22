"""The plan as data: one row per work unit, in the planner's order, with its schedule
(``simulator.results.schedule``). A step stands for its period (previous reporting date, date]: a start
is reported as the period's first day (not before clearance starts), a finish as its last. Quantiles
are of the realizations in which the method worked the unit; a quantile that falls beyond the time
axis is left empty.
"""

from __future__ import annotations

from datetime import date, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rasterio import features

from simulator.config.clearance import METHODS
from simulator.engine.prepare import Setup
from simulator.engine.tiles import strike_reach_m
from simulator.kernels import strike_table as T
from simulator.release.land_release import Plan
from simulator.results.polygons import contributing_strikes
from simulator.results.result import FOOTPRINT_SD, Result
from simulator.results.schedule import QUANTILES, unit_schedule
from simulator.results.tables import M2_PER_HA

ROUTES = ("cancelled", "reduced", "cleared")
"""Area released by NTS (cancelled), TS (reduced) and BAC (cleared), in ``METHODS`` order."""


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
    schedule = result.risk.schedule if result.risk is not None and result.risk.schedule is not None else \
        unit_schedule(setup, plan, release.realizations, threads, result.draw, result.tile_cells)
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
