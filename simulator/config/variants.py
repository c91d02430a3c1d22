"""Scenario variants: a scenario file with values changed by key path (``simulator.config.keypath``).

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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.config.keypath import (
    PROFILE_PREFIX,
    WILDCARD,
    AllItems,
    ParamPath,
    Part,
    Select,
    Setting,
    bad_path,
    format_parts,
    parse_override,
    parse_parts,
)
from simulator.config.loading import LoadedScenario, fields_at, read_toml, read_user_catalog, resolve_profiles, validate
from simulator.config.profiles import DeliveryProfile, builtin_catalog
from simulator.config.scenario import Scenario
from simulator.config.setter import Setter
from simulator.errors import InputError


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
@dataclass
class Variant:
    """A changed scenario, validated, with notes on values the change adjusted (capped spreads)."""

    loaded: LoadedScenario
    notes: list[str] = field(default_factory=list)


class Variants:
    """A scenario file read once, from which changed copies are made by parameter path."""

    def __init__(self, path: str | Path, raw: dict, adjust: bool = True):
        self.path = Path(path)
        self.raw = raw
        self.adjust = adjust
        self._catalog: dict[str, DeliveryProfile] | None = None

    @classmethod
    def read(cls, path: str | Path, overrides: Sequence[str] = (), where: str = "--set",
             adjust: bool = True) -> Variants:
        """Read the scenario at ``path`` and apply ``key.path=value`` overrides (``simulator.config.keypath``)."""
        variants = cls(path, read_toml(Path(path), "scenario"), adjust)
        if overrides:
            raw, _ = variants.raw_with([parse_override(o, where) for o in overrides], where=where)
            variants = cls(path, raw, adjust)
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
            raise bad_path(text, where)
        return [self.parse(piece, where) for piece in pieces]

    def get(self, text: str, where: str = "--param") -> dict[str, Any]:
        """The values a path names now, by concrete path (missing values filled as a change would)."""
        raw = copy.deepcopy(self.raw)
        found: dict[str, Any] = {}
        writer = Setter(self, raw, where, self.adjust)
        for path in self.check(text, where):
            writer.apply(path, None, read_only=found)
        return found

    def raw_with(self, settings: Sequence[Setting], where: str = "--param") -> tuple[dict, list[str]]:
        """A copy of the raw scenario with ``settings`` applied in order, and notes on adjustments."""
        raw = copy.deepcopy(self.raw)
        writer = Setter(self, raw, where, self.adjust)
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
        return Variants(self.path, raw, self.adjust)


def load_scenario(path: str | Path, overrides: Sequence[str] = ()) -> LoadedScenario:
    """Read the scenario at ``path``, apply ``key.path=value`` overrides (``--set``: values are set
    as given, never adjusted) and validate it, or raise one ``InputError``."""
    return Variants.read(path, overrides, adjust=False).variant(where="--set").loaded
