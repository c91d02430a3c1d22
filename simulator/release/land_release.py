"""Land release over time: plan work units from the hazard map, then survey and clear them.

The plan (work units, their order and costs, team capacity per step) uses only what a
planner knows: the ensemble's hazard map and the strike records. The plan is then scored
against realizations drawn independently of the ensemble (their own random key), so that
what it misses is measured out of sample: each scored realization is scattered counting items
per work unit, and its survey and clearance is simulated against its true items.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta

import numba
import numpy as np
import shapely

from simulator.config.clearance import METHODS, Clearance
from simulator.engine.ensemble import SCORED, HazardMap, root_key
from simulator.engine.prepare import Setup
from simulator.engine.scatter import CellSums, scatter
from simulator.inputs.timeaxis import DAYS_PER_YEAR, TimeSteps
from simulator.kernels import release as K
from simulator.release.policies import POLICIES, PlannerView, averted_per_item
from simulator.release.work_units import WorkUnits, cut_work_units

NO_DISC = np.zeros(1, np.int64)
"""Land release counts items per work unit only: no contamination disc is drawn."""


@dataclass(frozen=True)
class Plan:
    """Work units and their work order; per unit in that order whether technical survey comes
    first and the effort in team-days per m2 [unit, method]; team-days per step and method."""

    units: WorkUnits
    order: np.ndarray
    ts_first: np.ndarray
    rate: np.ndarray
    capacity: np.ndarray


@dataclass(frozen=True)
class LandRelease:
    """Per scored realization, step, class and metric (see ``kernels.release``) the state after each
    step; ``map_replicates``: P(deadline) of the plans made from the hazard map with each group of
    its realizations left out, scored on the same realizations (empty: not computed)."""

    plan: Plan
    state: np.ndarray
    cost: np.ndarray
    map_replicates: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def completion_step(self) -> np.ndarray:
        """Per realization, the first step from which no hazardous land remains (-1: not within the horizon)."""
        remaining = self.state[:, :, :, K.REMAINING_M2].sum(axis=2) > 0
        n_steps = remaining.shape[1]
        last = n_steps - 1 - np.argmax(remaining[:, ::-1], axis=1)
        step = np.where(remaining.any(axis=1), last + 1, 0)
        return np.where(step < n_steps, step, -1)


def capacity_per_step(clearance: Clearance, steps: TimeSteps) -> np.ndarray:
    """Team-days per reporting step and crew (columns in ``kernels.release.CREW_MASKS`` order:
    NTS, TS, BAC, then teams with several roles): the work done in (previous date, date]."""
    column = {int(mask): j for j, mask in enumerate(K.CREW_MASKS)}
    capacity = np.zeros((len(steps), len(K.CREW_MASKS)))
    per_day = clearance.working_days_per_year / DAYS_PER_YEAR
    for k in range(1, len(steps)):
        day = max(steps.dates[k - 1], clearance.start - timedelta(days=1))
        while day < steps.dates[k]:
            day += timedelta(days=1)
            for roles, n in clearance.teams_on(day).by_roles().items():
                capacity[k, column[sum(1 << METHODS.index(m) for m in roles)]] += n * per_day
    return capacity


def make_plan(setup: Setup, known: HazardMap) -> Plan:
    """Cut work units from the hazard map ``known``, price them, and order them by the scenario's policy."""
    sc = setup.scenario
    clearance = sc.clearance
    keys = setup.class_keys
    start_step = setup.steps.step_of(clearance.start)
    units = cut_work_units(
        known.p_by_epoch, known.mean_count, setup.kernel.cell_class, len(keys), setup.grid,
        setup.epoch_steps, clearance, start_step, sc.hazard.suspect_threshold, sc.hazard.threshold,
    )
    productivity = np.array([[clearance.productivity(k, m) for m in METHODS] for k in keys])
    rate = 1.0 / productivity[units.unit_class]
    cha_share = units.area_cha / np.maximum(units.area_sha + units.area_cha, 1e-9)
    ts_first = units.expected_items * cha_share <= clearance.ts_max_expected_items
    f = clearance.ts_sample_fraction
    areas = np.column_stack([
        units.area_sha + units.area_cha, np.where(ts_first, f * units.area_cha, 0.0),
        np.where(ts_first, (1 - f) * units.area_cha, units.area_cha),
    ])
    prices = np.array([getattr(clearance.cost_per_m2, m) for m in METHODS])
    near = None
    if clearance.policy == "distance-to-residential":
        polygons = setup.land_use.polygons
        near_key = clearance.near_class or keys[int(np.argmin([sc.land_use.classes[k].priority for k in keys]))]
        near = shapely.union_all(polygons.geometry[polygons["class_key"] == near_key].to_numpy())
    class_risk = None
    if sc.risk is not None:
        class_area = np.bincount(setup.landuse_codes.ravel(), minlength=len(keys)) * setup.grid.cell_area_m2
        class_risk = averted_per_item(sc.risk, clearance, keys, class_area)
    view = PlannerView(
        units, np.array([sc.land_use.classes[k].priority for k in keys]), areas @ prices, near, class_risk,
    )
    order = POLICIES[clearance.policy](view)
    capacity = capacity_per_step(clearance, setup.steps)
    return Plan(units, order, ts_first[order], np.ascontiguousarray(rate[order]), capacity)


