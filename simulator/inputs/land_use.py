"""Planners' land-use layers: read any vector file GDAL reads, repair it, project it to metres, rasterise it."""

from __future__ import annotations

import contextlib
import difflib
import glob
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import geopandas
import numpy as np
import pyogrio
import pyogrio.errors
import pyogrio.raw
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError
from rasterio.features import rasterize

from simulator.errors import InputError
from simulator.inputs.crs import (
    MAX_SCALE_ERROR,
    distortion_error,
    fitting_crs,
    in_area_of_use,
    label,
    local_utm_crs,
    lon_lat_bounds,
    scale_error,
    where,
)
from simulator.inputs.grid import Grid
from simulator.inputs.land_use_report import LandUseReport, count

_GDAL_ERRORS = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    pyogrio.errors.FeatureError,
    pyogrio.errors.FieldError,
    pyogrio.errors.GeometryError,
    pyogrio.errors.CRSError,
)
_OSM_SUFFIXES = (".osm", ".pbf")
_POLYGONAL_KIND = ("polygon", "surface", "unknown")  # layer geometry types that may hold polygons
_POLYGON, _MULTIPOLYGON = 3, 6  # shapely type ids


@dataclass(frozen=True)
class LandUseLayer:
    """Land-use polygons (columns ``class_key`` and ``geometry``; only Polygon/MultiPolygon) in ``crs``."""

    polygons: geopandas.GeoDataFrame
    crs: str
    report: LandUseReport


def read_land_use(
    path: Path,
    *,
    layer: str | None,
    class_field: str | None,
    class_map: dict[str, str],
    default_class: str,
    crs: str | None = None,
    source_crs: str | None = None,
    scenario: Path | None = None,
    single_class: str | None = None,
) -> LandUseLayer:
    """Read land-use polygons from ``path`` and give each a class key.

    ``layer`` None picks the only layer, ``multipolygons`` for OpenStreetMap files, or the only
    polygon layer. ``class_field`` is a field name or comma-separated names tried in order (first
    non-null wins). Values (as text) are looked up in ``class_map``; nulls and unmapped values get
    ``default_class``; with ``class_field`` None every polygon gets ``single_class``. Invalid geometries are repaired; null, empty and non-polygonal ones dropped.
    ``source_crs`` overrides or supplies the file's CRS; the result is in ``crs`` if given (projected,
    metres), else the layer's own projected CRS, else (geographic layers) the local UTM zone.
    Raises InputError for any input the user must fix; errors in the values of ``crs`` and
    ``source_crs`` name ``scenario`` (the file they come from) if given, the others ``path``.
    """
    path = Path(path)
    settings = scenario if scenario is not None else path
    target = _parse_crs(crs, settings, "study_area.crs")
    assigned = _parse_crs(source_crs, settings, "land_use.source_crs")
    with _readable(path) as (src, restored_shx):
        layer = _pick_layer(src, path, layer)
        info = _gdal(path, pyogrio.read_info, src, layer=layer)
        if info["features"] == 0:
            raise _no_features(path, layer)
        fields = [] if class_field is None else _class_fields(class_field, [str(f) for f in info["fields"]], path)
        meta, _, wkb, columns = _gdal(path, pyogrio.raw.read, src, layer=layer, columns=fields)
    n_features = len(wkb) if wkb is not None else len(columns[0]) if len(columns) else 0
    if n_features == 0:  # formats that cannot count features cheaply (OSM) report -1 above
        raise _no_features(path, layer)
    geoms, repaired = _polygons(wkb if wkb is not None else np.full(n_features, None, dtype=object))
    keep = ~shapely.is_missing(geoms)
    if not keep.any():
        raise InputError(
            path, "land_use.layer", layer,
            "choose a layer of polygons (for OpenStreetMap files, 'multipolygons')",
            f"has no polygon features ({count(n_features, 'feature')}, all null, empty or not polygons)",
        )
    by_field = dict(zip([str(f) for f in meta["fields"]], columns))
    if class_field is None:
        raw = [single_class] * int(keep.sum())
        class_map = {single_class: single_class}
    else:
        texts = zip(*(map(_text, by_field[f]) for f in fields))
        raw = [next((t for t in row if t is not None), None) for row, k in zip(texts, keep) if k]
    keys = [class_map.get(value, default_class) if value is not None else default_class for value in raw]
    unmapped = Counter(value for value in raw if value is not None and value not in class_map)

    file_crs = meta["crs"]
    if assigned is None and file_crs is None:
        raise InputError(
            path, "land_use.source_crs", None,
            "set land_use.source_crs to the CRS its coordinates are in (e.g. 'EPSG:4326' for lon/lat)",
            "the layer has no CRS",
        )
    src_crs = assigned or CRS.from_user_input(file_crs)
    kept = geoms[keep]
    lon, lat = _check_area_of_use(src_crs, shapely.total_bounds(kept), path, source_crs or file_crs,
                                  [] if target is None else [target.to_string()])
    chosen = _target_crs(target, src_crs, local_utm_crs(lon, lat), settings if target is not None else path)
    distorting = None
    if target is not None and not in_area_of_use(target, lon, lat):
        raise InputError(settings, "study_area.crs", label(target.to_string()),
                         f"use a CRS for where the land use lies, e.g. '{local_utm_crs(lon, lat)}' (the local UTM zone)",
                         f"is meant for {target.area_of_use.name} but the land use lies around {where(lon, lat)};")
    if scale_error(chosen, lon, lat) > MAX_SCALE_ERROR:
        if target is not None:
            raise distortion_error(settings, "study_area.crs", chosen, lon, lat)
        distorting, chosen = chosen.to_string(), CRS.from_user_input(local_utm_crs(lon, lat))
    target = chosen
    polygons = geopandas.GeoDataFrame({"class_key": keys}, geometry=kept, crs=src_crs)
    if not target.equals(src_crs):
        polygons = polygons.to_crs(target)
    report = LandUseReport(
        n_features=n_features,
        n_repaired=int(repaired[keep].sum()),
        n_dropped=int((~keep).sum()),
        n_default=raw.count(None) + sum(unmapped.values()),
        unmapped_values=dict(unmapped),
        source_crs=src_crs.to_string(),
        crs=target.to_string(),
        layer=layer,
        file_crs=CRS.from_user_input(file_crs).to_string() if file_crs else None,
        default_class=default_class,
        restored_shx=restored_shx,
        distorting_crs=distorting,
    )
    return LandUseLayer(polygons=polygons, crs=report.crs, report=report)


