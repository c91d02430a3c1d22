"""Evidence files read and validated: finds, searched and cleared land, strike reports.

Point files (finds, strike reports) are CSV with ``x``/``y`` (metres in the file's CRS) or
``lon``/``lat`` (WGS 84), or vector files of points; area files (searched, cleared) are
vector files of polygons or lines (a line is a track, searched ``swath_m`` wide). Column
names ignore case and may be renamed by the file's ``columns`` mapping. Every row is checked
and every problem of a file is told at once, each naming its line (CSV: the header is line 1)
or feature (vector files: the first is feature 1) and column: one InputError, exit 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from simulator.config.evidence import Cleared, Evidence, EvidenceFile, Finds, Searched, StrikeReports
from simulator.errors import InputError

MAX_REPORTED = 20
"""Problems of one file told in full; the rest are counted."""
MAX_ITEMS_PER_ROW = 1_000_000
"""Largest item count one row may give."""


@dataclass(frozen=True)
class Points:
    """Point evidence in the grid CRS: position (m), date (NaT: none given), count, position error
    (m, one standard deviation), the file's detection probability and each row's profile (or None)."""

    x: np.ndarray
    y: np.ndarray
    date: np.ndarray
    count: np.ndarray
    error_m: np.ndarray
    detection: np.ndarray
    profile: np.ndarray

    def __len__(self) -> int:
        return len(self.x)


@dataclass(frozen=True)
class Areas:
    """Searched or cleared land in the grid CRS: polygons (tracks already buffered), date, POD, items found."""

    geometry: np.ndarray
    date: np.ndarray
    pod: np.ndarray
    found: np.ndarray

    def __len__(self) -> int:
        return len(self.geometry)


@dataclass(frozen=True)
class EvidenceData:
    """All evidence of a scenario, validated."""

    finds: Points
    searched: Areas
    cleared: Areas
    reports: Points


class _Problems:
    """Problems of one file's rows, told together."""

    def __init__(self, path: Path, vector: bool):
        self.path, self.vector, self.found = path, vector, []

    def add(self, i: int, column: str, value, fix: str, problem: str) -> None:
        where = f"feature {i + 1}" if self.vector else f"line {i + 2}"
        self.found.append((i, InputError(self.path, f"{where}, column {column}", value, fix, problem)))

    def raise_if_any(self) -> None:
        if not self.found:
            return
        ordered = [e for _, e in sorted(self.found, key=lambda p: p[0])]
        first, rest = ordered[0], ordered[1:]
        more = [InputError(None, e.field, e.value, e.fix, e.problem).line() for e in rest[: MAX_REPORTED - 1]]
        if len(rest) > len(more):
            more.append(f"and {len(rest) - len(more)} more problems")
        raise InputError(first.file, first.field, first.value, first.fix + (f" ({len(rest)} more problems below)"
                         if rest else ""), first.problem, more=tuple(more))


def read_evidence(evidence: Evidence, *, grid_crs: str, profiles: set[str]) -> EvidenceData:
    """Every file of ``evidence`` read and checked, positions in ``grid_crs``."""
    finds = [_points(spec, f"evidence.finds[{i}]", grid_crs, profiles) for i, spec in enumerate(evidence.finds)]
    reports = [_points(spec, f"evidence.strike_reports[{i}]", grid_crs, profiles)
               for i, spec in enumerate(evidence.strike_reports)]
    searched = [_areas(spec, f"evidence.searched[{i}]", grid_crs) for i, spec in enumerate(evidence.searched)]
    cleared = [_areas(spec, f"evidence.cleared[{i}]", grid_crs) for i, spec in enumerate(evidence.cleared)]
    return EvidenceData(_concat(Points, finds), _concat(Areas, searched), _concat(Areas, cleared),
                        _concat(Points, reports))


def _concat(kind, parts):
    if not parts:
        fields = kind.__dataclass_fields__
        return kind(*(np.zeros(0, "datetime64[D]" if n == "date" else object if n in ("geometry", "profile") else float)
                      for n in fields))
    return kind(*(np.concatenate([getattr(p, n) for p in parts]) for n in kind.__dataclass_fields__))


