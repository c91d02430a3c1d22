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

import numpy as np
import shapely

from simulator.config.clearance import METHODS, Clearance
from simulator.engine.ensemble import HazardMap
from simulator.engine.layout import SCORED, TILE_CELLS, root_key
from simulator.engine.prepare import Setup
from simulator.engine.scatter import scatter
from simulator.inputs.kernel_inputs import KernelInputs
from simulator.inputs.timeaxis import DAYS_PER_YEAR, TimeSteps
from simulator.kernels import release as K
from simulator.kernels.deadline import deadline_probabilities
from simulator.release.bands import ExactBands
from simulator.release.policies import POLICIES, PlannerView, averted_per_item
from simulator.release.work_units import WorkUnits, cut_work_units
from simulator.release.zone_items import Extra, ZoneCounts, zone_item_batches

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
    """Land release of the scored realizations by ``plan``.

    ``state`` (float64 [realization, step, class, metric], see ``kernels.release``): the state after
    each step, kept only where something needs it realization by realization (``keep_state``;
    else None); ``cost`` (per realization); ``map_replicates``: P(deadline) of the plans made from
    the hazard map with each group of its realizations left out, scored on the same realizations
    (empty: not computed); ``final`` ([realization, class, metric]): the state after the last step;
    ``completion`` (per realization): the first step from which no hazardous land remains (-1: not
    within the horizon); ``bands``: exact bands per step, class (then all classes) and metric;
    ``deadline`` (per realization, None without a deadline): the chance of releasing all SHA by the
    deadline over the productivity factor (``kernels.deadline``);
    ``draw``: how its realizations were drawn (``scatter``'s signature: the prior's, or the
    posterior's), so that what needs them again (risk per work unit) repeats them;
    ``zone_counts``: remnants per realization in the zones of a map counted in the same pass (None: none).
    Built from a ``state`` alone, the other fields are derived from it.
    """

    plan: Plan
    state: np.ndarray | None
    cost: np.ndarray
    map_replicates: np.ndarray = field(default_factory=lambda: np.zeros(0))
    final: np.ndarray | None = None
    completion: np.ndarray | None = None
    bands: ExactBands | None = None
    deadline: np.ndarray | None = None
    draw: Callable = scatter
    zone_counts: ZoneCounts | None = None

    def __post_init__(self) -> None:
        if self.final is None:
            object.__setattr__(self, "final", self.state[:, -1])
        if self.completion is None:
            object.__setattr__(self, "completion", completion_steps(self.state))

    @classmethod
    def of(cls, plan: Plan, sums: ReleaseSums, clearance: Clearance) -> LandRelease:
        return cls(plan, sums.state, final_cost(sums.final, clearance), final=sums.final,
                   completion=sums.completion, bands=sums.bands, deadline=sums.deadline, draw=sums.draw,
                   zone_counts=sums.zone_counts)

    @property
    def realizations(self) -> int:
        return len(self.cost)

    def completion_step(self) -> np.ndarray:
        """Per realization, the first step from which no hazardous land remains (-1: not within the horizon)."""
        return self.completion


@dataclass
class ReleaseSums:
    """What land release keeps of a range of scored realizations, mergeable (see ``LandRelease``)."""

    bands: ExactBands
    final: np.ndarray
    completion: np.ndarray
    state: np.ndarray | None
    deadline: np.ndarray | None = None
    draw: Callable = scatter
    zone_counts: ZoneCounts | None = None

    def __len__(self) -> int:
        return len(self.completion)

    @staticmethod
    def concat(parts: list[ReleaseSums]) -> ReleaseSums:
        """The sums of ``parts``' realizations, in that order."""
        bands = parts[0].bands
        if len(parts) > 1:  # one copy, then each part's counts added in place
            bands = bands.merged(parts[1].bands)
            for part in parts[2:]:
                bands.add_histogram(part.bands)
        keep = all(p.state is not None for p in parts)
        deadline = all(p.deadline is not None for p in parts)
        return ReleaseSums(bands, np.concatenate([p.final for p in parts]),
                           np.concatenate([p.completion for p in parts]),
                           np.concatenate([p.state for p in parts]) if keep else None,
                           deadline=np.concatenate([p.deadline for p in parts]) if deadline else None,
                           draw=parts[-1].draw,  # the last part is never one read back from a checkpoint
                           zone_counts=ZoneCounts.concat([p.zone_counts for p in parts]))


