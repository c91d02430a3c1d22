"""Risk to people over time: expected detonations and casualties per land-use class, before and
after land release (the model: ``simulator.results.risk_model``, docs/model.md section 4).

Every figure is summed batch by batch over the realizations, so memory does not grow with
them: bands per step and class as real-valued histograms (``FloatBands``: within a stated
relative error of the full table's percentiles), means as sums, and per realization only the
few numbers the summary and the policy comparison pair up (casualties over the time axis).
With land release the scored realizations are released again, each work unit its own lot
(``UnitStates``: the same draws), and summed to classes for the risk over time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from simulator.engine.ensemble import Ensemble
from simulator.engine.layout import TILE_CELLS
from simulator.engine.prepare import Setup
from simulator.engine.scatter import scatter
from simulator.kernels import release as K
from simulator.release.bands import FloatBands
from simulator.release.land_release import LandRelease, Plan, completion_steps, final_cost, release_batches
from simulator.results.release_tables import years_to
from simulator.results.risk_model import (
    RiskRates,
    batch_risk,
    class_area_m2,
    cumulative,
    detonation_probabilities,
    exposure,
    map_step,
    step_years,
    with_all,
)
from simulator.results.risk_units import UnitSums, qa_table, risk_map
from simulator.results.schedule import ScheduleSums, UnitSchedule
from simulator.results.tables import M2_PER_HA, band, per_step

__all__ = ["ReleaseFigures", "RiskOverTime", "RiskRates", "RiskSums", "UnitStates", "release_figures", "class_area_m2", "detonation_probabilities",
           "map_step", "qa_table", "risk_map", "risk_summary", "risk_table"]

UNIT_STATE_BYTES = 64 * 2**20
"""Memory (bytes) the per-unit land-release state of one batch of realizations may take."""
FIGURES = ("detonations_per_year_after", "detonations_per_year_before", "casualties_cumulative_after",
           "casualties_cumulative_before")
"""The figures ``RiskSums.bands`` holds per step and class (casualties a year: detonations times casualties per detonation)."""
ENSEMBLE_BATCH = 256
"""Realizations of the ensemble's items per class turned into risk at a time (without land release)."""


class RiskSums:
    """Risk over time summed over realizations: ``bands`` ([``FIGURES``, step, class then all]),
    ``child`` (the sum of expected child casualties so far [step, class then all]); per
    realization expected casualties over the time axis (``horizon`` after and before land
    release), of children, and a year at the last date (after)."""

    def __init__(self, setup: Setup, rates: RiskRates, realizations: int):
        n_steps, n_classes = len(setup.steps), len(setup.class_keys)
        self.rates, self.years, self.n = rates, step_years(setup), 0
        self.bands = FloatBands((len(FIGURES), n_steps, n_classes + 1))
        self.child = np.zeros((n_steps, n_classes + 1))
        self.horizon = {"after": np.zeros(realizations), "before": np.zeros(realizations)}
        self.children = np.zeros(realizations)
        self.per_year_at_end = np.zeros(realizations)

    def add(self, first: int, items: dict) -> np.ndarray:
        """Add realizations ``first ..`` with ``items`` (``exposure``); return their intact share after
        land release [realization, step, class]."""
        risk = batch_risk(self.rates, self.years, first, items)
        cpd = self.rates.casualties_per_detonation
        so_far = {which: cumulative(over_step, cpd) for which, (_, over_step, _) in risk.items()}
        self.bands.add(np.stack([with_all(risk["after"][0]), with_all(risk["before"][0]),
                                 with_all(so_far["after"]), with_all(so_far["before"])], axis=1))
        children = so_far["after"] * self.rates.children_share
        self.child += with_all(children).sum(axis=0)
        rows = slice(first, first + len(children))
        for which in self.horizon:
            self.horizon[which][rows] = so_far[which][:, -1].sum(axis=1)
        self.children[rows] = children[:, -1].sum(axis=1)
        self.per_year_at_end[rows] = risk["after"][0][:, -1].sum(axis=1) * cpd
        self.n += len(children)
        return risk["after"][2]


