"""CHA-like hazard polygons: connected cells whose probability of a remnant reaches the threshold."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from rasterio import features

from simulator.inputs.grid import Grid


def hazard_polygons(
    grid: Grid, p: np.ndarray, mean_count: np.ndarray, landuse: np.ndarray, class_keys: tuple[str, ...],
    threshold: float, fade_out_m: float = 0.0,
) -> gpd.GeoDataFrame:
    """Polygons of 4-connected cells with ``p >= threshold`` (arrays of ``grid.shape``), grown by
    ``fade_out_m`` metres (overlapping grown polygons merged, clipped to the grid).

    Columns: ``id``, ``area_m2``, ``expected_items`` (mean remnants inside), ``max_probability``,
    ``main_class`` (the land-use class of most cells), and ``area_m2_<class>`` per class. Cell
    statistics count the cells whose centre lies inside a polygon.
    """
    mask = p >= threshold
    shapes = list(features.shapes(mask.astype(np.uint8), mask=mask, transform=grid.transform, connectivity=4))
    geoms = [shapely.geometry.shape(geom) for geom, _ in shapes]
    if geoms and fade_out_m > 0:
        grown = shapely.intersection(shapely.union_all(shapely.buffer(geoms, fade_out_m)), shapely.box(*grid.bounds))
        geoms = list(shapely.get_parts(grown))
    columns = ["id", "area_m2", "expected_items", "max_probability", "main_class"]
    columns += [f"area_m2_{key}" for key in class_keys]
    if not geoms:
        return gpd.GeoDataFrame(columns=[*columns, "geometry"], geometry="geometry", crs=grid.crs)
    ids = features.rasterize(
        ((g, i + 1) for i, g in enumerate(geoms)), out_shape=grid.shape, transform=grid.transform, dtype=np.int32
    )
    cell_area = grid.cell_area_m2
    n = len(geoms)
    inside = ids > 0
    label = ids[inside] - 1
    per_class = np.zeros((n, len(class_keys)))
    np.add.at(per_class, (label, landuse[inside].astype(np.int64)), cell_area)
    max_p = np.zeros(n)
    np.maximum.at(max_p, label, p[inside])
    data = {
        "id": np.arange(1, n + 1),
        "area_m2": np.bincount(label, minlength=n) * cell_area,
        "expected_items": np.bincount(label, weights=mean_count[inside], minlength=n),
        "max_probability": max_p,
        "main_class": [class_keys[j] for j in per_class.argmax(axis=1)],
    }
    data |= {f"area_m2_{key}": per_class[:, j] for j, key in enumerate(class_keys)}
    return gpd.GeoDataFrame(data, geometry=geoms, crs=grid.crs)
