"""Risk to people: zero where nobody goes or nothing lies, linear in exposure, exact depletion without
clearance, conservation over classes, compliance, the risk-based work order and the risk outputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from simulator.kernels import release as K

from simulator.config.variants import load_scenario
from simulator.pipeline import simulate
from simulator.release.land_release import run_land_release
from simulator.results.policy_comparison import compare_policies, risk_plan, suspected_only_items, unit_cost
from simulator.results.risk import RiskRates, class_area_m2, detonation_probabilities, risk_map, risk_table
from simulator.results.risk_model import cumulative, deplete, exposure, step_years
from simulator.results.tables import per_step
from tests.conftest import TINY_TOML, write_tiny

CLEARANCE = """
[clearance]
start = 2024-07-01
deadline = 2026-01-01
policy = "land-use-priority"
work_unit_m = 100
teams = { nts = 1, ts = 1, bac = 0.3 }
"""

RISK = """
[risk]
casualties_per_detonation = 1.5
surface_share = 0.4
burial_depth_m = 0.3
detonation_probability = { distribution = "beta", alpha = 2.0, beta = 3.0 }

[risk.classes.farmland]
people = 200
days_per_year = 120
disturbed_m2_per_person_day = 0.5
disturbance_depth_m = 0.15
compliance = 0.4

[risk.classes.forest]
people = 50
days_per_year = 60
disturbed_m2_per_person_day = 1.0
compliance = 0.2

