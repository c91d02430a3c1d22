"""Starter scenarios (``remnant init``): a copy of the demo, or one written for a planner's own data.

For the planner's own land-use layer the scenario gets its study area from the layer's extent in
the local UTM zone, one class per distinct value of the class field (with its area as a comment),
``[strike_records]`` pointing at their strike file (columns renamed in a copy when they go by
other names) or at a template of invented strikes, and a ``[clearance]`` table with every team
type explained. Strings from the user's files are written as TOML strings by ``tomli_w``, never
pasted into the text; comments hold only numbers and escaped names.
"""

from __future__ import annotations

import os
import re
import shutil
import textwrap
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import tomli_w
from matplotlib import colormaps
from matplotlib.colors import to_hex

from simulator.config.demo import demo_scenario
from simulator.config.profiles import builtin_catalog
from simulator.errors import InputError, one_line
from simulator.inputs.inspect import FieldValues, describe_layers, field_values
from simulator.inputs.strikes import COORDINATES, OPTIONAL, REQUIRED, read_table

SCENARIO_FILE = "scenario.toml"
PALETTE = tuple(to_hex(c) for c in colormaps["tab20"].colors)
"""Class colours, in turn (matplotlib's tab20)."""
DEFAULT_CLASS, DEFAULT_COLOUR = "unclassified", "#bdbdbd"
CELL_SIZES_M = (10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000)
MAX_CELLS = 1_000_000
"""The starter picks the smallest cell size in ``CELL_SIZES_M`` that keeps the grid below this."""
MAX_VALUES = 249
"""Values a class field may have: a scenario holds at most 250 classes, one is the default."""
OSM_SUFFIXES = (".osm", ".pbf")
OSM_CLASS_FIELD = "landuse,natural"
CLASS_FIELD_NAMES = ("class", "landuse", "land_use", "lu", "luse", "type", "category", "code")
"""Field names taken as the class field when none is given, first match wins (case ignored)."""
COLUMN_NAMES = {
    "id": ("id", "strike_id", "event_id", "ref", "name"),
    "date": ("date", "strike_date", "event_date", "day"),
    "profile": ("profile", "profile_id", "delivery_profile"),
    "carriers": ("carriers", "n_carriers", "carrier_count", "count", "quantity", "rounds"),
    "x": ("x", "easting", "east", "x_m"),
    "y": ("y", "northing", "north", "y_m"),
    "lon": ("lon", "long", "lng", "longitude"),
    "lat": ("lat", "latitude"),
    "azimuth_deg": ("azimuth_deg", "azimuth", "heading", "bearing", "direction_deg"),
    "dud_mean": ("dud_mean", "dud_rate", "failure_rate"),
    "dud_spread": ("dud_spread", "dud_sd"),
    "function_altitude_m": ("function_altitude_m", "function_altitude", "altitude_m", "altitude"),
}
"""Strike-record columns and the other names (case, spaces and hyphens ignored) they are found by."""
TEMPLATE_FILE = "data/strikes-template.csv"
MAPPED_FILE = "data/strikes.csv"
TEMPLATE_DATE = date(2024, 3, 1)
TEMPLATE_CARRIERS = {"artillery-projectile": 6, "rocket": 2, "air-dropped-dispenser": 1}
TEMPLATE_OFFSET_DEG = 0.002
"""Spacing (degrees of longitude) of the template's invented strikes around the layer's centre."""
HORIZON_YEARS = 10
COMMENT_WIDTH = 96
NEAR_LEVELS = 2
"""Files at most this many folders above the scenario's are written as relative paths, others absolute."""


@dataclass(frozen=True)
class Starter:
    """A scenario's text, the other files it needs (relative path -> text), and what it holds."""

    text: str
    files: dict[str, str]
    values: FieldValues
    strikes: str  # one sentence: where the strikes come from


def write_demo_copy(directory: Path) -> Path:
    """The commented demo district as ``directory/scenario.toml``, with its land-use layer."""
    demo = demo_scenario()
    (directory / "data").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(demo.parent / "data" / "demo-district.gpkg", directory / "data" / "demo-district.gpkg")
    text = demo.read_text(encoding="utf-8").replace('name = "demo-district"', 'name = "starter"', 1)
    target = directory / SCENARIO_FILE
    target.write_text(text, encoding="utf-8")
    return target


