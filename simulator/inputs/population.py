"""People per grid cell from a population raster (people per pixel) or a vector layer (a people
field per polygon or point), their totals conserved: a raster is resampled by summing the
overlapped share of each pixel (GDAL's ``sum``); a polygon's people are shared equally among the
cells whose centre it covers (or all go to the cell of its representative point when it covers no
centre); a point's people go to the cell it lies in. What lies off the grid is not counted."""

from __future__ import annotations

import difflib
from pathlib import Path

import geopandas
import numpy as np
import pandas as pd
import pyogrio.errors
import rasterio
import rasterio.errors
import shapely
from pyproj.exceptions import CRSError
from rasterio.features import rasterize
from rasterio.warp import Resampling, reproject, transform_bounds
from rasterio.windows import Window, from_bounds

from simulator.config.risk import Population
from simulator.errors import InputError
from simulator.inputs.grid import Grid

FIELD = "risk.population"
_POINT, _MULTIPOINT, _POLYGON, _MULTIPOLYGON = 0, 4, 3, 6  # shapely type ids
_READ_ERRORS = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError,
                pyogrio.errors.GeometryError, pyogrio.errors.FeatureError, ValueError)


def read_population(spec: Population, grid: Grid) -> np.ndarray:
    """People per cell (float64, ``grid.shape``) from ``spec``; InputError for anything the user must fix."""
    path = Path(spec.path)
    _check_file(path)
    people = _from_raster(path, grid) if spec.field is None else _from_vector(path, spec, grid)
    if not people.sum() > 0:
        raise InputError(path, f"{FIELD}.path", str(path), "give people for the study area (check the file and its CRS)",
                         problem=f"puts nobody on the study area's grid {_box(grid.bounds)};")
    return people


def _check_file(path: Path) -> None:
    field, value = f"{FIELD}.path", str(path)
    try:
        exists = path.exists()
    except OSError as error:
        raise InputError(path, field, value, f"check {field}", f"cannot be read ({error.strerror or error})") from None
    if not exists:
        raise InputError(path, field, value, f"check {field}", "does not exist")
    if not (path.is_file() or path.is_dir()):
        raise InputError(path, field, value, "give a raster or vector file", "is not a regular file or a folder")
    if path.is_file() and path.stat().st_size == 0:
        raise InputError(path, field, value, "export the population data again", "is empty (0 bytes)")


def _from_raster(path: Path, grid: Grid) -> np.ndarray:
    """People per cell from a raster of people per pixel (band 1; its nodata pixels hold nobody)."""
    field = f"{FIELD}.path"
    try:
        src = rasterio.open(path)
    except rasterio.errors.RasterioIOError as error:
        raise InputError(path, field, str(path),
                         f"give a raster GDAL reads, or for a vector layer of people set {FIELD}.field",
                         f"cannot be read as a raster (GDAL: {' '.join(str(error).split())[:120]})") from None
    with src:
        if src.crs is None:
            raise InputError(path, field, str(path), "give the raster its CRS (e.g. gdal_edit.py -a_srs EPSG:4326)",
                             "has no CRS")
        try:
            bounds = transform_bounds(grid.crs, src.crs, *grid.bounds, densify_pts=21)
        except (CRSError, rasterio.errors.CRSError, ValueError) as error:
            raise InputError(path, field, str(path), "give a raster in a CRS that covers the study area",
                             f"cannot be put in the study area's CRS ({error})") from None
        exact = from_bounds(*bounds, transform=src.transform)
        col, row = int(np.floor(exact.col_off)) - 1, int(np.floor(exact.row_off)) - 1  # a pixel of margin
        window = Window(col, row, int(np.ceil(exact.col_off + exact.width)) + 1 - col,
                        int(np.ceil(exact.row_off + exact.height)) + 1 - row)
        window = window.intersection(Window(0, 0, src.width, src.height)) if _overlaps(window, src) else None
        if window is None:
            raise InputError(path, field, str(path), "give a raster that covers the study area (check its CRS)",
                             problem=f"does not reach the study area {_box(grid.bounds)};")
        band = src.read(1, window=window, masked=True)
        values = band.astype(np.float64).filled(np.nan)
        bad = ~np.ma.getmaskarray(band) & ~(np.isfinite(values) & (values >= 0))
        if bad.any():
            row, col = (int(v) for v in np.argwhere(bad)[0])
            raise InputError(path, field, str(path), "give people per pixel as numbers >= 0 (or mark gaps as nodata)",
                             problem=f"holds {int(bad.sum())} pixels that are negative or not numbers (e.g. "
                             f"{float(band.data[row, col])!r} at row {row + int(window.row_off)}, "
                             f"column {col + int(window.col_off)});")
        out = np.full(grid.shape, np.nan)
        reproject(values, out, src_transform=src.window_transform(window), src_crs=src.crs, src_nodata=np.nan,
                  dst_transform=grid.transform, dst_crs=grid.crs, dst_nodata=np.nan, resampling=Resampling.sum)
    return np.nan_to_num(out, nan=0.0)