[risk.classes.residential]
people = 0
"""


def scenario(tmp_path, *overrides, clearance=True, realizations=20, risk=RISK):
    text = TINY_TOML.replace("end = 2025-01-01", "end = 2027-01-01")
    text = text.replace("[hazard]", (CLEARANCE if clearance else "") + risk + "\n[hazard]" + ("\nsuspect_threshold = 0.05" if clearance else ""))
    return load_scenario(write_tiny(tmp_path, text), [f"simulation.realizations={realizations}", *overrides])


def run(tmp_path, *overrides, **kwargs):
    return simulate(scenario(tmp_path, *overrides, **kwargs), threads=1)


def full_risk(result):
    """The computation with every realization in memory: the land-release state [realization, step,
    class, metric] and, after and before land release, (rate, over_step, intact share) per
    realization, step and class."""
    setup, release = result.setup, result.land_release
    state = run_land_release(setup, release.plan, release.realizations, threads=1)
    rates = RiskRates.of(setup, len(state))
    return state, {which: deplete(*items, *rates.hazards(), step_years(setup)) for which, items in exposure(state).items()}


def test_risk_is_zero_where_no_items_lie_or_nobody_goes(tmp_path):
    result = run(tmp_path)
    assert result.land_release.state is None  # the risk is summed batch by batch: no state by step is kept
    state, full = full_risk(result)
    items = state[..., K.IN_HAZARDOUS] + state[..., K.RESIDUAL] + state[..., K.UNSUSPECTED]
    rate = full["after"][0]
    assert (items == 0).any() and (items > 0).any()
    assert np.all(rate[items == 0] == 0)
    residential = result.setup.class_keys.index("residential")
    assert items[:, :, residential].sum() > 0
    assert np.all(rate[:, :, residential] == 0) and np.all(full["before"][0][:, :, residential] == 0)
    assert rate.sum() > 0
    table = risk_table(result.setup, result.risk)
    assert (table[table["class"] == "residential"].filter(like="_per_year_") == 0).all().all()


def test_risk_doubles_when_exposure_doubles(tmp_path):
    base = run(tmp_path, "risk.classes.farmland.people=10", "risk.classes.forest.people=5")
    doubled = run(tmp_path, "risk.classes.farmland.people=20", "risk.classes.forest.people=10")
    ratio = doubled.risk.horizon_casualties() / base.risk.horizon_casualties()
    # linear while contacts are rare: depletion changes the ratio by about the detonated share (< 1e-3 here)
    assert np.allclose(ratio, 2.0, rtol=2e-3)
    assert not np.allclose(ratio, 2.0, rtol=0.0, atol=0.0)  # depletion is there, if small


def test_without_clearance_detonations_follow_the_survival_of_each_item(tmp_path):
    """Naive reference: an item arriving at date t_a goes off by the end with probability 1 - exp(-h (T - t_a))."""
    result = run(tmp_path, "risk.classes.farmland.disturbed_m2_per_person_day=400", clearance=False)
    setup, risk = result.setup, result.risk
    hazard = risk.rates.free[None, :] * risk.rates.p_detonation[:, None]
    assert hazard.max() > 0.3  # far from linear: depletion matters
    on_ground = per_step(setup, result.ensemble.zone_items).astype(float)
    arrived = np.diff(on_ground, axis=1, prepend=0.0)
    days = np.array([(setup.steps.dates[-1] - d).days for d in setup.steps.dates]) / 365.25
    expected = (arrived * -np.expm1(-hazard[:, None, :] * days[None, :, None])).sum(axis=1)
    detonations = risk.horizon_casualties() / risk.rates.casualties_per_detonation
    assert np.allclose(detonations, expected.sum(axis=1), rtol=1e-9, atol=1e-12)


def test_risk_tables_conserve_over_classes(tmp_path):
    result = run(tmp_path)
    table = risk_table(result.setup, result.risk)
    classes = table[table["class"] != "all"].groupby("step").sum(numeric_only=True)
    total = table[table["class"] == "all"].set_index("step")
    names = ("detonations_per_year_after_mean", "casualties_per_year_before_mean", "casualties_cumulative_after_mean")
    for name in names:
        assert np.allclose(classes[name], total[name], rtol=1e-12, atol=1e-15)
    summary = result.summary["risk"]["casualties"]["mean"]
    assert total["casualties_cumulative_after_mean"].iloc[-1] == pytest.approx(summary, abs=1e-4)


def test_full_compliance_leaves_no_risk_in_unreleased_hazardous_land(tmp_path):
    overrides = ["clearance.teams={nts=0, ts=0, bac=0}"]
    full = run(tmp_path, *overrides, "risk.classes.farmland.compliance=1", "risk.classes.forest.compliance=1")
    none = run(tmp_path, *overrides, "risk.classes.farmland.compliance=0", "risk.classes.forest.compliance=0")
    state, arrays = full_risk(full)
    assert state[..., K.IN_HAZARDOUS].sum() > 0 and state[..., K.RESIDUAL].sum() == 0
    assert np.all(full.risk.rates.marked == 0)
    hazard = full.risk.rates.free[None, None, :] * full.risk.rates.p_detonation[:, None, None]
    # only items in land never suspected are a risk; with nothing released, before and after agree
    rate, _, intact = arrays["after"]
    assert np.allclose(rate, intact * state[..., K.UNSUSPECTED] * hazard, rtol=1e-12)
    assert np.allclose(rate, arrays["before"][0])
    assert np.allclose(full.risk.horizon_casualties("after"), full.risk.horizon_casualties("before"), rtol=1e-12)
    assert none.risk.horizon_casualties().mean() > full.risk.horizon_casualties().mean()


RISK_ONLY_IN_FOREST = RISK.replace("people = 200", "people = 0")


def test_risk_per_cost_averts_at_least_as_much_as_land_use_priority(tmp_path):
    """Nobody uses residential land or farmland, which land-use priority clears first; people use the forest."""
    result = run(tmp_path, risk=RISK_ONLY_IN_FOREST, realizations=16)
    table = compare_policies(result.setup, result.ensemble, result.land_release, threads=1).set_index("policy")
    averted = table["casualties_averted_mean"]
    assert averted["risk-per-cost"] > averted["land-use-priority"]
    assert averted["risk-per-cost"] >= averted.max() - 1e-12
    forest = result.setup.class_keys.index("forest")
    plan = risk_plan(result.setup, result.ensemble, result.land_release.plan)
    first = plan.units.unit_class[plan.order]
    in_forest = first == forest
    worth = plan.units.expected_items[in_forest] > 0
    # every forest unit expected to hold items comes before any unit of land nobody uses
    assert in_forest[: int(worth.sum())].all()
    sha = suspected_only_items(plan, result.ensemble.mean_count())
    assert np.all(sha <= plan.units.expected_items + 1e-9) and np.all(sha[plan.units.area_sha == 0] == 0)
    cost = unit_cost(plan, result.setup.scenario.clearance, sha)[plan.order]
    score = np.where(in_forest, plan.units.expected_items[plan.order], 0.0) / cost
    assert np.all(np.diff(score[in_forest]) <= 1e-12)


def test_detonation_probabilities_are_reproducible_and_do_not_depend_on_the_number_of_realizations(tmp_path):
    risk = scenario(tmp_path).scenario.risk
    few, many = detonation_probabilities(risk, 7, 10), detonation_probabilities(risk, 7, 1000)
    assert np.array_equal(few, many[:10])
    assert not np.array_equal(few, detonation_probabilities(risk, 8, 10))
    # Beta(2, 3): mean 0.4, SD 0.2 (1,000 draws: SE of the mean about 0.0063)
    assert many.mean() == pytest.approx(0.4, abs=4 * 0.2 / np.sqrt(1000))


def test_contact_probability_saturates_and_counts_reach(tmp_path):
    setup = run(tmp_path, realizations=2, clearance=False).setup
    risk = setup.scenario.risk
    area = class_area_m2(setup)
    q = risk.contact_probability(setup.class_keys, area)
    farm = setup.class_keys.index("farmland")
    # 200 people x 120 days x 0.5 m2 over the farmland; reach 0.4 + 0.6 x 0.15 / 0.3 = 0.7
    assert q[farm] == pytest.approx(min(1.0, 200 * 120 * 0.5 / area[farm]) * 0.7)
    crowded = risk.classes["farmland"].model_copy(update={"people": 1e9})
    huge = risk.model_copy(update={"classes": {"farmland": crowded}})
    assert huge.contact_probability(setup.class_keys, area)[farm] == pytest.approx(0.7)
    rates = RiskRates.of(setup, 2)
    assert rates.marked[farm] == pytest.approx(0.6 * rates.free[farm])


@pytest.mark.slow
def test_run_writes_risk_outputs_and_summary(tmp_path, remnant):
    path = scenario(tmp_path, realizations=6).path
    out = tmp_path / "out"
    code, stdout, stderr = remnant("run", path, "--out", out, "--set", "simulation.realizations=6", "--threads", "1")
    assert code == 0, stderr
    assert "expected casualties" in stdout
    for name in ("risk.csv", "risk.png", "risk.tif", "qa.csv", "policies.csv", "policies.png"):
        assert (out / name).is_file(), name
    policies = pd.read_csv(out / "policies.csv")
    assert set(policies["policy"]) >= {"land-use-priority", "risk-per-cost"}
    qa = pd.read_csv(out / "qa.csv")
    assert qa["p_pass_given_items"].dropna().between(0, 1).all()


def test_unknown_exposure_class_is_one_line_error(tmp_path, remnant):
    path = scenario(tmp_path).path
    path.write_text(path.read_text().replace("[risk.classes.forest]", "[risk.classes.jungle]"))
    code, _, stderr = remnant("validate", path)
    assert code == 2 and len(stderr.strip().splitlines()) == 1
    assert "risk.classes.jungle" in stderr and "land-use class" in stderr


def test_risk_map_adds_up_to_the_expected_casualties_of_the_mean_density(tmp_path):
    result = run(tmp_path, clearance=False)
    setup, rates = result.setup, result.risk.rates
    cell_km2 = setup.grid.cell_area_m2 / 1e6
    total = risk_map(setup, result.ensemble, result.risk).sum() * cell_km2
    items = per_step(setup, result.ensemble.zone_items)[:, -1].mean(axis=0)
    expected = (items * rates.free).sum() * rates.p_detonation.mean() * rates.casualties_per_detonation
    assert total == pytest.approx(expected, rel=1e-9) and total > 0


def test_exposure_paths_work_in_sweeps(tmp_path):
    from simulator.api import Study
    from simulator.config.variants import Variants

    overrides = ["simulation.realizations=6", "risk.classes.farmland.people=0"]  # only the forest is used
    study = Study(Variants.read(scenario(tmp_path, clearance=False).path, overrides))
    table = study.sweep("risk.classes.forest.people", [5.0, 10.0], threads=1).table
    casualties = table["casualties_mean"].to_numpy()
    assert casualties[0] > 0 and casualties[1] == pytest.approx(2 * casualties[0], rel=2e-3)


def test_streamed_risk_equals_the_computation_on_every_realization(tmp_path):
    """The risk table's bands within their stated relative error of numpy's percentiles on the full
    arrays, its means and the per-realization figures equal up to rounding."""
    result = run(tmp_path, realizations=40)
    setup, risk = result.setup, result.risk
    state, full = full_risk(result)
    cpd = risk.rates.casualties_per_detonation
    table = risk_table(setup, risk)
    error = risk.sums.bands.relative_error
    assert 0 < error < 1e-9  # a few thousand values fit the budget: nearly exact
    for which in ("after", "before"):
        rate, over_step, _ = full[which]
        so_far = cumulative(over_step, cpd)
        assert np.allclose(risk.horizon_casualties(which), so_far[:, -1].sum(axis=1), rtol=1e-12, atol=0)
        for name, values in ((f"detonations_per_year_{which}", rate), (f"casualties_per_year_{which}", rate * cpd),
                             (f"casualties_cumulative_{which}", so_far)):
            for c, key in enumerate([*setup.class_keys, "all"]):
                of = values[..., c] if key != "all" else values.sum(axis=-1)
                rows = table[table["class"] == key]
                want = np.percentile(of, (5, 50, 95), axis=0)
                for q, w in zip(("p5", "p50", "p95"), want):
                    np.testing.assert_allclose(rows[f"{name}_{q}"], w, rtol=error * 1.01, atol=1e-300)
                np.testing.assert_allclose(rows[f"{name}_mean"], of.mean(axis=0), rtol=1e-12, atol=1e-300)
    children = (cumulative(full["after"][1], cpd) * risk.rates.children_share).sum(axis=-1).mean(axis=0)
    np.testing.assert_allclose(table[table["class"] == "all"]["child_casualties_cumulative_after_mean"], children,
                               rtol=1e-12)
    assert table["casualties_cumulative_after_p95"].max() > 0


def test_policy_comparison_streamed_equals_the_full_state(tmp_path):
    """Each policy's row from its land release batch by batch equals the figures of its whole state."""
    result = run(tmp_path, realizations=12)
    setup = result.setup
    table = compare_policies(setup, result.ensemble, result.land_release, threads=1).set_index("policy")
    own = compare_policies(setup, result.ensemble, result.land_release, threads=1, risk=result.risk)
    pd.testing.assert_frame_equal(table.reset_index(), own, rtol=1e-12)
    state, full = full_risk(result)
    cpd = result.risk.rates.casualties_per_detonation
    averted = cumulative(full["before"][1] - full["after"][1], cpd)[:, -1].sum(axis=1)
    row = table.loc[setup.scenario.clearance.policy]
    assert row["casualties_averted_mean"] == pytest.approx(averted.mean(), rel=1e-12)
    assert row["casualties_averted_p95"] == pytest.approx(np.percentile(averted, 95), rel=1e-12)
    released = state[:, -1, :, K.CANCELLED_M2:K.CLEARED_M2 + 1].sum(axis=(1, 2)) / 1e4
    assert row["released_ha_mean"] == pytest.approx(released.mean(), rel=1e-12)