def run_land_release(
    setup: Setup, plan: Plan, realizations: int, first: int = 0, threads: int | None = None, batch_size: int = 64,
    progress: Callable[[int], None] | None = None, schedule: np.ndarray | None = None,
) -> np.ndarray:
    """Scatter realizations ``first .. first + realizations - 1`` again, counting items per work
    unit, and release land in each; return their state (see ``LandRelease``). ``schedule`` (float64
    [realizations, unit, ``K.N_UNIT_METRICS``]), when given, gets each unit's schedule in work order."""
    clearance = setup.scenario.clearance
    units, order = plan.units, plan.order
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    zone_of_cell = units.zone.copy()
    suspected = zone_of_cell < 2 * len(units)
    zone_of_cell[suspected] = 2 * rank[zone_of_cell[suspected] // 2] + zone_of_cell[suspected] % 2
    k = replace(setup.kernel, key=root_key(setup.scenario.simulation.seed, SCORED), zone=zone_of_cell,
                n_zones=2 * len(units) + len(setup.class_keys), disc=NO_DISC)
    sums = CellSums.zeros(k, threads or numba.config.NUMBA_NUM_THREADS)
    n_classes = len(setup.class_keys)
    state = np.zeros((realizations, len(setup.steps), n_classes, K.N_METRICS))
    key0, key1 = (np.uint64(v) for v in k.key)
    args = (
        units.unit_class[order], units.unit_step[order], units.area_sha[order], units.area_cha[order], plan.ts_first,
        plan.rate, plan.capacity, clearance.productivity_spread, clearance.ts_sample_fraction,
        clearance.detection_probability, clearance.nts_evidence_probability,
    )
    for start in range(0, realizations, batch_size):
        n = min(batch_size, realizations - start)
        index = first + start
        items = scatter(k, index, n, sums).zone_items
        epochs = setup.epoch_steps.astype(np.int64)
        if schedule is None:
            K.release_ensemble(items, *args, key0, key1, index, epochs, state[start:start + n])
        else:
            schedule[start:start + n, :, :K.UNIT_RELEASED_M2] = -1.0
            schedule[start:start + n, :, K.UNIT_RELEASED_M2:] = 0.0
            K.release_units(items, *args, key0, key1, index, epochs, state[start:start + n], schedule[start:start + n])
        if progress is not None:
            progress(n)
    return state


def release_cost(state: np.ndarray, clearance: Clearance) -> np.ndarray:
    """Cost per realization of the land released by the end: all of it surveyed by NTS, the
    reduced land's sample searched by TS, cleared land cleared (a TS sample before clearance
    is priced as clearance)."""
    final = state[:, -1].sum(axis=1)
    released = final[:, K.CANCELLED_M2] + final[:, K.REDUCED_M2] + final[:, K.CLEARED_M2]
    sampled = clearance.ts_sample_fraction * final[:, K.REDUCED_M2]
    price = clearance.cost_per_m2
    return released * price.nts + sampled * price.ts + final[:, K.CLEARED_M2] * price.bac
