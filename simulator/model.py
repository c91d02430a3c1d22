"""The base of every scenario and catalog model: strict, frozen, unknown keys rejected."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """A pydantic model that refuses unknown keys and cannot be changed after validation."""

    model_config = ConfigDict(extra="forbid", frozen=True)
