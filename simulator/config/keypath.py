"""The one key-path grammar: ``--set``, sweeps, sensitivity ranges and the Python API name
scenario values the same way.

- ``simulation.seed``, ``clearance.detection_probability``, ``strikes[3].dud_rate.mean``: one value;
- ``strikes[*].dud_rate.mean``: every item of a list; ``land_use.classes.*.dud_multiplier``: every
  key of a table;
- ``strikes[id=S07].carriers``, ``strikes[profile=dispenser-202].function_altitude_m``: the items
  of a list whose field has that value;
- ``profile.<id>.delivery_error.range_sd_m`` (or ``profile.*.…`` for every profile the strikes
  use): a value of a delivery profile;
- ``a|b``: several paths that take the same value together.

``key.path=value`` reads the value as TOML, else as a string.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from simulator.errors import InputError

WILDCARD = "*"
PROFILE_PREFIX = "profile."


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
                raise bad_path(text, where)
            inner = text[i + 1 : end].strip()
            if inner == WILDCARD:
                parts.append(AllItems())
            elif "=" in inner:
                key, _, value = inner.partition("=")
                if not key.strip() or not value.strip():
                    raise bad_path(text, where)
                parts.append(Select(key.strip(), value.strip().strip("\"'")))
            else:
                try:
                    parts.append(int(inner))
                except ValueError:
                    raise bad_path(text, where) from None
            i = end + 1
            expect_name = False
        elif ch == ".":
            if expect_name:
                raise bad_path(text, where)
            i += 1
            expect_name = True
        else:
            j = i
            while j < n and text[j] not in ".[":
                j += 1
            name = text[i:j].strip()
            if not name or not expect_name or "]" in name:
                raise bad_path(text, where)
            parts.append(name)
            i = j
            expect_name = False
    if not parts or expect_name:
        raise bad_path(text, where)
    return tuple(parts)


def bad_path(text: str, where: str) -> InputError:
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


@dataclass(frozen=True)
class Setting:
    """Set ``path`` to ``value``, or multiply what is there by ``value`` when ``scale``."""

    path: str
    value: Any
    scale: bool = False


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
