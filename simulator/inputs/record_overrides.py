"""Settings on strikes read from a records file (``strike_records.overrides``, written by ``--set``
and studies for ``strikes[...]`` paths), applied to the rows as the file is read."""

from __future__ import annotations

from pathlib import Path

from simulator.config.keypath import ParamPath, Setting, parse_parts
from simulator.config.profiles import DeliveryProfile
from simulator.config.records import RecordOverride
from simulator.config.setter import Setter
from simulator.errors import InputError


class _Catalog:
    """What a ``Setter`` reads of the scenario's profiles, for settings applied to strike records."""

    def __init__(self, profiles: dict[str, DeliveryProfile]):
        self.profiles = profiles

    def catalog(self) -> dict[str, DeliveryProfile]:
        return self.profiles

    def used_profiles(self) -> list[str]:
        return []


def apply_override(override: RecordOverride, raws: list[dict], profiles: dict, path: Path, has_inline: bool) -> None:
    """Apply ``override`` to the records' rows ``raws``; one matching no row (nor a ``[[strikes]]`` table) is refused."""
    where = f"strike_records.overrides ({override.path})"
    setter = Setter(_Catalog(profiles), {"strikes": raws}, where, override.adjust)
    try:
        setter.apply(ParamPath(override.path, parse_parts(override.path, where)),
                     Setting(override.path, override.value, override.scale))
    except InputError as error:
        if not (has_inline and error.problem == "matches nothing;"):
            raise InputError(path, where, override.value, error.fix, error.problem) from None
