"""Population per cell (``risk.population``): totals conserved by resampling and rasterising, used
instead of each class's people, and bad population files refused in one line."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import LineString, Point, box

from simulator.config.risk import Population
from simulator.config.variants import load_scenario
from simulator.engine.prepare import prepare
from simulator.inputs.grid import Grid
from simulator.inputs.population import read_population
from simulator.pipeline import simulate
from simulator.results.risk import RiskRates
from tests.conftest import TINY_TOML, write_tiny
from tests.test_bad_input_corpus import BAD_INPUT, assert_one_line
from tests.test_risk import RISK

GRID = Grid("EPSG:32634", 500000.0, 4701000.0, 20.0, 50, 50)
"""The tiny scenario's grid: 1 km square, 20 m cells."""


def write_raster(path, values, x0, y0, pixel, crs="EPSG:32634", nodata=None):
    with rasterio.open(path, "w", driver="GTiff", width=values.shape[1], height=values.shape[0], count=1,
                       dtype="float64", crs=crs, transform=from_origin(x0, y0, pixel, pixel), nodata=nodata) as dst:
        dst.write(values, 1)
    return path


def test_a_finer_misaligned_raster_keeps_its_people(tmp_path):
    rng = np.random.default_rng(1)
    values = rng.uniform(0, 3, (100, 120))  # 7 m pixels, 700 x 840 m, inside the grid, off its lines
    path = write_raster(tmp_path / "pop.tif", values, 500103.0, 4700901.0, 7.0)
    people = read_population(Population(path=path), GRID)
    assert people.sum() == pytest.approx(values.sum(), rel=1e-9)
    assert people[:, :5].sum() == 0  # nobody west of the raster


def test_a_coarser_raster_is_shared_by_area(tmp_path):
    values = np.array([[100.0, 0.0], [50.0, 25.0]])  # 100 m pixels from the grid's corner
    path = write_raster(tmp_path / "pop.tif", values, 500000.0, 4701000.0, 100.0, nodata=-1)
    people = read_population(Population(path=path), GRID)
    assert people.sum() == pytest.approx(175.0, rel=1e-12)
    assert np.allclose(people[:5, :5], 100.0 / 25) and np.allclose(people[5:10, 5:10], 1.0)
    assert people[10:].sum() == 0


def test_nodata_pixels_hold_nobody(tmp_path):
    values = np.array([[-9999.0, 40.0]])
    path = write_raster(tmp_path / "pop.tif", values, 500000.0, 4701000.0, 100.0, nodata=-9999.0)
    assert read_population(Population(path=path), GRID).sum() == pytest.approx(40.0, rel=1e-12)


def test_a_lon_lat_raster_keeps_its_people_within_reprojection_error(tmp_path):
    values = np.full((14, 16), 2.0)  # 0.0005 degree pixels (41 x 55 m) well inside the grid
    path = write_raster(tmp_path / "pop.tif", values, 21.0010, 42.4603, 0.0005, crs="EPSG:4326")
    people = read_population(Population(path=path), GRID)
    assert people.sum() == pytest.approx(values.sum(), rel=0.01)


def test_polygons_and_points_keep_their_people(tmp_path):
    layer = gpd.GeoDataFrame(
        {"pop": [100.0, 50.0, 7.0, 3.0, 11.0]},
        geometry=[box(500000, 4700000, 500200, 4700200),  # 100 cells
                  box(500400, 4700400, 500500, 4700440),  # 10 cells
                  box(500601, 4700601, 500606, 4700606),  # covers no cell centre
                  Point(500710.0, 4700910.0),
                  Point(400000.0, 4700000.0)],  # off the grid
        crs="EPSG:32634",
    )
    layer.to_file(tmp_path / "pop.gpkg", driver="GPKG")
    people = read_population(Population(path=tmp_path / "pop.gpkg", field="pop"), GRID)
    assert people.sum() == pytest.approx(160.0, rel=1e-12)
    assert np.allclose(people[40:50, 0:10], 1.0)
    assert np.allclose(people[28:30, 20:25], 5.0)
    assert people[19, 30] == pytest.approx(7.0) and people[4, 35] == pytest.approx(3.0)


def scenario_text(population: str | None) -> str:
    risk = RISK if population is None else RISK.replace("[risk]", f"[risk]\npopulation = {population}")
    return TINY_TOML.replace("[hazard]", risk + "\n[hazard]")


