"""What a planner's vector file holds: its layers, their CRS and extent, fields, and a field's values.

Used by ``remnant inspect`` and ``remnant init`` before any scenario exists. Values and their
areas are read with the land-use reader itself, so they are the values a scenario's
``class_field`` sees (repaired geometries, non-polygons dropped, whole numbers without ".0").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyogrio
import pyogrio.errors
from pyproj import CRS, Transformer

from simulator.errors import InputError
from simulator.inputs.land_use import _readable, local_utm_crs, read_land_use

M2_PER_HA = 10_000.0
NO_VALUE = "\x00no value"
"""Class key the reader gives features whose field is null or blank (not a value any file holds)."""
AREA_OF_USE_MARGIN_DEG = 1.0
"""A projected layer may reach this far (degrees) outside its CRS's area of use and still fit it."""


@dataclass(frozen=True)
class FieldInfo:
    """One attribute field: name and GDAL type (String, Integer64, Real, Date...)."""

    name: str
    type: str


@dataclass(frozen=True)
class LayerInfo:
    """One layer of a vector file, as GDAL reports it.

    ``coordinates`` says what the coordinate values look like: "degrees" (all within +-180 and
    +-90), "projected" (larger) or "none" (no bounds); ``fits`` whether they fit the declared
    CRS (None: no CRS declared), explained by ``note``. ``extent_lonlat`` is [west, south,
    east, north] in degrees, when the coordinates can be placed.
    """

    name: str
    geometry_type: str
    features: int
    crs: str | None
    crs_name: str | None
    crs_units: str | None
    bounds: tuple[float, float, float, float] | None
    coordinates: str
    fits: bool | None
    note: str
    extent_lonlat: tuple[float, float, float, float] | None
    fields: tuple[FieldInfo, ...]


@dataclass(frozen=True)
class ValueArea:
    """One distinct value of a field (None: null or blank): its polygon features and their total area (m2)."""

    value: str | None
    features: int
    area_m2: float

    @property
    def area_ha(self) -> float:
        return self.area_m2 / M2_PER_HA


@dataclass(frozen=True)
class FieldValues:
    """Every distinct value of ``field`` in polygon ``layer``, largest area first; areas in ``crs``
    (the local UTM zone), overlapping features each counted in full."""

    layer: str
    field: str
    crs: str
    values: tuple[ValueArea, ...]
    n_read: int
    n_dropped: int
    bounds_m: tuple[float, float, float, float]  # of the polygons, in ``crs``
    extent_lonlat: tuple[float, float, float, float]

    def total_area_m2(self) -> float:
        return float(sum(v.area_m2 for v in self.values))


def describe_layers(path: Path) -> list[LayerInfo]:
    """Every layer of the vector file at ``path`` (InputError if GDAL cannot read it)."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "FILE", str(path), "check the path", problem="does not exist;")
    try:
        with _readable(path) as (src, _):  # the reader's own opening: a Shapefile's missing .shx rebuilt in a copy
            listed = pyogrio.list_layers(src)
            infos = [pyogrio.read_info(src, layer=str(name), force_feature_count=True, force_total_bounds=True)
                     for name in listed[:, 0]]
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as error:
        detail = " ".join(str(error).split()).replace(f"'{path}'", "file").replace(str(path), "file")
        detail = detail.split(";")[0].rstrip(".")[:160]
        raise InputError(path, "FILE", str(path),
                         "give a vector file GDAL reads (GeoPackage, GeoJSON, Shapefile, FlatGeobuf, OSM PBF)",
                         problem=f"cannot be read (GDAL: {detail});") from None
    return [_layer(str(name), str(kind or "Unknown"), info) for (name, kind), info in zip(listed, infos)]


def field_values(path: Path, field: str, layer: str | None = None, source_crs: str | None = None) -> FieldValues:
    """Every distinct value of ``field`` ("a,b": the first non-null of a and b, as ``class_field``)
    in the polygons of ``layer`` (default: the layer the land-use reader picks), with feature
    counts and areas in the layer's local UTM zone. ``source_crs`` as ``land_use.source_crs``."""
    first = read_land_use(Path(path), layer=layer, class_field=field, class_map={}, default_class=NO_VALUE,
                          source_crs=source_crs)
    values = first.report.unmapped_values
    west, south, east, north = (float(b) for b in first.polygons.to_crs("EPSG:4326").total_bounds)
    utm = local_utm_crs((west + east) / 2, (south + north) / 2)
    second = read_land_use(Path(path), layer=first.report.layer, class_field=field,
                           class_map={v: v for v in values}, default_class=NO_VALUE, crs=utm,
                           source_crs=source_crs)
    polygons = second.polygons.assign(area=second.polygons.area)
    grouped = polygons.groupby("class_key")["area"].agg(["size", "sum"])
    out = [ValueArea(None if key == NO_VALUE else str(key), int(row["size"]), float(row["sum"]))
           for key, row in grouped.iterrows()]
    out.sort(key=lambda v: (-v.area_m2, v.value is None, v.value or ""))
    report = second.report
    return FieldValues(str(report.layer), field, utm, tuple(out), report.n_features, report.n_dropped,
                       tuple(float(b) for b in polygons.total_bounds), (west, south, east, north))


