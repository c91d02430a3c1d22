"""The base of every scenario and catalog model: strict, frozen, unknown keys rejected."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict


class Model(BaseModel):
    """A pydantic model that refuses unknown keys and cannot be changed after validation."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Count = Annotated[int, Strict(), Field(ge=0)]
"""A whole number >= 0, given as an integer (not ``true`` or ``"6"``)."""

PositiveCount = Annotated[int, Strict(), Field(gt=0)]
"""A whole number >= 1, given as an integer."""
