"""Strikes as columns: the scenario's own ``[[strikes]]`` and strike records read from a file.

A strike-record file is a CSV (optionally gzipped) or any vector file GDAL reads, one row
per strike, with columns ``date``, ``profile``, ``carriers`` and either ``x``/``y`` (metres
in the records' CRS; also ``easting``/``northing``), ``lon``/``lat`` (WGS 84; also ``long``,
``lng``, ``longitude``, ``latitude``) or point geometries; optional ``id``, ``azimuth_deg``,
``dud_mean``, ``dud_spread`` and ``function_altitude_m``. Column names are matched without
regard to case. Every row is validated as a ``[[strikes]]`` table is (``Strike`` and the
rules shared with the scenario), and every problem of the file is reported at once (up to
``MAX_REPORTED``), each naming its line (the header is line 1) and column.
"""

from __future__ import annotations

import difflib
import gzip
import warnings
import zlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
from pydantic import ValidationError
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from simulator.config.loading import format_loc, to_input_error
from simulator.config.profiles import DeliveryProfile
from simulator.config.records import StrikeRecords
from simulator.config.scenario import Strike, TimeAxis, check_strike_date, check_strike_profile
from simulator.errors import InputError, InputWarning, LocatedError
from simulator.inputs.crs import fitting_crs, local_utm_crs, lon_lat_bounds
from simulator.inputs.record_overrides import apply_override