def deadline_step(setup: Setup) -> int | None:
    """The last reporting step by which finishing counts as meeting the deadline (-1: none; None: no deadline):
    completion at step ``k`` takes ``max(date_k - start, 0)`` days, compared with the deadline in years."""
    clearance = setup.scenario.clearance
    if clearance is None or clearance.deadline is None:
        return None
    days = np.array([(d - clearance.start).days for d in setup.steps.dates], float)
    allowed = np.maximum(days, 0.0) / DAYS_PER_YEAR <= (clearance.deadline - clearance.start).days / DAYS_PER_YEAR
    return int(np.flatnonzero(allowed)[-1]) if allowed.any() else -1


def completion_steps(state: np.ndarray) -> np.ndarray:
    """Per realization of ``state``, the first step from which no hazardous land remains (-1: none)."""
    remaining = state[:, :, :, K.REMAINING_M2].sum(axis=2) > 0
    n_steps = remaining.shape[1]
    last = n_steps - 1 - np.argmax(remaining[:, ::-1], axis=1)
    step = np.where(remaining.any(axis=1), last + 1, 0)
    return np.where(step < n_steps, step, -1)


def band_units(setup: Setup) -> np.ndarray:
    """The unit each metric counts in: a cell's area (m2) for areas, 1 for items."""
    units = np.ones(K.N_METRICS)
    units[[K.REMAINING_M2, K.CANCELLED_M2, K.REDUCED_M2, K.CLEARED_M2]] = setup.grid.cell_area_m2
    return units


def with_total(state: np.ndarray) -> np.ndarray:
    """``state`` [realization, step, class, metric] with the sum over classes as one more class."""
    return np.concatenate([state, state.sum(axis=2, keepdims=True)], axis=2)


def capacity_per_step(clearance: Clearance, steps: TimeSteps) -> np.ndarray:
    """Team-days per reporting step and crew (columns in ``kernels.release.CREW_MASKS`` order:
    NTS, TS, BAC, then teams with several roles): the work done in (previous date, date], counted
    over runs of days with the same teams (the teams change only on ``team_changes`` dates)."""
    column = {int(mask): j for j, mask in enumerate(K.CREW_MASKS)}
    capacity = np.zeros((len(steps), len(K.CREW_MASKS)))
    per_day = clearance.working_days_per_year / DAYS_PER_YEAR
    last_same = sorted({change.date - timedelta(days=1) for change in clearance.team_changes})
    for k in range(1, len(steps)):
        day = max(steps.dates[k - 1], clearance.start - timedelta(days=1))  # the last day already counted
        while day < steps.dates[k]:
            end = min([d for d in last_same if d > day] + [steps.dates[k]])  # days day+1 .. end share their teams
            for roles, n in clearance.teams_on(end).by_roles().items():
                capacity[k, column[sum(1 << METHODS.index(m) for m in roles)]] += n * per_day * (end - day).days
            day = end
    return capacity


