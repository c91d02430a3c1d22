"""Strikes as columns: the scenario's own ``[[strikes]]`` and strike records read from a file.

A strike-record file is a CSV (optionally gzipped) or any vector file GDAL reads, one row
per strike, with columns ``date``, ``profile``, ``carriers`` and either ``x``/``y`` (metres
in the records' CRS), ``lon``/``lat`` (WGS 84) or point geometries; optional ``id``,
``azimuth_deg``, ``dud_mean``, ``dud_spread`` and ``function_altitude_m``. Every row is
checked with the scenario's rules; an error names the row (as in the file: the header is
line 1) and the column.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
from pyproj import CRS, Transformer

from simulator.errors import InputError

REQUIRED = ("date", "profile", "carriers")
OPTIONAL = ("id", "azimuth_deg", "dud_mean", "dud_spread", "function_altitude_m")
COORDINATES = (("x", "y"), ("lon", "lat"))


@dataclass(frozen=True)
class StrikeColumns:
    """Strikes in scenario order, one array per field; NaN means "the profile's default"."""

    id: np.ndarray
    date: np.ndarray
    profile: np.ndarray
    carriers: np.ndarray
    x: np.ndarray
    y: np.ndarray
    azimuth_deg: np.ndarray
    dud_mean: np.ndarray
    dud_spread: np.ndarray
    altitude_m: np.ndarray

    def __len__(self) -> int:
        return len(self.id)

    @classmethod
    def concat(cls, parts: list[StrikeColumns]) -> StrikeColumns:
        return cls(*(np.concatenate([getattr(p, name) for p in parts]) for name in cls.__dataclass_fields__))


def from_inline(strikes, to_grid: Transformer) -> StrikeColumns:
    """The scenario's ``[[strikes]]`` as columns, aim points in the grid CRS."""
    xs, ys = [], []
    for s in strikes:
        aim = s.aim_point
        x, y = (aim.x, aim.y) if aim.x is not None else to_grid.transform(aim.lon, aim.lat)
        xs.append(x)
        ys.append(y)
    nan = [np.nan] * len(strikes)
    return StrikeColumns(
        id=np.array([s.id for s in strikes], object),
        date=np.array([s.date for s in strikes], "datetime64[D]"),
        profile=np.array([s.profile for s in strikes], object),
        carriers=np.array([s.carriers for s in strikes], np.int64),
        x=np.array(xs, float), y=np.array(ys, float),
        azimuth_deg=np.array([s.azimuth_deg for s in strikes], float),
        dud_mean=np.array([s.dud_rate.mean if s.dud_rate else np.nan for s in strikes], float) if strikes else np.array(nan),
        dud_spread=np.array([s.dud_rate.spread if s.dud_rate else np.nan for s in strikes], float) if strikes else np.array(nan),
        altitude_m=np.array([s.function_altitude_m or np.nan for s in strikes], float) if strikes else np.array(nan),
    )