UNCOVERED = 255
"""Code of cells no polygon covers, when ``rasterize_land_use`` is given no default code."""


def rasterize_land_use(
    layer: LandUseLayer, grid: Grid, codes: dict[str, int], precedence: list[str], *, default_code: int = UNCOVERED
) -> np.ndarray:
    """Class codes (uint8, shape ``grid.shape``) of the polygon covering each cell centre.

    Where polygons overlap, the class earlier in ``precedence`` (first = highest) wins; within a
    class, the later feature. Cells whose centre no polygon covers get ``default_code`` (the code of
    the default class; default ``UNCOVERED``, so that a caller can tell them). Every class key in the layer must be in ``codes`` and ``precedence``; the layer
    must already be in the grid's CRS.
    """
    if not CRS.from_user_input(layer.crs).equals(CRS.from_user_input(grid.crs)):
        raise ValueError(f"land-use layer CRS {layer.crs} differs from grid CRS {grid.crs}")
    keys = layer.polygons["class_key"].to_numpy()
    present = set(keys)
    if missing := sorted(present - codes.keys()):
        raise ValueError(f"land-use classes without a code: {missing}")
    if missing := sorted(present - set(precedence)):
        raise ValueError(f"land-use classes missing from precedence: {missing}")
    if bad := {k: c for k, c in [*codes.items(), ("default_code", default_code)] if not 0 <= c <= 255}:
        raise ValueError(f"land-use codes must fit in uint8: {bad}")
    out = np.full(grid.shape, default_code, dtype=np.uint8)
    geoms = layer.polygons.geometry.to_numpy()
    xmin, ymin, xmax, ymax = grid.bounds
    b = shapely.bounds(geoms)
    on_grid = (b[:, 0] < xmax) & (b[:, 2] > xmin) & (b[:, 1] < ymax) & (b[:, 3] > ymin)
    rank = {key: i for i, key in enumerate(precedence)}
    order = np.argsort([-rank[k] for k in keys], kind="stable")  # lowest precedence burnt first
    order = order[on_grid[order]]
    if len(order):
        shapes = ((geoms[i], codes[keys[i]]) for i in order)
        rasterize(shapes, out=out, transform=grid.transform, all_touched=False)
    return out