REQUIRED = ("date", "profile", "carriers")
OPTIONAL = ("id", "azimuth_deg", "dud_mean", "dud_spread", "function_altitude_m")
COORDINATES = (("x", "y"), ("lon", "lat"))
KNOWN = (*REQUIRED, *OPTIONAL, "x", "y", "lon", "lat")
MISNAMED = {"dud_rate": "dud_mean", "altitude_m": "function_altitude_m", "altitude": "function_altitude_m"}
"""Names of the scenario's keys people give as columns, and the column meant."""
ALIASES = {"long": "lon", "lng": "lon", "longitude": "lon", "latitude": "lat", "easting": "x", "northing": "y"}
"""Other names of the coordinate columns people's files use, lower case."""
MAX_REPORTED = 20
"""Problems of one file told in full; the rest are counted."""
DATE_FORMATS = ("%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d", "%d-%m-%Y", "%m-%d-%Y", "%Y%m%d", "%d %b %Y")
"""Formats tried, to suggest a ``date_format``, when dates are not YYYY-MM-DD."""
_FIELD_COLUMNS = {"aim_point.x": "x", "aim_point.y": "y", "aim_point.lon": "lon", "aim_point.lat": "lat",
                  "dud_rate.mean": "dud_mean", "dud_rate.spread": "dud_spread", "dud_rate": "dud_spread",
                  "aim_point": "coordinates"}


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
    """The records as a DataFrame of text (point geometries as ``x``/``y``) and the file's CRS, if it has one."""
    try:
        regular = path.is_file()
        exists = regular or path.exists()
    except OSError as exc:
        raise InputError(path, "strike_records.path", str(path), "check the path to the strike-record file",
                         problem=f"cannot be read ({(exc.strerror or str(exc)).lower()});") from None
    if not regular:
        problem = "is not a regular file;" if exists else "does not exist;"
        raise InputError(path, "strike_records.path", str(path), "check the path to the strike-record file",
                         problem=problem)
    name = path.name.lower()
    try:
        if name.endswith((".csv", ".csv.gz", ".txt")):
            return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""]), None
        frame = pyogrio.read_dataframe(path, layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError, OSError, UnicodeDecodeError,
            EOFError, zlib.error, gzip.BadGzipFile, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        message = " ".join(str(exc).split())[:160] or type(exc).__name__
        if isinstance(exc, EOFError):
            message = "the compressed file is truncated"
        raise InputError(path, "strike_records.path", str(path), "give a complete CSV (or .csv.gz) or a vector file "
                         "GDAL reads", problem=f"cannot be read ({message});") from None
    crs = frame.crs.to_string() if frame.crs is not None else None
    if "geometry" in frame and frame.geometry.notna().any():
        frame = pd.DataFrame(frame.drop(columns="geometry")).assign(x=frame.geometry.x, y=frame.geometry.y)
    frame = pd.DataFrame(frame)
    for column in frame.columns:  # date fields of vector files, as the text a CSV would hold
        if pd.api.types.is_datetime64_any_dtype(frame[column]):
            frame[column] = frame[column].dt.strftime("%Y-%m-%d")
    return frame.astype({c: str for c in frame.columns if frame[c].dtype == object}), crs


def read_strike_records(
    records: StrikeRecords, *, scenario: Path, grid_crs: str, profiles: dict[str, DeliveryProfile], time: TimeAxis,
    taken_ids: dict[str, str] | None = None, centre_lon_lat: tuple[float, float] | None = None,
) -> StrikeColumns:
    """The strike records of ``records``, every row validated, aim points in ``grid_crs``.

    ``taken_ids`` maps ids already used (by ``[[strikes]]``) to where; ``scenario`` is the
    file ``records`` come from (errors in its settings name it); ``centre_lon_lat`` the study area's
    centre, whose UTM zone is suggested when the coordinates do not fit the records' CRS.
    """
    path = records.path
    utm_near = [local_utm_crs(*centre_lon_lat)] if centre_lon_lat is not None else []
    frame, file_crs = read_table(path, records.layer)
    if frame.empty:
        raise InputError(path, "strike_records.path", str(path), "give at least one strike record", problem="has no rows;")
    frame, pair = _columns(frame, path)
    rows = _Rows(path)
    dates = _dates(frame["date"], records.date_format, rows, path)
    undated = {i for i, d in enumerate(dates) if d is None}  # told already; the rest of the row is still checked
    coordinates = {c: _numbers(frame[c]) for c in pair}
    numbers = {c: _numbers(frame[c]) if c in frame else [None] * len(frame) for c in OPTIONAL[1:]}
    carriers = [_whole(v) for v in frame["carriers"].tolist()]
    ids = frame["id"] if "id" in frame else pd.Series([f"row{i + 2}" for i in range(len(frame))])
    id_text, profile_text = [_given(v) for v in ids.tolist()], [_given(v) for v in frame["profile"].tolist()]
    raws = []
    for i in range(len(frame)):
        raw = {
            "id": id_text[i], "date": time.start if i in undated else dates[i], "profile": profile_text[i],
            "carriers": carriers[i],
            "aim_point": {c: coordinates[c][i] for c in pair if coordinates[c][i] is not None},
            "azimuth_deg": numbers["azimuth_deg"][i], "function_altitude_m": numbers["function_altitude_m"][i],
        }
        profile = profiles.get(raw["profile"]) if isinstance(raw["profile"], str) else None
        mean, spread = numbers["dud_mean"][i], numbers["dud_spread"][i]
        if mean is not None or spread is not None:
            default = profile.dud_rate.mean if profile is not None else 0.5
            raw["dud_rate"] = {"mean": default if mean is None else mean} | ({} if spread is None else {"spread": spread})
        raws.append({k: v for k, v in raw.items() if v is not None})
    for override in records.overrides:
        apply_override(override, raws, profiles, path, has_inline=bool(taken_ids))
    rows.check_all(raws, profiles, time, dict(taken_ids or {}), undated)
    rows.raise_if_any()
    if records.overrides:
        id_text, carriers, dates = [r.get("id") for r in raws], [r.get("carriers") for r in raws], \
            [r.get("date") for r in raws]
        profile_text = [r.get("profile") for r in raws]
        coordinates = {c: [r.get("aim_point", {}).get(c) for r in raws] for c in pair}
        numbers = {"azimuth_deg": [r.get("azimuth_deg") for r in raws],
                   "function_altitude_m": [r.get("function_altitude_m") for r in raws],
                   "dud_mean": [r.get("dud_rate", {}).get("mean") for r in raws],
                   "dud_spread": [r.get("dud_rate", {}).get("spread") for r in raws]}
        ids, frame = pd.Series(id_text, dtype=object), pd.DataFrame({"profile": profile_text})
    source = "EPSG:4326" if pair == ("lon", "lat") else records.crs or file_crs or grid_crs
    x, y = _to_grid(pair, coordinates, source, grid_crs, path, scenario, records.crs is not None, utm_near)

    def column(name, fill):
        return np.array([fill if v is None else v for v in numbers[name]], float)

    return StrikeColumns(
        id=ids.astype(str).str.strip().to_numpy(object), date=np.array(dates, "datetime64[D]"),
        profile=frame["profile"].astype(str).str.strip().to_numpy(object), carriers=np.array(carriers, np.int64),
        x=x, y=y, azimuth_deg=column("azimuth_deg", 0.0), dud_mean=column("dud_mean", np.nan),
        dud_spread=column("dud_spread", np.nan), altitude_m=column("function_altitude_m", np.nan),
    )


class _Rows:
    """Problems of a file's rows, collected so that all are told at once."""

    def __init__(self, path: Path):
        self.path = path
        self.problems: list[tuple[int, InputError]] = []

    def add(self, index: int, column: str, value, fix: str, problem: str = "") -> None:
        line = int(index) + 2
        self.problems.append((line, InputError(self.path, f"line {line}, column {column}", value, fix, problem)))

    def check_all(self, raws: list[dict], profiles: dict, time: TimeAxis, first_line: dict[str, str],
                  undated: set[int]) -> None:
        """Validate each row as a ``[[strikes]]`` table; record what is wrong with each (``undated``: bad dates told)."""
        for i, raw in enumerate(raws):
            try:
                strike = Strike.model_validate(raw)  # one by one: faster than a list[Strike] adapter
            except ValidationError as exc:
                error = to_input_error(exc, Strike, raw, self.path)
                field = _FIELD_COLUMNS.get(error.field or "", error.field or "row")
                self.add(i, field.split(".")[0], error.value, error.fix, error.problem)
                continue
            profile = profiles.get(strike.profile)
            if profile is None:
                close = difflib.get_close_matches(strike.profile, list(profiles), n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                self.add(i, "profile", strike.profile, f"{hint}known profiles: {', '.join(sorted(profiles))}",
                         "is not a known profile;")
                continue
            try:
                check_strike_profile(strike.function_altitude_m, profile)
                if i not in undated:
                    check_strike_date(strike.date, time)
            except LocatedError as error:
                self.add(i, format_loc(error.loc), error.value, error.fix, error.problem)
            if strike.id in first_line:
                self.add(i, "id", strike.id, "give each strike its own id",
                         f"is already the id of {first_line[strike.id]};")
            else:
                first_line[strike.id] = f"line {i + 2}"

    def fail(self, index: int, column: str, value, fix: str, problem: str = "") -> None:
        self.add(index, column, value, fix, problem)
        self.raise_if_any()

    def raise_if_any(self) -> None:
        if not self.problems:
            return
        ordered = [error for _, error in sorted(self.problems, key=lambda p: p[0])]
        first, rest = ordered[0], ordered[1:]
        more = [InputError(None, p.field, p.value, p.fix, p.problem).line() for p in rest[: MAX_REPORTED - 1]]
        if len(rest) > len(more):
            more.append(f"and {len(rest) - len(more)} more problems")
        fix = first.fix + (f" ({len(rest)} more problems below)" if rest else "")
        raise InputError(first.file, first.field, first.value, fix, first.problem, more=tuple(more))


def _columns(frame: pd.DataFrame, path: Path) -> tuple[pd.DataFrame, tuple[str, str]]:
    """The frame with its columns named as this module knows them, and the coordinate pair it has."""
    names, ignored, misspelt = {}, [], []
    for column in frame.columns:
        text = str(column).strip().lower()
        name = ALIASES.get(text, text)
        if name in KNOWN:
            if name in names.values():
                other = next(k for k, v in names.items() if v == name)
                raise InputError(path, "columns", f"{other}, {column}", "keep one of them",
                                 problem=f"both give column {name!r};")
            names[column] = name
        else:
            ignored.append(str(column))
    for column in ignored:
        missing = [k for k in (*KNOWN, *ALIASES) if ALIASES.get(k, k) not in names.values()]
        text = column.strip().lower()
        close = [MISNAMED[text]] if text in MISNAMED else difflib.get_close_matches(text, missing, n=1, cutoff=0.6)
        if close:
            misspelt.append((column, close[0]))
    if misspelt:
        column, close = misspelt[0]
        others = "; ".join(f"{c!r}: did you mean {m!r}?" for c, m in misspelt[1:])
        raise InputError(path, "columns", column, f"did you mean {close!r}? rename it" + (f"; also {others}" if others else ""),
                         problem="is not a column strike records have;")
    frame = frame.rename(columns=names)
    absent = [c for c in REQUIRED if c not in frame]
    if absent:
        raise InputError(path, "columns", ", ".join(map(str, frame.columns)),
                         f"add columns named {', '.join(map(repr, absent))}",
                         problem=f"lack {len(absent)} required column{'s' if len(absent) > 1 else ''}:")
    pair = next((p for p in COORDINATES if all(c in frame for c in p)), None)
    if pair is None:
        raise InputError(path, "columns", ", ".join(map(str, frame.columns)),
                         "give x and y (metres, with strike_records.crs), lon and lat (degrees), or point geometries",
                         problem="has no coordinate columns:")
    if ignored:
        warnings.warn(InputWarning(f"{path}: ignored columns {', '.join(map(repr, ignored))} "
                                     f"(strike records have {', '.join(KNOWN)})"), stacklevel=2)
    return frame, pair


def _dates(column: pd.Series, fmt: str | None, rows: _Rows, path: Path) -> list:
    """Each row's date (None where it does not parse; the row is then reported)."""
    texts = [_given(v) for v in column.tolist()]
    fast = pd.to_datetime(column, format=fmt or "%Y-%m-%d", errors="coerce")
    parsed = [None if pd.isna(d) else d.date() for d in fast]
    if fmt is None and any(t is not None and p is None for t, p in zip(texts, parsed)):
        fitting = [f for f in DATE_FORMATS if all(t is None or _parse_date(t, f) for t in texts)]
        if fitting:
            hint = " or ".join(repr(f) for f in fitting[:2])
            i = next(i for i, (t, p) in enumerate(zip(texts, parsed)) if t is not None and p is None)
            rows.fail(i, "date", texts[i], f"set strike_records.date_format = {hint} (it fits every date of the file), "
                      "or write dates as YYYY-MM-DD", "is not a YYYY-MM-DD date;")
    for i, (text, day) in enumerate(zip(texts, parsed)):
        if text is None:
            rows.add(i, "date", None, "fill it in", "is empty;")
        elif day is None:
            rows.add(i, "date", text, f"write dates as {fmt or 'YYYY-MM-DD'}" + ("" if fmt else
                     " or set strike_records.date_format"), "is not a date;")
    return parsed


def _parse_date(text: str | None, fmt: str) -> date | None:
    if text is None:
        return None
    try:
        return datetime.strptime(text, fmt).date()
    except ValueError:
        return None


def _given(value) -> str | None:
    """A cell's text, None when empty."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _numbers(column: pd.Series) -> list:
    """Each cell as a float (NaN and inf kept, so that validation names them), text if not a number, None if empty."""
    values = pd.to_numeric(column, errors="coerce").to_numpy(float)
    out = values.tolist()
    for i in np.flatnonzero(np.isnan(values)):
        text = _given(column.iloc[i])
        try:
            out[i] = None if text is None else float(text)
        except ValueError:
            out[i] = text
    return out


def _whole(value):
    """A count cell: an exact int for whole numbers (1e30 too, so that its bound is told), else as given."""
    text = _given(value)
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if np.isfinite(number) and number.is_integer() else number


def _to_grid(pair, coordinates, source: str, grid_crs: str, path: Path, scenario: Path, declared: bool,
             utm_near: list[str]):
    """Aim points in the grid CRS; InputError if the CRS is unknown or does not fit the coordinates."""
    first = np.array(coordinates[pair[0]], float)
    second = np.array(coordinates[pair[1]], float)
    where = scenario if declared else path
    try:
        crs = CRS.from_user_input(source)
    except CRSError:
        raise InputError(where, "strike_records.crs", source, "give a CRS like 'EPSG:32635'",
                         problem="is not a CRS pyproj knows;") from None
    bounds = (first.min(), second.min(), first.max(), second.max())
    if pair == ("x", "y") and lon_lat_bounds(crs, bounds) is None:
        fits = fitting_crs(bounds, [grid_crs, *utm_near])
        hint = f"they fit {'; '.join(fits)}" if fits else "check the x and y columns"
        raise InputError(where, "strike_records.crs", source, f"set strike_records.crs to the CRS of x and y: {hint}",
                         problem=f"does not fit the coordinates (x {bounds[0]:.6g} to {bounds[2]:.6g}, "
                         f"y {bounds[1]:.6g} to {bounds[3]:.6g});")
    to_grid = Transformer.from_crs(crs, CRS.from_user_input(grid_crs), always_xy=True)
    x, y = (np.asarray(v, float) for v in to_grid.transform(first, second))
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(path, f"line {i + 2}, columns {pair[0]} and {pair[1]}", f"{first[i]:g}, {second[i]:g}",
                         f"give a point the study-area CRS {grid_crs} can hold, or fix strike_records.crs",
                         problem=f"cannot be projected from {source};")
    return x, y
