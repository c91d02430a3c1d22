"""The scenario: one typed, validated object built from a TOML file.

Lengths are in metres and angles in degrees, as the field names say. Paths are relative to
the scenario file. Cross-field rules sit next to the fields they relate.
"""

from __future__ import annotations

import math
from datetime import date

from pydantic import (
    Field,
    FiniteFloat,
    PositiveFloat,
    StrictBool,
    field_validator,
    model_validator,
)

from simulator.config.base import Count, Model, PositiveCount, Probability, ScenarioPath
from simulator.config.clearance import POLICY_NAMES, Clearance
from simulator.config.evidence import Evidence
from simulator.config.profiles import DeliveryProfile
from simulator.config.records import StrikeRecords
from simulator.config.risk import Risk
from simulator.errors import LocatedError

OUTSIDE = "outside"
"""What tables call the land outside the study area (``land_use.outside``): a reserved class key then."""

LAST_YEAR = 9000
"""Time axes end before this year, so that every reporting date is a valid date."""

MAX_CARRIERS = 2**31 - 1
"""Carriers one strike may have: a realization counts its submunitions in int32."""

MAX_WORK_UNIT_M = 100_000.0
"""Largest side of a work unit (m), as of a grid cell."""



class StudyArea(Model):
    """The simulated grid."""

    crs: str | None = Field(
        None, description="projected CRS in metres that keeps distances within 1 % (not Web Mercator), e.g. 'EPSG:32634'; "
        "default: the land-use layer's, or its local UTM zone if the layer's is geographic or distorts distances"
    )
    extent_m: tuple[FiniteFloat, FiniteFloat, FiniteFloat, FiniteFloat] | None = Field(
        None, description="[xmin, ymin, xmax, ymax] in the CRS (m); default: the land-use layer's bounds"
    )
    cell_size_m: PositiveFloat = Field(le=100_000.0, description="side of a square grid cell (m)")

    @field_validator("extent_m")
    @classmethod
    def _ordered(cls, extent):
        if extent is not None and not (extent[0] < extent[2] and extent[1] < extent[3]):
            raise LocatedError((), list(extent), "write it as [xmin, ymin, xmax, ymax], xmin < xmax and ymin < ymax",
                               problem="is not ordered;")
        return extent


class LandUseClass(Model):
    """One land-use class: how it is shown, cleared and what raw values map to it."""

    name: str = Field(description="display name")
    colour: str = Field(pattern=r"^#[0-9a-fA-F]{6}$", description="display colour, '#rrggbb'")
    priority: PositiveCount = Field(description="clearance priority: 1 is released first")
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
    class_field: str | None = Field(
        None, description="attribute holding the class; 'a,b' tries a then b (OSM landuse,natural); or give single_class"
    )
    single_class: str | None = Field(
        None, description="class key every polygon gets, for a layer with no usable attribute (instead of class_field)"
    )
    default_class: str = Field(description="class for unmapped values and (unless outside) for cells no polygon covers")
    outside: StrictBool = Field(
        False, description="true: cells no polygon covers lie outside the study area (no area, work units or risk "
        "there; their remnants counted as outside); false: they get default_class",
    )
    source_crs: str | None = Field(
        None, description="CRS the layer's coordinates are really in, for a layer without CRS or with a wrong one"
    )
    precedence: list[str] | None = Field(
        None, description="class keys, highest first, deciding overlaps; default: by priority"
    )
    classes: dict[str, LandUseClass] = Field(min_length=1, description="class key -> class")

    @model_validator(mode="after")
    def _known_classes(self) -> LandUse:
        known = f"keys of land_use.classes: {', '.join(self.classes)}"
        if (self.class_field is None) == (self.single_class is None):
            raise LocatedError(("class_field",), self.class_field,
                               "give class_field (the attribute holding the class) or single_class (one class for all)",
                               problem="give exactly one of class_field and single_class;")
        for name in ("default_class", "single_class"):
            value = getattr(self, name)
            if value is not None and value not in self.classes:
                raise LocatedError((name,), value, f"use one of the {known}", problem="is not one of the classes;")
        seen: dict[str, str] = {}
        for key, c in self.classes.items():
            for value in c.values or [key]:
                if value in seen and seen[value] != key:
                    raise LocatedError(("classes", key, "values"), value,
                                       f"map each raw value to one class: remove it from {key!r} or {seen[value]!r}",
                                       problem=f"is also a value of class {seen[value]!r};")
                seen[value] = key
        if self.outside and OUTSIDE in self.classes:
            raise LocatedError(("classes", OUTSIDE), None, "rename the class: with outside = true, tables name "
                               f"the land outside the study area {OUTSIDE!r}", problem="is a reserved name;")
        for i, key in enumerate(self.precedence or []):
            if key not in self.classes:
                raise LocatedError(("precedence", i), key, f"use {known}", problem="is not one of the classes;")
        if len(self.classes) > 250:
            raise LocatedError(("classes",), None, "merge classes: at most 250 land-use classes",
                               problem=f"has {len(self.classes)} classes;")
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
        check_beta(self.mean, self.spread)
        return self


