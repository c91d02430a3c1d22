"""Land outside the study area (``land_use.outside``): a layer covering the west half of the grid.

Areas, CHA polygons, work units and risk lie on the covered half only; remnants over the other
half are counted as outside, and inside + outside = every remnant on the grid.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from shapely.geometry import box

from simulator.config.variants import load_scenario
from simulator.engine.ensemble import run_ensemble
from simulator.engine.prepare import prepare
from simulator.outputs.writer import write_landuse
from simulator.pipeline import simulate
from simulator.results.risk import risk_map
from simulator.results.tables import M2_PER_HA
from tests.conftest import TINY_TOML
from tests.test_bad_input_corpus import BAD_INPUT, assert_one_line
from tests.test_risk import CLEARANCE, RISK

EDGE_X = 500500.0
"""The layer covers x < EDGE_X (the west half of the 1 km grid)."""


def half_covered(folder, *overrides, outside: bool = True, realizations: int = 24):
    """The tiny scenario with clearance and risk over a layer covering the west half only."""
    gpd.GeoDataFrame(
        {"class": ["farmland", "residential"]},
        geometry=[box(500000, 4700000, EDGE_X, 4701000), box(500200, 4700500, 500400, 4700700)], crs="EPSG:32634",
    ).to_file(folder / "land_use.geojson", driver="GeoJSON")
    text = TINY_TOML.replace("end = 2025-01-01", "end = 2027-01-01")
    text = text.replace("[hazard]", CLEARANCE + RISK + "\n[hazard]\nsuspect_threshold = 0.05")
    text = text.replace('default_class = "farmland"', f'default_class = "farmland"\noutside = {str(outside).lower()}')
    path = folder / "tiny.toml"
    path.write_text(text)
    return load_scenario(path, [f"simulation.realizations={realizations}", *overrides])


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return simulate(half_covered(tmp_path_factory.mktemp("outside")), threads=1)


def east(setup) -> np.ndarray:
    """Cells (grid shape) whose centre lies east of the layer."""
    xs, _ = setup.grid.cell_centres()
    return np.broadcast_to(xs[None, :] > EDGE_X, setup.grid.shape)


def test_cells_outside_the_layer_are_outside_the_study_area(result):
    setup = result.setup
    assert np.array_equal(~setup.inside, east(setup))
    assert setup.class_cells.sum() == setup.inside.sum() == setup.grid.nx * setup.grid.ny // 2
    assert setup.kernel.n_zones == len(setup.class_keys) + 1
    assert np.all(setup.kernel.zone.reshape(setup.grid.shape)[east(setup)] == len(setup.class_keys))


def test_remnants_outside_are_counted_as_outside_and_conserved(result):
    summary, setup = result.summary, result.setup
    inside, outside = summary["duds_in_study_area_mean"], summary["duds_outside_study_area_mean"]
    assert outside > 1.0 and inside > 1.0  # both halves are struck
    off_grid = summary["duds_outside_grid_mean"]
    assert off_grid > 0  # a strike's footprint reaches past the grid's edge
    assert inside + outside + off_grid == pytest.approx(summary["expected_duds"], abs=3e-3)
    # the same ensemble's mean remnants per cell, summed over each half (no shared code with the zone tally)
    assert outside == pytest.approx(float(result.mean_count[east(setup)].sum()), abs=2e-3)
    table = result.hazardous_area
    last = table[table["step"] == table["step"].max()].set_index("class")
    assert last.loc["outside", "remnants_mean"] == pytest.approx(outside, abs=2e-3)
    assert last.loc["all", "remnants_mean"] == pytest.approx(inside, abs=2e-3)
    assert last.loc["outside", ["suspected_ha", "hazardous_ha", "contaminated_ha_p95"]].eq(0).all()
    assert list(result.area_by_class["class"]) == list(setup.class_keys)


def test_areas_and_polygons_only_on_the_covered_half(result):
    setup, hazard = result.setup, result.setup.scenario.hazard
    p = result.p_contaminated
    assert (p[east(setup)] >= hazard.threshold).sum() > 0  # the east half is contaminated, yet not counted
    ha = setup.grid.cell_area_m2 / M2_PER_HA
    for name, threshold in (("hazardous_ha", hazard.threshold), ("suspected_ha", hazard.suspect_threshold)):
        naive = np.count_nonzero((p >= threshold) & ~east(setup)) * ha
        assert result.summary[name] == pytest.approx(naive, abs=1e-6)
    polygons = result.hazard_areas
    assert len(polygons) > 0
    assert polygons.total_bounds[2] <= EDGE_X + 1e-6


def test_no_work_unit_and_no_risk_outside(result):
    setup = result.setup
    units = result.land_release.plan.units
    assert len(units) > 0 and np.all(units.x < EDGE_X)
    zone = units.zone.reshape(setup.grid.shape)
    assert np.all(zone[east(setup)] == 2 * len(units) + len(setup.class_keys))
    per_km2 = risk_map(setup, result.ensemble, result.risk)
    assert per_km2[~east(setup)].sum() > 0 and np.all(per_km2[east(setup)] == 0)


def test_without_outside_the_uncovered_half_gets_the_default_class(tmp_path):
    setup = prepare(half_covered(tmp_path, outside=False))
    assert setup.inside.all()
    assert setup.class_cells[setup.class_keys.index("farmland")] > setup.grid.nx * setup.grid.ny // 2


def test_landuse_raster_has_nodata_outside(result, tmp_path):
    write_landuse(result.setup, tmp_path)
    with rasterio.open(tmp_path / "landuse.tif") as src:
        codes, nodata = src.read(1), src.nodata
    assert nodata == 0
    assert np.all(codes[east(result.setup)] == 0) and np.all(codes[~east(result.setup)] > 0)


OUTSIDE_CASES = [
    ("outside quoted", ['land_use.outside="yes"'], ["land_use.outside", "'yes'", "true or false"]),
    ("outside a number", ["land_use.outside=1"], ["land_use.outside", "true or false"]),
    ("outside a list", ["land_use.outside=[true]"], ["land_use.outside"]),
    ("a class named outside", ["land_use.outside=true", 'land_use.classes.outside={name="Sea", colour="#0000ff", '
                               'priority=4}'], ["land_use.classes.outside", "reserved"]),
    ("outside and no cell covered", ["land_use.outside=true", "study_area.extent_m=[0, 0, 1000, 1000]"],
     ["study_area.extent_m", "no land-use polygon covers any cell"]),
]


@pytest.mark.parametrize(("case", "overrides", "fragments"), OUTSIDE_CASES, ids=[c[0] for c in OUTSIDE_CASES])
def test_bad_outside_settings_are_one_line(remnant, tiny, tmp_path, case, overrides, fragments):
    runs = tmp_path / "runs"
    runs.mkdir()
    args = [item for override in overrides for item in ("--set", override)]
    assert_one_line(remnant("run", tiny, "--out", runs / "out", *args), BAD_INPUT, fragments, runs)
    assert_one_line(remnant("validate", tiny, *args), BAD_INPUT, fragments)


def test_tiles_count_the_outside_zone_as_the_whole_grid_does(result):
    kernel = result.setup.kernel
    whole = run_ensemble(kernel, 8, batch_size=8)
    tiled = run_ensemble(kernel, 8, batch_size=8, tile_cells=16)
    assert np.array_equal(whole.zone_items, tiled.zone_items)
    assert whole.zone_items[..., -1].sum() > 0


@pytest.mark.slow
def test_a_run_reports_the_remnants_outside(remnant, tmp_path):
    half_covered(tmp_path, realizations=8)
    code, stdout, stderr = remnant("run", tmp_path / "tiny.toml", "--out", tmp_path / "out",
                                   "--set", "simulation.realizations=8")
    assert code == 0, stderr
    assert "outside the study area (land_use.outside)" in " ".join(stdout.split())
    table = pd.read_csv(tmp_path / "out" / "hazardous_area.csv")
    assert (table["class"] == "outside").sum() == table["step"].nunique()
    summary = json.loads((tmp_path / "out" / "run.json").read_text())["summary"]
    assert summary["duds_outside_study_area_mean"] > 0
