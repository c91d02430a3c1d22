"""Every work-order policy on the same realizations: casualties averted, land released, cost, deadline.

Each policy's plan is made from the same hazard map and its land release is run on the same
realizations with the same seed (common random numbers), so the differences between rows are
the effect of the order of work, not of the draws.
"""

from __future__ import annotations

import dataclasses

import numba
import numpy as np
import pandas as pd

from simulator.config.clearance import METHODS, Clearance
from simulator.engine.ensemble import Ensemble
from simulator.engine.layout import TILE_CELLS
from simulator.engine.prepare import Setup
from simulator.inputs.timeaxis import DAYS_PER_YEAR
from simulator.kernels import release as K
from simulator.release.land_release import LandRelease, Plan, make_plan, release_inputs, zone_item_batches
from simulator.release.policies import POLICIES, PlannerView, averted_per_item
from simulator.results.release_tables import completion_years
from simulator.results.risk import ReleaseFigures, RiskOverTime, release_figures
from simulator.results.risk_model import RiskRates, class_area_m2
from simulator.results.tables import M2_PER_HA, band

RISK_POLICY = "risk-per-cost"


def with_policy(setup: Setup, policy: str) -> Setup:
    """``setup`` with another ``clearance.policy`` (nothing else changes)."""
    sc = setup.scenario
    scenario = sc.model_copy(update={"clearance": sc.clearance.model_copy(update={"policy": policy})})
    return dataclasses.replace(setup, loaded=dataclasses.replace(setup.loaded, scenario=scenario))


def suspected_only_items(plan: Plan, mean_count: np.ndarray) -> np.ndarray:
    """Per unit, the hazard map's expected items in its suspected-only part (mean count per cell, flat)."""
    units = plan.units
    inside = units.zone < 2 * len(units)
    sums = np.bincount(units.zone[inside], weights=mean_count[inside], minlength=2 * len(units))
    return sums[0::2]


def unit_cost(plan: Plan, clearance: Clearance, sha_items: np.ndarray | None = None) -> np.ndarray:
    """Expected cost per unit (unit index, not work order): NTS of the whole unit, then TS of a
    sample and BAC of the rest of the confirmed part, or BAC of all of it (the prices of
    ``make_plan``). With ``sha_items`` (expected items in each suspected-only part), also BAC of
    the suspected-only part when NTS sees evidence, with probability ``1 - exp(-p_evidence x items)``."""
    units = plan.units
    ts_first = np.empty_like(plan.ts_first)
    ts_first[plan.order] = plan.ts_first
    f = clearance.ts_sample_fraction
    areas = np.column_stack([
        units.area_sha + units.area_cha, np.where(ts_first, f * units.area_cha, 0.0),
        np.where(ts_first, (1 - f) * units.area_cha, units.area_cha),
    ])
    cost = areas @ np.array([getattr(clearance.cost_per_m2, m) for m in METHODS])
    if sha_items is not None:
        evidence = -np.expm1(-clearance.nts_evidence_probability * sha_items)
        cost = cost + evidence * units.area_sha * clearance.cost_per_m2.bac
    return cost


def reordered(plan: Plan, order: np.ndarray) -> Plan:
    """The same units, effort and capacity as ``plan`` in another work order."""
    ts_first = np.empty_like(plan.ts_first)
    rate = np.empty_like(plan.rate)
    ts_first[plan.order] = plan.ts_first
    rate[plan.order] = plan.rate
    return Plan(plan.units, order, ts_first[order], np.ascontiguousarray(rate[order]), plan.capacity)


def risk_plan(setup: Setup, ensemble: Ensemble, plan: Plan) -> Plan:
    """``plan``'s units ordered by ``risk-per-cost`` with what the planner knows: the scenario's
    exposure, the hazard map, and an expected cost that counts clearing suspected-only land
    where survey is expected to find evidence (``unit_cost`` with ``sha_items``)."""
    sc = setup.scenario
    priority = np.array([sc.land_use.classes[k].priority for k in setup.class_keys])
    weights = averted_per_item(sc.risk, sc.clearance, setup.class_keys, class_area_m2(setup), setup.class_people)
    cost = unit_cost(plan, sc.clearance, suspected_only_items(plan, ensemble.mean_count()))
    view = PlannerView(plan.units, priority, cost, None, weights)
    return reordered(plan, POLICIES[RISK_POLICY](view))


