"""Numbers a planner can defend: definitions in metres, out-of-sample scoring, Monte Carlo errors
that cover what they claim, precision targets that are reproducible, outputs that agree."""

from __future__ import annotations

import math

import numpy as np
import pytest
import rasterio
from simulator.kernels import release as K

from simulator.config.variants import load_scenario
from simulator.pipeline import simulate
from simulator.results.provenance import scenario_hash
from simulator.results.uncertainty import area_at_threshold, jackknife_se, proportion, quantile_ci
from tests.conftest import TINY_TOML, write_tiny

CLEARANCE = """
[clearance]
start = 2024-07-01
deadline = 2026-01-01
policy = "land-use-priority"
work_unit_m = 100
teams = { nts = 1, ts = 1, bac = 1 }
"""


def tiny_with_clearance(tmp_path) -> str:
    text = TINY_TOML.replace("[hazard]", CLEARANCE + "\n[hazard]").replace("end = 2025-01-01", "end = 2027-01-01")
    return write_tiny(tmp_path, text)


def run_tiny(tmp_path, *overrides, threads=1):
    return simulate(load_scenario(write_tiny(tmp_path), list(overrides)), threads=threads)


# ---- definitions on the ground, not on the raster ----


@pytest.mark.slow
def test_areas_converge_in_the_cell_size(tmp_path):
    """Contaminated area (P50), SHA and CHA on 5, 10 and 20 m cells agree within 10 % (20 m
    against 5 m), and the 10 m figures lie nearer the 5 m ones than the 20 m figures do."""
    rows = {}
    for cell in (5, 10, 20):
        s = run_tiny(tmp_path, f"study_area.cell_size_m={cell}", "simulation.realizations=300").summary
        rows[cell] = np.array([s["contaminated_ha_p50"], s["suspected_ha"], s["hazardous_ha"]])
    assert np.all(np.abs(rows[20] / rows[5] - 1) <= 0.10), rows
    assert np.all(np.abs(rows[10] - rows[5]) <= np.abs(rows[20] - rows[5]) + 1e-9), rows


@pytest.mark.slow
def test_land_release_figures_converge_in_the_cell_size(tmp_path):
    """Years to completion (P50, P90) and P(deadline) on 5, 10 and 20 m cells agree within 10 % (20 m
    against 5 m): the plan is cut from areas defined in metres, so it does not depend on the raster."""
    path = tiny_with_clearance(tmp_path)
    rows = {}
    for cell in (5, 10, 20):
        s = simulate(load_scenario(path, [f"study_area.cell_size_m={cell}", "simulation.realizations=1000",
                                          "clearance.deadline=2025-04-01"]), threads=1).summary
        release = s["land_release"]
        rows[cell] = np.array([release["years_to_completion_p50"], release["years_to_completion_p90"],
                               release["deadline"]["p_released_by_deadline"]])
    assert 0.1 < rows[5][2] < 0.9, rows  # a deadline that is neither sure nor hopeless
    assert np.all(np.abs(rows[20] / rows[5] - 1) <= 0.10), rows
    assert np.all(np.abs(rows[10] / rows[5] - 1) <= 0.10), rows


def test_one_remnant_contaminates_a_disc_of_the_reference_distance(tmp_path):
    """A strike of one submunition that is always a dud, on cells much finer than the distance:
    every realization contaminates about pi d^2 (the lattice disc's area, within 1 %)."""
    text = TINY_TOML.split("[[strikes]]")[0] + """
[[profiles]]
id = "one"
name = "one item"
family = "artillery-projectile"
example = "test"
submunitions_per_carrier = 1
pattern = { kind = "uniform-ellipse", length_m = 0.01, width_m = 0.01 }
delivery_error = { range_sd_m = 0.0, deflection_sd_m = 0.0, aim_sd_m = 0.0 }
dud_rate = { mean = 1.0, spread = 0.0 }
[profiles.sources]
pattern = "test: a point"

[[strikes]]
id = "X"
date = 2024-03-02
profile = "one"
aim_point = { x = 500500.0, y = 4700500.0 }
carriers = 1
azimuth_deg = 0.0
""" + TINY_TOML[TINY_TOML.index("[simulation]"):]
    path = write_tiny(tmp_path, text)
    for d in (30.0, 60.0):
        s = simulate(load_scenario(path, ["study_area.cell_size_m=2", f"hazard.reference_distance_m={d}",
                                          "simulation.realizations=3"]), threads=1).summary
        assert s["contaminated_ha_p50"] * 1e4 == pytest.approx(math.pi * d * d, rel=0.01)