MIN_SPREAD = 1e-9
"""Smaller dud-rate spreads are no spread (and their square underflows): give 0 instead."""


def check_beta(mean: float, spread: float) -> None:
    """LocatedError unless a Beta distribution with this mean and SD exists (SD 0: the rate is fixed)."""
    if 0 < spread < MIN_SPREAD:
        raise LocatedError((), None, "set spread = 0 to fix the dud rate at its mean, or use a larger spread",
                           problem=f"spread {spread:g} is too small to draw from;")
    if spread > 0 and spread * spread >= mean * (1 - mean):  # (spread**2 raises OverflowError at 1e200)
        limit = math.sqrt(mean * (1 - mean))
        raise LocatedError(
            (), None,
            f"use a spread below sqrt(mean * (1 - mean)) = {limit:.4g}, the largest a Beta distribution allows",
            problem=f"spread {spread:g} is too large for mean {mean:g};",
        )


class Strike(Model):
    """One attack: carriers of one delivery profile aimed at one point on one date."""

    id: str = Field(min_length=1)
    date: date
    profile: str = Field(description="delivery profile id; see `remnant catalog`")
    aim_point: AimPoint
    carriers: Count = Field(le=MAX_CARRIERS, description="projectiles, rockets or dispensers in the strike")
    azimuth_deg: FiniteFloat = Field(0.0, description="line of fire or flight heading, degrees clockwise from grid north")
    dud_rate: DudRate | None = Field(None, description="default: the profile's")
    function_altitude_m: PositiveFloat | None = Field(None, description="dispensers: opening altitude (m)")


def check_strike_profile(altitude_m: float | None, profile: DeliveryProfile) -> None:
    """LocatedError (at ``function_altitude_m``) unless the altitude suits the strike's profile."""
    if altitude_m is None:
        return
    fba = profile.footprint_by_altitude
    if fba is None:
        raise LocatedError(("function_altitude_m",), altitude_m,
                           f"remove it: profile {profile.id!r} has no footprint_by_altitude")
    low, high = fba.altitude_m
    if not low <= altitude_m <= high:
        raise LocatedError(("function_altitude_m",), altitude_m,
                           f"use an altitude between {low:g} and {high:g} m, the range profile {profile.id!r} covers")


def check_strike_date(day: date, time: TimeAxis) -> None:
    """LocatedError (at ``date``) unless ``day`` lies on the time axis."""
    if not time.start <= day <= time.end:
        raise LocatedError(("date",), day, f"set it between time.start {time.start} and time.end {time.end}",
                           problem="is outside the time axis;")


class Precision(Model):
    """Headline errors to reach: realizations are added, ``simulation.realizations`` at a time, until each
    chosen error is under its target (or ``max_realizations`` is reached, which the summary then says)."""

    suspected_rse: float | None = Field(None, gt=0.0, lt=1.0, description="SHA area: standard error at most this "
                                        "share of it (e.g. 0.01)")
    hazardous_rse: float | None = Field(None, gt=0.0, lt=1.0, description="CHA area: standard error at most this "
                                        "share of it (e.g. 0.01)")
    p_deadline_se: float | None = Field(None, gt=0.0, lt=0.5, description="probability of meeting the deadline: "
                                        "standard error at most this (0.015 = 1.5 percentage points)")
    max_realizations: PositiveCount = Field(20_000, le=10_000_000, description="stop adding realizations here")


class Simulation(Model):
    """The Monte Carlo ensemble."""

    realizations: PositiveCount = Field(200, le=10_000_000, description="realizations of the hazard map, and "
                                        "realizations land release is scored on; with a target, the step they grow by")
    seed: Count = 0
    batch_size: PositiveCount = Field(64, description="realizations per batch (progress and checkpoints; no effect on results)")
    target: Precision | None = Field(None, description="precision targets; see docs/model.md")


class TimeAxis(Model):
    """Reporting steps from start to end."""

    start: date
    end: date
    step_months: PositiveCount = Field(3, le=1200, description="months between reporting steps")

    @model_validator(mode="after")
    def _ordered(self) -> TimeAxis:
        if self.end <= self.start:
            raise LocatedError((), None, f"set time.end after start {self.start}",
                               problem=f"end {self.end} is not after start {self.start};")
        if self.end.year >= LAST_YEAR:  # so that end + step_months stays a date
            raise LocatedError(("end",), self.end, f"use an end date before {LAST_YEAR}-01-01", problem="is too late;")
        return self


