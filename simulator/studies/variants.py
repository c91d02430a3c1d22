"""Scenario variants for studies: set values by key path, run them, reduce each run to metrics.

Sweeps, sensitivity analyses and the notebook API all change a scenario the same way: a
**parameter path** names one or more values of the scenario file, and a variant is the
scenario with new values there. Paths extend the ``--set key.path=value`` syntax of
``remnant run``:

- ``simulation.seed``, ``clearance.detection_probability``, ``strikes[3].dud_rate.mean``:
  one value, as with ``--set``;
- ``strikes[*].dud_rate.mean``: every item of a list; ``land_use.classes.*.dud_multiplier``:
  every key of a table;
- ``strikes[id=S07].carriers``, ``strikes[profile=dispenser-202].function_altitude_m``:
  the items of a list whose field has that value;
- ``profile.<id>.delivery_error.range_sd_m`` (or ``profile.*.…`` for every profile the
  strikes use): a value of a delivery profile. A catalog profile is first copied into the
  scenario's inline ``profiles``, so the change stays inside this scenario;
- ``a|b``: several paths that take the same value together (e.g. a pattern's length and
  width, scaled as one "pattern size").

A value is set as given, or, with ``scale``, as a factor on the value already there.
Missing values are filled from what the model would use: a strike without ``dud_rate``
gets its profile's default; ``function_altitude_m`` defaults to the profile's; a standard
deviation replaces a probable error (``range_sd_m`` for ``range_pe_m``). When a dud-rate
mean is set (a strike's or a profile's default), the spread is capped at half of
``sqrt(mean (1 - mean))`` so that the Beta distribution stays valid and well shaped; each
cap is reported in the variant's notes.

Random numbers: every variant keeps the scenario's seed, so realization ``r`` of every
variant starts each strike from the same random stream (common random numbers), and
differences between variants are mostly the effect of the change, not noise.
"""

from __future__ import annotations

import copy
import difflib
import math
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simulator.errors import InputError
from simulator.config.loading import LoadedScenario, fields_at, read_toml, read_user_catalog, resolve_profiles, validate
from simulator.config.profiles import PROBABLE_ERROR_PER_SD, DeliveryProfile, builtin_catalog
from simulator.config.scenario import Scenario

WILDCARD = "*"
PROFILE_PREFIX = "profile."
SPREAD_CAP = 0.5
"""A swept dud-rate mean caps the spread at this fraction of sqrt(mean (1 - mean))."""


# --------------------------------------------------------------------------------- paths
@dataclass(frozen=True)
class Select:
    """``[field=value]``: the items of a list whose ``field`` equals ``value``."""

    field: str
    value: str


@dataclass(frozen=True)
class AllItems:
    """``[*]``: every item of a list."""


Part = str | int | Select | AllItems


@dataclass(frozen=True)
class ParamPath:
    """A parsed parameter path: ``profile`` is None for a scenario path, else a profile id or ``*``."""

    text: str
    parts: tuple[Part, ...]
    profile: str | None = None


def parse_parts(text: str, where: str = "--param") -> tuple[Part, ...]:
    """``strikes[*].dud_rate.mean`` -> ``("strikes", AllItems(), "dud_rate", "mean")``."""
    parts: list[Part] = []
    i, n = 0, len(text)
    expect_name = True
    while i < n:
        ch = text[i]
        if ch == "[":
            end = text.find("]", i)
            if end < 0 or not parts:
                raise _bad_path(text, where)
            inner = text[i + 1 : end].strip()
            if inner == WILDCARD:
                parts.append(AllItems())
            elif "=" in inner:
                key, _, value = inner.partition("=")
                if not key.strip() or not value.strip():
                    raise _bad_path(text, where)
                parts.append(Select(key.strip(), value.strip().strip("\"'")))
            else:
                try:
                    parts.append(int(inner))
                except ValueError:
                    raise _bad_path(text, where) from None
            i = end + 1
            expect_name = False
        elif ch == ".":
            if expect_name:
                raise _bad_path(text, where)
            i += 1
            expect_name = True
        else:
            j = i
            while j < n and text[j] not in ".[":
                j += 1
            name = text[i:j].strip()
            if not name or not expect_name or "]" in name:
                raise _bad_path(text, where)
            parts.append(name)
            i = j
            expect_name = False
    if not parts or expect_name:
        raise _bad_path(text, where)
    return tuple(parts)


