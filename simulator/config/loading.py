"""Read a scenario file into a ``Scenario``, or fail with one ``InputError`` line.

Also resolves each strike's delivery profile from the built-in catalog, the scenario's
catalog file and its inline profiles (later ones override earlier ones of the same id).
"""

from __future__ import annotations

import difflib
import math
import tomllib
import types
import typing
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ValidationError

from simulator.config.profiles import Catalog, DeliveryProfile, builtin_catalog
from simulator.config.scenario import Scenario, check_beta, check_strike_profile
from simulator.errors import InputError, LocatedError


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario, its file, and the delivery profiles its strikes use, by id."""

    scenario: Scenario
    path: Path
    profiles: dict[str, DeliveryProfile]

    @property
    def output_dir(self) -> Path:
        """``output.directory``, else ``outputs/<name>`` in the current folder."""
        return self.scenario.output.directory or Path.cwd() / "outputs" / self.scenario.name


def read_toml(path: Path, what: str) -> dict:
    """The TOML document at ``path`` as a dict, or an ``InputError``."""
    try:
        kind = "folder" if path.is_dir() else "file" if path.is_file() else None
    except OSError as exc:  # e.g. a name too long for the file system
        raise InputError(path, None, None, f"check the path to the {what} file",
                         problem=f"cannot be read ({exc.strerror or exc})") from None
    if kind == "folder":
        raise InputError(path, None, None, f"give the {what} file itself, not its folder", problem="is a folder")
    if kind is None:
        raise InputError(path, None, None, f"check the path to the {what} file", problem="file not found")
    try:
        return tomllib.loads(path.read_bytes().decode("utf-8-sig"))  # -sig: editors that start files with a BOM
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, None, None, "fix the TOML syntax", problem=f"is not valid TOML ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, None, None, f"give a readable UTF-8 {what} file", problem=f"cannot be read ({exc})") from None


def format_loc(loc: tuple) -> str:
    """``("strikes", 3, "dud_rate")`` -> ``strikes[3].dud_rate``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def validate(model: type[BaseModel], raw: dict, path: Path, context: dict | None = None):
    """``model`` validated from ``raw``, the first problem raised as an ``InputError``."""
    if not isinstance(raw, dict):
        raise InputError(path, None, None, "write the file as TOML tables of keys and values",
                         problem=f"holds a {type(raw).__name__}, not a table;")
    check_finite(raw, path)
    try:
        return model.model_validate(raw, context=context)
    except ValidationError as exc:
        raise to_input_error(exc, model, raw, path) from None