def test_population_replaces_each_class_people(tmp_path):
    values = np.zeros((10, 10))
    values[:, :5] = 8.0  # farmland (west half, but for the village square)
    values[:, 5:] = 2.0  # forest
    write_raster(tmp_path / "pop.tif", values, 500000.0, 4701000.0, 100.0)
    from_file = prepare(load_scenario(write_tiny(tmp_path, scenario_text('{ path = "pop.tif" }'))))
    people = from_file.class_people
    assert people.sum() == pytest.approx(values.sum(), rel=1e-9)
    overrides = [f"risk.classes.{key}.people={float(people[c])!r}" for c, key in enumerate(from_file.class_keys)]
    given = prepare(load_scenario(write_tiny(tmp_path, scenario_text(None)), overrides))
    assert given.class_people is None
    a, b = RiskRates.of(from_file, 8), RiskRates.of(given, 8)
    assert np.array_equal(a.free, b.free) and np.array_equal(a.marked, b.marked) and a.free.max() > 0
    doubled = tmp_path / "doubled"
    doubled.mkdir()
    write_raster(doubled / "pop.tif", 2 * values, 500000.0, 4701000.0, 100.0)
    twice = prepare(load_scenario(write_tiny(doubled, scenario_text('{ path = "pop.tif" }'))))
    assert np.allclose(RiskRates.of(twice, 8).free, 2 * a.free, rtol=1e-12)  # linear while no class saturates


def bad_population(folder, kind: str):
    """A scenario whose population file is bad in the way ``kind`` names; returns (path, fragments)."""
    spec = '{ path = "pop.tif" }'
    fragments = ["risk.population"]
    if kind == "missing":
        fragments.append("does not exist")
    elif kind == "empty":
        (folder / "pop.tif").write_bytes(b"")
        fragments.append("is empty")
    elif kind == "not a raster":
        (folder / "pop.tif").write_text("people\n3\n")
        fragments.append("cannot be read as a raster")
    elif kind == "negative":
        write_raster(folder / "pop.tif", np.array([[4.0, -2.0]]), 500000.0, 4701000.0, 100.0)
        fragments += ["negative or not numbers", "-2.0"]
    elif kind == "no CRS":
        write_raster(folder / "pop.tif", np.ones((2, 2)), 500000.0, 4701000.0, 100.0, crs=None)
        fragments.append("has no CRS")
    elif kind == "far away":
        write_raster(folder / "pop.tif", np.ones((2, 2)), 600000.0, 4801000.0, 100.0)
        fragments.append("does not reach the study area")
    elif kind == "all nodata":
        write_raster(folder / "pop.tif", np.full((2, 2), -1.0), 500000.0, 4701000.0, 100.0, nodata=-1.0)
        fragments.append("puts nobody on the study area")
    else:
        geometry = [LineString([(500000, 4700000), (500100, 4700100)])] if kind == "lines" else [box(
            500000, 4700000, 500100, 4700100)]
        values = ["many"] if kind == "not numbers" else [5.0]
        gpd.GeoDataFrame({"people": values}, geometry=geometry, crs="EPSG:32634").to_file(folder / "pop.gpkg")
        field = "peeple" if kind == "misspelt field" else "people"
        spec = f'{{ path = "pop.gpkg", field = "{field}" }}'
        fragments += {"lines": ["neither polygons nor points", "LineString"],
                      "not numbers": ["risk.population.field", "'many'"],
                      "misspelt field": ["risk.population.field", "did you mean 'people'"]}[kind]
    return write_tiny(folder, scenario_text(spec)), fragments


KINDS = ["missing", "empty", "not a raster", "negative", "no CRS", "far away", "all nodata", "lines", "not numbers",
         "misspelt field"]


@pytest.mark.parametrize("kind", KINDS)
def test_bad_population_files_are_one_line(remnant, tmp_path, kind):
    path, fragments = bad_population(tmp_path, kind)
    runs = tmp_path / "runs"
    runs.mkdir()
    assert_one_line(remnant("validate", path), BAD_INPUT, fragments)
    assert_one_line(remnant("run", path, "--out", runs / "out"), BAD_INPUT, fragments, runs)


def test_people_are_needed_without_a_population(remnant, tmp_path):
    path = write_tiny(tmp_path, scenario_text(None).replace("people = 200\n", ""))
    assert_one_line(remnant("validate", path), BAD_INPUT, ["risk.classes.farmland.people", "risk.population"])


def test_the_summary_lists_the_people_each_class_got(tmp_path):
    values = np.full((10, 10), 3.0)
    write_raster(tmp_path / "pop.tif", values, 500000.0, 4701000.0, 100.0)
    result = simulate(load_scenario(write_tiny(tmp_path, scenario_text('{ path = "pop.tif" }')),
                                    ["simulation.realizations=4"]), threads=1)
    listed = result.summary["risk"]["people_from_population"]
    assert sum(listed.values()) == pytest.approx(values.sum(), abs=0.05)
    assert listed["residential"] == pytest.approx(3.0 * 4, abs=0.01)  # the village square: 4 ha of 1 ha pixels