def _bad_path(text: str, where: str) -> InputError:
    return InputError(
        None, where, text,
        "write a key path such as strikes[*].dud_rate.mean, strikes[3].carriers, strikes[id=S07].azimuth_deg "
        "or profile.rocket-227mm-644.delivery_error.range_sd_m",
        problem="is not a valid key path;",
    )


def format_parts(parts: Iterable[Part]) -> str:
    """The inverse of ``parse_parts``."""
    text = ""
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        elif isinstance(part, AllItems):
            text += "[*]"
        elif isinstance(part, Select):
            text += f"[{part.field}={part.value}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _schema_loc(parts: Sequence[Part]) -> tuple:
    return tuple(0 if isinstance(p, (int, AllItems, Select)) else p for p in parts)


def check_schema(parts: Sequence[Part], model: type, text: str, where: str, prefix: str = "") -> None:
    """Raise an ``InputError`` with the nearest valid key when a key of ``parts`` is not in the schema."""
    for i, part in enumerate(parts):
        if isinstance(part, str) and part != WILDCARD:
            name, loc, at = part, _schema_loc(parts[:i]), format_parts(parts[:i])
        elif isinstance(part, Select):
            name, loc, at = part.field, _schema_loc(parts[:i]) + (0,), format_parts(parts[:i]) + "[]"
        else:
            continue
        valid = fields_at(model, loc)
        if valid and name not in valid:
            raise _unknown_key(text, where, name, valid, prefix + at)


