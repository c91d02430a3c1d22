"""Write the small land-use files the bad-scenario corpus reads (run once; the outputs are committed).

    .venv/bin/python tests/data/bad/make_data.py

Every file is a variation of the tiny scenario's 1 x 1 km district in EPSG:32634 (tests/conftest.py).
Also writes ../not_utf8.toml, the one scenario that is not text. data/bad_catalog.toml is written by hand.
"""

from __future__ import annotations

import json
import random
import warnings
from pathlib import Path

import geopandas as gpd
from shapely.geometry import box

HERE = Path(__file__).resolve().parent / "data"

BOXES = [
    ("farmland", (500000, 4700000, 500500, 4701000)),
    ("wood", (500500, 4700000, 501000, 4701000)),
    ("residential", (500200, 4700500, 500400, 4700700)),
]


def feature_collection(features: list[dict], crs: str | None) -> dict:
    doc: dict = {"type": "FeatureCollection"}
    if crs is not None:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    doc["features"] = features
    return doc


def box_features() -> list[dict]:
    features = []
    for value, (x0, y0, x1, y1) in BOXES:
        ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
        geometry = {"type": "Polygon", "coordinates": [ring]}
        features.append({"type": "Feature", "properties": {"class": value}, "geometry": geometry})
    return features


def write_json(name: str, doc: dict) -> None:
    (HERE / name).write_text(json.dumps(doc, indent=1) + "\n")


def main() -> None:
    HERE.mkdir(exist_ok=True)
    utm = "urn:ogc:def:crs:EPSG::32634"
    # the good layer, as conftest.write_tiny writes it
    write_json("land_use.geojson", feature_collection(box_features(), utm))
    # a layer with no features at all
    write_json("no_features.geojson", feature_collection([], utm))
    # UTM metres with no crs member: GeoJSON then means WGS 84 lon/lat, so the label is wrong
    write_json("mislabelled.geojson", feature_collection(box_features(), None))
    # points only: no polygon to take a class from
    points = [{"type": "Feature", "properties": {"class": "farmland"},
               "geometry": {"type": "Point", "coordinates": [500100.0, 4700100.0]}}]
    write_json("points.geojson", feature_collection(points, utm))
    # 0 bytes, and random bytes under a GeoPackage name
    (HERE / "empty.geojson").write_bytes(b"")
    (HERE / "corrupt.gpkg").write_bytes(random.Random(20240302).randbytes(4096))
    # a Shapefile without .prj: a layer with no CRS
    layer = gpd.GeoDataFrame({"class": [v for v, _ in BOXES]}, geometry=[box(*b) for _, b in BOXES], crs=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "'crs' was not provided": that is the point
        layer.to_file(HERE / "no_crs.shp", driver="ESRI Shapefile")
    # a scenario file that is not UTF-8 (the corpus's only binary scenario)
    (HERE.parent / "not_utf8.toml").write_bytes(b"# expect: cannot be read | UTF-8\nname = \"tiny\xff\xfe\"\n")


if __name__ == "__main__":
    main()
