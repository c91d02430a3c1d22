"""Risk to people over time: expected detonations and casualties per land-use class, before and after land release.

Per realization ``r``, step ``k`` and class ``c`` (docs/model.md section 4): items in land
marked hazardous (not yet released) are contacted with yearly probability
``q_c (1 - compliance_c)``, items people use freely (residual items in released land, items
in land not, or not yet, suspected) with ``q_c``; a contact sets an item off with the
realization's detonation probability, and a detonation hurts ``casualties_per_detonation``
people. "Before land release" is the same realization with no land ever released: every item
that lay in suspected land stays there, marked. Rates are per year at each reporting date;
expected casualties over a step are the rate at its first date times its length in years.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from simulator.config.risk import Risk
from simulator.engine.ensemble import TILE_CELLS, Ensemble
from simulator.engine.prepare import Setup
from simulator.engine.scatter import scatter
from simulator.inputs.timeaxis import DAYS_PER_YEAR
from simulator.kernels import release as K
from simulator.release.land_release import LandRelease, Plan, run_land_release
from simulator.release.qa import lot_units, p_accept_lots, sample_size
from simulator.results.tables import M2_PER_HA, band, per_step

RISK_STREAM = 0x5249534B
"""Mixed with the scenario seed to seed the per-realization detonation probabilities ("RISK")."""

M2_PER_KM2 = 1e6

UNIT_STATE_BYTES = 64 * 2**20
"""Memory (bytes) the per-unit land-release state of one batch of realizations may take."""


def class_area_m2(setup: Setup) -> np.ndarray:
    """Area of each land-use class inside the grid and the study area (m2)."""
    return setup.class_cells * setup.grid.cell_area_m2


def detonation_probabilities(risk: Risk, seed: int, realizations: int) -> np.ndarray:
    """P(detonation | contact) of realizations ``0 .. realizations - 1`` (the same in every run of the seed)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, RISK_STREAM]))
    return risk.detonation_probability.draw(rng, realizations)


@dataclass(frozen=True)
class RiskRates:
    """Per class, yearly contact probability of an item in marked hazardous land (``marked``) and
    in land used freely (``free``); per realization the detonation probability; casualties per
    detonation; per class the children's share of person-days."""

    marked: np.ndarray
    free: np.ndarray
    p_detonation: np.ndarray
    casualties_per_detonation: float
    children_share: np.ndarray

    @classmethod
    def of(cls, setup: Setup, realizations: int) -> RiskRates:
        sc = setup.scenario
        risk = sc.risk
        contact = risk.contact_probability(setup.class_keys, class_area_m2(setup), setup.class_people)
        compliance = risk.per_class(setup.class_keys, "compliance")
        return cls(contact * (1.0 - compliance), contact,
                   detonation_probabilities(risk, sc.simulation.seed, realizations),
                   risk.casualties_per_detonation, risk.per_class(setup.class_keys, "children_share"))

    def hazards(self) -> tuple[np.ndarray, np.ndarray]:
        """Detonations a year per intact item [realization, class], in marked and in freely used land."""
        p = self.p_detonation[:, None]
        return self.marked[None, :] * p, self.free[None, :] * p