def test_p_raster_rethresholded_gives_exactly_the_sha_and_cha(tmp_path):
    path = write_tiny(tmp_path)
    result = simulate(load_scenario(path), threads=1)
    from simulator.outputs.writer import write_outputs

    write_outputs(result, tmp_path / "out")
    with rasterio.open(tmp_path / "out" / "p_contaminated.tif") as src:
        p = src.read(1)
    ha = result.grid.cell_area_m2 / 1e4
    hazard = result.setup.scenario.hazard
    assert p.dtype == np.float64
    assert np.count_nonzero(p >= hazard.threshold) * ha == pytest.approx(result.summary["hazardous_ha"], abs=1e-9)
    assert np.count_nonzero(p >= hazard.suspect_threshold) * ha == pytest.approx(result.summary["suspected_ha"],
                                                                                 abs=1e-9)


def test_cha_polygons_are_taskable(tmp_path):
    result = run_tiny(tmp_path, "hazard.min_area_m2=4000", "simulation.realizations=60")
    polygons = result.hazard_areas
    assert len(polygons) > 0 and (polygons["area_m2"] >= 4000).all()
    assert set(",".join(polygons["strikes"]).split(",")) <= {"A1", "R1", "D1"}
    assert (polygons["strikes"] != "").all()
    assert (polygons["items_p5"] <= polygons["items_p95"]).all()
    assert polygons["area_m2"].sum() <= result.summary["hazardous_ha"] * 1e4 + 1e-6


# ---- out of sample ----


@pytest.mark.slow
def test_items_in_unsuspected_land_do_not_depend_on_the_realization_count(tmp_path):
    """The plan is scored on realizations independent of its map: the share of items in land never
    suspected agrees at 50 and 2,000 realizations within its Monte Carlo error (in-sample scoring
    made it 0 at 50 realizations by construction)."""
    path = tiny_with_clearance(tmp_path)
    shares = []
    for n in (50, 2000):
        result = simulate(load_scenario(path, [f"simulation.realizations={n}", "hazard.suspect_threshold=0.02"]),
                          threads=2)
        final = result.land_release.final.sum(axis=1)
        ground = final[:, K.FOUND] + final[:, K.RESIDUAL] + final[:, K.IN_HAZARDOUS] + final[:, K.UNSUSPECTED]
        share = final[:, K.UNSUSPECTED] / np.maximum(ground, 1)
        shares.append((share.mean(), share.std(ddof=1) / math.sqrt(n)))
    (a, se_a), (b, se_b) = shares
    assert a > 0, "the plan must be able to miss items"
    assert abs(a - b) <= 3 * math.hypot(se_a, se_b), shares


# ---- Monte Carlo errors ----


def test_every_headline_figure_has_its_error(tmp_path):
    s = simulate(load_scenario(tiny_with_clearance(tmp_path)), threads=1).summary
    for key in ("expected_duds_se", "contaminated_ha_mean_se", "contaminated_ha_p50_ci", "suspected_ha_se",
                "hazardous_ha_se"):
        assert s[key] is not None, key
    release = s["land_release"]
    for key in ("years_to_completion_p50_ci", "years_to_completion_p90_ci", "items_found_mean_se",
                "residual_items_mean_se", "items_in_unsuspected_land_mean_se", "cost_mean_se"):
        assert key in release, key
    deadline = release["deadline"]
    assert deadline["p_released_by_deadline_se"] >= deadline["p_released_by_deadline_se_scored"]
    assert deadline["p_released_by_deadline_se_map"] is not None


def test_quantile_intervals_cover_the_true_quantile():
    rng = np.random.default_rng(1)
    covered = 0
    for _ in range(2000):
        _, (lo, hi) = quantile_ci(rng.exponential(size=60), 0.5)
        covered += lo <= math.log(2) <= hi
    assert 0.94 <= covered / 2000 <= 0.985  # at least 95 % by construction (order statistics are discrete)