def _unknown_key(text: str, where: str, name: str, valid: list[str], at: str) -> InputError:
    close = difflib.get_close_matches(name, valid, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"valid keys here: {', '.join(valid)}"
    at = at.rstrip(".")
    place = f" under {at}" if at else ""
    return InputError(None, where, text, hint, problem=f"has no key {name!r}{place};")


# ------------------------------------------------------------------------------ variants
@dataclass(frozen=True)
class Setting:
    """Set ``path`` to ``value``, or multiply what is there by ``value`` when ``scale``."""

    path: str
    value: Any
    scale: bool = False


@dataclass
class Variant:
    """A changed scenario, validated, with notes on values the change adjusted (capped spreads)."""

    loaded: LoadedScenario
    notes: list[str] = field(default_factory=list)


class Variants:
    """A scenario file read once, from which changed copies are made by parameter path."""

    def __init__(self, path: str | Path, raw: dict):
        self.path = Path(path)
        self.raw = raw
        self._catalog: dict[str, DeliveryProfile] | None = None

    @classmethod
    def read(cls, path: str | Path, overrides: Sequence[str] = (), where: str = "--set") -> Variants:
        """Read the scenario at ``path`` and apply ``key.path=value`` overrides (paths as in this module)."""
        variants = cls(path, read_toml(Path(path), "scenario"))
        if overrides:
            raw, _ = variants.raw_with([parse_override(o, where) for o in overrides], where=where)
            variants = cls(path, raw)
        return variants

    # --- profiles
    def catalog(self) -> dict[str, DeliveryProfile]:
        """Profiles known to this scenario by id: built-in, its catalog file, then inline (as validated)."""
        if self._catalog is None:
            catalog = builtin_catalog()
            extra = self.raw.get("catalog")
            if isinstance(extra, str):
                file = Path(extra) if Path(extra).is_absolute() else self.path.parent / extra
                catalog.update(read_user_catalog(file, self.path))
            for entry in self.raw.get("profiles") or []:
                try:
                    profile = DeliveryProfile.model_validate(entry)
                except Exception:
                    continue
                catalog[profile.id] = profile
            self._catalog = catalog
        return self._catalog

    def used_profiles(self) -> list[str]:
        """Profile ids the strikes name, in order of first use."""
        ids: list[str] = []
        for strike in self.raw.get("strikes") or []:
            pid = strike.get("profile") if isinstance(strike, dict) else None
            if isinstance(pid, str) and pid not in ids:
                ids.append(pid)
        return ids

    # --- paths
    def parse(self, text: str, where: str = "--param") -> ParamPath:
        """Parse and check ``text`` against the scenario schema (unknown keys get the nearest valid one)."""
        text = text.strip()
        if text.startswith(PROFILE_PREFIX):
            rest = text[len(PROFILE_PREFIX):]
            if rest.startswith(WILDCARD + "."):
                pid, tail = WILDCARD, rest[2:]
            else:
                known = sorted(self.catalog(), key=len, reverse=True)
                pid = next((k for k in known if rest.startswith(k + ".")), None)
                if pid is None and rest in self.catalog():
                    raise InputError(None, where, text,
                                     f"add the key to change, e.g. profile.{rest}.delivery_error.range_sd_m",
                                     problem="names a profile but no key in it;")
                if pid is None:
                    head = rest.split(".", 1)[0]
                    close = difflib.get_close_matches(head, list(self.catalog()), n=1)
                    hint = f"did you mean {close[0]!r}? " if close else ""
                    known_ids = ", ".join(sorted(self.catalog()))
                    raise InputError(None, where, text,
                                     f"{hint}write profile.<id>.<key> or profile.*.<key>; known profiles: {known_ids}",
                                     problem="names no known profile;")
                tail = rest[len(pid) + 1:]
            parts = parse_parts(tail, where)
            check_schema(parts, DeliveryProfile, text, where, prefix=f"profile.{pid}.")
            return ParamPath(text, parts, pid)
        parts = parse_parts(text, where)
        check_schema(parts, Scenario, text, where)
        return ParamPath(text, parts)

    def check(self, text: str, where: str = "--param") -> list[ParamPath]:
        """Parse ``text``: one path, or several joined by ``|`` that take the same value together."""
        pieces = [piece for piece in text.split("|")]
        if any(not piece.strip() for piece in pieces):
            raise _bad_path(text, where)
        return [self.parse(piece, where) for piece in pieces]

    def get(self, text: str, where: str = "--param") -> dict[str, Any]:
        """The values a path names now, by concrete path (missing values filled as a change would)."""
        raw = copy.deepcopy(self.raw)
        found: dict[str, Any] = {}
        writer = _Writer(self, raw, where)
        for path in self.check(text, where):
            writer.apply(path, None, read_only=found)
        return found

    def raw_with(self, settings: Sequence[Setting], where: str = "--param") -> tuple[dict, list[str]]:
        """A copy of the raw scenario with ``settings`` applied in order, and notes on adjustments."""
        raw = copy.deepcopy(self.raw)
        writer = _Writer(self, raw, where)
        for setting in settings:
            for path in self.check(setting.path, where):
                writer.apply(path, setting)
        return raw, writer.notes

    def variant(self, settings: Sequence[Setting] = (), where: str = "--param") -> Variant:
        """The validated scenario with ``settings`` applied (bad values raise the loader's ``InputError``)."""
        raw, notes = self.raw_with(settings, where)
        scenario = validate(Scenario, raw, self.path, context={"base_dir": self.path.parent.resolve()})
        return Variant(LoadedScenario(scenario, self.path, resolve_profiles(scenario, self.path)), notes)

    def derive(self, settings: Sequence[Setting], where: str = "--param") -> Variants:
        """New ``Variants`` whose base has ``settings`` applied."""
        raw, _ = self.raw_with(settings, where)
        return Variants(self.path, raw)


def parse_override(text: str, where: str = "--set") -> Setting:
    """``key.path=value`` -> ``Setting``; the value is read as TOML, else kept as a string.

    The key ends at the first ``=`` outside brackets, so ``strikes[id=S07].carriers=4`` works.
    """
    depth, cut = 0, -1
    for i, ch in enumerate(text):
        depth += (ch == "[") - (ch == "]")
        if ch == "=" and depth == 0:
            cut = i
            break
    key, value_text = (text[:cut], text[cut + 1:]) if cut >= 0 else (text, "")
    if cut < 0 or not key.strip():
        raise InputError(None, where, text, "write key.path=value, e.g. strikes[*].dud_rate.mean=0.2")
    try:
        value = tomllib.loads(f"v = {value_text}")["v"]
    except tomllib.TOMLDecodeError:
        value = value_text.strip()
    return Setting(key.strip(), value)


class _Writer:
    """Applies settings to a raw scenario dict, filling defaults the model would use."""

    def __init__(self, variants: Variants, raw: dict, where: str):
        self.variants = variants
        self.raw = raw
        self.where = where
        self.notes: list[str] = []

    def apply(self, path: ParamPath, setting: Setting | None, read_only: dict | None = None) -> None:
        if path.profile is None:
            roots = [((), self.raw)]
        else:
            ids = self.variants.used_profiles() if path.profile == WILDCARD else [path.profile]
            if not ids and self.raw.get("strike_records") is not None:
                raise InputError(None, self.where, path.text, "name the profile instead: profile.<id>.<key>",
                                 problem="profile.* means the profiles of [[strikes]] tables, and this scenario "
                                         "reads its strikes from [strike_records];")
            roots = [(("profile", pid), self._inline_profile(pid, path)) for pid in ids]
        count = 0
        for prefix, root in roots:
            for container, key, trail in self._walk(root, path.parts, prefix, path.text):
                count += 1
                self._set(container, key, trail, setting, path.text, read_only)
        if count == 0:
            self._no_inline_strikes(path)
            raise InputError(None, self.where, path.text, "check the selector: no scenario item matches it",
                             problem="matches nothing;")

    def _no_inline_strikes(self, path: ParamPath) -> None:
        """Explain that strikes read from ``[strike_records]`` cannot be reached by ``strikes[...]`` paths."""
        if path.profile is None and path.parts[0] == "strikes" and not self.raw.get("strikes") \
                and self.raw.get("strike_records") is not None:
            raise InputError(None, self.where, path.text,
                             "change the records file's columns instead (e.g. dud_mean), or write [[strikes]] tables",
                             problem="reaches only [[strikes]] tables, and this scenario reads its strikes from "
                                     "[strike_records];")

    # --- profiles
    def _inline_profile(self, pid: str, path: ParamPath) -> dict:
        profiles = self.raw.setdefault("profiles", [])
        for entry in profiles:
            if isinstance(entry, dict) and entry.get("id") == pid:
                target = entry
                break
        else:
            profile = self.variants.catalog().get(pid)
            if profile is None:  # only for ``profile.*`` with an unknown id: the loader names it
                raise InputError(None, self.where, path.text, "fix the strike's profile first",
                                 problem=f"profile {pid!r} is unknown;")
            target = profile.model_dump(mode="json", exclude_none=True)
            profiles.append(target)
        head = [p for p in path.parts[:2] if isinstance(p, str)]
        sized = head[:1] == ["pattern"] and head[1:2] and head[1] in ("length_m", "width_m")
        if sized and target.get("footprint_by_altitude"):
            raise InputError(
                None, self.where, path.text,
                f"vary strikes[profile={pid}].function_altitude_m or "
                f"profile.{pid}.footprint_by_altitude.{head[1]}[0] and [1]",
                problem=f"has no effect: profile {pid!r} takes its footprint from footprint_by_altitude;",
            )
        return target

    def _profile_of(self, strike: dict) -> DeliveryProfile | None:
        return self.variants.catalog().get(strike.get("profile")) if isinstance(strike, dict) else None

    # --- walking
    def _walk(self, node: Any, parts: Sequence[Part], trail: tuple, text: str):
        """Yield (container, key, concrete trail) for each value ``parts`` names below ``node``."""
        head, rest = parts[0], parts[1:]
        if isinstance(head, (AllItems, Select)) or (isinstance(head, int) and not isinstance(head, bool)):
            if not isinstance(node, list):
                raise InputError(None, self.where, text, f"remove the index after {format_parts(trail) or 'the root'}",
                                 problem=f"indexes {format_parts(trail)}, which is not a list;")
            if isinstance(head, int):
                if not -len(node) <= head < len(node):
                    raise InputError(None, self.where, text, f"use an index from 0 to {len(node) - 1}",
                                     problem=f"index {head} is out of range;")
                indices = [head % len(node)]
            elif isinstance(head, AllItems):
                indices = list(range(len(node)))
            else:
                indices = [i for i, item in enumerate(node)
                           if isinstance(item, dict) and str(item.get(head.field)) == head.value]
            for i in indices:
                if rest:
                    yield from self._walk(self._child(node, i, rest, trail + (i,), text), rest, trail + (i,), text)
                else:
                    yield node, i, trail + (i,)
            return
        if not isinstance(node, dict):
            raise InputError(None, self.where, text, "end the path at a value; it cannot go further",
                             problem=f"{format_parts(trail)} is a value, not a table;")
        keys = list(node) if head == WILDCARD else [head]
        for key in keys:
            if rest:
                yield from self._walk(self._child(node, key, rest, trail + (key,), text), rest, trail + (key,), text)
            else:
                yield node, key, trail + (key,)

    def _child(self, node: dict | list, key: Any, rest: Sequence[Part], trail: tuple, text: str) -> Any:
        if isinstance(node, list):
            return node[key]
        if key not in node or node[key] is None:
            if trail == ("clearance",):
                raise InputError(None, self.where, text,
                                 "add a [clearance] table to the scenario first (see docs/model.md)",
                                 problem="acts on land release, but the scenario has no [clearance];")
            default = self._default_table(trail)
            if default is not None:
                node[key] = default
            elif isinstance(rest[0], str):
                node[key] = {}
            else:
                self._no_inline_strikes(ParamPath(text, (key,)))
                raise InputError(None, self.where, text, "give the list in the scenario first",
                                 problem=f"{format_parts(trail)} has no items;")
        return node[key]

    def _default_table(self, trail: tuple) -> dict | None:
        """The table the model uses when ``trail`` is missing: a strike's dud rate is its profile's."""
        if len(trail) == 3 and trail[0] == "strikes" and trail[2] == "dud_rate":
            profile = self._profile_of(self.raw["strikes"][trail[1]])
            if profile is not None:
                return {"mean": profile.dud_rate.mean, "spread": profile.dud_rate.spread}
        return None

    def _default_value(self, container: dict | list, key: Any, trail: tuple) -> Any:
        """The value the model uses when ``trail`` is missing (for scaling and reading)."""
        if isinstance(container, list):
            return container[key]
        if key in container and container[key] is not None:
            return container[key]
        if len(trail) == 3 and trail[0] == "strikes" and key == "function_altitude_m":
            profile = self._profile_of(self.raw["strikes"][trail[1]])
            if profile is not None and profile.footprint_by_altitude is not None:
                return profile.footprint_by_altitude.default_altitude_m
        if isinstance(key, str) and key.endswith("_sd_m") and "delivery_error" in trail:
            pe = container.get(key.replace("_sd_m", "_pe_m"))
            if pe is not None:
                return pe / PROBABLE_ERROR_PER_SD
        if isinstance(key, str) and key.endswith("_pe_m") and "delivery_error" in trail:
            sd = container.get(key.replace("_pe_m", "_sd_m"))
            if sd is not None:
                return sd * PROBABLE_ERROR_PER_SD
        return None

    def _set(self, container, key, trail: tuple, setting: Setting | None, text: str, read_only: dict | None) -> None:
        concrete = format_parts(trail)
        current = self._default_value(container, key, trail)
        if read_only is not None:
            read_only[concrete] = current
            return
        value = setting.value
        if setting.scale:
            if not _is_number(current):
                raise InputError(None, self.where, text, "set a value instead of scaling one",
                                 problem=f"cannot scale {concrete}: it has no numeric value;")
            value = current * value
        if _is_int(current) and _is_number(value) and not _is_int(value):
            value = int(round(value))
        elif isinstance(value, np.generic):
            value = value.item()
        container[key] = value
        if isinstance(container, dict) and isinstance(key, str) and "delivery_error" in trail:
            for a, b in (("_sd_m", "_pe_m"), ("_pe_m", "_sd_m")):
                if key.endswith(a):
                    container.pop(key.replace(a, b), None)
        dud_mean = key == "mean" and len(trail) >= 2 and trail[-2] == "dud_rate" and trail[0] in ("strikes", "profile")
        if dud_mean and _is_number(value):
            self._cap_spread(container, concrete)

    def _cap_spread(self, dud: dict, concrete: str) -> None:
        mean = float(dud["mean"])
        spread = dud.get("spread")
        if not _is_number(spread) or spread <= 0 or not 0.0 <= mean <= 1.0:
            return
        cap = SPREAD_CAP * math.sqrt(mean * (1.0 - mean))
        if cap < 1e-9:  # a spread this small is no spread (the scenario model refuses it): fix the rate
            cap = 0.0
        if spread > cap * (1.0 + 1e-9):
            dud["spread"] = cap
            where = concrete.removesuffix(".mean")
            self.notes.append(f"{where}.spread capped from {spread:.4g} to {cap:.4g} at mean {mean:.4g}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)
