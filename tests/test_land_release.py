"""Land release: conservation, monotone hazardous area, capacity limits, detection, policies, golden file."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from simulator.kernels import release as K

from simulator.config.clearance import Clearance, Teams
from simulator.config.variants import load_scenario
from simulator.engine.ensemble import run_ensemble
from simulator.engine.layout import SCORED, root_key
from simulator.inputs.timeaxis import TimeSteps
from simulator.pipeline import simulate
from simulator.release.land_release import NO_DISC, capacity_per_step, run_land_release
from simulator.release.policies import POLICIES
from simulator.results.tables import per_step
from tests.conftest import TINY_TOML, write_tiny

GOLDEN = Path(__file__).parent / "data" / "golden" / "tiny_land_release.csv"

CLEARANCE = """
[clearance]
start = 2024-07-01
deadline = 2025-01-01
policy = "land-use-priority"
work_unit_m = 100
teams = { nts = 1, ts = 1, bac = 1 }
"""


def run(tmp_path, *overrides, realizations=30):
    path = write_tiny(tmp_path, TINY_TOML.replace('[hazard]', CLEARANCE + '\n[hazard]\nsuspect_threshold = 0.05').replace(
        'end = 2025-01-01', 'end = 2027-01-01'))
    loaded = load_scenario(path, [f"simulation.realizations={realizations}", *overrides])
    return simulate(loaded, threads=1)


def scored(result):
    """The scored realizations land release was measured on, scattered again on their own key."""
    setup = result.setup
    inputs = replace(setup.kernel, key=root_key(setup.scenario.simulation.seed, SCORED), disc=NO_DISC)
    return run_ensemble(inputs, result.land_release.realizations, threads=1)


def on_ground(result) -> np.ndarray:
    """Remnants inside the grid per scored realization and step."""
    return per_step(result.setup, scored(result).zone_items).sum(axis=2)


def full_state(result) -> np.ndarray:
    """The land-release state per scored realization and step (a run keeps only bands and finals)."""
    release = result.land_release
    return run_land_release(result.setup, release.plan, release.realizations, threads=1)


def metric(result, index) -> np.ndarray:
    return full_state(result)[:, :, :, index].sum(axis=2)


def test_items_are_conserved_in_every_realization_and_step(tmp_path):
    result = run(tmp_path)
    accounted = sum(metric(result, m) for m in (K.FOUND, K.RESIDUAL, K.IN_HAZARDOUS, K.UNSUSPECTED))
    assert np.array_equal(accounted, on_ground(result))
    final = on_ground(result)[:, -1]
    totals = scored(result).totals
    assert np.array_equal(final, totals[:, 1] - totals[:, 2])


def test_hazardous_area_never_increases_between_strikes(tmp_path):
    result = run(tmp_path)
    remaining = metric(result, K.REMAINING_M2)
    strike_steps = set(result.setup.epoch_steps.tolist())
    for k in range(1, remaining.shape[1]):
        if k not in strike_steps:
            assert np.all(remaining[:, k] <= remaining[:, k - 1] + 1e-6)


def test_zero_capacity_leaves_hazardous_area_constant(tmp_path):
    result = run(tmp_path, "clearance.teams={nts=0, ts=0, bac=0}")
    remaining = metric(result, K.REMAINING_M2)
    last_strike = int(result.setup.epoch_steps.max())
    units = result.land_release.plan.units
    assert np.allclose(remaining[:, last_strike:], units.area_sha.sum() + units.area_cha.sum())
    assert metric(result, K.FOUND).max() == 0


def test_unlimited_capacity_releases_everything_at_the_first_step(tmp_path):
    result = run(tmp_path, "clearance.teams={nts=1e9, ts=1e9, bac=1e9}", "clearance.detection_probability=0.9")
    remaining = metric(result, K.REMAINING_M2)
    first = result.setup.steps.step_of(date(2024, 7, 1)) + 1
    assert remaining[:, first:].max() == 0
    released = sum(metric(result, m)[:, -1] for m in (K.CANCELLED_M2, K.REDUCED_M2, K.CLEARED_M2))
    units = result.land_release.plan.units
    assert np.allclose(released, units.area_sha.sum() + units.area_cha.sum())
    assert metric(result, K.IN_HAZARDOUS)[:, first:].max() == 0


def test_perfect_detection_leaves_no_residual_from_searched_land(tmp_path):
    result = run(tmp_path, "clearance.teams={nts=1e9, ts=1e9, bac=1e9}", "clearance.detection_probability=1.0",
                 "clearance.nts_evidence_probability=1.0", "clearance.ts_max_expected_items=0")
    assert metric(result, K.RESIDUAL)[:, -1].max() == 0
    assert np.array_equal(metric(result, K.FOUND)[:, -1] + metric(result, K.UNSUSPECTED)[:, -1],
                          on_ground(result)[:, -1])


def test_missed_items_follow_the_detection_probability(tmp_path):
    result = run(tmp_path, "clearance.teams={nts=1e9, ts=1e9, bac=1e9}", "clearance.detection_probability=0.8",
                 "clearance.nts_evidence_probability=1.0", "clearance.ts_max_expected_items=0", realizations=60)
    found = metric(result, K.FOUND)[:, -1].sum()
    missed = metric(result, K.RESIDUAL)[:, -1].sum()
    n = found + missed
    assert abs(missed / n - 0.2) < 4 * np.sqrt(0.2 * 0.8 / n)


def test_more_teams_finish_sooner(tmp_path):
    few = run(tmp_path, "clearance.teams={nts=1, ts=1, bac=0.2}")
    many = run(tmp_path, "clearance.teams={nts=1, ts=1, bac=2}")
    slow, fast = few.completion["p_all_released"], many.completion["p_all_released"]
    assert (fast.to_numpy() >= slow.to_numpy()).all() and fast.sum() > slow.sum()


@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_every_policy_runs_and_conserves_items(tmp_path, policy):
    result = run(tmp_path, f'clearance.policy="{policy}"', realizations=8)
    accounted = sum(metric(result, m) for m in (K.FOUND, K.RESIDUAL, K.IN_HAZARDOUS, K.UNSUSPECTED))
    assert np.array_equal(accounted, on_ground(result))
    order = result.land_release.plan.order
    assert sorted(order.tolist()) == list(range(len(result.land_release.plan.units)))


def test_item_density_policy_orders_by_density(tmp_path):
    result = run(tmp_path, 'clearance.policy="item-density"', realizations=8)
    units, order = result.land_release.plan.units, result.land_release.plan.order
    density = units.expected_items / (units.area_sha + units.area_cha)
    assert np.all(np.diff(density[order]) <= 1e-12)


def test_capacity_counts_working_days_and_team_changes():
    clearance = Clearance(
        start=date(2024, 1, 1), teams=Teams(bac=2), working_days_per_year=365.25,
        team_changes=[{"date": date(2024, 7, 1), "teams": {"bac": 4}}],
    )
    steps = TimeSteps((date(2024, 1, 1), date(2024, 7, 1), date(2025, 1, 1)))
    capacity = capacity_per_step(clearance, steps)
    assert capacity[0].sum() == 0
    # step k holds the work of days (date[k-1], date[k]]: Jan 2 to Jul 1, then Jul 2 to Jan 1
    assert capacity[1, 2] == pytest.approx(2 * 181 + 4 * 1) and capacity[2, 2] == pytest.approx(4 * 184)


def test_golden_tiny_land_release(tmp_path, request):
    table = run(tmp_path, realizations=30).land_release_table
    if request.config.getoption("--update-golden"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(GOLDEN, index=False, float_format="%.6g")
    expected = pd.read_csv(GOLDEN)
    pd.testing.assert_frame_equal(table.reset_index(drop=True), expected, check_exact=False, rtol=1e-5, atol=1e-6,
                                  check_dtype=False)


def test_outputs_with_clearance(tmp_path):
    from simulator.outputs.writer import RELEASE_FILES, write_outputs

    out = write_outputs(run(tmp_path, realizations=10), tmp_path / "out")
    assert all((out / name).is_file() for name in RELEASE_FILES)
    completion = pd.read_csv(out / "completion.csv")
    assert completion["p_all_released"].is_monotonic_increasing