def test_sweeps_read_casualties_from_the_pass_by_class_and_they_equal_the_full_pass(tmp_path):
    """Casualties per realization without the per-unit pass (what sweeps need) are the full pass's, bit for bit."""
    from functools import partial

    from simulator.results.risk import RiskOverTime, UnitStates

    result = run(tmp_path, realizations=10)
    lazy = RiskOverTime.of(result.setup, result.ensemble, per_unit=partial(UnitStates.of, result.setup,
                                                                            result.land_release))
    by_class = {which: lazy.horizon_casualties(which) for which in ("after", "before")}
    assert "_passed" not in vars(lazy.source)  # the per-unit pass has not run
    assert lazy.sums.n == 10 and "_passed" in vars(lazy.source)
    for which, values in by_class.items():
        assert np.array_equal(values, lazy.horizon_casualties(which)) and values.sum() > 0


def test_the_schedule_from_the_per_unit_pass_is_the_schedules_own_pass(tmp_path):
    """The work-unit table reads each unit's schedule from the risk's pass by unit (no pass of its
    own): the same numbers, bit for bit, as the schedule's own pass in other batches."""
    from dataclasses import fields

    from simulator.results.schedule import unit_schedule

    result = run(tmp_path, "simulation.batch_size=3", realizations=70)  # across a 64-realization chunk
    release = result.land_release
    own = unit_schedule(result.setup, release.plan, release.realizations, threads=1)
    shared = result.risk.schedule
    assert shared.realizations == own.realizations == 70 and len(release.plan.units) > 1 and own.worked.any()
    for field in fields(own):
        np.testing.assert_array_equal(getattr(shared, field.name), getattr(own, field.name), err_msg=field.name)


def test_policies_scattered_once_equal_each_policy_scattered_alone(tmp_path):
    """The policy comparison scatters each batch once for every plan with the same work units (their
    items reordered): the same figures, bit for bit, as a scatter for each plan."""
    from dataclasses import fields

    from simulator.release.policies import POLICIES
    from simulator.results.policy_comparison import make_plan, reordered_releases, with_policy
    from simulator.results.risk import release_figures

    result = run(tmp_path, "simulation.batch_size=5", realizations=12)
    setup, release = result.setup, result.land_release
    plans = [make_plan(with_policy(setup, name), result.ensemble.hazard_map()) for name in POLICIES]
    assert len({tuple(p.order) for p in plans}) > 1  # orders differ
    rates = result.risk.rates
    shared = reordered_releases(setup, plans, rates, release.realizations, 1, release.draw)
    for plan, figures in zip(plans, shared):
        alone = release_figures(setup, plan, rates, release.realizations, 1, release.draw)
        for field in fields(alone):
            np.testing.assert_array_equal(getattr(figures, field.name), getattr(alone, field.name), err_msg=field.name)
