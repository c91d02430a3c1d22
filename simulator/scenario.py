"""The scenario: one typed, validated object built from a TOML file.

Lengths are in metres and angles in degrees, as the field names say. Paths are relative to
the scenario file. Cross-field rules sit next to the fields they relate.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Annotated

from pydantic import (
    AfterValidator,
    Field,
    FiniteFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from simulator.clearance import Clearance
from simulator.model import Model
from simulator.policies import POLICIES
from simulator.profiles import DeliveryProfile


def _relative_to_scenario(path: Path, info: ValidationInfo) -> Path:
    base = (info.context or {}).get("base_dir")
    return path if path.is_absolute() or base is None else Path(base) / path


ScenarioPath = Annotated[Path, AfterValidator(_relative_to_scenario)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class StudyArea(Model):
    """The simulated grid."""

    crs: str | None = Field(
        None, description="projected CRS in metres, e.g. 'EPSG:32634'; default: the land-use layer's (UTM if geographic)"
    )
    extent_m: tuple[FiniteFloat, FiniteFloat, FiniteFloat, FiniteFloat] | None = Field(
        None, description="[xmin, ymin, xmax, ymax] in the CRS (m); default: the land-use layer's bounds"
    )
    cell_size_m: PositiveFloat = Field(description="side of a square grid cell (m)")

    @field_validator("extent_m")
    @classmethod
    def _ordered(cls, extent):
        if extent is not None and not (extent[0] < extent[2] and extent[1] < extent[3]):
            raise ValueError("extent_m must be [xmin, ymin, xmax, ymax] with xmin < xmax and ymin < ymax")
        return extent


class LandUseClass(Model):
    """One land-use class: how it is shown, cleared and what raw values map to it."""

    name: str = Field(description="display name")
    colour: str = Field(pattern=r"^#[0-9a-fA-F]{6}$", description="display colour, '#rrggbb'")
    priority: PositiveInt = Field(description="clearance priority: 1 is released first")
    dud_multiplier: float = Field(
        1.0, ge=0.0, description="assumption: factor on the dud rate of items landing here (soft ground, marsh)"
    )
    values: list[str] | None = Field(None, description="raw values of class_field mapped here; default: the key")


class LandUse(Model):
    """The land-use layer and its classes."""

    path: ScenarioPath = Field(description="any vector file GDAL reads (GeoPackage, GeoJSON, Shapefile, OSM PBF...)")
    layer: str | None = Field(
        None, description="layer name; default: the only layer, the only polygon layer, or multipolygons for OSM"
    )
    class_field: str = Field(description="attribute holding the class; 'a,b' tries a then b (OSM landuse,natural)")
    default_class: str = Field(description="class for unmapped values and for cells no polygon covers")
    source_crs: str | None = Field(
        None, description="CRS the layer's coordinates are really in, for a layer without CRS or with a wrong one"
    )
    precedence: list[str] | None = Field(
        None, description="class keys, highest first, deciding overlaps; default: by priority"
    )
    classes: dict[str, LandUseClass] = Field(min_length=1, description="class key -> class")

    @model_validator(mode="after")
    def _known_classes(self) -> LandUse:
        if self.default_class not in self.classes:
            raise ValueError(f"default_class {self.default_class!r} is not one of the classes {sorted(self.classes)}")
        unknown = [key for key in self.precedence or [] if key not in self.classes]
        if unknown:
            raise ValueError(f"precedence names unknown classes {unknown}; use keys of land_use.classes")
        if len(self.classes) > 250:
            raise ValueError("at most 250 land-use classes")
        return self

    def class_map(self) -> dict[str, str]:
        """Raw attribute value -> class key."""
        return {value: key for key, c in self.classes.items() for value in (c.values or [key])}

    def ordered_precedence(self) -> list[str]:
        """Class keys, highest precedence first."""
        if self.precedence:
            rest = [k for k in self.classes if k not in self.precedence]
            return list(self.precedence) + rest
        return sorted(self.classes, key=lambda k: self.classes[k].priority)


class AimPoint(Model):
    """Aim point in the study-area CRS (x, y in m) or in WGS 84 (lon, lat in degrees)."""

    x: FiniteFloat | None = None
    y: FiniteFloat | None = None
    lon: FiniteFloat | None = Field(None, ge=-180.0, le=180.0)
    lat: FiniteFloat | None = Field(None, ge=-90.0, le=90.0)

    @model_validator(mode="after")
    def _one_pair(self) -> AimPoint:
        projected = self.x is not None and self.y is not None
        geographic = self.lon is not None and self.lat is not None
        if projected == geographic or (projected and (self.lon, self.lat) != (None, None)):
            raise ValueError("give either x and y (m) or lon and lat (degrees)")
        return self


class DudRate(Model):
    """Per-submunition dud probability; per carrier it is drawn from a Beta with this mean and SD."""

    mean: Probability = Field(description="mean dud probability")
    spread: float = Field(0.0, ge=0.0, description="SD of the per-carrier dud probability; 0 fixes it at the mean")

    @model_validator(mode="after")
    def _beta_exists(self) -> DudRate:
        if self.spread > 0 and self.spread**2 >= self.mean * (1 - self.mean):
            limit = math.sqrt(self.mean * (1 - self.mean))
            raise ValueError(f"spread must be below sqrt(mean * (1 - mean)) = {limit:.4g} for a Beta distribution")
        return self


class Strike(Model):
    """One attack: carriers of one delivery profile aimed at one point on one date."""

    id: str = Field(min_length=1)
    date: date
    profile: str = Field(description="delivery profile id; see `remnant catalog`")
    aim_point: AimPoint
    carriers: NonNegativeInt = Field(description="projectiles, rockets or dispensers in the strike")
    azimuth_deg: FiniteFloat = Field(0.0, description="line of fire or flight heading, degrees clockwise from grid north")
    dud_rate: DudRate | None = Field(None, description="default: the profile's")
    function_altitude_m: PositiveFloat | None = Field(None, description="dispensers: opening altitude (m)")


class Simulation(Model):
    """The Monte Carlo ensemble."""

    realizations: PositiveInt = Field(200, le=10_000_000)
    seed: NonNegativeInt = 0
    batch_size: PositiveInt = Field(64, description="realizations per batch (progress and checkpoints; no effect on results)")


class TimeAxis(Model):
    """Reporting steps from start to end."""

    start: date
    end: date
    step_months: PositiveInt = 3

    @model_validator(mode="after")
    def _ordered(self) -> TimeAxis:
        if self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start}")
        return self


class Hazard(Model):
    """When a cell counts as hazardous."""

    threshold: float = Field(0.1, gt=0.0, le=1.0, description="probability of at least one remnant in a cell")


class Output(Model):
    """Where results go."""

    directory: ScenarioPath | None = Field(None, description="default: outputs/<name> in the current folder")


class Scenario(Model):
    """Everything one run needs."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="short name, used for the output folder")
    description: str = ""
    study_area: StudyArea
    land_use: LandUse
    catalog: ScenarioPath | None = Field(None, description="extra catalog file of delivery profiles")
    profiles: list[DeliveryProfile] = Field(default_factory=list, description="profiles defined inline")
    strikes: list[Strike] = Field(min_length=1)
    simulation: Simulation = Simulation()
    time: TimeAxis
    hazard: Hazard = Hazard()
    clearance: Clearance | None = Field(None, description="land release by survey and clearance; none: contamination only")
    output: Output = Output()

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        ids = [s.id for s in self.strikes]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"strike ids must be unique; repeated: {duplicates}")
        for i, strike in enumerate(self.strikes):
            if not self.time.start <= strike.date <= self.time.end:
                raise LocatedError(("strikes", i, "date"), strike.date,
                                   f"set it between time.start {self.time.start} and time.end {self.time.end}")
        if self.clearance is not None:
            self._check_clearance(self.clearance)
        return self

    def _check_clearance(self, clearance: Clearance) -> None:
        classes = self.land_use.classes
        known = ", ".join(classes)
        if clearance.policy not in POLICIES:
            raise LocatedError(("clearance", "policy"), clearance.policy, f"use one of: {', '.join(POLICIES)}")
        for key in clearance.productivity_by_class:
            if key not in classes:
                raise LocatedError(("clearance", "productivity_by_class", key), None, f"use a land-use class: {known}")
        if clearance.near_class is not None and clearance.near_class not in classes:
            raise LocatedError(("clearance", "near_class"), clearance.near_class, f"use a land-use class: {known}")
        if clearance.suspect_threshold > self.hazard.threshold:
            raise LocatedError(("clearance", "suspect_threshold"), clearance.suspect_threshold,
                               f"set it at or below hazard.threshold ({self.hazard.threshold:g})")
        if not self.time.start <= clearance.start <= self.time.end:
            raise LocatedError(("clearance", "start"), clearance.start, "set it between time.start and time.end")


class LocatedError(ValueError):
    """A cross-field error located at one field: its path, the value and the fix."""

    def __init__(self, loc: tuple, value: object, fix: str):
        self.loc = loc
        self.value = value
        self.fix = fix
        super().__init__(fix)

