"""Risk per work unit: the risk map at a date and QA at handover, one lot per work unit, kept as
sums over batches of the scored realizations (``UnitSums``), so memory does not grow with them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.engine.ensemble import Ensemble
from simulator.engine.prepare import Setup
from simulator.kernels import release as K
from simulator.release.land_release import Plan
from simulator.release.qa import lot_units, p_accept, sample_size
from simulator.results.risk_model import M2_PER_KM2, RiskRates
from simulator.results.tables import M2_PER_HA

QA_SUMS = ("released_m2", "lots", "lot_units", "holds", "passes", "residual_items", "per_year", "after_qa")
"""What QA sums per class (then all) over realizations and lots (``UnitSums.qa``, in this order)."""


class UnitSums:
    """Sums over the scored realizations of what the risk map and QA need per work unit (units in
    work order): ``map_unit`` and ``map_class`` (expected casualties a year at the map's step, per
    unit and in each class's land never suspected), ``qa`` ([``QA_SUMS``, class then all]),
    ``samples`` (per class then all, sample size -> lots), ``per_year`` (per realization, the
    residual casualties a year of the released land, per class then all), ``n`` realizations."""

    def __init__(self, setup: Setup, plan: Plan, rates: RiskRates, map_step: int, realizations: int):
        self.setup, self.plan, self.rates, self.map_step, self.n = setup, plan, rates, map_step, 0
        n_classes = len(setup.class_keys)
        self.unit_class = plan.units.unit_class[plan.order]
        self.of_class = np.zeros((len(self.unit_class), n_classes + 1))
        self.of_class[np.arange(len(self.unit_class)), self.unit_class] = 1.0
        self.of_class[:, -1] = 1.0
        self.map_unit = np.zeros(len(self.unit_class))
        self.map_class = np.zeros(n_classes)
        self.qa = np.zeros((len(QA_SUMS), n_classes + 1))
        self.samples = [np.zeros(0, np.int64) for _ in range(n_classes + 1)]
        self.per_year = np.zeros((realizations, n_classes + 1))
        self._sizes: dict[int, int] = {}
        self._passes: dict[tuple[int, int, int], float] = {}

    def add(self, first: int, at: np.ndarray, final: np.ndarray, never: np.ndarray, intact_at: np.ndarray,
            intact_end: np.ndarray) -> None:
        """Add realizations ``first ..``: each unit's state at the map's step (``at``) and at the last
        (``final``) [realization, unit, metric], the items in each class's never-suspected land at
        the map's step (``never``), the intact share per class at those steps [realization, class]."""
        rates, c = self.rates, self.unit_class
        rows = slice(first, first + len(at))
        weight = intact_at * rates.p_detonation[rows, None] * rates.casualties_per_detonation
        self.map_unit += (weight[:, c] * (at[..., K.IN_HAZARDOUS] * rates.marked[c]
                                          + (at[..., K.RESIDUAL] + at[..., K.UNSUSPECTED]) * rates.free[c])).sum(axis=0)
        self.map_class += (weight * never * rates.free).sum(axis=0)
        self._add_qa(rows, final, intact_end[:, c])
        self.n += len(at)

    def _add_qa(self, rows: slice, final: np.ndarray, intact: np.ndarray) -> None:
        sc, rates, c = self.setup.scenario, self.rates, self.unit_class
        qa, p_detect = sc.risk.qa, sc.clearance.detection_probability
        released = final[..., K.CANCELLED_M2] + final[..., K.REDUCED_M2] + final[..., K.CLEARED_M2]
        lot = lot_units(released, qa.sampling_unit_m or self.setup.grid.cell_size_m)
        residual = final[..., K.RESIDUAL]
        dirty = np.minimum(residual, lot).astype(np.int64)
        lots, at = np.unique(lot, return_inverse=True)
        for n in lots[~np.isin(lots, list(self._sizes))]:
            self._sizes[int(n)] = sample_size(qa.confidence, qa.clean_share, int(n)) if n > 0 else 0
        sample = np.array([self._sizes[int(n)] for n in lots], np.int64)[at.reshape(lot.shape)]
        passes = np.ones_like(released)
        held = dirty > 0
        triples, inverse = np.unique(np.stack([lot[held], dirty[held], sample[held]], axis=1), axis=0,
                                     return_inverse=True)
        for triple in map(tuple, triples.tolist()):
            if triple not in self._passes:
                self._passes[triple] = p_accept(*triple, p_detect)
        passes[held] = np.array([self._passes[t] for t in map(tuple, triples.tolist())])[inverse.ravel()]
        per_year = residual * intact * rates.free[c] * rates.p_detonation[rows, None] * rates.casualties_per_detonation
        after_qa = per_year * (passes + (1.0 - passes) * (1.0 - p_detect))
        is_lot = lot > 0
        holds = is_lot & (residual > 0)
        for j, name in enumerate(QA_SUMS):
            value = {"released_m2": released, "lots": is_lot, "lot_units": np.where(is_lot, lot, 0), "holds": holds,
                     "passes": np.where(holds, passes, 0.0), "residual_items": residual, "per_year": per_year,
                     "after_qa": after_qa}[name]
            self.qa[j] += value.sum(axis=0) @ self.of_class
        self.per_year[rows] = per_year @ self.of_class
        for j in range(self.of_class.shape[1]):
            counts = np.bincount(sample[is_lot & (self.of_class[:, j] > 0)])
            size = max(len(counts), len(self.samples[j]))
            self.samples[j] = np.pad(self.samples[j], (0, size - len(self.samples[j]))) \
                + np.pad(counts, (0, size - len(counts)))


def median_of_counts(counts: np.ndarray) -> float:
    """``numpy.median`` of the values whose counts are ``counts`` (value -> count; 0: none)."""
    total = int(counts.sum())
    if total == 0:
        return 0.0
    ends = np.cumsum(counts)
    lo, hi = (total - 1) // 2, total // 2
    return (np.searchsorted(ends, lo, side="right") + np.searchsorted(ends, hi, side="right")) / 2.0


def qa_table(setup: Setup, risk) -> pd.DataFrame:
    """QA by accept-on-zero sampling, one lot per work unit (the unit's land released by the end), per class and all.

    Per realization and lot: its sampling units ``N``, the sample size, its residual items (each
    counted as one dirty unit, at most ``N``: the least favourable case for passing), whether
    it passes, and the residual casualties a year of the released land, before QA and expected
    after it (a failing lot is cleared again, finding each item with the detection probability).
    ``risk`` is a ``simulator.results.risk.RiskOverTime`` with land release.
    """
    sums = risk.units
    n = max(sums.n, 1)
    figures = dict(zip(QA_SUMS, sums.qa))
    rows = []
    for j, key in enumerate([*setup.class_keys, "all"]):
        lots, holds = figures["lots"][j], figures["holds"][j]
        rows.append({
            "class": key, "released_ha_mean": figures["released_m2"][j] / n / M2_PER_HA,
            "lots_mean": lots / n,
            "lot_units_mean": figures["lot_units"][j] / lots if lots else 0.0,
            "sample_units_p50": median_of_counts(sums.samples[j]) if lots else 0.0,
            "p_lot_holds_items": holds / lots if lots else 0.0,
            "p_pass_given_items": figures["passes"][j] / holds if holds else np.nan,
            "residual_items_mean": figures["residual_items"][j] / n,
            "residual_casualties_per_year_mean": figures["per_year"][j] / n,
            "residual_casualties_per_year_p95": float(np.percentile(sums.per_year[:sums.n, j], 95)),
            "residual_casualties_per_year_after_qa_mean": figures["after_qa"][j] / n,
        })
    return pd.DataFrame(rows)


def risk_map(setup: Setup, ensemble: Ensemble, risk) -> np.ndarray:
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
    sums = risk.units
    n_units = len(sums.unit_class)
    rank = np.empty(n_units, np.int64)
    rank[sums.plan.order] = np.arange(n_units)
    zone = sums.plan.units.zone
    region = np.where(zone < 2 * n_units, np.append(rank, 0)[np.minimum(zone // 2, n_units)], zone - n_units)
    region = np.where(inside, region, n_units + n_classes)  # the last region: outside the study area
    expected = np.append(np.concatenate([sums.map_unit, sums.map_class]) / max(sums.n, 1), 0.0)
    mass = np.bincount(region, weights=density, minlength=len(expected))
    cells = np.bincount(region, minlength=len(expected))
    share = np.where(mass[region] > 0, density / np.where(mass[region] > 0, mass[region], 1.0),
                     1.0 / np.maximum(cells[region], 1))
    return (expected[region] * share * (M2_PER_KM2 / setup.grid.cell_area_m2)).reshape(setup.grid.shape)
