"""CHA polygons a planner can task: the cells whose probability of contamination reaches the
threshold, grouped when closer than the reference distance, without speckle below the minimum
mapping unit, each with the strikes that contribute to it and its items (mean, P5, P95)."""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import shapely
from rasterio import features

from simulator.inputs.grid import Grid

COLUMNS = ("id", "area_m2", "expected_items", "items_p5", "items_p95", "max_probability", "main_class", "strikes")


def group_labels(mask: np.ndarray, cell_size_m: float, reference_m: float) -> np.ndarray:
    """Label (1 ..) of each ``mask`` cell's group: 8-connected cells, joined when closer than
    ``reference_m`` (a dilation by half of it on each side); 0 outside the mask."""
    from scipy import ndimage  # deferred: slow to import, and most commands never need it
    reach = int(np.floor(reference_m / (2 * cell_size_m) + 1e-9))
    grown = mask
    if reach > 0:
        offsets = np.arange(-reach, reach + 1)
        footprint = offsets[:, None] ** 2 + offsets[None, :] ** 2 <= reach * reach
        grown = ndimage.binary_dilation(mask, structure=footprint)
    labels, _ = ndimage.label(grown, structure=np.ones((3, 3), bool))
    return np.where(mask, labels, 0)


def hazard_polygons(
    grid: Grid, p: np.ndarray, mean_count: np.ndarray, landuse: np.ndarray, class_keys: tuple[str, ...],
    threshold: float, reference_m: float = 0.0, min_area_m2: float = 0.0,
    strikes: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
    items: Callable[[np.ndarray, int], np.ndarray] | None = None,
) -> gpd.GeoDataFrame:
    """One (multi)polygon per group of cells with ``p >= threshold`` (arrays of ``grid.shape``)
    whose area reaches ``min_area_m2``.

    Columns: ``id``, ``area_m2``, ``expected_items`` (mean remnants inside), ``items_p5`` and
    ``items_p95`` (from ``items(zone, n)``: per realization, remnants in each of the ``n`` zones of
    the per-cell ``zone`` map; left empty without it), ``max_probability``, ``main_class`` (the
    land-use class of most cells), ``strikes`` (ids of the strikes whose footprint reaches within
    ``reference_m`` of the polygon; ``strikes`` = (ids, x, y, reach in m)) and ``area_m2_<class>``.
    Cells whose ``landuse`` code is not a class (``len(class_keys)``: outside the study area) are in no polygon.
    """
    ids, n = polygon_ids(grid, p, landuse, len(class_keys), threshold, reference_m, min_area_m2)
    cell_area = grid.cell_area_m2
    columns = [*COLUMNS, *(f"area_m2_{key}" for key in class_keys)]
    if n == 0:
        return gpd.GeoDataFrame(columns=[*columns, "geometry"], geometry="geometry", crs=grid.crs)
    parts: list[list] = [[] for _ in range(n)]
    for geom, value in features.shapes(ids, mask=ids > 0, transform=grid.transform, connectivity=8):
        parts[int(value) - 1].append(shapely.geometry.shape(geom))
    geoms = [shapely.union_all(g) for g in parts]
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
        "items_p5": np.full(n, np.nan),
        "items_p95": np.full(n, np.nan),
        "max_probability": max_p,
        "main_class": [class_keys[j] for j in per_class.argmax(axis=1)],
        "strikes": [""] * n,
    }
    if items is not None:
        per_realization = items(item_zones(ids, n), n + 1)[:, :n]
        data["items_p5"], data["items_p95"] = np.percentile(per_realization, (5, 95), axis=0)
    if strikes is not None:
        data["strikes"] = contributing_strikes(geoms, *strikes, reference_m)
    data |= {f"area_m2_{key}": per_class[:, j] for j, key in enumerate(class_keys)}
    return gpd.GeoDataFrame(data, geometry=geoms, crs=grid.crs)


def polygon_ids(grid: Grid, p: np.ndarray, landuse: np.ndarray, n_classes: int, threshold: float,
                reference_m: float = 0.0, min_area_m2: float = 0.0) -> tuple[np.ndarray, int]:
    """(id per cell, int32 of ``grid.shape``: 1 .. n for the ``n`` polygons of ``hazard_polygons``, 0 for none; n)."""
    mask = (p >= threshold) & (landuse < n_classes)
    labels = group_labels(mask, grid.cell_size_m, reference_m)
    n_groups = int(labels.max())
    area = np.bincount(labels.ravel(), minlength=n_groups + 1)[1:] * grid.cell_area_m2
    kept = np.flatnonzero(area >= min_area_m2) + 1
    renumber = np.zeros(n_groups + 1, np.int32)
    renumber[kept] = np.arange(1, len(kept) + 1)
    return renumber[labels], len(kept)


def item_zones(ids: np.ndarray, n: int) -> np.ndarray:
    """The zone map (int32 per cell, flat) whose items per realization the polygons' bands read: polygon
    ``i`` (id ``i + 1``) is zone ``i``, the rest of the grid zone ``n``."""
    return np.where(ids > 0, ids - 1, n).astype(np.int32).ravel()


def contributing_strikes(geoms: list, ids: np.ndarray, x: np.ndarray, y: np.ndarray, reach_m: np.ndarray,
                         reference_m: float) -> list[str]:
    """Per polygon, the comma-separated ids of the strikes whose footprint (a disc of ``reach_m``
    about the aim point) comes within ``reference_m`` of it."""
    footprints = shapely.buffer(shapely.points(x, y), reach_m + reference_m)
    tree = shapely.STRtree(footprints)
    poly_index, strike_index = tree.query(geoms, predicate="intersects")
    found: list[list[str]] = [[] for _ in geoms]
    for g, s in zip(poly_index, strike_index):
        found[g].append(str(ids[s]))
    return [",".join(dict.fromkeys(f)) for f in found]  # each id once, in the order found