def _overlaps(window: Window, src) -> bool:
    return (window.col_off < src.width and window.row_off < src.height
            and window.col_off + window.width > 0 and window.row_off + window.height > 0)


def _from_vector(path: Path, spec: Population, grid: Grid) -> np.ndarray:
    """People per cell from polygons or points with a people field."""
    try:
        layer = geopandas.read_file(path, layer=spec.layer, engine="pyogrio")
    except _READ_ERRORS as error:
        raise InputError(path, f"{FIELD}.path", str(path), "give a vector file GDAL reads (GeoPackage, GeoJSON, ...)",
                         f"cannot be read ({' '.join(str(error).split())[:120]})") from None
    names = [str(c) for c in layer.columns if c != layer.geometry.name]
    if spec.field not in names:
        close = difflib.get_close_matches(spec.field, names, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise InputError(path, f"{FIELD}.field", spec.field, f"{hint}fields in the layer: {', '.join(names[:30])}",
                         "is not a field of the layer")
    raw = layer[spec.field]
    people = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~(np.isfinite(people) & (people >= 0))
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(path, f"{FIELD}.field", spec.field, "give each feature's people as a number >= 0",
                         problem=f"holds {int(bad.sum())} values that are missing, negative or not numbers (e.g. "
                         f"{raw.iloc[i]!r} in feature {i});")
    if layer.crs is None:
        raise InputError(path, f"{FIELD}.path", str(path), "give the layer its CRS", "has no CRS")
    geoms = layer.to_crs(grid.crs).geometry.to_numpy()
    kind = shapely.get_type_id(geoms)
    other = ~np.isin(kind, (_POINT, _MULTIPOINT, _POLYGON, _MULTIPOLYGON))
    if other.any():
        i = int(np.argmax(other))
        what = geoms[i].geom_type if geoms[i] is not None else "null geometry"
        raise InputError(path, f"{FIELD}.path", str(path), "give polygons or points, each with its people",
                         problem=f"holds {int(other.sum())} features that are neither polygons nor points "
                         f"(e.g. {what} in feature {i});")
    out = np.zeros(grid.nx * grid.ny)
    polygonal = np.flatnonzero(np.isin(kind, (_POLYGON, _MULTIPOLYGON)))
    alone = np.flatnonzero(np.isin(kind, (_POINT, _MULTIPOINT)))
    if polygonal.size:
        ids = rasterize(((geoms[i], j + 1) for j, i in enumerate(polygonal)), out_shape=grid.shape,
                        transform=grid.transform, fill=0, dtype="int32").ravel()
        cells = np.bincount(ids, minlength=polygonal.size + 1)
        share = np.append(0.0, people[polygonal] / np.maximum(cells[1:], 1))
        out += share[ids]
        alone = np.concatenate([alone, polygonal[cells[1:] == 0]])  # too small to cover a cell centre
    for i in alone:
        points = shapely.get_parts(geoms[i]) if kind[i] == _MULTIPOINT else [
            geoms[i] if kind[i] == _POINT else shapely.point_on_surface(geoms[i])]
        for point in points:
            _add_at(out, grid, point.x, point.y, people[i] / len(points))
    return out.reshape(grid.shape)


def _add_at(out: np.ndarray, grid: Grid, x: float, y: float, people: float) -> None:
    """Add ``people`` to the cell holding (x, y), if it is on the grid."""
    col, row = np.floor((x - grid.x0) / grid.cell_size_m), np.floor((grid.y0 - y) / grid.cell_size_m)
    if 0 <= col < grid.nx and 0 <= row < grid.ny:
        out[int(row) * grid.nx + int(col)] += people


def _box(bounds) -> str:
    return "(" + ", ".join(f"{v:.0f}" for v in bounds) + ")"