@dataclass(frozen=True)
class ReleaseFigures:
    """A land release of the scored realizations, per realization: expected casualties over the
    time axis after and before land release, land released (ha), cost, years to completion."""

    after: np.ndarray
    before: np.ndarray
    released_ha: np.ndarray
    cost: np.ndarray
    years: np.ndarray

    @classmethod
    def zeros(cls, realizations: int) -> ReleaseFigures:
        return cls(*(np.zeros(realizations) for _ in range(5)))

    def add(self, setup: Setup, rates: RiskRates, first: int, part: np.ndarray) -> None:
        """Fill in realizations ``first ..`` from their land-release state ``part`` [realization, step, class, metric]."""
        rows = slice(first, first + len(part))
        risk = batch_risk(rates, step_years(setup), first, exposure(part))
        self.after[rows], self.before[rows] = (cumulative(risk[which][1], rates.casualties_per_detonation)[:, -1]
                                               .sum(axis=1) for which in ("after", "before"))
        final = part[:, -1]
        self.released_ha[rows] = final[..., K.CANCELLED_M2:K.CLEARED_M2 + 1].sum(axis=(1, 2)) / M2_PER_HA
        self.cost[rows] = final_cost(final, setup.scenario.clearance)
        self.years[rows] = years_to(setup, completion_steps(part))


def release_figures(setup: Setup, plan: Plan, rates: RiskRates, realizations: int, threads: int | None = None,
                    draw=scatter, tile_cells: int = TILE_CELLS) -> ReleaseFigures:
    """``plan``'s land release of scored realizations ``0 .. realizations - 1`` (drawn by ``draw``),
    batch by batch: only its figures per realization are kept."""
    out = ReleaseFigures.zeros(realizations)
    for first, part, *_ in release_batches(setup, plan, realizations, 0, threads, setup.scenario.simulation.batch_size,
                                          None, tile_cells, draw=draw):
        out.add(setup, rates, first, part)
    return out