@contextlib.contextmanager
def _readable(path: Path) -> Iterator[tuple[Path, bool]]:
    """The path to read, and whether a Shapefile's missing .shx was rebuilt (in a temporary copy)."""
    try:
        exists = path.exists()
    except OSError as error:  # e.g. a name too long for the file system
        raise InputError(path, "land_use.path", str(path), "check land_use.path",
                         f"cannot be read ({error.strerror or error})") from None
    if not exists:
        raise InputError(path, "land_use.path", str(path), "check land_use.path", "does not exist")
    if not (path.is_file() or path.is_dir()):  # a named pipe or a device would block or never end
        raise InputError(path, "land_use.path", str(path), "give a vector file or a dataset folder",
                         "is not a regular file or a folder")
    if path.is_file() and path.stat().st_size == 0:
        raise InputError(path, "land_use.path", str(path), "export the layer again", "is empty (0 bytes)")
    if path.suffix.lower() != ".shp" or any(path.with_suffix(s).exists() for s in (".shx", ".SHX")):
        yield path, False
        return
    # GDAL rebuilds a missing .shx beside the .shp; do that in a copy so the input stays untouched.
    with tempfile.TemporaryDirectory(prefix="remnant-shx-") as tmp:
        for sibling in path.parent.glob(glob.escape(path.stem) + ".*"):
            if sibling.is_file():
                shutil.copy(sibling, tmp)
        before = pyogrio.get_gdal_config_option("SHAPE_RESTORE_SHX")
        pyogrio.set_gdal_config_options({"SHAPE_RESTORE_SHX": True})
        try:
            yield Path(tmp) / path.name, True
        finally:
            pyogrio.set_gdal_config_options({"SHAPE_RESTORE_SHX": before})


def _gdal(path: Path, call, *args, **kwargs):
    """``call(*args, **kwargs)``, GDAL failures told as an InputError on ``path``."""
    try:
        return call(*args, **kwargs)
    except _GDAL_ERRORS as error:
        detail = " ".join(str(error).split()).replace(f"'{args[0]}'", "file").replace(str(args[0]), "file")
        raise InputError(
            path, "land_use.path", str(path),
            "give a complete vector file GDAL reads (GeoPackage, GeoJSON, Shapefile, FlatGeobuf, OSM PBF)",
            f"cannot be read (GDAL: {detail.split(';')[0][:160]})",
        ) from error


def _pick_layer(src: Path, path: Path, layer: str | None) -> str:
    listed = _gdal(path, pyogrio.list_layers, src)
    names = [str(name) for name in listed[:, 0]]
    if layer is None:
        polygonal = [str(n) for n, kind in listed if kind and any(k in kind.lower() for k in _POLYGONAL_KIND)]
        if len(names) == 1:
            layer = names[0]
        elif path.suffix.lower() in _OSM_SUFFIXES:
            layer = "multipolygons"
        elif len(polygonal) == 1:
            layer = polygonal[0]
        else:
            raise InputError(
                path, "land_use.layer", None, f"set land_use.layer to one of: {_listing(names)}",
                f"the file has {len(names)} layers, so which to read must be named",
            )
    if layer not in names:
        raise InputError(path, "land_use.layer", layer, f"use one of: {_listing(names)}", "is not a layer of the file")
    return layer


def _no_features(path: Path, layer: str) -> InputError:
    return InputError(path, "land_use.layer", layer, "choose a layer of land-use polygons", "has no features")


def _class_fields(class_field: str, fields: list[str], path: Path) -> list[str]:
    wanted = [name.strip() for name in class_field.split(",") if name.strip()]
    listing = f"fields in the layer: {_listing(fields)}"
    if not wanted:
        raise InputError(path, "land_use.class_field", class_field, f"name one; {listing}", "names no field")
    lower = {f.lower(): f for f in fields}
    for name in wanted:
        if name not in fields:
            close = difflib.get_close_matches(name.lower(), list(lower), n=1)
            hint = f"did you mean '{lower[close[0]]}'? " if close else ""
            raise InputError(path, "land_use.class_field", name, hint + listing, "is not a field of the layer")
    return wanted