def _read(spec: EvidenceFile, field: str) -> tuple[pd.DataFrame, gpd.GeoSeries | None, str | None, bool]:
    """The file's rows with columns renamed to ours, its geometries (None for CSV), CRS and whether it is a vector file."""
    path = spec.path
    if not path.is_file():
        raise InputError(path, f"{field}.path", str(path), "check the path to the evidence file",
                         problem="does not exist;" if not path.exists() else "is not a regular file;")
    vector = not path.name.lower().endswith((".csv", ".txt"))
    try:
        if vector:
            frame = pyogrio.read_dataframe(path, layer=spec.layer)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError, OSError, UnicodeDecodeError,
            pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        message = " ".join(str(exc).split())[:160] or type(exc).__name__
        raise InputError(path, f"{field}.path", str(path), "give a CSV or a vector file GDAL reads",
                         problem=f"cannot be read ({message});") from None
    geometry = frame.geometry if vector and "geometry" in frame else None
    crs = frame.crs.to_string() if vector and frame.crs is not None else None
    lower = {str(c).strip().lower(): c for c in frame.columns if c != "geometry"}
    renamed = {}
    for name in spec.COLUMNS:
        wanted = spec.columns.get(name, name).strip().lower()
        if wanted in lower:
            renamed[lower[wanted]] = name
        elif name in spec.columns:
            raise InputError(path, f"{field}.columns.{name}", spec.columns[name],
                             f"use one of the file's columns: {', '.join(map(str, lower.values()))}",
                             problem="is not a column of the file;")
    table = pd.DataFrame(frame.drop(columns="geometry", errors="ignore")).rename(columns=renamed)
    table = table[[c for c in table.columns if c in spec.COLUMNS]]
    for column in table.columns:
        if pd.api.types.is_datetime64_any_dtype(table[column]):
            table[column] = table[column].dt.strftime("%Y-%m-%d")
    return table, geometry, crs, vector


def _text(value) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _column(table: pd.DataFrame, name: str) -> list:
    return [_text(v) for v in table[name].tolist()] if name in table else [None] * len(table)


def _number(rows: _Problems, i: int, column: str, text: str | None, default, low: float, high: float,
            whole: bool = False, low_open: bool = False):
    """The cell as a number within [low, high] (``low`` excluded if ``low_open``), ``default`` when empty."""
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        rows.add(i, column, text, "give a number", "is not a number;")
        return default
    bad = not np.isfinite(value) or value > high or value < low or (low_open and value == low)
    if whole and not bad and not value.is_integer():
        rows.add(i, column, text, "give a whole number", "is not a whole number;")
        return default
    if bad:
        span = f"{'above' if low_open else 'at least'} {low:g} and at most {high:g}"
        rows.add(i, column, text, f"give a value {span}", "is out of range;")
        return default
    return value


def _dates(rows: _Problems, table: pd.DataFrame, fmt: str | None, required: bool) -> np.ndarray:
    texts = _column(table, "date")
    parsed = pd.to_datetime(pd.Series(texts, dtype=object), format=fmt or "%Y-%m-%d", errors="coerce")
    out = np.full(len(table), np.datetime64("NaT"), "datetime64[D]")
    for i, (text, day) in enumerate(zip(texts, parsed)):
        if text is None:
            if required:
                rows.add(i, "date", None, "fill it in", "is empty;")
        elif pd.isna(day):
            rows.add(i, "date", text, f"write dates as {fmt or 'YYYY-MM-DD'} or set date_format", "is not a date;")
        else:
            out[i] = np.datetime64(day.date(), "D")
    return out


def _source_crs(spec: EvidenceFile, field: str, file_crs: str | None, grid_crs: str, lon_lat: bool) -> CRS:
    source = "EPSG:4326" if lon_lat else spec.crs or file_crs or grid_crs
    try:
        return CRS.from_user_input(source)
    except CRSError:
        raise InputError(spec.path, f"{field}.crs", source, "give a CRS like 'EPSG:32634'",
                         problem="is not a CRS pyproj knows;") from None