def starter_for(
    directory: Path, land_use: Path, *, layer: str | None = None, class_field: str | None = None,
    strikes: Path | None = None, source_crs: str | None = None,
) -> Starter:
    """The scenario for ``land_use`` (and ``strikes``, else a template) to be written in ``directory``;
    ``source_crs`` for a layer that declares no CRS (or a wrong one), as ``land_use.source_crs``."""
    field = class_field or pick_class_field(land_use, layer)
    values = field_values(land_use, field, layer, source_crs)
    named = [v for v in values.values if v.value is not None]
    if not named:
        raise InputError(land_use, "--class-field", field, "choose a field that holds the land-use class",
                         problem="has no values in the layer's polygons;")
    if len(named) > MAX_VALUES:
        raise InputError(land_use, "--class-field", field,
                         f"choose a field with at most {MAX_VALUES} values (see remnant inspect FILE)",
                         problem=f"has {len(named)} distinct values;")
    cell, extent = _grid(values.bounds_m)
    files: dict[str, str] = {}
    if strikes is not None:
        records, first, last, said = _user_strikes(directory, strikes, files)
    else:
        records, first, last, said = _template_strikes(values, files)
    start = first.replace(day=1)
    end = _add_years(start, HORIZON_YEARS)
    clearance_start = _next_month(last)
    if clearance_start >= end:
        end = _add_years(clearance_start, HORIZON_YEARS // 2)
    parts = [
        _header(directory, land_use),
        _table("study_area", [
            ("crs", values.crs, "the local UTM zone of the layer (metres)"),
            ("extent_m", extent, "xmin, ymin, xmax, ymax: the layer's extent, rounded out to whole cells"),
            ("cell_size_m", cell, f"{round((extent[2] - extent[0]) / cell)} x {round((extent[3] - extent[1]) / cell)} cells"),
        ], "Where: the study area is cut into square cells; every result is per cell."),
        _table("land_use", [
            ("path", _relative(land_use, directory), None),
            ("layer", values.layer, None),
            ("class_field", field, "'a,b': the first of a and b that has a value"),
            ("default_class", DEFAULT_CLASS, "for features without a value and land no polygon covers"),
            *([("source_crs", source_crs, "the CRS the layer's coordinates are in")] if source_crs else []),
        ], "What the ground is. One class per value of the class field, found in the layer; merge classes\n"
           "by listing several raw values in one class's `values`. priority: 1 is released first (all are 1\n"
           "here: set your order). dud_multiplier: assumption, 1.0 = no effect of the ground on dud rates."),
        *[_class(key, v.value, PALETTE[i % len(PALETTE)], f"{_features(v.features)}, {v.area_ha:.2f} ha")
          for i, (key, v) in enumerate(zip(_keys([v.value for v in named]), named))],
        _class(DEFAULT_CLASS, None, DEFAULT_COLOUR, _unclassified_comment(values)),
        records,
        _table("simulation", [("realizations", 200, None), ("seed", 1, None)],
               "Monte Carlo: the same seed gives the same results."),
        _table("time", [("start", start, None), ("end", end, None), ("step_months", 3, None)],
               "Reporting steps from start to end; strike dates must lie between them."),
        _table("hazard", [("threshold", 0.1, "P(contaminated) at which land is confirmed hazardous area (CHA)")]),
        _clearance(clearance_start),
    ]
    text = "\n".join(parts)
    return Starter(text, files, values, said)


def pick_class_field(path: Path, layer: str | None) -> str:
    """The class field to use when none is named: OSM's tags, else a field with a usual name."""
    if Path(path).suffix.lower() in OSM_SUFFIXES:
        return OSM_CLASS_FIELD
    layers = describe_layers(path)
    polygonal = [info for info in layers if layer is None or info.name == layer]
    names = [f.name for info in polygonal for f in info.fields]
    lower = {name.lower(): name for name in reversed(names)}
    for wanted in CLASS_FIELD_NAMES:
        if wanted in lower:
            return lower[wanted]
    raise InputError(path, "--class-field", None, "name the field that holds the land-use class; fields: "
                     + ", ".join(names[:30]), problem="is not given and no field has a usual name;")


def map_columns(columns: list[str]) -> dict[str, str]:
    """Column of the user's file -> strike-record column, for the columns that go by a known name."""
    found: dict[str, str] = {}
    normal = {re.sub(r"[\s\-]+", "_", str(c).strip().lower()): str(c) for c in columns}
    for target, names in COLUMN_NAMES.items():
        source = next((normal[n] for n in names if n in normal and normal[n] not in found), None)
        if source is not None:
            found[source] = target
    return found


def _user_strikes(directory: Path, path: Path, files: dict[str, str]) -> tuple[str, date, date, str]:
    frame, file_crs = read_table(path, None)
    mapping = map_columns(list(frame.columns))
    have = set(mapping.values())
    missing = [c for c in REQUIRED if c not in have]
    if not any(all(c in have for c in pair) for pair in COORDINATES):
        missing.append("x and y (or lon and lat)")
    if missing:
        raise InputError(path, "columns", ", ".join(map(str, frame.columns)),
                         f"add or rename columns to {', '.join(missing)} (docs/scenario-reference.md lists them)",
                         problem="lack a required column:")
    dates = pd.to_datetime(frame[next(c for c, t in mapping.items() if t == "date")], format="%Y-%m-%d",
                           errors="coerce").dropna()
    first, last = (dates.min().date(), dates.max().date()) if len(dates) else (TEMPLATE_DATE, TEMPLATE_DATE)
    renamed = {c: t for c, t in mapping.items() if c != t}
    rows: list[tuple] = []
    comment = ["Strikes: one row per strike in the file below (docs/scenario-reference.md, strike records)."]
    if renamed or not path.name.lower().endswith((".csv", ".csv.gz", ".txt")):
        kept = frame[list(mapping)].rename(columns=mapping)
        files[MAPPED_FILE] = kept.to_csv(index=False, lineterminator="\n")
        rows.append(("path", MAPPED_FILE, None))
        what = ", ".join(f"{one_line(repr(c))} -> {t}" for c, t in renamed.items()) or "none"
        comment.append(f"{MAPPED_FILE} is a copy of {one_line(str(path))} with the columns renamed ({what}).")
        comment.append("Edit the copy, or run `remnant init` again into a new folder when the file changes.")
        comment = [wrapped for line in comment for wrapped in textwrap.wrap(line, COMMENT_WIDTH)]
        said = f"{len(frame)} strikes from {path} (copied to {MAPPED_FILE}, {len(renamed)} columns renamed)"
    else:
        rows.append(("path", _relative(path, directory), None))
        said = f"{len(frame)} strikes from {path}"
    if file_crs is not None and "x" in have:
        rows.append(("crs", file_crs, "the file's CRS"))
    elif "x" in have:
        comment.append("x and y are read in the study area's CRS; set crs if they are in another.")
    return _table("strike_records", rows, "\n".join(comment)), first, last, said


def _template_strikes(values: FieldValues, files: dict[str, str]) -> tuple[str, date, date, str]:
    west, south, east, north = values.extent_lonlat
    lon, lat = (west + east) / 2, (south + north) / 2
    by_family: dict[str, str] = {}
    for profile_id, profile in builtin_catalog().items():
        by_family.setdefault(profile.family, profile_id)
    columns = ["id", *REQUIRED, "lon", "lat", *[c for c in OPTIONAL if c != "id"]]
    rows = []
    for i, (family, profile_id) in enumerate(by_family.items()):
        rows.append({"id": f"T{i + 1}", "date": TEMPLATE_DATE.isoformat(), "profile": profile_id,
                     "carriers": TEMPLATE_CARRIERS[family], "lon": round(lon + (i - 1) * TEMPLATE_OFFSET_DEG, 6),
                     "lat": round(lat, 6), "azimuth_deg": 0.0})
    files[TEMPLATE_FILE] = pd.DataFrame(rows, columns=columns).to_csv(index=False, lineterminator="\n")
    comment = (
        f"Strikes: {TEMPLATE_FILE} holds INVENTED strikes, one per delivery family, at the centre of the\n"
        "layer, so that this scenario runs. Replace its rows with your strike records (or point path at\n"
        "your own file; `remnant init DIR --land-use FILE --strikes STRIKES.csv` maps its columns).\n"
        "Columns: id, date (YYYY-MM-DD), profile (`remnant catalog`), carriers, lon and lat (degrees) or\n"
        "x and y (metres, with crs); optional: azimuth_deg, dud_mean, dud_spread, function_altitude_m\n"
        "(empty: the profile's value). Inline [[strikes]] tables work too (see the demo scenario)."
    )
    table = _table("strike_records", [("path", TEMPLATE_FILE, None)], comment)
    return table, TEMPLATE_DATE, TEMPLATE_DATE, f"{len(rows)} invented strikes in {TEMPLATE_FILE} (replace them)"


def _clearance(start: date) -> str:
    return "\n".join([
        _rule(),
        "# Land release: survey and clearance teams work the hazard map from `start` (docs/model.md).",
        "[clearance]",
        f"start = {start.isoformat()}",
        f"# deadline = {_add_years(start, 5).isoformat()}   # an Article 4 style deadline: the run reports the chance of meeting it",
        'policy = "land-use-priority"     # or item-density, items-per-cost, distance-to-residential',
        "# Teams, by what they do; each works working_days_per_year days a year:",
        "#   nts  non-technical survey: visits all suspected land and cancels the part where no",
        "#        evidence of items is seen. Every work unit starts with it: without NTS nothing is released.",
        "#   ts   technical survey: searches a sample (ts_sample_fraction) of the confirmed land of units",
        "#        the hazard map expects few items in, and reduces (releases) the unit if it finds none.",
        "#   bac  battle area clearance: searches all remaining confirmed land and clears it.",
        "#   multi_role  teams that do several of these, each step the one the plan needs next, e.g.",
        '#        teams = { multi_role = [{ roles = ["nts", "ts", "bac"], count = 3 }] }',
        "teams = { nts = 1, ts = 1, bac = 1 }",
        "working_days_per_year = 220      # assumption",
        "detection_probability = 0.95     # assumption: per item searched",
        "",
        "[clearance.productivity_m2_per_team_day]   # assumptions (docs/model.md): m2 per team-day",
        "nts = 100000",
        "ts = 2500",
        "bac = 1000",
        "",
    ])


def _header(directory: Path, land_use: Path) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(directory).resolve().name).strip("-.") or "starter"
    if not name[0].isalnum():
        name = "s" + name
    lines = [
        f"# remnant scenario written by `remnant init` for {one_line(str(land_use))}.",
        "# Check it with `remnant validate scenario.toml`, run it with `remnant run scenario.toml`.",
        "# Lengths are in metres, dates YYYY-MM-DD, paths relative to this file.",
        "",
        f"name = {_toml(name)}",
        f"description = {_toml('Written by remnant init from ' + str(land_use))}",
        "",
    ]
    return "\n".join(lines)