def make_plan(setup: Setup, known: HazardMap) -> Plan:
    """Cut work units from the hazard map ``known``, price them, and order them by the scenario's policy."""
    sc = setup.scenario
    clearance = sc.clearance
    keys = setup.class_keys
    start_step = setup.steps.step_of(clearance.start)
    units = cut_work_units(
        known, setup.kernel.cell_class, len(keys), setup.grid,
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
        class_area = setup.class_cells * setup.grid.cell_area_m2
        class_risk = averted_per_item(sc.risk, clearance, keys, class_area, setup.class_people)
    view = PlannerView(
        units, np.array([sc.land_use.classes[k].priority for k in keys]), areas @ prices, near, class_risk,
    )
    order = POLICIES[clearance.policy](view)
    capacity = capacity_per_step(clearance, setup.steps)
    return Plan(units, order, ts_first[order], np.ascontiguousarray(rate[order]), capacity)


def run_land_release(
    setup: Setup, plan: Plan, realizations: int, first: int = 0, threads: int | None = None, batch_size: int = 64,
    progress: Callable[[int], None] | None = None, tile_cells: int = TILE_CELLS, by_unit: np.ndarray | None = None,
    draw=scatter, schedule: np.ndarray | None = None,
) -> np.ndarray:
    """Scatter realizations ``first .. first + realizations - 1`` again, counting items per work
    unit, and release land in each; return their state (see ``LandRelease``). With ``by_unit``
    (reporting steps), the state of each work unit instead, in work order, at those steps, then
    of each class's land never suspected [realization, step, unit then class, metric]: the same
    draws, each unit its own class (its ``UNSUSPECTED`` holds only its items not yet suspected;
    a class's holds the items of its land never suspected, its other metrics 0). ``draw`` runs a batch (``scatter``'s
    signature; the posterior's draws resampled realizations). ``schedule`` (float64 [realizations, unit,
    ``K.N_UNIT_METRICS``]), when given, gets each unit's schedule in work order."""
    n_lots = len(setup.class_keys) + (0 if by_unit is None else len(plan.units))
    n_steps = len(setup.steps) if by_unit is None else len(np.arange(len(setup.steps))[by_unit])
    state = np.zeros((realizations, n_steps, n_lots, K.N_METRICS))
    batches = release_batches(setup, plan, realizations, first, threads, batch_size, progress, tile_cells, by_unit, draw,
                              schedule is not None)
    for start, part, unit_rows, *_ in batches:
        state[start - first:start - first + len(part)] = part
        if schedule is not None:
            schedule[start - first:start - first + len(part)] = unit_rows
    return state


def score_plan(
    setup: Setup, plan: Plan, realizations: int, first: int = 0, threads: int | None = None, batch_size: int = 64,
    progress: Callable[[int], None] | None = None, tile_cells: int = TILE_CELLS, keep_state: bool = False,
    draw=scatter, extra: Extra | None = None,
) -> ReleaseSums:
    """``run_land_release``'s realizations, kept as exact bands and per-realization finals (and the
    whole state if ``keep_state``): memory that does not grow with the realizations' steps. With a
    deadline, also each realization's chance of meeting it over its productivity factor; with ``extra``,
    their remnants per zone of that map, counted in the same pass (``zone_counts``)."""
    n_steps, n_classes = len(setup.steps), len(setup.class_keys)
    step = deadline_step(setup)
    sums = ReleaseSums(ExactBands((n_steps, n_classes + 1, K.N_METRICS), band_units(setup)),
                       np.zeros((realizations, n_classes, K.N_METRICS)), np.zeros(realizations, np.int64),
                       np.zeros((realizations, n_steps, n_classes, K.N_METRICS)) if keep_state else None,
                       deadline=None if step is None else np.zeros(realizations), draw=draw,
                       zone_counts=None if extra is None else ZoneCounts(
                           extra.digest, np.zeros((realizations, extra.n_zones), np.int64)))
    for start, part, _, chance, counts in release_batches(setup, plan, realizations, first, threads, batch_size,
                                                          progress, tile_cells, draw=draw, deadline=step, extra=extra):
        done = slice(start - first, start - first + len(part))
        if counts is not None:
            sums.zone_counts.items[done] = counts
        sums.bands.add(with_total(part))
        sums.final[done] = part[:, -1]
        sums.completion[done] = completion_steps(part)
        if keep_state:
            sums.state[done] = part
        if chance is not None:
            sums.deadline[done] = chance
    sums.bands.folded()
    return sums


def release_batches(
    setup: Setup, plan: Plan, realizations: int, first: int, threads: int | None, batch_size: int,
    progress: Callable[[int], None] | None, tile_cells: int = TILE_CELLS, by_unit: np.ndarray | None = None,
    draw=scatter, schedule: bool = False, deadline: int | None = None, extra: Extra | None = None,
):
    """(first realization, state [realization, step, class, metric], with ``schedule`` each unit's
    schedule [realization, unit, ``K.N_UNIT_METRICS``], with a ``deadline`` step each realization's
    chance of releasing all land by it over the productivity factor, else None, and with ``extra`` the
    remnants per realization in each of its zones, else None) of each batch of realizations
    ``first .. first + realizations - 1``, scattered tile by tile on grids wider or taller than
    ``tile_cells`` (tiles partition the grid: every remnant is counted in the one tile it lands in),
    in batches whose table of items per zone stays under ``zone_items.RELEASE_BATCH_BYTES``; with ``by_unit`` (steps,
    or a slice of them: ``slice(None)`` for all, without a copy), per work unit and class's never-suspected
    land at those steps (see ``run_land_release``)."""
    units = plan.units
    k, args = release_inputs(setup, plan, by_unit is not None)
    n_classes = len(setup.class_keys)
    n_lots = n_classes + (0 if by_unit is None else len(units))
    key0, key1 = (np.uint64(v) for v in k.key)
    batches = zone_item_batches(k, realizations, first, threads, batch_size, tile_cells, draw, extra)
    del k  # the batches keep only what their windows count
    for index, items, counts in batches:
        n = len(items)
        if by_unit is not None:  # lots n + c: the land of class c never suspected (no land of a unit is)
            never = items[:, :, 2 * len(units):2 * len(units) + n_classes]
            items = np.concatenate([items[:, :, :2 * len(units)], np.zeros((n, items.shape[1], len(units)), np.int64),
                                    never], 2)
        state = np.zeros((n, len(setup.steps), n_lots, K.N_METRICS))
        epochs = setup.epoch_steps.astype(np.int64)
        unit_rows = None
        if schedule:
            unit_rows = np.zeros((n, len(units), K.N_UNIT_METRICS))
            unit_rows[:, :, :K.UNIT_RELEASED_M2] = -1.0
            K.release_units(items, *args, key0, key1, index, epochs, state, unit_rows)
        else:
            K.release_ensemble(items, *args, key0, key1, index, epochs, state)
        chance = None
        if deadline is not None:
            chance = np.zeros(n)
            deadline_probabilities(items, *args, key0, key1, index, epochs, deadline, n_lots, chance)
        if by_unit is not None:
            state = state[:, by_unit]
        if progress is not None:
            progress(n)
        yield index, state, unit_rows, chance, counts


def release_inputs(setup: Setup, plan: Plan, by_unit: bool = False) -> tuple[KernelInputs, tuple]:
    """The scored realizations' kernel inputs, counting items per work unit in work order (zones ``2u``
    and ``2u + 1``, then each class's land never suspected, then outside the study area), and the
    release kernels' per-unit and capacity arguments (each unit its own lot with ``by_unit``)."""
    clearance = setup.scenario.clearance
    units, order = plan.units, plan.order
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    zone_of_cell = units.zone.copy()
    suspected = zone_of_cell < 2 * len(units)
    zone_of_cell[suspected] = 2 * rank[zone_of_cell[suspected] // 2] + zone_of_cell[suspected] % 2
    k = replace(setup.kernel, key=root_key(setup.scenario.simulation.seed, SCORED), zone=zone_of_cell,
                n_zones=2 * len(units) + setup.kernel.n_zones, disc=NO_DISC)  # the last: outside the study area
    args = (
        np.arange(len(units)) if by_unit else units.unit_class[order], units.unit_step[order],
        units.area_sha[order], units.area_cha[order], plan.ts_first,
        plan.rate, plan.capacity, clearance.productivity_spread, clearance.ts_sample_fraction,
        clearance.detection_probability, clearance.nts_evidence_probability,
    )
    return k, args


def release_cost(state: np.ndarray, clearance: Clearance) -> np.ndarray:
    """Cost per realization of ``state`` (see ``final_cost``)."""
    return final_cost(state[:, -1], clearance)


def final_cost(final: np.ndarray, clearance: Clearance) -> np.ndarray:
    """Cost per realization of the land released by the end (``final``: [realization, class,
    metric]): all of it surveyed by NTS, the reduced land's sample searched by TS, cleared land
    cleared (a TS sample before clearance is priced as clearance)."""
    final = final.sum(axis=1)
    released = final[:, K.CANCELLED_M2] + final[:, K.REDUCED_M2] + final[:, K.CLEARED_M2]
    sampled = clearance.ts_sample_fraction * final[:, K.REDUCED_M2]
    price = clearance.cost_per_m2
    return released * price.nts + sampled * price.ts + final[:, K.CLEARED_M2] * price.bac
