"""Tests of reading and rasterising land-use layers (simulator/land_use.py)."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas
import numpy as np
import pyogrio
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import affinity

from simulator.errors import InputError
from simulator.inputs.grid import Grid
from simulator.inputs.land_use import LandUseLayer, LandUseReport, local_utm_crs, rasterize_land_use, read_land_use

OSM = Path(__file__).parent / "data" / "osm-rural-finland.osm.pbf"
UTM35 = "EPSG:32635"
X0, Y0 = 496_000.0, 6_710_000.0  # south-east Finland in UTM zone 35N (m)
CLASS_MAP = {"forest": "forest", "wood": "forest", "farmland": "farm", "residential": "built"}
CODES = {"other": 0, "farm": 1, "forest": 2, "built": 3}
PRECEDENCE = ["built", "forest", "farm", "other"]


def boxes(values: list[str | None], size: float = 300.0, field: str = "landuse", crs: str | None = UTM35):
    """A row of ``size``-metre squares, one per value, 100 m apart."""
    xs = X0 + (size + 100) * np.arange(len(values))
    geoms = shapely.box(xs, Y0, xs + size, Y0 + size)
    return geopandas.GeoDataFrame({field: values}, geometry=geoms, crs=crs)


def read(path: Path, **kwargs) -> LandUseLayer:
    defaults = {"layer": None, "class_field": "landuse", "class_map": CLASS_MAP, "default_class": "other"}
    return read_land_use(path, **(defaults | kwargs))


def error(path: Path, **kwargs) -> str:
    with pytest.raises(InputError) as caught:
        read(path, **kwargs)
    return str(caught.value)


def layer_of(gdf: geopandas.GeoDataFrame, crs: str = UTM35) -> LandUseLayer:
    report = LandUseReport(len(gdf), 0, 0, 0, {}, crs, crs)
    return LandUseLayer(gdf.rename(columns={"landuse": "class_key"}).set_crs(crs, allow_override=True), crs, report)


# --- reading -------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".shp", ".fgb"])
def test_round_trip_of_formats(tmp_path, suffix):
    gdf = boxes(["forest", "farmland", None, "swamp", "residential", "swamp"])
    path = tmp_path / f"land{suffix}"
    gdf.to_file(path)
    layer = read(path)
    assert list(layer.polygons.columns) == ["class_key", "geometry"]
    west_to_east = layer.polygons.iloc[np.argsort(layer.polygons.bounds["minx"])]  # FlatGeobuf reorders
    assert list(west_to_east["class_key"]) == ["forest", "farm", "other", "other", "built", "other"]
    assert layer.crs == UTM35 and layer.report.crs == UTM35 and layer.report.source_crs == UTM35
    report = layer.report
    assert (report.n_features, report.n_repaired, report.n_dropped, report.n_default) == (6, 0, 0, 3)
    assert report.unmapped_values == {"swamp": 2}
    assert np.allclose(layer.polygons.area, 300.0 * 300.0)
    lines = report.lines()
    assert lines[0] == "read 6 features from layer 'land'"
    assert "3 features got the default class 'other': 1 with no class value; 2 with unmapped values ('swamp' 2)" in (
        lines
    )


def test_real_osm_extract_is_repaired_and_projected():
    layer = read(OSM, class_field="landuse,natural")
    report = layer.report
    assert report.layer == "multipolygons"
    assert report.n_features > 2000 and len(layer.polygons) == report.n_features - report.n_dropped
    assert report.n_repaired > 0 and report.n_dropped > 0  # rings of 2 points are unreadable, others repaired
    assert f"repaired {report.n_repaired} invalid geometries" in report.lines()
    assert report.source_crs == "EPSG:4326" and layer.crs == UTM35 == local_utm_crs(26.95, 60.53)
    assert "projected from EPSG:4326 to EPSG:32635" in report.lines()
    geoms = layer.polygons.geometry
    assert set(geoms.geom_type) <= {"Polygon", "MultiPolygon"}
    assert geoms.is_valid.all() and not geoms.is_empty.any()
    xmin, ymin, xmax, ymax = layer.polygons.total_bounds
    assert 495_000 < xmin < xmax < 499_000 and 6_709_000 < ymin < ymax < 6_713_000
    counts = layer.polygons["class_key"].value_counts()
    assert counts["forest"] > 5  # landuse=forest, and natural=wood where landuse is null
    assert counts["farm"] > 0 and counts["built"] > 0
    assert report.unmapped_values["industrial"] > 0


def test_class_field_list_takes_first_non_null(tmp_path):
    gdf = boxes(["farmland", None, None])
    gdf["natural"] = ["wood", "wood", None]
    gdf.to_file(tmp_path / "a.gpkg")
    layer = read(tmp_path / "a.gpkg", class_field="landuse, natural")
    assert list(layer.polygons["class_key"]) == ["farm", "forest", "other"]


def test_numeric_class_values_match_as_text(tmp_path):
    gdf = boxes([None] * 3).drop(columns="landuse")
    gdf["code"] = geopandas.pd.array([7, None, 9], dtype="Int64")
    gdf.to_file(tmp_path / "a.shp")
    layer = read(tmp_path / "a.shp", class_field="code", class_map={"7": "forest"})
    assert list(layer.polygons["class_key"]) == ["forest", "other", "other"]
    assert layer.report.unmapped_values == {"9": 1}


def test_geographic_layer_is_projected_to_local_utm(tmp_path):
    gdf = boxes(["forest", "farmland"]).to_crs("EPSG:4326")
    gdf.to_file(tmp_path / "a.geojson")
    layer = read(tmp_path / "a.geojson")
    assert layer.crs == UTM35 and layer.report.source_crs == "EPSG:4326"
    assert np.allclose(layer.polygons.area, 300.0 * 300.0, rtol=1e-3)
    assert np.allclose(layer.polygons.total_bounds, [X0, Y0, X0 + 700, Y0 + 300], atol=1.0)


def test_target_crs(tmp_path):
    boxes(["forest"]).to_file(tmp_path / "a.gpkg")
    assert read(tmp_path / "a.gpkg", crs="EPSG:3067").crs == "EPSG:3067"
    message = error(tmp_path / "a.gpkg", crs="EPSG:4326")
    assert "study_area.crs" in message and "'EPSG:4326'" in message and "metres" in message and UTM35 in message
    message = error(tmp_path / "a.gpkg", crs="EPSG:99999999")
    assert "study_area.crs" in message and "'EPSG:99999999'" in message


def test_projected_layer_not_in_metres_needs_target_crs(tmp_path):
    new_york = shapely.box(-74.0, 40.70, -73.99, 40.71)
    gdf = geopandas.GeoDataFrame({"landuse": ["forest"]}, geometry=[new_york], crs="EPSG:4326").to_crs("EPSG:2263")
    gdf.to_file(tmp_path / "feet.gpkg")  # New York State Plane, US survey feet
    message = error(tmp_path / "feet.gpkg")
    assert "study_area.crs" in message and "'EPSG:2263'" in message and "'EPSG:32618'" in message
    assert read(tmp_path / "feet.gpkg", crs="EPSG:32618").crs == "EPSG:32618"


@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [
        (26.95, 60.53, "EPSG:32635"),
        (-70.6, -33.4, "EPSG:32719"),
        (-180.0, 0.0, "EPSG:32601"),
        (179.9, 1.0, "EPSG:32660"),
        (0.0, 0.0, "EPSG:32631"),
    ],
)
def test_local_utm_crs(lon, lat, expected):
    assert local_utm_crs(lon, lat) == expected


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_layer_without_crs_needs_source_crs(tmp_path):
    boxes(["forest"], crs=None).to_file(tmp_path / "a.shp")
    assert not (tmp_path / "a.prj").exists()
    message = error(tmp_path / "a.shp")
    assert "land_use.source_crs" in message and "no CRS" in message
    layer = read(tmp_path / "a.shp", source_crs=UTM35)
    assert layer.crs == UTM35 and layer.report.file_crs is None
    took = "took source CRS EPSG:32635 from land_use.source_crs (the file declares no CRS)"
    assert took in layer.report.lines()


def test_wrong_crs_is_an_error(tmp_path):
    boxes(["forest"], crs="EPSG:4326").to_file(tmp_path / "metres_as_degrees.gpkg")
    message = error(tmp_path / "metres_as_degrees.gpkg")
    assert "land_use.source_crs" in message and "'EPSG:4326'" in message and "probably wrong" in message
    assert read(tmp_path / "metres_as_degrees.gpkg", source_crs=UTM35).crs == UTM35

    degrees = boxes(["forest"]).to_crs("EPSG:4326").set_crs(UTM35, allow_override=True)
    degrees.to_file(tmp_path / "degrees_as_metres.gpkg")
    message = error(tmp_path / "degrees_as_metres.gpkg")
    assert "land_use.source_crs" in message and f"'{UTM35}'" in message and "probably wrong" in message
    assert read(tmp_path / "degrees_as_metres.gpkg", source_crs="EPSG:4326").crs == UTM35


def test_invalid_and_empty_geometries_are_repaired_or_dropped(tmp_path):
    bow_tie = shapely.Polygon([(X0, Y0), (X0 + 200, Y0 + 200), (X0 + 200, Y0), (X0, Y0 + 200)])
    square = shapely.box(X0 + 300, Y0, X0 + 500, Y0 + 200)
    collection = shapely.GeometryCollection([square, shapely.LineString([(X0, Y0), (X0 + 1, Y0 + 1)])])
    line = shapely.LineString([(X0, Y0), (X0 + 10, Y0)])
    geoms = [bow_tie, shapely.Polygon(), None, line, collection, square]
    gdf = geopandas.GeoDataFrame({"landuse": ["forest"] * 6}, geometry=geoms, crs=UTM35)
    gdf.to_file(tmp_path / "a.geojson")
    layer = read(tmp_path / "a.geojson")
    report = layer.report
    assert (report.n_features, report.n_repaired, report.n_dropped) == (6, 2, 3)
    assert "repaired 2 invalid geometries" in report.lines()
    assert "dropped 3 null, empty or non-polygonal geometries" in report.lines()
    assert list(layer.polygons.geom_type) == ["MultiPolygon", "Polygon", "Polygon"]
    assert layer.polygons.is_valid.all()
    assert layer.polygons.area.tolist() == pytest.approx([200.0 * 100.0, 200.0 * 200.0, 200.0 * 200.0])


def test_only_non_polygons_is_an_error():
    message = error(OSM, layer="lines", class_field="highway")
    assert "land_use.layer" in message and "'lines'" in message and "no polygon features" in message


def test_shapefile_without_shx_is_restored(tmp_path):
    boxes(["forest", "farmland"]).to_file(tmp_path / "a.shp")
    (tmp_path / "a.shx").unlink()
    layer = read(tmp_path / "a.shp")
    assert layer.report.restored_shx and len(layer.polygons) == 2
    assert any(".shx" in line for line in layer.report.lines())
    assert not (tmp_path / "a.shx").exists()  # the input is left as it was
    assert pyogrio.get_gdal_config_option("SHAPE_RESTORE_SHX") is None


def test_layers(tmp_path):
    path = tmp_path / "a.gpkg"
    boxes(["forest"]).to_file(path, layer="fields")
    wells = geopandas.GeoDataFrame({"landuse": ["x"]}, geometry=[shapely.Point(X0, Y0)], crs=UTM35)
    wells.to_file(path, layer="wells")
    assert read(path).report.layer == "fields"  # the only polygon layer
    message = error(path, layer="landuse")
    assert "land_use.layer" in message and "'landuse'" in message and "fields, wells" in message
    boxes(["farmland"]).to_file(path, layer="crops")
    message = error(path)
    assert "land_use.layer" in message and "fields" in message and "crops" in message


def test_unknown_class_field_suggests_nearest(tmp_path):
    boxes(["forest"]).to_file(tmp_path / "a.gpkg")
    message = error(tmp_path / "a.gpkg", class_field="land_use")
    assert "land_use.class_field" in message and "'land_use'" in message
    assert "did you mean 'landuse'?" in message
    message = error(OSM, class_field="landuse,natrual")
    assert "'natrual'" in message and "did you mean 'natural'?" in message


def test_missing_file(tmp_path):
    message = error(tmp_path / "nowhere.gpkg")
    assert "land_use.path" in message and repr(str(tmp_path / "nowhere.gpkg")) in message
    assert "does not exist" in message


@pytest.mark.parametrize("content", [os.urandom(4096), b""])
def test_corrupt_file(tmp_path, content):
    path = tmp_path / "corrupt.gpkg"
    path.write_bytes(content)
    message = error(path)
    assert "land_use.path" in message and repr(str(path)) in message
    assert "cannot be read" in message or "0 bytes" in message


def test_empty_layer(tmp_path):
    geopandas.GeoDataFrame({"landuse": []}, geometry=[], crs=UTM35).to_file(tmp_path / "empty.geojson")
    message = error(tmp_path / "empty.geojson")
    assert "land_use.layer" in message and "'empty'" in message and "no features" in message


# --- rasterising ---------------------------------------------------------------------------------


def test_raster_area_matches_polygon_area(tmp_path):
    centre = shapely.Point(X0 + 1000, Y0 + 1000)
    shapes = {
        "forest": [
            centre.buffer(180.0),
            affinity.rotate(shapely.box(X0 + 1300, Y0 + 200, X0 + 1700, Y0 + 450), 23.0),
        ],
        "farm": [
            affinity.rotate(shapely.box(X0 + 200, Y0 + 1400, X0 + 650, Y0 + 1650), -37.0),
            shapely.Point(X0 + 400, Y0 + 400).buffer(150.0),
        ],
        "built": [shapely.Polygon([(X0 + 1300, Y0 + 1300), (X0 + 1800, Y0 + 1350), (X0 + 1500, Y0 + 1750)])],
    }
    keys = [key for key, geoms in shapes.items() for _ in geoms]
    geoms = [g for group in shapes.values() for g in group]
    gdf = geopandas.GeoDataFrame({"landuse": keys}, geometry=geoms, crs=UTM35)
    grid = Grid.from_extent(UTM35, (X0, Y0, X0 + 2000, Y0 + 2000), 10.0)
    raster = rasterize_land_use(layer_of(gdf), grid, CODES, PRECEDENCE, default_code=0)
    assert raster.dtype == np.uint8 and raster.shape == grid.shape
    for key, geoms in shapes.items():
        cells_area = (raster == CODES[key]).sum() * grid.cell_area_m2
        assert cells_area == pytest.approx(sum(g.area for g in geoms), rel=0.01)


def test_overlaps_follow_precedence_and_holes_stay_open():
    big = shapely.box(X0, Y0, X0 + 100, Y0 + 100).difference(shapely.box(X0 + 40, Y0 + 40, X0 + 60, Y0 + 60))
    small = shapely.box(X0 + 50, Y0, X0 + 100, Y0 + 50)
    gdf = geopandas.GeoDataFrame({"landuse": ["farm", "forest"]}, geometry=[big, small], crs=UTM35)
    grid = Grid(UTM35, X0, Y0 + 100, 10.0, 10, 10)
    forest_first = rasterize_land_use(layer_of(gdf), grid, CODES, ["forest", "farm", "other"], default_code=0)
    assert (forest_first[5:, 5:] == CODES["forest"]).all()
    assert forest_first[4:6, 4:6].tolist() == [[0, 0], [0, CODES["forest"]]]  # the hole, bar where forest covers it
    assert (forest_first == CODES["farm"]).sum() == 100 - 25 - 3  # 3 hole cells outside the small square
    farm_first = rasterize_land_use(layer_of(gdf), grid, CODES, ["farm", "forest", "other"], default_code=0)
    assert (farm_first[5:, 5:] == CODES["farm"]).sum() == 25 - 1  # one hole cell lies in the small square
    assert farm_first[5, 5] == CODES["forest"]


def test_one_cell_grid():
    grid = Grid(UTM35, X0, Y0 + 10, 10.0, 1, 1)
    centre = geopandas.GeoDataFrame({"landuse": ["forest"]}, geometry=[shapely.box(X0 + 4, Y0 + 4, X0 + 6, Y0 + 6)])
    corner = geopandas.GeoDataFrame({"landuse": ["forest"]}, geometry=[shapely.box(X0, Y0, X0 + 4, Y0 + 4)])
    assert rasterize_land_use(layer_of(centre), grid, CODES, PRECEDENCE, default_code=0).tolist() == [[2]]
    assert rasterize_land_use(layer_of(corner), grid, CODES, PRECEDENCE, default_code=7).tolist() == [[7]]


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 19), st.integers(0, 19), st.integers(1, 20), st.integers(1, 20))
def test_cell_aligned_box_burns_exactly_its_cells(col, row, width, height):
    grid = Grid(UTM35, X0, Y0 + 200, 10.0, 20, 20)
    x, y = X0 + 10 * col, Y0 + 200 - 10 * row
    gdf = geopandas.GeoDataFrame({"landuse": ["farm"]}, geometry=[shapely.box(x, y - 10 * height, x + 10 * width, y)])
    raster = rasterize_land_use(layer_of(gdf), grid, CODES, ["farm"], default_code=0)
    expected = np.zeros(grid.shape, dtype=np.uint8)
    expected[row : row + height, col : col + width] = CODES["farm"]
    assert (raster == expected).all()


def test_rasterize_checks_its_inputs():
    gdf = boxes(["forest"])
    grid = Grid.from_extent(UTM35, (X0, Y0, X0 + 300, Y0 + 300), 10.0)
    with pytest.raises(ValueError, match="without a code"):
        rasterize_land_use(layer_of(gdf), grid, {"other": 0}, ["forest"], default_code=0)
    with pytest.raises(ValueError, match="missing from precedence"):
        rasterize_land_use(layer_of(gdf), grid, CODES, ["farm"], default_code=0)
    other_crs = Grid.from_extent("EPSG:3067", (X0, Y0, X0 + 300, Y0 + 300), 10.0)
    with pytest.raises(ValueError, match="differs from grid CRS"):
        rasterize_land_use(layer_of(gdf), other_crs, CODES, ["forest"], default_code=0)


def test_osm_extract_rasterises():
    layer = read(OSM, class_field="landuse,natural")
    grid = Grid.from_extent(layer.crs, tuple(layer.polygons.total_bounds), 10.0)
    raster = rasterize_land_use(layer, grid, CODES, PRECEDENCE, default_code=0)
    assert set(np.unique(raster)) == {0, 1, 2, 3}


def test_single_class_gives_every_polygon_one_class(tmp_path):
    path = tmp_path / "fields.gpkg"
    boxes(["a", "b", None], field="name").to_file(path)
    layer = read(path, class_field=None, single_class="farm")
    assert list(layer.polygons["class_key"]) == ["farm"] * 3 and layer.report.n_default == 0


def test_a_web_mercator_layer_is_reprojected_to_utm_with_a_note(tmp_path):
    path = tmp_path / "mercator.gpkg"
    boxes(["forest", "farmland"]).to_crs("EPSG:3857").to_file(path)
    layer = read(path)
    assert layer.crs == UTM35 and any("stretches distances" in line for line in layer.report.lines())
    assert np.allclose(layer.polygons.area, 300.0 * 300.0, rtol=1e-3)


def test_web_mercator_as_the_study_area_crs_is_refused(tmp_path):
    path = tmp_path / "land.gpkg"
    boxes(["forest"]).to_file(path)
    message = error(path, crs="EPSG:3857")
    assert "study_area.crs" in message and "stretches distances by" in message and UTM35 in message


def test_a_wrong_source_crs_names_the_crss_that_fit(tmp_path):
    path = tmp_path / "lonlat.geojson"
    boxes(["forest"]).to_crs("EPSG:4326").to_file(path)
    message = error(path, source_crs="EPSG:32635")
    assert "they fit EPSG:4326 (around 26.9" in message and "N)" in message


def test_a_named_pipe_is_refused_without_blocking(tmp_path):
    path = tmp_path / "pipe.gpkg"
    os.mkfifo(path)
    assert "not a regular file or a folder" in error(path)
