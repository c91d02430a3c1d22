"""The IMSMA export: GeoJSON in WGS 84 (lon, lat) inside the study area, the fields docs/imsma.md
names, and areas that match the GeoPackages."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from simulator.config.variants import load_scenario
from simulator.engine.prepare import prepare
from simulator.outputs.imsma import EvidencePoint, scenario_evidence, write_imsma

HAZARD_FIELDS = ("imsma_id", "hazard_localid", "hazard_type", "confirmed", "contamination_type", "status",
                 "calculated_area_m2", "date_of_information", "informationsource")
ACTIVITY_FIELDS = ("imsma_id", "hazreduc_localid", "hazreduc_type", "status", "calculated_area_m2",
                   "cancelled_area_m2", "reduced_area_m2", "cleared_area_m2", "start_date", "end_date", "imsma_links")
AREA_RTOL = 1e-3
"""0.1 %: areas after the round trip through WGS 84 (RFC 7946 keeps 7 decimals, about 1 cm)."""


@pytest.fixture(scope="module")
def result(clearance_run):
    """A run with a plan in which every CHA is kept (min_area_m2 = 0)."""
    return clearance_run[0]


@pytest.fixture(scope="module")
def out(clearance_run):
    return clearance_run[1]


def lonlat_bounds(result):
    xmin, ymin, xmax, ymax = result.grid.bounds
    to_wgs = Transformer.from_crs(result.grid.crs, "EPSG:4326", always_xy=True)
    xs, ys = np.meshgrid(np.linspace(xmin, xmax, 5), np.linspace(ymin, ymax, 5))
    lon, lat = to_wgs.transform(xs.ravel(), ys.ravel())
    return lon.min(), lat.min(), lon.max(), lat.max()


def coordinates(geometry: dict) -> np.ndarray:
    return shapely.get_coordinates(shapely.geometry.shape(geometry))


def check_collection(path, result, fields):
    document = json.loads(path.read_text())
    assert document["type"] == "FeatureCollection" and "crs" not in document  # RFC 7946: WGS 84, no crs member
    west, south, east, north = lonlat_bounds(result)
    for feature in document["features"]:
        assert set(fields) <= set(feature["properties"]), set(fields) - set(feature["properties"])
        xy = coordinates(feature["geometry"])
        assert np.all((xy[:, 0] >= west - 1e-6) & (xy[:, 0] <= east + 1e-6)), "first coordinate is the longitude"
        assert np.all((xy[:, 1] >= south - 1e-6) & (xy[:, 1] <= north + 1e-6)), "second is the latitude"
    return document


def test_hazards_are_wgs84_lonlat_with_the_mdr_fields(result, out):
    document = check_collection(out / "imsma" / "hazards.geojson", result, HAZARD_FIELDS)
    kinds = {f["properties"]["hazard_type"] for f in document["features"]}
    assert kinds == {"SHA", "CHA"}
    for feature in document["features"]:
        p = feature["properties"]
        assert p["contamination_type"] == "cluster munition remnants" and p["status"] == "open"
        assert p["confirmed"] == ("yes" if p["hazard_type"] == "CHA" else "no")
        date.fromisoformat(p["date_of_information"])
    ids = [f["properties"]["imsma_id"] for f in document["features"]]
    assert len(set(ids)) == len(ids)


def test_cha_areas_match_the_geopackage(result, out):
    gpkg = gpd.read_file(out / "hazard_areas.gpkg", layer="hazard_areas").set_index("id")
    exported = gpd.read_file(out / "imsma" / "hazards.geojson")
    cha = exported[exported["hazard_type"] == "CHA"].to_crs(result.grid.crs)
    assert len(cha) == len(gpkg) > 0
    ids = cha["hazard_localid"].str.rsplit("-", n=1).str[1].astype(int)
    np.testing.assert_allclose(cha.geometry.area.to_numpy(), gpkg.loc[ids, "area_m2"].to_numpy(), rtol=AREA_RTOL)
    np.testing.assert_allclose(cha["calculated_area_m2"].to_numpy(), gpkg.loc[ids, "area_m2"].to_numpy())


def test_sha_and_cha_tile_the_suspected_land(result, out):
    exported = gpd.read_file(out / "imsma" / "hazards.geojson").to_crs(result.grid.crs)
    sha = exported[exported["hazard_type"] == "SHA"].geometry.union_all()
    cha = exported[exported["hazard_type"] == "CHA"].geometry.union_all()
    assert sha.intersection(cha).area < AREA_RTOL * cha.area
    suspected_m2 = result.summary["suspected_ha"] * 1e4  # with min_area_m2 = 0 every suspected cell is in one
    assert sha.area + cha.area == pytest.approx(suspected_m2, rel=AREA_RTOL)


def test_activity_records_match_the_work_units(result, out):
    check_collection(out / "imsma" / "land_release.geojson", result, ACTIVITY_FIELDS)
    activities = gpd.read_file(out / "imsma" / "land_release.geojson").to_crs(result.grid.crs)
    units = gpd.read_file(out / "work_units.gpkg", layer="work_units")
    assert len(activities) == len(units)
    np.testing.assert_allclose(activities.geometry.area, units["area_m2"], rtol=AREA_RTOL)
    released = activities[["cancelled_area_m2", "reduced_area_m2", "cleared_area_m2"]].sum(axis=1)
    assert np.all(released <= activities["calculated_area_m2"] + 1e-6)
    np.testing.assert_allclose(activities["cleared_area_m2"], units["cleared_m2_mean"])
    hazard_ids = set(gpd.read_file(out / "imsma" / "hazards.geojson")["imsma_id"])
    links = {i for text in activities["imsma_links"] if text for i in text.split(",")}
    assert links and links <= hazard_ids


def test_evidence_points_are_exported_in_lonlat(result, tmp_path):
    point = EvidencePoint("F1", 500410.0, 4700520.0, "find", date(2024, 8, 1), "M77 type submunition <reported>")
    folder = write_imsma(tmp_path, result.setup, result.p_contaminated, result.mean_count, result.hazard_areas,
                         "run", evidence=[point])
    document = check_collection(folder / "evidence.geojson", result, ("imsma_id", "evidence_localid",
                                                                     "evidence_type", "date_of_information"))
    (feature,) = document["features"]
    lon, lat = Transformer.from_crs(result.grid.crs, "EPSG:4326", always_xy=True).transform(point.x, point.y)
    assert feature["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=1e-7)
    assert feature["properties"]["description"] == point.description
    assert not (folder / "land_release.geojson").exists()  # no plan given


def test_the_scenarios_point_evidence_is_exported():
    """demo-evidence's finds and witness reports, read from its files, become IMSMA evidence points."""
    scenario = Path(__file__).parents[1] / "scenarios" / "demo-evidence.toml"
    points = scenario_evidence(prepare(load_scenario(scenario)))
    data = scenario.parent / "data" / "demo-evidence"
    finds = [p for p in points if p.kind == "find"]
    reports = [p for p in points if p.kind == "strike report"]
    assert len(finds) == len(pd.read_csv(data / "finds.csv"))
    assert len(reports) == len(pd.read_csv(data / "strike_reports.csv"))
    assert all(isinstance(p.day, date) for p in points)