def _class(key: str, value: str | None, colour: str, comment: str) -> str:
    name = (value[:1].upper() + value[1:]).replace("_", " ") if value is not None else "Unclassified land"
    return _table(f"land_use.classes.{key}", [
        ("name", name, None), ("colour", colour, None), ("priority", 1, None), ("dud_multiplier", 1.0, None),
        ("values", [value] if value is not None else [], None),
    ], comment, rule=False)


def _unclassified_comment(values: FieldValues) -> str:
    empty = next((v for v in values.values if v.value is None), None)
    held = f"{_features(empty.features)} without a value, {empty.area_ha:.2f} ha" if empty else "no features without a value"
    return f"The default class: {held}, and land no polygon covers."


def _table(name: str, rows: list[tuple], comment: str | None = None, rule: bool = True) -> str:
    lines = [_rule()] if rule else []
    lines += [f"# {line}" for line in (comment or "").splitlines()]
    lines.append(f"[{name}]")
    for key, value, note in rows:
        lines.append(f"{key} = {_toml(value)}" + (f"   # {note}" if note else ""))
    return "\n".join(lines) + "\n"


def _features(n: int) -> str:
    return f"{n} feature{'s' if n != 1 else ''}"


def _rule() -> str:
    return "# " + "-" * 86


def _toml(value) -> str:
    """``value`` as TOML (strings escaped by tomli_w); lists inline."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, (np.floating, np.integer)):
        value = value.item()
    return tomli_w.dumps({"v": value}).removeprefix("v = ").rstrip("\n")


def _keys(values: list[str]) -> list[str]:
    """A distinct bare TOML key per value (lower case, runs of other characters as "_")."""
    keys: list[str] = []
    taken = {DEFAULT_CLASS}
    for value in values:
        base = re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_") or "class"
        key, n = base, 2
        while key in taken:
            key, n = f"{base}_{n}", n + 1
        taken.add(key)
        keys.append(key)
    return keys


def _grid(bounds: tuple[float, ...]) -> tuple[float, list[float]]:
    """The smallest listed cell size keeping the grid under ``MAX_CELLS``, and the extent snapped out to it."""
    width, height = bounds[2] - bounds[0], bounds[3] - bounds[1]
    cell = next((c for c in CELL_SIZES_M if np.ceil(width / c + 1) * np.ceil(height / c + 1) <= MAX_CELLS),
                CELL_SIZES_M[-1])
    extent = [np.floor(bounds[0] / cell) * cell, np.floor(bounds[1] / cell) * cell,
              np.ceil(bounds[2] / cell) * cell, np.ceil(bounds[3] / cell) * cell]
    return cell, [float(v) for v in extent]


def _relative(path: Path, directory: Path) -> str:
    """``path`` relative to ``directory`` if it is near (at most ``NEAR_LEVELS`` folders up), else absolute."""
    absolute = Path(path).resolve()
    relative = Path(os.path.relpath(absolute, Path(directory).resolve()))
    near = relative.parts[:NEAR_LEVELS + 1].count("..") <= NEAR_LEVELS
    return (relative if near else absolute).as_posix()


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _add_years(day: date, years: int) -> date:
    return day.replace(year=day.year + years, day=min(day.day, 28))
