"""Work-order policies: a small registry of ways to rank work units, by name.

Each policy returns the units' order (indices, first worked first) from what the planner
knows: the hazard map's expected items, the units' classes, areas and costs, and (for
``risk-per-cost``) the people who use each class of land.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely

from simulator.config.clearance import Clearance
from simulator.config.risk import Risk
from simulator.release.work_units import WorkUnits


@dataclass(frozen=True)
class PlannerView:
    """What a policy may use: units, per-class priority, per-unit expected cost (currency), the
    geometry of the land units should be near (a shapely geometry, or None), and per class the
    expected casualties a year one item's release averts (``averted_per_item``, or None without
    a ``[risk]`` table: every item then weighs the same)."""

    units: WorkUnits
    class_priority: np.ndarray
    expected_cost: np.ndarray
    near: object | None
    class_risk: np.ndarray | None = None


def averted_per_item(
    risk: Risk, clearance: Clearance, class_keys: tuple[str, ...], class_area_m2: np.ndarray,
    class_people: np.ndarray | None = None,
) -> np.ndarray:
    """Per class, expected casualties a year averted by releasing land holding one item: its
    risk while marked hazardous, less that of the share clearance misses once people use the
    land freely (mean detonation probability; may be negative where compliance is high)."""
    contact = risk.contact_probability(class_keys, class_area_m2, class_people)
    compliance = risk.per_class(class_keys, "compliance")
    missed = 1.0 - clearance.detection_probability
    consequence = risk.detonation_probability.mean() * risk.casualties_per_detonation
    return contact * ((1.0 - compliance) - missed) * consequence


def _land_use_priority(view: PlannerView) -> np.ndarray:
    density = view.units.expected_items / np.maximum(view.units.area_sha + view.units.area_cha, 1.0)
    return np.lexsort((-density, view.class_priority[view.units.unit_class]))


def _item_density(view: PlannerView) -> np.ndarray:
    density = view.units.expected_items / np.maximum(view.units.area_sha + view.units.area_cha, 1.0)
    return np.argsort(-density, kind="stable")


def _items_per_cost(view: PlannerView) -> np.ndarray:
    return np.argsort(-(view.units.expected_items / np.maximum(view.expected_cost, 1e-9)), kind="stable")


def _risk_per_cost(view: PlannerView) -> np.ndarray:
    weight = 1.0 if view.class_risk is None else view.class_risk[view.units.unit_class]
    averted = view.units.expected_items * weight
    return np.lexsort((view.class_priority[view.units.unit_class], -averted / np.maximum(view.expected_cost, 1e-9)))


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
    "risk-per-cost": _risk_per_cost,
}
"""Policy name -> function giving the work order."""
