"""The risk map at a chosen date after land release, and QA lots per work unit.

Per-unit land release repeats the scored realizations' draws, so its units add up to the classes
exactly; the map adds up to the risk table's casualties a year at its date; each lot's chance to
pass is the hypergeometric one, computed here without the project's code.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from simulator.kernels import release as K

from simulator.release.land_release import run_land_release
from simulator.results.risk import map_step, qa_table, risk_map, risk_table
from tests.test_risk import full_risk, run

METRICS = (K.CANCELLED_M2, K.REDUCED_M2, K.CLEARED_M2, K.FOUND, K.IN_HAZARDOUS, K.RESIDUAL, K.REMAINING_M2)


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return run(tmp_path_factory.mktemp("at-date"), "risk.map_date=2025-07-01", realizations=16)


@pytest.fixture(scope="module")
def states(result):
    """The class state of every realization, and each work unit's then each class's never-suspected
    land's at the map's step and the last [realization, 2, unit then class, metric]."""
    setup, release = result.setup, result.land_release
    steps = np.array([map_step(setup), len(setup.steps) - 1])
    return full_risk(result)[0], run_land_release(setup, release.plan, release.realizations, threads=1, by_unit=steps)


def by_class(values: np.ndarray, unit_class: np.ndarray, n_classes: int) -> np.ndarray:
    """[realization, unit] values summed per class, with a plain loop."""
    out = np.zeros((values.shape[0], n_classes))
    for u, c in enumerate(unit_class):
        out[:, c] += values[:, u]
    return out


def test_work_units_add_up_to_the_classes(result, states):
    state, lots = states
    units = result.risk.units
    n_units, n_classes = len(units.unit_class), len(result.setup.class_keys)
    assert units.map_step == result.setup.steps.step_of(np.datetime64("2025-07-01").item())
    assert lots.shape[2] == n_units + n_classes
    for j, step in enumerate((units.map_step, len(result.setup.steps) - 1)):
        for metric in METRICS:
            summed = by_class(lots[:, j, :n_units, metric], units.unit_class, n_classes)
            assert np.array_equal(summed, state[:, step, :, metric]), metric
            assert np.all(lots[:, j, n_units:, metric] == 0)  # never-suspected land: items only
        waiting = by_class(lots[:, j, :n_units, K.UNSUSPECTED], units.unit_class, n_classes)
        assert np.array_equal(waiting + lots[:, j, n_units:, K.UNSUSPECTED], state[:, step, :, K.UNSUSPECTED])
        assert lots[:, j, n_units:, K.UNSUSPECTED].sum() > 0


def test_risk_map_adds_up_to_the_table_at_its_date(result, states):
    setup, risk = result.setup, result.risk
    k = map_step(setup)
    released = states[0][:, k, :, K.CANCELLED_M2:K.CLEARED_M2 + 1].sum()
    marked = states[0][:, k, :, K.IN_HAZARDOUS].sum()
    assert released > 0 and marked > 0  # some land released, some still marked, at the map date
    per_km2 = risk_map(setup, result.ensemble, risk)
    total = per_km2.sum() * setup.grid.cell_area_m2 / 1e6
    table = risk_table(setup, risk)
    expected = table[(table["class"] == "all") & (table["step"] == k)]["casualties_per_year_after_mean"].item()
    assert total == pytest.approx(expected, rel=1e-9) and total > 0
    assert per_km2.min() >= 0
    residential = setup.landuse_codes == setup.class_keys.index("residential")
    assert np.all(per_km2[residential] == 0) and per_km2[~residential].max() > 0  # nobody goes there
    before = table[(table["class"] == "all") & (table["step"] == k)]["casualties_per_year_before_mean"].item()
    assert total < before  # released land and marking lower the risk below no release


def test_qa_lots_are_work_units(result, states):
    setup, risk = result.setup, result.risk
    qa = qa_table(setup, risk).set_index("class")
    final = states[0][:, -1]
    unit_state = states[1][:, 1, :len(risk.units.unit_class)]
    released = unit_state[..., K.CANCELLED_M2] + unit_state[..., K.REDUCED_M2] + unit_state[..., K.CLEARED_M2]
    unit_m2 = setup.grid.cell_size_m ** 2
    lots = np.floor(released / unit_m2 + 1e-9)
    assert qa.loc["all", "lots_mean"] == pytest.approx((lots > 0).sum(axis=1).mean())
    assert qa.loc["all", "residual_items_mean"] == pytest.approx(final[..., K.RESIDUAL].sum(axis=1).mean())
    assert qa.loc["all", "released_ha_mean"] == pytest.approx(
        final[..., K.CANCELLED_M2:K.CLEARED_M2 + 1].sum(axis=(1, 2)).mean() / 1e4)
    # the chance a lot holding items passes: hypergeometric, each sampled dirty unit found with p_detect
    p_detect = setup.scenario.clearance.detection_probability
    qa_spec = setup.scenario.risk.qa
    holds = (lots > 0) & (unit_state[..., K.RESIDUAL] > 0)
    assert holds.any()
    naive = []
    for r, u in zip(*np.nonzero(holds)):
        n_lot, dirty = int(lots[r, u]), int(min(unit_state[r, u, K.RESIDUAL], lots[r, u]))
        need = math.ceil((1 - qa_spec.clean_share) * n_lot - 1e-9)
        sample = n_lot if need < 1 else next(
            n for n in range(1, n_lot + 1) if math.comb(n_lot - need, n) / math.comb(n_lot, n) <= 1 - qa_spec.confidence)
        naive.append(sum(math.comb(dirty, j) * math.comb(n_lot - dirty, sample - j) / math.comb(n_lot, sample)
                         * (1 - p_detect) ** j for j in range(0, min(dirty, sample) + 1)))
    assert qa.loc["all", "p_pass_given_items"] == pytest.approx(np.mean(naive), rel=1e-9)
    assert qa.loc["all", "sample_units_p50"] == np.median(
        [n if n * 0.01 <= 1e-9 else _sample(n, qa_spec) for n in lots[lots > 0].astype(int)])
    intact = full_risk(result)[1]["after"][2][:, -1][:, risk.units.unit_class]
    rates = risk.rates
    per_year = (unit_state[..., K.RESIDUAL] * intact * rates.free[risk.units.unit_class] * rates.p_detonation[:, None]
                * rates.casualties_per_detonation).sum(axis=1)
    assert qa.loc["all", "residual_casualties_per_year_mean"] == pytest.approx(per_year.mean(), rel=1e-12)
    assert qa.loc["all", "residual_casualties_per_year_p95"] == pytest.approx(np.percentile(per_year, 95), rel=1e-12)


def _sample(n_lot: int, qa_spec) -> int:
    """The accept-on-zero sample size, with exact binomial coefficients."""
    need = math.ceil((1 - qa_spec.clean_share) * n_lot - 1e-9)
    return next(n for n in range(1, n_lot + 1)
                if math.comb(n_lot - need, n) / math.comb(n_lot, n) <= (1 - qa_spec.confidence) * (1 + 1e-9))
