"""Delivery profiles: what one carrier releases, how it scatters, and how often items fail.

The built-in catalog is ``simulator/config/catalog.toml``; scenarios may add profiles inline or
from their own catalog file. Every figure cites a public source or is marked an assumption.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Literal

from pydantic import Field, NonNegativeFloat, PositiveFloat, model_validator

from simulator.config.base import Model, PositiveCount

PROBABLE_ERROR_PER_SD = 0.6745
"""A normal error's probable error (50 % within +-PE) in standard deviations."""

FAMILIES = ("artillery-projectile", "rocket", "air-dropped-dispenser")
"""The delivery families a profile may belong to (see inputs/delivery.py)."""


class Pattern(Model):
    """One carrier's submunition pattern on the ground, axes along and across the azimuth."""

    kind: Literal["uniform-ellipse", "normal", "ring"] = Field(
        description="uniform in an ellipse, bivariate normal truncated at truncate_sd, or uniform in a ring"
    )
    length_m: PositiveFloat | None = Field(None, description="full footprint axis along the azimuth (m)")
    width_m: PositiveFloat | None = Field(None, description="full footprint axis across the azimuth (m)")
    inner_fraction: float = Field(0.0, ge=0.0, lt=1.0, description="ring only: inner radius / outer radius")
    truncate_sd: PositiveFloat = Field(2.5, description="normal only: the footprint axes span +-truncate_sd SD")


class DeliveryError(Model):
    """Normal impact errors of each carrier; give a standard deviation or a probable error."""

    range_sd_m: NonNegativeFloat | None = Field(None, description="SD along the azimuth (range or along track), m")
    range_pe_m: NonNegativeFloat | None = Field(None, description="probable error along the azimuth, m")
    deflection_sd_m: NonNegativeFloat | None = Field(None, description="SD across the azimuth, m")
    deflection_pe_m: NonNegativeFloat | None = Field(None, description="probable error across the azimuth, m")
    aim_sd_m: NonNegativeFloat = Field(0.0, description="SD of an error common to all carriers of a strike, m")

    @model_validator(mode="after")
    def _one_of_sd_or_pe(self) -> DeliveryError:
        for axis in ("range", "deflection"):
            sd, pe = getattr(self, f"{axis}_sd_m"), getattr(self, f"{axis}_pe_m")
            if (sd is None) == (pe is None):
                raise ValueError(f"give exactly one of {axis}_sd_m and {axis}_pe_m")
        return self

    @property
    def range_sd(self) -> float:
        """Standard deviation along the azimuth (m)."""
        return self.range_sd_m if self.range_sd_m is not None else self.range_pe_m / PROBABLE_ERROR_PER_SD

    @property
    def deflection_sd(self) -> float:
        """Standard deviation across the azimuth (m)."""
        if self.deflection_sd_m is not None:
            return self.deflection_sd_m
        return self.deflection_pe_m / PROBABLE_ERROR_PER_SD


class AltitudeFootprint(Model):
    """Footprint size set by function altitude, linear between two published points."""

    altitude_m: tuple[PositiveFloat, PositiveFloat]
    length_m: tuple[PositiveFloat, PositiveFloat]
    width_m: tuple[PositiveFloat, PositiveFloat]
    default_altitude_m: PositiveFloat

    @model_validator(mode="after")
    def _ordered(self) -> AltitudeFootprint:
        low, high = self.altitude_m
        if not low < high:
            raise ValueError("altitude_m must be [low, high] with low < high")
        if not low <= self.default_altitude_m <= high:
            raise ValueError("default_altitude_m must lie within altitude_m")
        return self

    def size_at(self, altitude_m: float) -> tuple[float, float]:
        """(length, width) in metres at ``altitude_m``, linear between the two points."""
        low, high = self.altitude_m
        t = (altitude_m - low) / (high - low)
        return (
            self.length_m[0] + t * (self.length_m[1] - self.length_m[0]),
            self.width_m[0] + t * (self.width_m[1] - self.width_m[0]),
        )


class DudPrior(Model):
    """Default dud rate of a profile, with the published test and field ranges."""

    mean: float = Field(ge=0.0, le=1.0, description="default mean dud probability per submunition")
    spread: NonNegativeFloat = Field(0.0, description="default SD of the per-carrier dud probability")
    test_range: tuple[float, float] | None = Field(None, description="published failure range under test")
    field_range: tuple[float, float] | None = Field(None, description="published failure range in the field")


class DeliveryProfile(Model):
    """A generic carrier type, named by family and payload."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    family: Literal[FAMILIES]
    name: str
    example: str = ""
    submunitions_per_carrier: PositiveCount
    pattern: Pattern
    delivery_error: DeliveryError
    carrier_spacing_m: NonNegativeFloat = Field(0.0, description="spacing of carriers along the azimuth (a stick), m")
    footprint_by_altitude: AltitudeFootprint | None = None
    dud_rate: DudPrior
    sources: dict[str, str] = Field(description="field name -> public source, or 'assumption: ...'")

    @model_validator(mode="after")
    def _sized(self) -> DeliveryProfile:
        has_size = self.pattern.length_m is not None and self.pattern.width_m is not None
        if self.footprint_by_altitude is None and not has_size:
            raise ValueError("give pattern.length_m and pattern.width_m, or footprint_by_altitude")
        if self.footprint_by_altitude is not None and self.family != "air-dropped-dispenser":
            raise ValueError("footprint_by_altitude is for air-dropped dispensers only")
        return self

    def footprint(self, altitude_m: float | None = None) -> tuple[float, float]:
        """Full (length, width) of one carrier's footprint in metres."""
        if self.footprint_by_altitude is not None:
            return self.footprint_by_altitude.size_at(altitude_m or self.footprint_by_altitude.default_altitude_m)
        return (self.pattern.length_m, self.pattern.width_m)


class Catalog(Model):
    """A catalog file: ``[[profile]]`` tables."""

    profile: list[DeliveryProfile]


def builtin_catalog() -> dict[str, DeliveryProfile]:
    """The profiles shipped with remnant, by id."""
    text = resources.files("simulator.config").joinpath("catalog.toml").read_text(encoding="utf-8")
    return {p.id: p for p in Catalog.model_validate(tomllib.loads(text)).profile}