def check_finite(node: object, path: Path, loc: tuple = ()) -> None:
    """Refuse NaN and infinite numbers anywhere in a document (TOML ``nan``, ``inf``): no field takes them."""
    if isinstance(node, float) and not math.isfinite(node):
        raise InputError(path, format_loc(loc) or None, node, "give a finite number", problem="is not a finite number;")
    if isinstance(node, dict):
        for key, value in node.items():
            check_finite(value, path, (*loc, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            check_finite(value, path, (*loc, index))


_PATTERN_FIXES = {
    "^[A-Za-z0-9][A-Za-z0-9_.-]*$": "use letters, digits, '_', '.' and '-', starting with a letter or digit",
    "^[a-z0-9][a-z0-9_.-]*$": "use lower-case letters, digits, '_', '.' and '-', starting with a letter or digit",
    "^#[0-9a-fA-F]{6}$": "write a colour as '#rrggbb', e.g. '#e9d66b'",
}
"""Fixes for the string patterns of the scenario and catalog models, by pattern."""

_TABLE_TYPES = ("model_type", "model_attributes_type", "dict_type")
_RANGE_TYPES = ("greater_than", "greater_than_equal", "less_than", "less_than_equal")
_WHOLE = ("is not a whole number;", "give a whole number, e.g. 3")
_NUMBER = ("is not a number;", "give a number, e.g. 2.5")
_DATE = ("is not a date;", "write a TOML date, without quotes, e.g. 2024-03-02")
_TYPE_FIXES = {
    "int_type": _WHOLE, "int_parsing": _WHOLE, "int_from_float": _WHOLE, "int_parsing_size": _WHOLE,
    "float_type": _NUMBER, "float_parsing": _NUMBER,
    "string_type": ("is not text;", 'put it in quotes, e.g. "text"'),
    "bool_type": ("is not true or false;", "write true or false, without quotes"),
    "bool_parsing": ("is not true or false;", "write true or false, without quotes"),
    "date_type": _DATE, "date_parsing": _DATE, "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": ("is a date and time;", "give the date only, e.g. 2024-03-02"),
    "list_type": ("is not a list;", "write it as a list: [a, b, ...]"),
    "tuple_type": ("is not a list;", "write it as a list: [a, b, ...]"),
    "path_type": ("is not a file path;", 'give the path as text in quotes, e.g. "data/land_use.gpkg"'),
}
"""Problem and fix for pydantic's type errors, by error type."""


def to_input_error(exc: ValidationError, model: type[BaseModel], raw: dict, path: Path) -> InputError:
    """The most useful error of ``exc`` as one line: field, value, fix."""
    error = _pick(exc.errors())
    loc = _real_loc(error["loc"], raw)
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, LocatedError):
        return InputError(path, format_loc(loc + cause.loc) or None, cause.value, cause.fix, problem=cause.problem)
    field = format_loc(loc) or None
    value = error.get("input")
    kind = error["type"]
    if kind == "extra_forbidden" and loc:
        valid = fields_at(model, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), valid, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"valid keys here: {', '.join(valid)}"
        return InputError(path, field, None, f"remove it or fix its name: {hint}", problem="unknown key")
    if kind == "missing":
        return InputError(path, field, None, "add it (see `remnant schema`)", problem="is required")
    if kind in _TABLE_TYPES:
        example = "a [section] or { key = value, ... }"
        return InputError(path, field, None if isinstance(value, dict) else value,
                          f"write it as a TOML table: {example}", problem="is not a table;")
    if kind == "string_pattern_mismatch":
        pattern = str((error.get("ctx") or {}).get("pattern", ""))
        fix = _PATTERN_FIXES.get(pattern, f"match the pattern {pattern}")
        return InputError(path, field, value, fix, problem="is not allowed here;")
    if isinstance(value, dict):
        value = None
    message = error["msg"].removeprefix("Value error, ")
    if kind in _RANGE_TYPES:
        return InputError(path, field, value, "use a value " + message.removeprefix("Input should be "),
                          problem="is out of range;")
    if kind == "literal_error":
        return InputError(path, field, value, "use " + message.removeprefix("Input should be "),
                          problem="is not one of the choices;")
    if kind in _TYPE_FIXES:
        problem, fix = _TYPE_FIXES[kind]
        return InputError(path, field, value, fix, problem=problem)
    return InputError(path, field, value, message[0].lower() + message[1:])


def _pick(errors: list[dict]) -> dict:
    """The first error, except that a misspelt key beats the required key it was meant to be."""
    first = errors[0]
    if first["type"] == "missing" and isinstance(first["loc"][-1], str):
        parent, name = first["loc"][:-1], first["loc"][-1]
        for error in errors:
            extra = error["loc"][-1] if error["type"] == "extra_forbidden" else None
            if extra is not None and error["loc"][:-1] == parent and difflib.get_close_matches(str(extra), [name], n=1):
                return error
    return first


def _real_loc(loc: tuple, raw: object) -> tuple:
    """``loc`` without pydantic's union tags (``function-after[...]``), keeping every key the input has."""
    node, real = raw, []
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and -len(node) <= part < len(node):
            node = node[part]
        elif _is_union_tag(part):
            continue
        else:
            node = None
        real.append(part)
    return tuple(real)


def _is_union_tag(part) -> bool:
    return isinstance(part, str) and ("[" in part or part in {"function-after", "lax-or-strict"})


def fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """Names of the fields of the model found by following ``loc`` from ``model``."""
    current: object = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int):
            args = typing.get_args(current)
            current = args[-1] if args else current
        elif isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(part)
            if info is None:
                return []
            current = info.annotation
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation):
    """The model inside ``X | None``, ``list[X]`` or ``Annotated[X, ...]``."""
    while True:
        origin = typing.get_origin(annotation)
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if origin is typing.Annotated:
            annotation = args[0]
        elif origin in (typing.Union, types.UnionType) and len(args) == 1:
            annotation = args[0]
        elif origin is list and args:
            annotation = args[0]
        else:
            return annotation


def _check_dud_priors(profiles: list[DeliveryProfile], path: Path, key: str) -> None:
    """The default dud rate of each profile must be a Beta distribution the kernel can draw from."""
    for i, profile in enumerate(profiles):
        try:
            check_beta(profile.dud_rate.mean, profile.dud_rate.spread)
        except LocatedError as error:
            raise InputError(path, f"{key}[{i}].dud_rate", None, error.fix, problem=error.problem) from None


def read_user_catalog(catalog: Path, scenario: Path) -> dict[str, DeliveryProfile]:
    """The profiles of the catalog file a scenario names, by id, checked as every input is."""
    try:
        found = catalog.is_file()
    except OSError:  # e.g. a name too long for the file system
        found = False
    if not found:
        raise InputError(scenario, "catalog", str(catalog), "check the path to the catalog file", problem="not found:")
    profiles = validate(Catalog, read_toml(catalog, "catalog"), catalog).profile
    _check_dud_priors(profiles, catalog, "profile")
    return {p.id: p for p in profiles}


def resolve_profiles(scenario: Scenario, path: Path) -> dict[str, DeliveryProfile]:
    """Every known profile by id (built-in, catalog file, inline), after checking each strike's profile fits it."""
    catalog = builtin_catalog()
    if scenario.catalog is not None:
        catalog.update(read_user_catalog(scenario.catalog, path))
    _check_dud_priors(scenario.profiles, path, "profiles")
    catalog.update({p.id: p for p in scenario.profiles})
    for i, strike in enumerate(scenario.strikes):
        profile = catalog.get(strike.profile)
        if profile is None:
            close = difflib.get_close_matches(strike.profile, list(catalog), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise InputError(
                path, f"strikes[{i}].profile", strike.profile,
                f"{hint}known profiles: {', '.join(sorted(catalog))} (see `remnant catalog`)", problem="is not a known profile;",
            )
        try:
            check_strike_profile(strike.function_altitude_m, profile)
        except LocatedError as error:
            raise InputError(path, f"strikes[{i}].{format_loc(error.loc)}", error.value, error.fix,
                             problem=error.problem) from None
    return catalog