class UnitStates:
    """The scored realizations of ``land_release`` released again (the same draws), each work unit
    its own lot, when first needed: kept as ``units`` (``UnitSums``), as each unit's ``schedule``
    (the work-unit table's, which then needs no pass of its own) and, summed to classes, as the risk
    over time (``sums``). What needs only the casualties over the time axis per realization
    (``horizon``: sweeps) gets them from a cheaper pass by class, unless the full one has run."""

    def __init__(self, setup: Setup, land_release: LandRelease, threads: int | None = None,
                 tile_cells: int = TILE_CELLS):
        self.setup, self.land_release, self.threads, self.tile_cells = setup, land_release, threads, tile_cells
        self.rates = RiskRates.of(setup, land_release.realizations)

    @classmethod
    def of(cls, setup: Setup, land_release: LandRelease, threads: int | None = None,
           tile_cells: int = TILE_CELLS) -> UnitStates:
        """Released again from ``land_release``'s own draws (the posterior's with evidence), scattered in tiles
        of ``tile_cells`` (the posterior draws the whole grid in one)."""
        return cls(setup, land_release, threads, tile_cells)

    @property
    def sums(self) -> RiskSums:
        return self._passed[0]

    @property
    def units(self) -> UnitSums:
        return self._passed[1]

    @property
    def schedule(self) -> UnitSchedule:
        return self._passed[2]

    def horizon(self, which: str) -> np.ndarray:
        if "_passed" in self.__dict__:
            return self.sums.horizon[which]
        return getattr(self._by_class, which)

    @cached_property
    def _by_class(self) -> ReleaseFigures:
        release = self.land_release
        return release_figures(self.setup, release.plan, self.rates, release.realizations, self.threads, release.draw,
                               self.tile_cells)

    @cached_property
    def _passed(self) -> tuple[RiskSums, UnitSums, UnitSchedule]:
        setup, release, rates = self.setup, self.land_release, self.rates
        plan, n = release.plan, release.realizations
        n_units, n_classes = len(plan.units), len(setup.class_keys)
        sums = RiskSums(setup, rates, n)
        k = map_step(setup)
        units = UnitSums(setup, plan, rates, k, n)
        schedule = ScheduleSums(n_units, len(setup.steps))
        per_realization = len(setup.steps) * (n_units + n_classes) * K.N_METRICS * 8
        batch = int(max(1, min(setup.scenario.simulation.batch_size, UNIT_STATE_BYTES // per_realization)))
        of_class = np.zeros((n_classes, n_units))
        of_class[units.unit_class, np.arange(n_units)] = 1.0
        items = slice(K.FOUND, K.UNSUSPECTED + 1)
        for first, part, unit_rows, *_ in release_batches(setup, plan, n, 0, self.threads, batch, None, self.tile_cells,
                                                         by_unit=slice(None), draw=release.draw, schedule=True):
            schedule.add(unit_rows)
            per_unit, background = part[:, :, :n_units], part[:, :, n_units:, K.UNSUSPECTED]
            classes = np.zeros((len(part), len(setup.steps), n_classes, K.N_METRICS))
            classes[..., items] = of_class @ per_unit[..., items]  # whole numbers of items: exact in any order
            classes[..., K.UNSUSPECTED] += background
            intact = sums.add(first, exposure(classes))
            units.add(first, per_unit[:, k], per_unit[:, -1], background[:, k], intact[:, k], intact[:, -1])
        return sums, units, schedule.schedule()


@dataclass(frozen=True)
class _Summed:
    """Risk over time already summed (no land release, or from a given state)."""

    sums: RiskSums
    units: None = None
    schedule: None = None

    def horizon(self, which: str) -> np.ndarray:
        return self.sums.horizon[which]


@dataclass(frozen=True)
class RiskOverTime:
    """The risk of a run: its rates, the sums over realizations (``sums``) and, with land release,
    the per-unit sums for the risk map and QA (``units``), computed when first asked."""

    rates: RiskRates
    source: UnitStates | _Summed

    @classmethod
    def of(cls, setup: Setup, ensemble: Ensemble, state: np.ndarray | None = None,
           per_unit: Callable[[], UnitStates] | None = None) -> RiskOverTime:
        """With land release, ``per_unit`` (``UnitStates.of`` bound to the run and its land release)
        gives everything; else from a land-release ``state`` [realization, step, class, metric], or
        without land release from the ensemble's items, in batches."""
        if per_unit is not None:
            units = per_unit()
            return cls(units.rates, units)
        n = ensemble.realizations if state is None else len(state)
        rates = RiskRates.of(setup, n)
        sums = RiskSums(setup, rates, n)
        n_classes = len(setup.class_keys)
        for first in range(0, n, ENSEMBLE_BATCH):
            rows = slice(first, first + ENSEMBLE_BATCH)
            if state is None:
                items = per_step(setup, ensemble.zone_items[rows])[:, :, :n_classes].astype(float)
                sums.add(first, exposure(None, items))
            else:
                sums.add(first, exposure(state[rows]))
        return cls(rates, _Summed(sums))

    @property
    def sums(self) -> RiskSums:
        return self.source.sums

    @property
    def units(self) -> UnitSums | None:
        return self.source.units

    @property
    def schedule(self) -> UnitSchedule | None:
        """Each work unit's schedule over the scored realizations (with land release), from the pass by unit."""
        return self.source.schedule

    def horizon_casualties(self, which: str = "after") -> np.ndarray:
        """Expected casualties over the whole time axis, per realization (all classes)."""
        return self.source.horizon(which)


def risk_table(setup: Setup, risk: RiskOverTime) -> pd.DataFrame:
    """Per step and class (and ``all``): detonations and casualties a year and casualties so far,
    after and before land release, with P5, P50, P95 and mean across realizations (within
    ``risk.sums.bands.relative_error`` of the full table's)."""
    cpd = risk.rates.casualties_per_detonation
    stats = risk.sums.bands.bands()
    values = {}
    for f, name in enumerate(FIGURES):
        values[name] = {q: v[f] for q, v in stats.items()}
        if name.startswith("detonations"):
            values[name.replace("detonations", "casualties")] = {q: v[f] * cpd for q, v in stats.items()}
    order = [f"{kind}_{which}" for which in ("after", "before") for kind in
             ("detonations_per_year", "casualties_per_year", "casualties_cumulative")]
    child = risk.sums.child / max(risk.sums.n, 1)
    rows = []
    for c, key in enumerate([*setup.class_keys, "all"]):
        for k, day in enumerate(setup.steps.dates):
            row = {"step": k, "date": day.isoformat(), "class": key}
            for name in order:
                row |= {f"{name}_{q}": values[name][q][k, c] for q in ("p5", "p50", "p95", "mean")}
            row["child_casualties_cumulative_after_mean"] = child[k, c]
            rows.append(row)
    return pd.DataFrame(rows)


def _rounded_band(values: np.ndarray) -> dict[str, float]:
    stats = band(values)
    return {q: round(float(stats[q]), 4) for q in ("mean", "p5", "p50", "p95")}


def risk_summary(setup: Setup, risk: RiskOverTime) -> dict:
    """Casualties expected over the time axis (bands) after and before land release, averted,
    children, the yearly rate at the end and, with land release, QA at handover."""
    after, before = risk.horizon_casualties("after"), risk.horizon_casualties("before")
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
        "child_casualties_mean": round(float(risk.sums.children.mean()), 4),
        "casualties_per_year_at_end": _rounded_band(risk.sums.per_year_at_end),
        "detonation_probability_mean": round(float(risk.rates.p_detonation.mean()), 4),
        "bands_relative_error": float(f"{risk.sums.bands.relative_error:.2g}"),
        **({} if setup.class_people is None else {"people_from_population": {
            key: round(float(n), 2) for key, n in zip(setup.class_keys, setup.class_people)}}),
    }