def _layer(name: str, kind: str, info: dict) -> LayerInfo:
    declared = info.get("crs")
    crs = CRS.from_user_input(declared) if declared else None
    bounds = info.get("total_bounds")
    bounds = tuple(float(b) for b in bounds) if bounds is not None and np.all(np.isfinite(bounds)) else None
    coordinates = "none" if bounds is None else "degrees" if _degree_like(bounds) else "projected"
    fits, note, extent = _fit(crs, bounds, coordinates)
    types = info.get("ogr_types") or [str(t) for t in info["dtypes"]]
    fields = tuple(FieldInfo(str(f), str(t).removeprefix("OFT")) for f, t in zip(info["fields"], types))
    units = None
    if crs is not None:
        units = "degrees" if crs.is_geographic else crs_units_label(crs)
    return LayerInfo(
        name=name, geometry_type=kind, features=int(info["features"]), crs=crs.to_string() if crs else None,
        crs_name=crs.name if crs else None, crs_units=units, bounds=bounds, coordinates=coordinates, fits=fits,
        note=note, extent_lonlat=extent, fields=fields,
    )


def _degree_like(bounds) -> bool:
    return -180.0 <= bounds[0] <= bounds[2] <= 180.0 and -90.0 <= bounds[1] <= bounds[3] <= 90.0


def _fit(crs: CRS | None, bounds, coordinates: str) -> tuple[bool | None, str, tuple | None]:
    """Whether the coordinates fit ``crs``, a sentence saying so, and the extent in lon/lat."""
    if bounds is None:
        return None, "the layer has no extent (no geometries)", None
    if crs is None:
        if coordinates == "degrees":
            return None, ("they look like degrees, but no CRS is declared: "
                          "set land_use.source_crs = 'EPSG:4326' if they are lon/lat"), tuple(bounds)
        return None, ("they look projected (not degrees), but no CRS is declared: set land_use.source_crs "
                      "to the CRS they are in"), None
    lon_lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    if crs.is_geographic:
        if coordinates != "degrees":
            return False, ("they go beyond +-180/+-90, so they are not the degrees the CRS says; "
                           "set land_use.source_crs to the CRS they are in"), None
        return True, "degrees, as the CRS says", tuple(lon_lat.transform_bounds(*bounds))
    extent = tuple(float(v) for v in lon_lat.transform_bounds(*bounds, densify_pts=21))
    inside = bool(np.isfinite(extent).all())
    if inside and crs.area_of_use is not None:
        w, s, e, n = crs.area_of_use.bounds
        m = AREA_OF_USE_MARGIN_DEG
        inside = extent[0] <= e + m and extent[2] >= w - m and extent[1] <= n + m and extent[3] >= s - m
    if not inside:
        hint = " (they look like degrees: EPSG:4326?)" if coordinates == "degrees" else ""
        return False, (f"they lie outside the area where {crs.name} is used{hint}; set "
                       "land_use.source_crs to the CRS they are really in"), None
    return True, f"{crs_units_label(crs)} inside the area where {crs.name} is used, as the CRS says", extent


def crs_units_label(crs: CRS) -> str:
    """The units of a projected CRS's axes, e.g. "metres"."""
    units = {a.unit_name for a in crs.axis_info}
    return "metres" if units <= {"metre", "meter"} else ", ".join(sorted(units))