def read_table(path: Path, layer: str | None) -> tuple[pd.DataFrame, str | None]:
    """The records as a DataFrame (point geometries as ``x``/``y``) and the file's CRS, if it has one."""
    if not path.is_file():
        raise InputError(path, "strike_records.path", str(path), "check the path to the strike-record file",
                         problem="does not exist;")
    name = path.name.lower()
    try:
        if name.endswith((".csv", ".csv.gz", ".txt")):
            return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""]), None
        frame = pyogrio.read_dataframe(path, layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError, OSError, UnicodeDecodeError,
            pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        message = str(exc).splitlines()[0][:160]
        raise InputError(path, "strike_records.path", str(path), "give a CSV or a vector file GDAL reads",
                         problem=f"cannot be read ({message});") from None
    crs = frame.crs.to_string() if frame.crs is not None else None
    if "geometry" in frame and frame.geometry.notna().any():
        frame = pd.DataFrame(frame.drop(columns="geometry")).assign(x=frame.geometry.x, y=frame.geometry.y)
    return pd.DataFrame(frame).astype({c: str for c in frame.columns if frame[c].dtype == object}), crs


def read_strike_records(
    path: Path, *, layer: str | None, crs: str | None, grid_crs: str, known_profiles: dict, time_start, time_end,
) -> StrikeColumns:
    """Strike records from ``path``, checked row by row, aim points in ``grid_crs``."""
    frame, file_crs = read_table(path, layer)
    checker = _Rows(path, frame)
    if frame.empty:
        raise InputError(path, "strike_records.path", str(path), "give at least one strike record", problem="has no rows;")
    for column in REQUIRED:
        checker.require(column)
    pair = next((p for p in COORDINATES if all(c in frame for c in p)), None)
    if pair is None:
        raise InputError(path, "columns", ", ".join(map(str, frame.columns)),
                         "give x and y (metres, with strike_records.crs), lon and lat (degrees), or point geometries",
                         problem="has no coordinate columns:")
    date = checker.dates("date", time_start, time_end)
    profile = checker.text("profile")
    unknown = ~np.isin(profile, list(known_profiles))
    if unknown.any():
        bad = profile[np.argmax(unknown)]
        close = difflib.get_close_matches(str(bad), list(known_profiles), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        checker.fail(np.argmax(unknown), "profile", bad,
                     f"{hint}known profiles: {', '.join(sorted(known_profiles))}", "is not a known profile;")
    carriers = checker.numbers("carriers", lo=0, integer=True)
    first, second = (checker.numbers(c) for c in pair)
    if pair == ("lon", "lat"):
        checker.within(first, "lon", -180, 180)
        checker.within(second, "lat", -90, 90)
        source = "EPSG:4326"
    else:
        source = crs or file_crs or grid_crs
    to_grid = Transformer.from_crs(CRS.from_user_input(source), CRS.from_user_input(grid_crs), always_xy=True)
    x, y = to_grid.transform(first, second)
    mean = checker.numbers("dud_mean", lo=0, hi=1, optional=True)
    spread = checker.numbers("dud_spread", lo=0, optional=True)
    limit = np.sqrt(np.where(np.isnan(mean), 0.25, mean * (1 - mean)))
    too_wide = (spread > 0) & (spread >= limit)
    if too_wide.any():
        i = int(np.argmax(too_wide))
        checker.fail(i, "dud_spread", spread[i], f"use a spread below sqrt(mean * (1 - mean)) = {limit[i]:.4g}")
    ids = frame["id"].astype(str).to_numpy(object) if "id" in frame else np.array(
        [f"row{i + 2}" for i in range(len(frame))], object)
    return StrikeColumns(
        id=ids, date=date, profile=profile, carriers=carriers.astype(np.int64), x=np.asarray(x, float),
        y=np.asarray(y, float), azimuth_deg=checker.numbers("azimuth_deg", optional=True, default=0.0),
        dud_mean=mean, dud_spread=spread, altitude_m=checker.numbers("function_altitude_m", lo=0, optional=True),
    )


class _Rows:
    """Column checks that name the first bad row (file line: the header is line 1)."""

    def __init__(self, path: Path, frame: pd.DataFrame):
        self.path, self.frame = path, frame

    def fail(self, index: int, column: str, value, fix: str, problem: str = "") -> None:
        raise InputError(self.path, f"line {int(index) + 2}, column {column}", value, fix, problem=problem)

    def require(self, column: str) -> None:
        if column not in self.frame:
            close = difflib.get_close_matches(column, list(map(str, self.frame.columns)), n=1)
            hint = f" (is {close[0]!r} it?)" if close else ""
            raise InputError(self.path, "columns", ", ".join(map(str, self.frame.columns)),
                             f"add a column named {column!r}{hint}", problem="lack a required column:")

    def text(self, column: str) -> np.ndarray:
        values = self.frame[column]
        missing = values.isna().to_numpy()
        if missing.any():
            self.fail(np.argmax(missing), column, None, "fill it in", "is empty;")
        return values.astype(str).str.strip().to_numpy(object)

    def dates(self, column: str, start, end) -> np.ndarray:
        parsed = pd.to_datetime(self.frame[column], format="%Y-%m-%d", errors="coerce")
        bad = parsed.isna().to_numpy()
        if bad.any():
            i = int(np.argmax(bad))
            self.fail(i, column, self.frame[column].iloc[i], "write dates as YYYY-MM-DD")
        days = parsed.to_numpy().astype("datetime64[D]")
        outside = (days < np.datetime64(start)) | (days > np.datetime64(end))
        if outside.any():
            i = int(np.argmax(outside))
            self.fail(i, column, str(days[i]), f"keep strike dates between time.start {start} and time.end {end}")
        return days

    def numbers(self, column: str, lo=None, hi=None, integer=False, optional=False, default=np.nan) -> np.ndarray:
        if column not in self.frame:
            return np.full(len(self.frame), default, float)
        raw = self.frame[column]
        values = pd.to_numeric(raw, errors="coerce").to_numpy(float)
        given = raw.notna().to_numpy()
        bad = given & ~np.isfinite(values)
        if not optional:
            bad |= ~given
        if bad.any():
            i = int(np.argmax(bad))
            self.fail(i, column, raw.iloc[i], "give a finite number")
        values = np.where(given, values, default)
        checks = [
            (integer and np.any(given & (values != np.round(values))), "give a whole number"),
            (lo is not None and np.any(given & (values < lo)), f"give a value of at least {lo}"),
            (hi is not None and np.any(given & (values > hi)), f"give a value of at most {hi}"),
        ]
        for failed, fix in checks:
            if failed:
                wrong = given & ((values != np.round(values)) if fix == "give a whole number" else
                                 (values < lo) if fix.startswith("give a value of at least") else (values > hi))
                i = int(np.argmax(wrong))
                self.fail(i, column, raw.iloc[i], fix)
        return values

    def within(self, values: np.ndarray, column: str, lo: float, hi: float) -> None:
        bad = (values < lo) | (values > hi)
        if bad.any():
            i = int(np.argmax(bad))
            self.fail(i, column, values[i], f"give a value between {lo} and {hi}")
