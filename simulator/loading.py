"""Read a scenario file into a ``Scenario``, or fail with one ``InputError`` line.

Also resolves each strike's delivery profile from the built-in catalog, the scenario's
catalog file and its inline profiles (later ones override earlier ones of the same id).
"""

from __future__ import annotations

import difflib
import tomllib
import types
import typing
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ValidationError

from simulator.errors import InputError
from simulator.profiles import Catalog, DeliveryProfile, builtin_catalog, read_catalog
from simulator.scenario import Scenario, LocatedError


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


def load_scenario(path: str | Path, overrides: list[str] | None = None) -> LoadedScenario:
    """Read, override (``key.path=value`` strings) and validate the scenario at ``path``."""
    path = Path(path)
    raw = read_toml(path, "scenario")
    for override in overrides or []:
        apply_override(raw, override, path)
    scenario = validate(Scenario, raw, path, context={"base_dir": path.parent.resolve()})
    return LoadedScenario(scenario, path, resolve_profiles(scenario, path))


def read_toml(path: Path, what: str) -> dict:
    """The TOML document at ``path`` as a dict, or an ``InputError``."""
    if not path.is_file():
        raise InputError(path, None, None, f"check the path to the {what} file", problem="file not found")
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, None, None, "fix the TOML syntax", problem=f"is not valid TOML ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, None, None, f"give a readable UTF-8 {what} file", problem=f"cannot be read ({exc})") from None


def apply_override(raw: dict, override: str, path: Path) -> None:
    """Set ``a.b[2].c=value`` in ``raw``; the value is parsed as TOML, else taken as a string."""
    key, sep, text = override.partition("=")
    key = key.strip()
    parts = parse_key_path(key) if sep and key else []
    if not parts:
        raise InputError(None, "--set", override, "write --set key.path=value, e.g. --set simulation.realizations=500")
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        value = text
    node = raw
    for depth, part in enumerate(parts):
        here = format_loc(tuple(parts[:depth])) or "the scenario"
        if isinstance(part, int):
            if not isinstance(node, list):
                raise InputError(path, key, override, f"{here} is not a list; drop the [{part}]",
                                 problem="indexes no list;")
            if not -len(node) <= part < len(node):
                raise InputError(path, key, override, "the index is out of range for this scenario",
                                 problem=f"indexes {here}, which has {len(node)} entries;")
        elif not isinstance(node, dict):
            kind = "a list: give an index, e.g. [0]" if isinstance(node, list) else "not a table"
            raise InputError(path, key, override, f"{here} is {kind}", problem="cannot be set;")
        if depth == len(parts) - 1:
            node[part] = value
        elif isinstance(part, int):
            node = node[part]
        else:
            node = node.setdefault(part, [] if isinstance(parts[depth + 1], int) else {})


def parse_key_path(key: str) -> list[str | int]:
    """``strikes[3].dud_rate.mean`` -> ``["strikes", 3, "dud_rate", "mean"]``; InputError if malformed."""
    parts: list[str | int] = []
    for piece in key.split("."):
        name, _, rest = piece.partition("[")
        if name:
            parts.append(name)
        for index in filter(None, rest.replace("]", "").split("[")) if rest else []:
            try:
                parts.append(int(index))
            except ValueError:
                raise InputError(None, "--set", key, "write list indexes as whole numbers, e.g. strikes[0].carriers",
                                 problem=f"has index [{index}], not a number;") from None
    return parts


def format_loc(loc: tuple) -> str:
    """``("strikes", 3, "dud_rate")`` -> ``strikes[3].dud_rate``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def validate(model: type[BaseModel], raw: dict, path: Path, context: dict | None = None):
    """``model`` validated from ``raw``, the first problem raised as an ``InputError``."""
    try:
        return model.model_validate(raw, context=context)
    except ValidationError as exc:
        raise to_input_error(exc, model, raw, path) from None


def to_input_error(exc: ValidationError, model: type[BaseModel], raw: dict, path: Path) -> InputError:
    """The first error of ``exc`` as one line: field, value, fix."""
    error = exc.errors()[0]
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, LocatedError):
        return InputError(path, format_loc(cause.loc), cause.value, cause.fix)
    loc = tuple(part for part in error["loc"] if not _is_union_tag(part))
    field = format_loc(loc) or None
    value = error.get("input")
    kind = error["type"]
    if kind == "extra_forbidden":
        valid = fields_at(model, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), valid, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"valid keys here: {', '.join(valid)}"
        return InputError(path, field, None, f"remove it or fix its name: {hint}", problem="unknown key")
    if kind == "missing":
        return InputError(path, field, None, "add it (see `remnant schema`)", problem="is required")
    if isinstance(value, dict) or isinstance(value, list):
        value = None
    message = error["msg"].removeprefix("Value error, ")
    return InputError(path, field, value, message[0].lower() + message[1:])


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


def resolve_profiles(scenario: Scenario, path: Path) -> dict[str, DeliveryProfile]:
    """The profiles each strike names, checked to exist and fit the strike."""
    catalog = builtin_catalog()
    if scenario.catalog is not None:
        if not scenario.catalog.is_file():
            raise InputError(path, "catalog", str(scenario.catalog), "check the path to the catalog file", problem="not found:")
        try:
            catalog.update(read_catalog(scenario.catalog))
        except ValidationError as exc:
            raise to_input_error(exc, Catalog, {}, scenario.catalog) from None
        except tomllib.TOMLDecodeError as exc:
            raise InputError(scenario.catalog, None, None, "fix the TOML syntax", problem=f"is not valid TOML ({exc})") from None
    catalog.update({p.id: p for p in scenario.profiles})
    used = {}
    for i, strike in enumerate(scenario.strikes):
        profile = catalog.get(strike.profile)
        if profile is None:
            close = difflib.get_close_matches(strike.profile, list(catalog), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise InputError(
                path, f"strikes[{i}].profile", strike.profile,
                f"{hint}known profiles: {', '.join(sorted(catalog))} (see `remnant catalog`)", problem="is not a known profile;",
            )
        if strike.function_altitude_m is not None:
            fba = profile.footprint_by_altitude
            if fba is None:
                raise InputError(
                    path, f"strikes[{i}].function_altitude_m", strike.function_altitude_m,
                    f"remove it: profile {profile.id!r} has no footprint_by_altitude",
                )
            low, high = fba.altitude_m
            if not low <= strike.function_altitude_m <= high:
                raise InputError(
                    path, f"strikes[{i}].function_altitude_m", strike.function_altitude_m,
                    f"use an altitude between {low:g} and {high:g} m, the range profile {profile.id!r} covers",
                )
        used[profile.id] = profile
    return used