def _points(spec: Finds | StrikeReports, field: str, grid_crs: str, profiles: set[str]) -> Points:
    table, geometry, file_crs, vector = _read(spec, field)
    rows = _Problems(spec.path, vector)
    lon_lat = "lon" in table and "lat" in table
    pair = ("lon", "lat") if lon_lat else ("x", "y")
    if not all(c in table for c in pair) and geometry is None:
        raise InputError(spec.path, f"{field}.columns", ", ".join(map(str, table.columns)),
                         "give x and y, lon and lat, or point geometries (or map them in columns)",
                         problem="has no coordinate columns:")
    n = len(table)
    xy = np.full((n, 2), np.nan)
    given = all(c in table for c in pair)
    texts = [_column(table, c) for c in pair] if given else []
    for i in range(n):
        if given:
            for k, c in enumerate(pair):
                if texts[k][i] is None:
                    rows.add(i, c, None, "fill it in", "is empty;")
                xy[i, k] = _number(rows, i, c, texts[k][i], np.nan, -1e9, 1e9)
        else:
            g = geometry.iloc[i]
            if g is None or g.is_empty or g.geom_type != "Point":
                rows.add(i, "geometry", None if g is None else g.geom_type, "give a point", "is not a point;")
            else:
                xy[i] = (g.x, g.y)
    reports = isinstance(spec, StrikeReports)
    dates = _dates(rows, table, spec.date_format, required=not reports)
    errors = [_number(rows, i, "position_error_m", t, spec.position_error_m, 0.0, 100_000.0, low_open=True)
              for i, t in enumerate(_column(table, "position_error_m"))]
    counts = [1.0] * n
    profile = np.array([None] * n, object)
    if reports:
        for i, text in enumerate(_column(table, "profile")):
            if text is not None and text not in profiles:
                rows.add(i, "profile", text, f"known profiles: {', '.join(sorted(profiles))}", "is not a known profile;")
            profile[i] = text
    else:
        counts = [_number(rows, i, "count", t, 1.0, 1.0, MAX_ITEMS_PER_ROW, whole=True)
                  for i, t in enumerate(_column(table, "count"))]
    rows.raise_if_any()
    source = _source_crs(spec, field, file_crs, grid_crs, lon_lat)
    points = gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=source).to_crs(grid_crs)
    x, y = points.x.to_numpy(), points.y.to_numpy()
    for i in np.flatnonzero(~(np.isfinite(x) & np.isfinite(y))):
        rows.add(int(i), f"{pair[0]} and {pair[1]}", f"{xy[i, 0]:g}, {xy[i, 1]:g}", f"give a point the study-area "
                 f"CRS {grid_crs} can hold, or fix {field}.crs", f"cannot be projected from {source.to_string()};")
    rows.raise_if_any()
    detection = getattr(spec, "detection_probability", 0.0)
    return Points(x, y, dates, np.array(counts, np.int64), np.array(errors, float), np.full(n, detection), profile)


def _areas(spec: Searched | Cleared, field: str, grid_crs: str) -> Areas:
    table, geometry, file_crs, vector = _read(spec, field)
    if geometry is None:
        raise InputError(spec.path, f"{field}.path", str(spec.path), "give a vector file (GeoPackage, GeoJSON, "
                         "Shapefile) of polygons or lines", problem="has no geometries;")
    rows = _Problems(spec.path, vector)
    dates = _dates(rows, table, spec.date_format, required=True)
    pods = [_number(rows, i, "pod", t, spec.pod, 0.0, 1.0) for i, t in enumerate(_column(table, "pod"))]
    found = [_number(rows, i, "found", t, 0.0, 0.0, MAX_ITEMS_PER_ROW, whole=True)
             for i, t in enumerate(_column(table, "found"))]
    swath = [_number(rows, i, "swath_m", t, getattr(spec, "swath_m", 0.0), 0.0, 1_000.0, low_open=True)
             for i, t in enumerate(_column(table, "swath_m"))]
    shapes = geometry.to_numpy()
    for i, g in enumerate(shapes):
        kind = None if g is None else g.geom_type
        if g is None or g.is_empty:
            rows.add(i, "geometry", None, "give a polygon or a line", "is empty;")
        elif kind.endswith("LineString"):
            if not isinstance(spec, Searched):
                rows.add(i, "geometry", kind, "give the cleared land as polygons", "is a line;")
        elif not kind.endswith("Polygon"):
            rows.add(i, "geometry", kind, "give a polygon, or a line searched swath_m wide", "is not an area;")
        elif not g.is_valid:
            rows.add(i, "geometry", shapely.is_valid_reason(g), "repair the polygon (e.g. QGIS Fix geometries)",
                     "is not a valid polygon:")
    rows.raise_if_any()
    source = _source_crs(spec, field, file_crs, grid_crs, False)
    projected = gpd.GeoSeries(shapes, crs=source).to_crs(grid_crs).to_numpy()
    lines = np.array([g.geom_type.endswith("LineString") for g in projected])
    if lines.any():
        projected[lines] = shapely.buffer(projected[lines], np.array(swath)[lines] / 2.0, cap_style="flat")
    return Areas(projected.astype(object), dates, np.array(pods, float), np.array(found, np.int64))