class Hazard(Model):
    """What makes land contaminated, suspected (SHA) and hazardous (CHA). See docs/model.md."""

    reference_distance_m: float = Field(
        50.0, ge=0.0, le=5_000.0,
        description="land within this distance (m) of a remnant is contaminated, as survey searches outward from "
        "evidence to a fade-out distance (assumption: one 50 m CMRS box; national standards set their own)",
    )
    threshold: float = Field(
        0.1, gt=0.0, le=1.0,
        description="land whose probability of being contaminated reaches this is confirmed hazardous area (CHA)",
    )
    suspect_threshold: float = Field(
        0.02, gt=0.0, le=1.0,
        description="land whose probability of being contaminated reaches this is suspected hazardous area (SHA), "
        "where land release starts; at most `threshold`",
    )
    min_area_m2: float = Field(
        2_500.0, ge=0.0,
        description="minimum mapping unit: CHA polygons smaller than this (m2) are left out of the polygon layer "
        "(assumption: one 50 x 50 m box)",
    )

    @model_validator(mode="after")
    def _suspect_below_threshold(self) -> Hazard:
        if self.suspect_threshold > self.threshold:
            raise LocatedError(("suspect_threshold",), self.suspect_threshold,
                               f"set it at or below hazard.threshold ({self.threshold:g})",
                               problem="is above the hazard threshold;")
        return self


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
    strikes: list[Strike] = Field(default_factory=list, description="strikes written in the scenario")
    strike_records: StrikeRecords | None = Field(None, description="strikes read from a CSV or vector file")
    simulation: Simulation = Simulation()
    time: TimeAxis
    hazard: Hazard = Hazard()
    clearance: Clearance | None = Field(None, description="land release by survey and clearance; none: contamination only")
    risk: Risk | None = Field(None, description="risk to people: exposure per land-use class; none: no risk figures")
    evidence: Evidence | None = Field(None, description="survey finds, searched and cleared land, strike reports")
    output: Output = Output()

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if not self.strikes and self.strike_records is None:
            raise LocatedError(("strikes",), None, "add [[strikes]] tables or a [strike_records] file",
                               problem="there are no strikes;")
        first: dict[str, int] = {}
        for i, strike in enumerate(self.strikes):
            if strike.id in first:
                raise LocatedError(("strikes", i, "id"), strike.id, "give each strike its own id",
                                   problem=f"is already the id of strikes[{first[strike.id]}];")
            first[strike.id] = i
        for i, strike in enumerate(self.strikes):
            try:
                check_strike_date(strike.date, self.time)
            except LocatedError as error:
                raise LocatedError(("strikes", i, *error.loc), error.value, error.fix, error.problem) from None
        if self.clearance is not None:
            self._check_clearance(self.clearance)
        if self.risk is not None:
            self.risk.check_classes(self.land_use.classes)
        return self

    def _check_clearance(self, clearance: Clearance) -> None:
        classes = self.land_use.classes
        known = ", ".join(classes)
        if clearance.policy not in POLICY_NAMES:
            raise LocatedError(("clearance", "policy"), clearance.policy, f"use one of: {', '.join(POLICY_NAMES)}",
                               problem="is not a known policy;")
        for key in clearance.productivity_by_class:
            if key not in classes:
                raise LocatedError(("clearance", "productivity_by_class", key), None, f"use a land-use class: {known}",
                                   problem="is not a land-use class;")
        if clearance.near_class is not None and clearance.near_class not in classes:
            raise LocatedError(("clearance", "near_class"), clearance.near_class, f"use a land-use class: {known}",
                               problem="is not a land-use class;")
        if clearance.cmrs is not None:
            clearance.cmrs.check(classes, self.study_area.cell_size_m)
        if clearance.work_unit_m > MAX_WORK_UNIT_M:
            raise LocatedError(("clearance", "work_unit_m"), clearance.work_unit_m,
                               f"use work units of at most {MAX_WORK_UNIT_M:g} m", problem="is too large;")
        if not self.time.start <= clearance.start <= self.time.end:
            raise LocatedError(("clearance", "start"), clearance.start,
                               f"set it between time.start {self.time.start} and time.end {self.time.end}",
                               problem="is outside the time axis;")
        if clearance.deadline is not None and clearance.deadline > self.time.end:
            raise LocatedError(("clearance", "deadline"), clearance.deadline,
                               f"set time.end on or after the deadline, so that the run reaches it, or move the deadline "
                               f"before time.end {self.time.end}", problem="is after the time axis ends;")
