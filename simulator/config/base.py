"""The base of every scenario and catalog model: strict, frozen, unknown keys rejected."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, ValidationInfo


class Model(BaseModel):
    """A pydantic model that refuses unknown keys and cannot be changed after validation."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Count = Annotated[int, Strict(), Field(ge=0)]
"""A whole number >= 0, given as an integer (not ``true`` or ``"6"``)."""

PositiveCount = Annotated[int, Strict(), Field(gt=0)]
"""A whole number >= 1, given as an integer."""


def _relative_to_scenario(path: Path, info: ValidationInfo) -> Path:
    if "\x00" in str(path):
        raise ValueError("a path cannot hold a NUL character; give a file path")
    base = (info.context or {}).get("base_dir")
    return path if path.is_absolute() or base is None else Path(base) / path


ScenarioPath = Annotated[Path, AfterValidator(_relative_to_scenario)]
"""A file path; relative ones are taken from the scenario's folder."""