def test_wilson_interval_and_standard_error():
    p, se, (lo, hi) = proportion(np.r_[np.ones(30, bool), np.zeros(70, bool)])
    assert p == 0.3 and se == pytest.approx(math.sqrt(0.21 / 100))
    assert lo == pytest.approx(0.2189, abs=1e-3) and hi == pytest.approx(0.3958, abs=1e-3)  # Wilson, 95 %
    assert proportion(np.zeros(50, bool))[2][1] > 0  # no success seen is not certainty


def test_jackknife_of_a_mean_is_its_standard_error():
    """Leaving out one of G equal groups: the jackknife SE of the mean equals the SE of the group means."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(10, 50))
    leave_out = np.array([np.delete(x, g, axis=0).mean() for g in range(10)])
    group_means = x.mean(axis=1)
    assert jackknife_se(leave_out) == pytest.approx(group_means.std(ddof=1) / math.sqrt(10), rel=1e-9)


def test_area_jackknife_error_is_of_the_size_of_the_spread_over_seeds(tmp_path):
    """The CHA area's jackknife error at 200 realizations is within a factor 3 of its spread over
    independent seeds (the jackknife of a thresholded area is conservative, not wild)."""
    areas, errors = [], []
    for seed in range(8):
        s = run_tiny(tmp_path, f"simulation.seed={seed}", "simulation.realizations=200").summary
        areas.append(s["hazardous_ha"])
        errors.append(s["hazardous_ha_se"])
    spread = np.std(areas, ddof=1)
    assert spread / 3 <= np.mean(errors) <= 3 * spread, (areas, errors)


def test_area_at_threshold_counts_cells_and_leaves_groups_out():
    hits = np.array([0, 5, 10, 20])
    group_hits = np.zeros((2, 4), int)
    group_hits[0] = [0, 5, 5, 10]
    area, se = area_at_threshold(hits, group_hits, np.array([10, 10]), 0.5, 2.0)
    assert area == 4.0  # cells 2 and 3 reach 10/20 and 20/20
    # without group 0 the hits are [0, 0, 5, 10] of 10 (area 4); without group 1, [0, 5, 5, 10] (area 6)
    assert se == pytest.approx(math.sqrt(0.5 * (1.0 + 1.0)))


# ---- precision targets ----


def test_precision_target_adds_realizations_reproducibly(tmp_path):
    path = write_tiny(tmp_path)
    overrides = ["simulation.realizations=32", "simulation.target.hazardous_rse=0.02",
                 "simulation.target.max_realizations=640"]
    one = simulate(load_scenario(path, overrides), threads=1)
    two = simulate(load_scenario(path, overrides), threads=2)
    assert one.ensemble.realizations > 32
    assert one.summary == two.summary
    np.testing.assert_array_equal(one.ensemble.hits, two.ensemble.hits)
    s = one.summary
    assert s["hazardous_ha_se"] / s["hazardous_ha"] <= 0.02 or s["realizations"] == 640
    assert s["precision"]["settled"] == (s["hazardous_ha_se"] / s["hazardous_ha"] <= 0.02)


def test_an_unsettled_run_says_so(tmp_path):
    s = run_tiny(tmp_path, "simulation.realizations=16", "simulation.target.hazardous_rse=0.0001",
                 "simulation.target.max_realizations=32").summary
    assert s["realizations"] == 32 and not s["precision"]["settled"]
    assert s["precision"]["note"].startswith("estimates have not settled within 32 realizations")


# ---- identity ----


def test_run_hash_covers_strike_records_and_catalog(tmp_path):
    records = tmp_path / "strikes.csv"
    records.write_text("id,date,profile,carriers,x,y,azimuth_deg\nR1,2024-03-02,artillery-155mm-88,6,500300,4700600,40\n")
    text = TINY_TOML.split("[[strikes]]")[0] + '[strike_records]\npath = "strikes.csv"\ncrs = "EPSG:32634"\n\n' + \
        TINY_TOML[TINY_TOML.index("[simulation]"):]
    path = write_tiny(tmp_path, text)
    from simulator.engine.prepare import prepare

    before = scenario_hash(prepare(load_scenario(path)))
    records.write_text(records.read_text().replace(",6,", ",60,"))
    assert scenario_hash(prepare(load_scenario(path))) != before