def policy_runs(setup: Setup, ensemble: Ensemble, release: LandRelease, threads: int | None = None,
                risk: RiskOverTime | None = None):
    """``(policy, ReleaseFigures)`` for every policy on the scored realizations of ``release`` (drawn as
    they were); the run's own is read from ``release`` and its ``risk`` when given, unless it is
    ``risk-per-cost``. ``threads`` (default: numba's current setting) changes speed only."""
    own = setup.scenario.clearance.policy
    threads = threads or numba.get_num_threads()
    n = release.realizations
    rates = risk.rates if risk is not None else RiskRates.of(setup, n)
    plans = {}
    for name in POLICIES:
        if name == RISK_POLICY:
            plans[name] = risk_plan(setup, ensemble, release.plan)
        elif name == own and risk is None:
            plans[name] = release.plan
        elif name != own:
            plans[name] = make_plan(with_policy(setup, name), ensemble.hazard_map())
    figures = dict(zip(plans, reordered_releases(setup, list(plans.values()), rates, n, threads, release.draw)))
    for name in POLICIES:
        if name in figures:
            yield name, figures[name]
            continue
        final = release.final
        released = final[..., K.CANCELLED_M2:K.CLEARED_M2 + 1].sum(axis=(1, 2)) / M2_PER_HA
        yield name, ReleaseFigures(risk.horizon_casualties("after"), risk.horizon_casualties("before"), released,
                                   release.cost, completion_years(setup, release))


def reordered_releases(setup: Setup, plans: list[Plan], rates: RiskRates, realizations: int, threads: int | None,
                       draw) -> list[ReleaseFigures]:
    """``release_figures`` of each plan, scattering each batch of realizations once for all the plans
    with the first's work units (make_plan cuts the same units whatever the policy): a unit's items do
    not depend on its place in the work order, so another order's items per zone are the first's,
    reordered (the same integers, so the same figures as a scatter of its own)."""
    base = plans[0]
    k, _ = release_inputs(setup, base)
    key0, key1 = (np.uint64(v) for v in k.key)
    epochs = setup.epoch_steps.astype(np.int64)
    base_rank, reorder = _rank(base.order), []
    for plan in plans:
        if not (plan.units is base.units or np.array_equal(plan.units.zone, base.units.zone)):
            reorder.append(None)  # other units: a scatter of its own
            continue
        take = np.arange(k.n_zones)  # the zone of the first plan's items that lands in each zone of this one
        for part in (0, 1):  # a unit's suspected-only and its confirmed part
            take[2 * _rank(plan.order) + part] = 2 * base_rank + part
        reorder.append((take, release_inputs(setup, plan)[1]))
    out = [ReleaseFigures.zeros(realizations) if r is not None else
           release_figures(setup, plan, rates, realizations, threads, draw) for plan, r in zip(plans, reorder)]
    shape = (len(setup.steps), len(setup.class_keys), K.N_METRICS)
    for first, items, _ in zone_item_batches(k, realizations, 0, threads, setup.scenario.simulation.batch_size,
                                             TILE_CELLS, draw):
        for figures, plan_items in zip(out, reorder):
            if plan_items is not None:
                take, args = plan_items
                state = np.zeros((len(items), *shape))
                K.release_ensemble(np.ascontiguousarray(items[:, :, take]), *args, key0, key1, first, epochs, state)
                figures.add(setup, rates, first, state)
    return out


def _rank(order: np.ndarray) -> np.ndarray:
    """Each unit's place in the work ``order``."""
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    return rank


def compare_policies(
    setup: Setup, ensemble: Ensemble, release: LandRelease, threads: int | None = None,
    risk: RiskOverTime | None = None,
) -> pd.DataFrame:
    """One row per policy: casualties over the time axis and averted (mean, P5, P95), land released
    (ha), cost, years to completion (P50) and the probability of releasing all hazardous land by
    the deadline (or within the time axis); and, paired realization by realization with the
    scenario's own policy, the mean difference in casualties averted and the share of
    realizations in which the policy averts more. ``risk``: the run's (its own policy's figures)."""
    clearance = setup.scenario.clearance
    limit = (clearance.deadline - clearance.start).days / DAYS_PER_YEAR if clearance.deadline is not None else np.inf
    rows, averted_by = [], {}
    for name, run in policy_runs(setup, ensemble, release, threads, risk):
        averted_by[name] = run.before - run.after
        averted = band(averted_by[name])
        casualties = band(run.after)
        rows.append({
            "policy": name,
            "casualties_mean": casualties["mean"], "casualties_p5": casualties["p5"],
            "casualties_p95": casualties["p95"],
            "casualties_averted_mean": averted["mean"], "casualties_averted_p5": averted["p5"],
            "casualties_averted_p95": averted["p95"],
            "released_ha_mean": float(run.released_ha.mean()), "cost_mean": float(run.cost.mean()),
            "cost_per_casualty_averted": float(run.cost.mean() / averted["mean"]) if averted["mean"] > 0 else np.inf,
            "years_to_completion_p50": float(np.quantile(run.years, 0.5, method="inverted_cdf")),
            "p_deadline": float(np.mean(run.years <= limit)),
        })
    table = pd.DataFrame(rows)
    own = averted_by[clearance.policy]
    table["averted_minus_scenario_policy_mean"] = [float((averted_by[p] - own).mean()) for p in table["policy"]]
    table["p_averts_more_than_scenario_policy"] = [float(np.mean(averted_by[p] > own + 1e-12)) for p in table["policy"]]
    return table
