"""The plan as data: per-unit schedules agree with the land-release state, quantiles with a
naive reference, and the work-unit layer with its geometry."""

from __future__ import annotations

from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from simulator.kernels import release as K

from simulator.config.clearance import METHODS
from simulator.engine.ensemble import run_ensemble
from simulator.engine.layout import SCORED, root_key
from simulator.release.land_release import NO_DISC, run_land_release
from simulator.results.schedule import step_quantiles, unit_schedule


@pytest.fixture(scope="module")
def result(clearance_run):
    return clearance_run[0]


@pytest.fixture(scope="module")
def recorded(result):
    setup, plan = result.setup, result.land_release.plan
    n = result.land_release.realizations
    units = np.empty((n, len(plan.units), K.N_UNIT_METRICS))
    state = run_land_release(setup, plan, n, 0, 1, 7, schedule=units)
    return state, units


def test_recording_does_not_change_the_draws(result, recorded):
    state, _ = recorded
    setup, plan = result.setup, result.land_release.plan
    np.testing.assert_array_equal(state, run_land_release(setup, plan, len(state), 0, 1, 7))
    np.testing.assert_array_equal(state[:, -1], result.land_release.final)


def test_unit_areas_released_add_up_to_the_state_in_every_realization(result, recorded):
    state, units = recorded
    plan = result.land_release.plan
    unit_class = plan.units.unit_class[plan.order]
    for route, metric in zip(range(3), (K.CANCELLED_M2, K.REDUCED_M2, K.CLEARED_M2)):
        per_class = np.zeros((len(state), len(result.setup.class_keys)))
        for u, c in enumerate(unit_class):
            per_class[:, c] += units[:, u, K.UNIT_RELEASED_M2 + route]
        np.testing.assert_allclose(per_class, state[:, -1, :, metric], rtol=1e-9, atol=1e-6)
    # and no unit releases more than its own area
    area = (plan.units.area_sha + plan.units.area_cha)[plan.order]
    released = units[:, :, K.UNIT_RELEASED_M2:K.UNIT_RELEASED_M2 + 3].sum(axis=2)
    assert np.all(released <= area + 1e-6)


def test_unit_items_are_the_items_landing_in_the_unit(result, recorded):
    """Scattered again with the units' own zone map (their own order, no land release), the items in
    each unit's two zones are the items the kernel recorded for it."""
    _, units = recorded
    setup, plan = result.setup, result.land_release.plan
    n_units = len(plan.units)
    inputs = replace(setup.kernel, key=root_key(setup.scenario.simulation.seed, SCORED), zone=plan.units.zone,
                     n_zones=2 * n_units + len(setup.class_keys), disc=NO_DISC)
    items = run_ensemble(inputs, len(units), threads=1).zone_items.sum(axis=1)
    per_unit = items[:, 0:2 * n_units:2] + items[:, 1:2 * n_units:2]
    np.testing.assert_array_equal(units[:, :, K.UNIT_ITEMS], per_unit[:, plan.order])
    assert per_unit.sum() > 0


def test_each_method_starts_before_it_finishes_and_after_survey(recorded):
    _, units = recorded
    start = units[:, :, K.UNIT_START:K.UNIT_START + 3]
    finish = units[:, :, K.UNIT_FINISH:K.UNIT_FINISH + 3]
    done = finish >= 0
    assert np.all(start[done] >= 0) and np.all(start[done] <= finish[done])
    later = start[:, :, 1:] >= 0  # TS or BAC worked the unit: NTS finished first, no later than they started
    nts_finish = np.broadcast_to(finish[:, :, :1], later.shape)
    assert np.all((nts_finish[later] >= 0) & (nts_finish[later] <= start[:, :, 1:][later]))


def test_step_quantiles_match_numpys_inverted_cdf():
    rng = np.random.default_rng(3)
    n_steps = 9
    values = rng.integers(0, n_steps + 1, size=(50, 4))  # n_steps: beyond the axis
    counts = np.stack([np.bincount(values[:, j], minlength=n_steps + 1) for j in range(4)])
    got = step_quantiles(counts, np.full(4, 50))
    for j in range(4):
        for k, q in enumerate((0.5, 0.9)):
            naive = np.quantile(values[:, j], q, method="inverted_cdf")
            assert (np.isnan(got[j, k]) and naive == n_steps) or got[j, k] == naive
    assert np.all(np.isnan(step_quantiles(counts, np.zeros(4))))


def test_schedule_quantiles_agree_with_the_recorded_steps(result, recorded):
    _, units = recorded
    schedule = unit_schedule(result.setup, result.land_release.plan, len(units), threads=1)
    n_steps = len(result.setup.steps)
    for m in range(len(METHODS)):
        start = units[:, :, K.UNIT_START + m]
        worked = start >= 0
        np.testing.assert_allclose(schedule.worked[:, m], worked.mean(axis=0))
        for u in range(units.shape[1]):
            if worked[:, u].any():
                finish = units[worked[:, u], u, K.UNIT_FINISH + m]
                naive = np.quantile(np.where(finish < 0, n_steps, finish), 0.9, method="inverted_cdf")
                expected = np.nan if naive == n_steps else naive
                np.testing.assert_equal(schedule.finish[u, m, 1], expected)
                naive = np.quantile(start[worked[:, u], u], 0.5, method="inverted_cdf")
                assert schedule.start[u, m, 0] == naive
    np.testing.assert_allclose(schedule.items_mean, units[:, :, K.UNIT_ITEMS].mean(axis=0))


@pytest.fixture(scope="module")
def outputs(clearance_run):
    return clearance_run[1]


def test_work_unit_layer_matches_the_plan(result, outputs):
    layer = gpd.read_file(outputs / "work_units.gpkg", layer="work_units")
    plan = result.land_release.plan
    assert len(layer) == len(plan.units)
    assert list(layer["priority_rank"]) == list(range(1, len(layer) + 1))
    np.testing.assert_allclose(layer.geometry.area, layer["area_m2"], rtol=1e-9)
    np.testing.assert_allclose(layer["area_m2"].sum(), (plan.units.area_sha + plan.units.area_cha).sum())
    assert not layer.geometry.union_all().is_empty and layer.geometry.is_valid.all()
    assert set(layer["method"]) <= {"nts", "nts+bac", "nts+ts+bac"}
    assert layer["items_mean"].sum() > 0 and (layer["items_p95"] >= 0).all()
    table = pd.read_csv(outputs / "work_units.csv", keep_default_na=False)
    assert list(table["id"]) == list(layer["id"]) and "geometry" not in table.columns
    started = layer["nts_start_p50"] != ""
    assert (layer.loc[started, "nts_start_p50"] <= layer.loc[started, "nts_finish_p50"].replace("", "9999")).all()
    assert (outputs / "plan.png").stat().st_size > 10_000


def test_work_unit_csv_neutralises_formulas(tmp_path):
    from simulator.outputs.plan_outputs import write_plan

    units = gpd.GeoDataFrame({"id": [1], "priority_rank": [1], "class_name": ["=HYPERLINK(\"x\")"], "method": ["nts"],
                              **{f"{m}_{e}_p{q}": [""] for m in METHODS for e in ("start", "finish") for q in (50, 90)}},
                             geometry=gpd.points_from_xy([500000.0], [4700000.0]).buffer(5), crs="EPSG:32634")
    write_plan(units, tmp_path, "t", None)
    assert "'=HYPERLINK" in (tmp_path / "work_units.csv").read_text()