@dataclass(frozen=True)
class UnitStates:
    """Each work unit's land-release state (``kernels.release`` metrics; units in work order) per
    scored realization at the risk map's step and at the last [realization, 2, unit, metric]."""

    plan: Plan
    state: np.ndarray
    map_step: int

    @classmethod
    def of(cls, setup: Setup, land_release: LandRelease, threads: int | None = None, draw=scatter,
           tile_cells: int = TILE_CELLS) -> UnitStates:
        """Land release of the scored realizations again (the same draws; ``draw`` their scatter call, the
        posterior's with evidence), kept per unit."""
        plan, n = land_release.plan, land_release.realizations
        steps = np.array([map_step(setup), len(setup.steps) - 1])
        per_realization = len(setup.steps) * max(len(plan.units), 1) * K.N_METRICS * 8
        batch = int(max(1, min(setup.scenario.simulation.batch_size, UNIT_STATE_BYTES // per_realization)))
        state = run_land_release(setup, plan, n, threads=threads, batch_size=batch, tile_cells=tile_cells,
                                 by_unit=steps, draw=draw)
        return cls(plan, state, int(steps[0]))

    @property
    def unit_class(self) -> np.ndarray:
        """Class of each unit, in work order."""
        return self.plan.units.unit_class[self.plan.order]


def map_step(setup: Setup) -> int:
    """Reporting step of the risk map: ``risk.map_date``, else ``clearance.start``, else the time axis's end."""
    sc = setup.scenario
    day = sc.risk.map_date or (sc.clearance.start if sc.clearance is not None else sc.time.end)
    return setup.steps.step_of(min(max(day, setup.steps.dates[0]), setup.steps.dates[-1]))


def items_by_exposure(
    setup: Setup, ensemble: Ensemble, state: np.ndarray | None,
) -> dict[str, tuple[np.ndarray, ...]]:
    """Items [realization, step, class] (marked, used freely, removed by clearance), after and before land release.

    Without land release nothing is surveyed or marked: every item lies in land used freely.
    Items outside the study area (``land_use.outside``) are in no class: nobody is exposed to them.
    """
    if state is None:
        items = per_step(setup, ensemble.zone_items)[:, :, :len(setup.class_keys)].astype(float)
        none = np.zeros_like(items)
        return {"after": (none, items, none), "before": (none, items, none)}
    found = state[..., K.FOUND]
    unsuspected = state[..., K.UNSUSPECTED]
    return {"after": (state[..., K.IN_HAZARDOUS], state[..., K.RESIDUAL] + unsuspected, found),
            "before": (found + state[..., K.RESIDUAL] + state[..., K.IN_HAZARDOUS], unsuspected, np.zeros_like(found))}


def step_years(setup: Setup) -> np.ndarray:
    """Years from each reporting date to the next (0 after the last)."""
    days = np.diff([d.toordinal() for d in setup.steps.dates]).astype(float)
    return np.append(days, 0.0) / DAYS_PER_YEAR


def deplete(marked: np.ndarray, free: np.ndarray, found: np.ndarray, hazard_marked: np.ndarray,
            hazard_free: np.ndarray, years: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expected detonations a year at each date, expected detonations over each step, and the intact
    share of the items on the ground [realization, step, class].

    An item in land of hazard ``h`` a year goes off within a step of ``dt`` years with probability
    ``1 - exp(-h dt)`` (from the step's first date). Items that went off are gone: the intact share
    ``g`` of a class's items falls by the step's detonations, is kept by the items clearance removes
    (removed at random) and rises with new, intact arrivals.
    """
    ground = marked + free
    total = ground + found
    rate = np.zeros_like(ground)
    over_step = np.zeros_like(ground)
    intact_share = np.ones_like(ground)
    intact = ground[:, 0].copy()
    for k in range(ground.shape[1]):
        share = np.divide(intact, ground[:, k], out=np.ones_like(intact), where=ground[:, k] > 0)
        intact_share[:, k] = share
        rate[:, k] = share * (marked[:, k] * hazard_marked + free[:, k] * hazard_free)
        over_step[:, k] = share * (marked[:, k] * -np.expm1(-hazard_marked * years[k])
                                   + free[:, k] * -np.expm1(-hazard_free * years[k]))
        if k + 1 < ground.shape[1]:
            arrived = total[:, k + 1] - total[:, k]
            kept = np.divide(ground[:, k + 1] - arrived, ground[:, k], out=np.zeros_like(intact),
                             where=ground[:, k] > 0)
            intact = np.maximum(intact - over_step[:, k], 0.0) * kept + arrived
    return rate, over_step, intact_share


@dataclass(frozen=True)
class RiskOverTime:
    """Per realization, step and class, after and before land release: expected detonations a year
    at each date (``rate``) and over the step that starts there (``over_step``); the rates behind them."""

    rate: dict[str, np.ndarray]
    over_step: dict[str, np.ndarray]
    intact_share: dict[str, np.ndarray]
    rates: RiskRates
    state: np.ndarray | None = None
    per_unit: Callable[[], UnitStates] | None = None

    @cached_property
    def units(self) -> UnitStates | None:
        """Each work unit's land-release state (for QA per lot and the risk map), computed when first asked."""
        return None if self.per_unit is None else self.per_unit()

    @classmethod
    def of(cls, setup: Setup, ensemble: Ensemble, state: np.ndarray | None,
           per_unit: Callable[[], UnitStates] | None = None) -> RiskOverTime:
        # land release is scored on its own realizations, which may outnumber the map's
        rates = RiskRates.of(setup, ensemble.realizations if state is None else len(state))
        hazards = rates.hazards()
        years = step_years(setup)
        rate, over_step, intact = {}, {}, {}
        for which, items in items_by_exposure(setup, ensemble, state).items():
            rate[which], over_step[which], intact[which] = deplete(*items, *hazards, years)
        return cls(rate, over_step, intact, rates, state, per_unit)

    def casualties_per_year(self, which: str = "after") -> np.ndarray:
        return self.rate[which] * self.rates.casualties_per_detonation

    def cumulative_casualties(self, which: str = "after") -> np.ndarray:
        """Expected casualties from the first reporting date up to each date [realization, step, class]."""
        cumulative = np.cumsum(self.over_step[which] * self.rates.casualties_per_detonation, axis=1)
        return np.concatenate([np.zeros_like(cumulative[:, :1]), cumulative[:, :-1]], axis=1)

    def horizon_casualties(self, which: str = "after") -> np.ndarray:
        """Expected casualties over the whole time axis, per realization (all classes)."""
        return self.cumulative_casualties(which)[:, -1].sum(axis=1)


def risk_table(setup: Setup, risk: RiskOverTime) -> pd.DataFrame:
    """Per step and class (and ``all``): detonations and casualties a year and casualties so far,
    after and before land release, with P5, P50, P95 and mean across realizations."""
    values = {}
    for which in ("after", "before"):
        values[f"detonations_per_year_{which}"] = risk.rate[which]
        values[f"casualties_per_year_{which}"] = risk.casualties_per_year(which)
        values[f"casualties_cumulative_{which}"] = risk.cumulative_casualties(which)
    children = risk.cumulative_casualties("after") * risk.rates.children_share
    rows = []
    for key, c in _blocks(setup):
        bands = {name: band(_of_class(a, c)) for name, a in values.items()}
        child = _of_class(children, c).mean(axis=0)
        for k, day in enumerate(setup.steps.dates):
            row = {"step": k, "date": day.isoformat(), "class": key}
            for name, stats in bands.items():
                row |= {f"{name}_{q}": stats[q][k] for q in ("p5", "p50", "p95", "mean")}
            row["child_casualties_cumulative_after_mean"] = child[k]
            rows.append(row)
    return pd.DataFrame(rows)


def _blocks(setup: Setup) -> list[tuple[str, int | None]]:
    """(key, class index) per class, then ("all", None)."""
    return [(key, c) for c, key in enumerate(setup.class_keys)] + [("all", None)]


def _of_class(values: np.ndarray, c: int | None) -> np.ndarray:
    """``values`` [..., class] of class ``c`` (None: summed over classes)."""
    return values[..., c] if c is not None else values.sum(axis=-1)


def _rounded_band(values: np.ndarray) -> dict[str, float]:
    stats = band(values)
    return {q: round(float(stats[q]), 4) for q in ("mean", "p5", "p50", "p95")}


def risk_summary(setup: Setup, risk: RiskOverTime) -> dict:
    """Casualties expected over the time axis (bands) after and before land release, averted,
    children, the yearly rate at the end and, with land release, QA at handover."""
    after, before = risk.horizon_casualties("after"), risk.horizon_casualties("before")
    children = (risk.cumulative_casualties("after")[:, -1] * risk.rates.children_share).sum(axis=1)
    dates = setup.steps.dates
    handover = None
    if risk.units is not None:
        total = qa_table(setup, risk).iloc[-1]
        handover = {name: None if np.isnan(total[name]) else round(float(total[name]), 4) for name in (
            "p_pass_given_items", "residual_casualties_per_year_mean", "residual_casualties_per_year_after_qa_mean")}
    return {
        "horizon": f"{dates[0].isoformat()} to {dates[-1].isoformat()}",
        "map_date": dates[map_step(setup)].isoformat(),
        "handover": handover,
        "casualties": _rounded_band(after),
        "casualties_without_release": _rounded_band(before),
        "casualties_averted": _rounded_band(before - after),
        "child_casualties_mean": round(float(children.mean()), 4),
        "casualties_per_year_at_end": _rounded_band(risk.casualties_per_year("after")[:, -1].sum(axis=1)),
        "detonation_probability_mean": round(float(risk.rates.p_detonation.mean()), 4),
        **({} if setup.class_people is None else {"people_from_population": {
            key: round(float(n), 2) for key, n in zip(setup.class_keys, setup.class_people)}}),
    }


def risk_map(setup: Setup, ensemble: Ensemble, risk: RiskOverTime) -> np.ndarray:
    """Expected casualties per km2 per year at the risk map's date (``map_step``), 0 outside the study area.

    With land release (``risk.units``): per work unit, its items at that date in the scored
    realizations, marked (not yet released) or used freely (residual, or not yet suspected), at
    their class's rates and intact share; land never suspected holds its class's other items. Each
    unit's (and each class's never-suspected land's) expected casualties are spread over its cells
    as the mean density is, so the map sums to the risk table's casualties a year at that date.
    Without land release: the mean density (all strikes to the end of the time axis), used freely.
    """
    rates, n_classes = risk.rates, len(setup.class_keys)
    inside = setup.inside.ravel()
    density = ensemble.mean_count()
    if risk.units is None:
        cls = np.minimum(setup.kernel.cell_class, n_classes - 1)
        per_item = np.where(inside, rates.free[cls], 0.0)  # nobody is exposed outside the study area
        casualties = density * per_item * rates.p_detonation.mean() * rates.casualties_per_detonation
        return (casualties * (M2_PER_KM2 / setup.grid.cell_area_m2)).reshape(setup.grid.shape)
    units, k = risk.units, risk.units.map_step
    at = units.state[:, 0]
    c = units.unit_class
    weight = risk.intact_share["after"][:, k] * rates.p_detonation[:, None] * rates.casualties_per_detonation
    per_unit = (weight[:, c] * (at[..., K.IN_HAZARDOUS] * rates.marked[c]
                                + (at[..., K.RESIDUAL] + at[..., K.UNSUSPECTED]) * rates.free[c])).mean(axis=0)
    waiting = np.zeros((len(at), n_classes))
    np.add.at(waiting.T, c, at[..., K.UNSUSPECTED].T)
    never = risk.state[:, k, :, K.UNSUSPECTED] - waiting
    per_class = (weight * never * rates.free).mean(axis=0)
    n_units = len(c)
    rank = np.empty(n_units, np.int64)
    rank[units.plan.order] = np.arange(n_units)
    zone = units.plan.units.zone
    region = np.where(zone < 2 * n_units, np.append(rank, 0)[np.minimum(zone // 2, n_units)], zone - n_units)
    region = np.where(inside, region, n_units + n_classes)  # the last region: outside the study area
    expected = np.append(np.concatenate([per_unit, per_class]), 0.0)
    mass = np.bincount(region, weights=density, minlength=len(expected))
    cells = np.bincount(region, minlength=len(expected))
    share = np.where(mass[region] > 0, density / np.where(mass[region] > 0, mass[region], 1.0),
                     1.0 / np.maximum(cells[region], 1))
    return (expected[region] * share * (M2_PER_KM2 / setup.grid.cell_area_m2)).reshape(setup.grid.shape)


def qa_table(setup: Setup, risk: RiskOverTime) -> pd.DataFrame:
    """QA by accept-on-zero sampling, one lot per work unit (the unit's land released by the end), per class and all.

    Per realization and lot: its sampling units ``N``, the sample size, its residual items (each
    counted as one dirty unit, at most ``N``: the least favourable case for passing), whether
    it passes, and the residual casualties a year of the released land, before QA and expected
    after it (a failing lot is cleared again, finding each item with the detection probability).
    """
    sc = setup.scenario
    qa, p_detect = sc.risk.qa, sc.clearance.detection_probability
    rates, c = risk.rates, risk.units.unit_class
    final = risk.units.state[:, 1]
    intact = risk.intact_share["after"][:, -1][:, c]
    released = final[..., K.CANCELLED_M2] + final[..., K.REDUCED_M2] + final[..., K.CLEARED_M2]
    lot = lot_units(released, qa.sampling_unit_m or setup.grid.cell_size_m)
    residual = final[..., K.RESIDUAL]
    dirty = np.minimum(residual, lot).astype(np.int64)
    lots, at = np.unique(lot, return_inverse=True)
    sizes = np.array([sample_size(qa.confidence, qa.clean_share, int(n)) if n > 0 else 0 for n in lots], np.int64)
    sample = sizes[at.reshape(lot.shape)]
    passes = np.ones_like(released)
    held = dirty > 0
    passes[held] = p_accept_lots(lot[held], dirty[held], sample[held], p_detect)
    per_year = residual * intact * rates.free[c] * rates.p_detonation[:, None] * rates.casualties_per_detonation
    after_qa = per_year * (passes + (1.0 - passes) * (1.0 - p_detect))
    rows = []
    for key, j in _blocks(setup):
        of = np.ones(len(c), bool) if j is None else c == j
        lots = (lot > 0) & of
        holds = lots & (residual > 0)
        rows.append({
            "class": key, "released_ha_mean": released[:, of].sum(axis=1).mean() / M2_PER_HA,
            "lots_mean": lots.sum(axis=1).mean(),
            "lot_units_mean": lot[lots].mean() if lots.any() else 0.0,
            "sample_units_p50": float(np.median(sample[lots])) if lots.any() else 0.0,
            "p_lot_holds_items": holds.sum() / lots.sum() if lots.any() else 0.0,
            "p_pass_given_items": passes[holds].mean() if holds.any() else np.nan,
            "residual_items_mean": residual[:, of].sum(axis=1).mean(),
            "residual_casualties_per_year_mean": per_year[:, of].sum(axis=1).mean(),
            "residual_casualties_per_year_p95": float(np.percentile(per_year[:, of].sum(axis=1), 95)),
            "residual_casualties_per_year_after_qa_mean": after_qa[:, of].sum(axis=1).mean(),
        })
    return pd.DataFrame(rows)
