"""Setting values in a raw scenario by key path, filling the defaults the model would use (a
strike's dud rate from its profile, a standard deviation for a probable error) and, in studies,
rounding whole numbers and capping a dud-rate spread the new mean makes infeasible."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from simulator.config.keypath import WILDCARD, AllItems, ParamPath, Part, Select, Setting, format_parts
from simulator.config.profiles import PROBABLE_ERROR_PER_SD, DeliveryProfile
from simulator.errors import InputError

SPREAD_CAP = 0.5
"""A swept dud-rate mean caps the spread at this fraction of sqrt(mean (1 - mean))."""


class Setter:
    """Applies settings to a raw scenario dict ``raw`` of ``variants`` (whose ``catalog()`` and
    ``used_profiles()`` it reads), filling defaults the model would use; ``adjust`` (studies) rounds
    a value set on a whole number and caps a dud-rate spread that a new mean makes infeasible, with
    a note; without it (``--set``) values are set as given, for the model to accept or refuse."""

    def __init__(self, variants, raw: dict, where: str, adjust: bool = True):
        self.variants = variants
        self.raw = raw
        self.where = where
        self.adjust = adjust
        self.notes: list[str] = []

    def apply(self, path: ParamPath, setting: Setting | None, read_only: dict | None = None) -> None:
        if self._reaches_records(path):
            self._override_records(path, setting, read_only)
            return
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

    def _reaches_records(self, path: ParamPath) -> bool:
        """Whether ``path`` selects strikes (by id, field or ``*``) of a scenario that reads strike records."""
        return (path.profile is None and path.parts[0] == "strikes" and len(path.parts) > 1
                and isinstance(path.parts[1], (AllItems, Select)) and isinstance(self.raw.get("strike_records"), dict))

    def _override_records(self, path: ParamPath, setting: Setting | None, read_only: dict | None) -> None:
        """Set ``path`` on the matching ``[[strikes]]`` tables and record it for the strike records, whose rows
        are only known when the file is read (``strike_records.overrides``)."""
        if read_only is not None:
            raise InputError(None, self.where, path.text, "give values rather than factors or ranges read from them",
                             problem="reads values of strike records, which are only known when the run reads "
                                     "the file;")
        for container, key, trail in self._walk(self.raw.get("strikes") or [], path.parts[1:], ("strikes",), path.text):
            self._set(container, key, trail, setting, path.text, None)
        value = setting.value.item() if isinstance(setting.value, np.generic) else setting.value
        self.raw["strike_records"].setdefault("overrides", []).append(
            {"path": format_parts(path.parts), "value": value, "scale": setting.scale, "adjust": self.adjust})

    def _no_inline_strikes(self, path: ParamPath) -> None:
        """Explain that a strike's index reaches only ``[[strikes]]`` tables, not strikes read from records."""
        if path.profile is None and path.parts[0] == "strikes" and not self.raw.get("strikes") \
                and self.raw.get("strike_records") is not None:
            raise InputError(None, self.where, path.text, "select records by id or field instead, e.g. "
                             "strikes[id=R1].carriers or strikes[*].dud_rate.mean",
                             problem="counts [[strikes]] tables, and this scenario reads its strikes from "
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
        if isinstance(node, list):
            at = format_parts(trail)
            raise InputError(None, self.where, text, f"give an index, e.g. {at}[0], or {at}[*] for every item",
                             problem=f"{at} is a list;")
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
        if self.adjust and _is_int(current) and _is_number(value) and not _is_int(value) and math.isfinite(value):
            value = int(round(value))
        elif isinstance(value, np.generic):
            value = value.item()
        container[key] = value
        if isinstance(container, dict) and isinstance(key, str) and "delivery_error" in trail:
            for a, b in (("_sd_m", "_pe_m"), ("_pe_m", "_sd_m")):
                if key.endswith(a):
                    container.pop(key.replace(a, b), None)
        dud_mean = key == "mean" and len(trail) >= 2 and trail[-2] == "dud_rate" and trail[0] in ("strikes", "profile")
        if dud_mean and _is_number(value) and self.adjust:
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
