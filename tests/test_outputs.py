"""Outputs read back with rasterio and geopandas, and consistent with each other."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from rasterio import features
from shapely.geometry import box

from simulator.config.variants import load_scenario
from simulator.outputs.writer import write_outputs
from simulator.pipeline import simulate
from tests.conftest import write_tiny


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("outputs")
    result = simulate(load_scenario(write_tiny(folder), ["hazard.min_area_m2=0"]), threads=1)
    return write_outputs(result, folder / "out"), result


def read(path):
    with rasterio.open(path) as src:
        return src.read(1), src


def test_rasters_have_crs_nodata_descriptions(run_dir):
    out, result = run_dir
    for name, unit in (("density.tif", "items/ha"), ("p_contaminated.tif", "probability"), ("landuse.tif", "class")):
        with rasterio.open(out / name) as src:
            assert src.crs.to_epsg() == 32634
            assert src.nodata is not None and src.descriptions[0] and src.units[0] == unit
            assert src.transform == result.grid.transform and src.shape == result.grid.shape
            assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
    codes, _ = read(out / "landuse.tif")
    assert set(np.unique(codes)) <= {1, 2, 3}


def test_density_sums_to_the_mean_remnant_count(run_dir):
    out, result = run_dir
    density, _ = read(out / "density.tif")
    cell_ha = result.grid.cell_area_m2 / 1e4
    record = json.loads((out / "run.json").read_text())["summary"]
    inside = record["expected_duds"] - record["duds_outside_grid_mean"]
    assert density.sum(dtype=np.float64) * cell_ha == pytest.approx(inside, rel=1e-5)


def test_probabilities_are_probabilities(run_dir):
    out, _ = run_dir
    p, _ = read(out / "p_contaminated.tif")
    assert p.min() >= 0.0 and p.max() <= 1.0 and p.max() > 0.0


def test_hazard_polygons_cover_exactly_the_cells_at_threshold(run_dir):
    out, result = run_dir
    p, src = read(out / "p_contaminated.tif")
    polygons = gpd.read_file(out / "hazard_areas.gpkg", layer="hazard_areas")
    assert len(polygons) > 0 and polygons.crs.to_epsg() == 32634
    assert polygons.within(box(*result.grid.bounds).buffer(1e-6)).all()
    burnt = features.rasterize(polygons.geometry, out_shape=p.shape, transform=result.grid.transform)
    assert np.array_equal(burnt.astype(bool), p >= 0.2)
    assert polygons["area_m2"].sum() == pytest.approx(polygons.area.sum())
    assert (polygons["max_probability"] >= 0.2).all() and (polygons["expected_items"] > 0).all()
    class_area = polygons[[c for c in polygons.columns if c.startswith("area_m2_")]].sum(axis=1)
    assert np.allclose(class_area, polygons["area_m2"])
    strikes = gpd.read_file(out / "hazard_areas.gpkg", layer="strikes")
    assert list(strikes["id"]) == ["A1", "R1", "D1"]


def test_table_agrees_with_rasters_and_polygons(run_dir):
    out, result = run_dir
    table = pd.read_csv(out / "hazardous_area.csv")
    last = table[(table["step"] == table["step"].max()) & ~table["total"]]
    polygons = gpd.read_file(out / "hazard_areas.gpkg", layer="hazard_areas")
    assert last["hazardous_ha"].sum() == pytest.approx(polygons["area_m2"].sum() / 1e4)
    assert (last["hazardous_ha"] <= last["suspected_ha"]).all()
    assert set(table["class"]) == {"residential", "farmland", "forest", "all"}
    assert len(table) == 5 * 4
    totals = table[table["total"]].set_index("step")
    classes = table[~table["total"]].groupby("step")
    for column in ("suspected_ha", "hazardous_ha", "remnants_mean"):
        np.testing.assert_allclose(totals[column], classes[column].sum())
    for band in ("contaminated_ha", "remnants"):
        assert (table[f"{band}_p5"] <= table[f"{band}_p50"]).all() and (table[f"{band}_p50"] <= table[f"{band}_p95"]).all()
    first = table[table["step"] == 0]
    assert (first.drop(columns=["step", "date", "class", "total"]).to_numpy() == 0).all()
    remnants = table[~table["total"]].groupby("step")["remnants_mean"].sum().to_numpy()
    assert np.all(np.diff(remnants) >= 0)
    density, _ = read(out / "density.tif")
    assert remnants[-1] == pytest.approx(density.sum(dtype=np.float64) * result.grid.cell_area_m2 / 1e4, rel=1e-5)


def test_contamination_arrives_at_strike_dates(run_dir):
    out, _ = run_dir
    table = pd.read_csv(out / "hazardous_area.csv")
    totals = table[~table["total"]].groupby("date")["remnants_mean"].sum()
    assert totals["2024-01-01"] == 0 and totals["2024-04-01"] > 0
    assert totals["2024-07-01"] > totals["2024-04-01"] and totals["2025-01-01"] == totals["2024-07-01"]


def test_figures_are_pngs(run_dir):
    out, _ = run_dir
    for name in ("map.png", "hazardous_area.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_qgis_styles_parse_and_are_stored_in_the_geopackage(run_dir):
    out, _ = run_dir
    for name in ("density.qml", "hazard_areas.qml"):
        root = ET.parse(out / name).getroot()
        assert root.tag == "qgis"
    assert ET.parse(out / "density.qml").find(".//rasterrenderer").get("type") == "singlebandpseudocolor"
    styles = gpd.read_file(out / "hazard_areas.gpkg", layer="layer_styles")
    assert list(styles["f_table_name"]) == ["hazard_areas", "strikes", "suspected_areas"] and styles["useAsDefault"].all()
    ET.fromstring(styles["styleQML"][0])


def test_area_by_class_table(run_dir):
    out, result = run_dir
    table = pd.read_csv(out / "hazardous_area_by_class.csv")
    assert list(table["class"]) == ["residential", "farmland", "forest"]
    assert table["area_ha"].sum() == pytest.approx(result.grid.n_cells * result.grid.cell_area_m2 / 1e4)
    assert (table["hazardous_ha"] <= table["area_ha"]).all()


def test_polygons_closer_than_the_reference_distance_are_grouped(tmp_path):
    from simulator.results.polygons import hazard_polygons

    # contamination by cell (reference distance 0) leaves the CHA in many pieces
    result = simulate(load_scenario(write_tiny(tmp_path), ["hazard.reference_distance_m=0"]), threads=1)
    args = (result.grid, result.p_contaminated, result.mean_count, result.setup.landuse_codes,
            result.setup.class_keys, 0.2)
    cells, grouped = hazard_polygons(*args, reference_m=0.0), hazard_polygons(*args, reference_m=400.0)
    assert len(grouped) < len(cells)
    assert grouped["area_m2"].sum() == pytest.approx(cells["area_m2"].sum())
    assert grouped.union_all().equals(cells.union_all())
    for geometry in cells.geometry:  # every group holds whole pieces
        assert grouped.geometry.covers(geometry).sum() == 1
    small = hazard_polygons(*args, reference_m=0.0, min_area_m2=cells["area_m2"].median())
    assert len(small) < len(cells) and (small["area_m2"] >= cells["area_m2"].median()).all()