def _polygons(wkb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Polygonal geometries parsed from WKB (None where dropped), and which were repaired."""
    geoms = shapely.from_wkb(wkb, on_invalid="ignore")
    unparsed = shapely.is_missing(geoms) & np.array([w is not None for w in wkb], dtype=bool)
    repaired = np.zeros(len(geoms), dtype=bool)
    if unparsed.any():  # e.g. unclosed rings; rings of 2 points stay unreadable
        geoms[unparsed] = shapely.from_wkb(wkb[unparsed], on_invalid="fix")
        repaired |= unparsed
    geoms = shapely.force_2d(geoms)
    invalid = ~shapely.is_missing(geoms) & ~shapely.is_valid(geoms)
    geoms[invalid] = shapely.make_valid(geoms[invalid])
    repaired |= invalid
    types = shapely.get_type_id(geoms)
    other = ~np.isin(types, (_POLYGON, _MULTIPOLYGON, -1))
    for i in np.flatnonzero(other):  # keep the polygonal parts of collections
        parts = shapely.get_parts(shapely.get_parts(geoms[i]))
        parts = parts[shapely.get_type_id(parts) == _POLYGON]
        geoms[i] = shapely.union_all(parts) if len(parts) else None
    repaired |= other
    geoms[shapely.is_empty(geoms)] = None
    return geoms, repaired


def _check_area_of_use(crs: CRS, bounds: np.ndarray, path: Path, value: str, candidates: list[str] = (),
                       field: str = "land_use.source_crs", what: str = "the layer's") -> tuple[float, float]:
    """Longitude and latitude (degrees) of the centre of ``bounds``; InputError if they do not fit ``crs``.

    The error names the CRSs among EPSG:4326, EPSG:3857 and ``candidates`` that the bounds do fit.
    """
    ll = lon_lat_bounds(crs, bounds)
    if ll is None:
        box = ", ".join(f"{v:.6g}" for v in bounds)
        fits = fitting_crs(bounds, candidates)
        hint = f"they fit {'; '.join(fits)}" if fits else "they fit neither EPSG:4326 (lon/lat) nor EPSG:3857"
        raise InputError(
            path, field, label(value), f"set {field} to the CRS the coordinates are in: {hint}",
            f"is probably wrong: {what} bounds ({box}) lie outside its area of use;",
        )
    return (ll[0] + ll[2]) / 2, (ll[1] + ll[3]) / 2


def _target_crs(target: CRS | None, src_crs: CRS, utm: str, path: Path) -> CRS:
    """The CRS to return polygons in: ``target``, else ``src_crs`` if projected, else ``utm``; in metres."""
    chosen = target or (CRS.from_user_input(utm) if src_crs.is_geographic else src_crs)
    if not _in_metres(chosen):
        problem = "is not a projected CRS in metres" if target else "(the layer's CRS, kept) is not in metres"
        raise InputError(
            path, "study_area.crs", label(chosen.to_string()),
            f"cell sizes are in metres: set study_area.crs to a projected CRS in metres, e.g. '{utm}' (local UTM)",
            problem,
        )
    return chosen


def _parse_crs(value: str | None, path: Path, field: str) -> CRS | None:
    if value is None:
        return None
    try:
        return CRS.from_user_input(value)
    except CRSError as error:
        raise InputError(path, field, value, "give a CRS like 'EPSG:32635'", "is not a CRS pyproj knows") from error


def _in_metres(crs: CRS) -> bool:
    return crs.is_projected and all(axis.unit_name in ("metre", "meter") for axis in crs.axis_info)


def _text(value: object) -> str | None:
    """A field value as class-map text: None for nulls and blanks; whole floats without ".0"."""
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else str(int(value)) if float(value).is_integer() else str(value)
    if value is None:
        return None
    return str(value).strip() or None


def _listing(names: list[str], limit: int = 30) -> str:
    return ", ".join(names[:limit]) + (", ..." if len(names) > limit else "")
