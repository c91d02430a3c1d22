"""Work-order policies: a small registry of ways to rank work units, by name.

Each policy returns the units' order (indices, first worked first) from what the planner
knows: the hazard map's expected items, the units' classes, areas and costs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely

from simulator.release.work_units import WorkUnits


@dataclass(frozen=True)
class PlannerView:
    """What a policy may use: units, per-class priority, per-unit expected cost (currency), and
    the geometry of the land units should be near (a shapely geometry, or None)."""

    units: WorkUnits
    class_priority: np.ndarray
    expected_cost: np.ndarray
    near: object | None


def _land_use_priority(view: PlannerView) -> np.ndarray:
    density = view.units.expected_items / np.maximum(view.units.area_sha + view.units.area_cha, 1.0)
    return np.lexsort((-density, view.class_priority[view.units.unit_class]))


def _item_density(view: PlannerView) -> np.ndarray:
    density = view.units.expected_items / np.maximum(view.units.area_sha + view.units.area_cha, 1.0)
    return np.argsort(-density, kind="stable")


def _items_per_cost(view: PlannerView) -> np.ndarray:
    return np.argsort(-(view.units.expected_items / np.maximum(view.expected_cost, 1e-9)), kind="stable")


def _distance_to_residential(view: PlannerView) -> np.ndarray:
    if view.near is None or view.near.is_empty:
        return _land_use_priority(view)
    distance = shapely.distance(shapely.points(view.units.x, view.units.y), view.near)
    return np.lexsort((view.class_priority[view.units.unit_class], distance))


POLICIES: dict[str, Callable[[PlannerView], np.ndarray]] = {
    "land-use-priority": _land_use_priority,
    "item-density": _item_density,
    "items-per-cost": _items_per_cost,
    "distance-to-residential": _distance_to_residential,
}
"""Policy name -> function giving the work order."""
