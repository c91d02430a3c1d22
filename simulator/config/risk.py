"""The risk part of a scenario: who uses each class of land, how remnants are reached, and QA at handover.

Every default is an assumption (no public figure fixes it) unless its description names a
source; ``docs/model.md`` section 4 states the model and the figures it rests on.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, NonNegativeFloat, PositiveFloat, model_validator

from simulator.config.base import Model, ScenarioPath
from simulator.errors import LocatedError

Share = Annotated[float, Field(ge=0.0, le=1.0)]


class DetonationProbability(Model):
    """P(an item goes off | it is contacted), drawn once per realization.

    Default Uniform(0, 1): expert elicitation could not tell it from Uniform(0, 1) in 3 of 6
    scenarios (MacDonald et al., Risk Analysis 28:825, 2008).
    """

    distribution: Literal["uniform", "beta"] = Field(
        "uniform", description="'uniform' (low, high) or 'beta' (alpha, beta)")
    low: Share = Field(0.0, description="uniform: lower bound")
    high: Share = Field(1.0, description="uniform: upper bound")
    alpha: PositiveFloat | None = Field(None, description="beta: first shape parameter")
    beta: PositiveFloat | None = Field(None, description="beta: second shape parameter")

    @model_validator(mode="after")
    def _complete(self) -> DetonationProbability:
        if self.distribution == "uniform" and self.low > self.high:
            raise LocatedError(("low",), self.low, f"set low at or below high ({self.high:g})",
                               problem="is above high;")
        if self.distribution == "beta" and (self.alpha is None or self.beta is None):
            raise LocatedError(("alpha" if self.alpha is None else "beta",), None,
                               "give both alpha and beta for distribution = 'beta'", problem="is missing;")
        return self

    def mean(self) -> float:
        if self.distribution == "beta":
            return self.alpha / (self.alpha + self.beta)
        return 0.5 * (self.low + self.high)

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` draws, one per realization."""
        if self.distribution == "beta":
            return rng.beta(self.alpha, self.beta, n)
        return self.low + (self.high - self.low) * rng.random(n)


class Exposure(Model):
    """The people who use land of one class, and how deep their work reaches."""

    people: NonNegativeFloat | None = Field(
        None, description="people who use land of this class in the study area; with risk.population: from it instead")
    days_per_year: float = Field(100.0, ge=0.0, le=366.0, description="activity days per person and year (assumption)")
    disturbed_m2_per_person_day: NonNegativeFloat = Field(
        0.1, description="ground a person strikes blind (digs, hoes, burns where an unseen item could be hit) per "
        "activity day, m2 (assumption, of the order Lebanon 2006-08 casualties imply; see docs/validation.md (section 6))"
    )
    disturbance_depth_m: NonNegativeFloat = Field(
        0.0, le=10.0, description="depth the activity reaches, m (0: the surface only; ploughing about 0.2, assumption)"
    )
    children_share: Share = Field(
        0.3, description="share of the person-days by children (assumption; 71 % of remnant casualties are "
        "children, Cluster Munition Monitor 2023, so children's contact counts for more than their number)"
    )
    compliance: Share = Field(
        0.0, description="share of activity kept out of land known to be hazardous (marked, not yet released); "
        "assumption"
    )
    surface_share: Share | None = Field(
        None, description="share of items at the surface here; default: risk.surface_share")


class Population(Model):
    """People per place: a raster of people per pixel, or a vector layer of polygons or points with a people field."""

    path: ScenarioPath = Field(description="raster GDAL reads (people per pixel; e.g. WorldPop counts), or vector file")
    field: str | None = Field(None, description="vector layer: the field holding each feature's people; raster: omit")
    layer: str | None = Field(None, description="vector file: layer to read; default: the only layer")


class QualityAssurance(Model):
    """Accept-on-zero compliance sampling of released land, per lot (see docs/model.md 4)."""

    confidence: float = Field(0.95, gt=0.0, lt=1.0, description="Y: confidence that the lot meets the clean share")
    clean_share: float = Field(0.99, gt=0.0, lt=1.0, description="X: share of sampling units that must be clean")
    sampling_unit_m: PositiveFloat | None = Field(
        None, description="side of a square sampling unit (m); default: the grid cell")


class Risk(Model):
    """Risk to people from the remnants: exposure per land-use class, contact and its consequences."""

    classes: dict[str, Exposure] = Field(description="land-use class key -> exposure; classes not listed: nobody goes")
    population: Population | None = Field(
        None, description="people per cell from a data file, summed per land-use class instead of each class's people"
    )
    detonation_probability: DetonationProbability = Field(
        DetonationProbability(), description="P(detonation | contact) per realization (MacDonald et al. 2008)"
    )
    casualties_per_detonation: PositiveFloat = Field(
        1.3, description="people killed or injured per detonation (assumption)")
    surface_share: Share = Field(
        0.5, description="share of items lying at the surface; the rest is buried (assumption)")
    burial_depth_m: PositiveFloat = Field(
        0.3, le=10.0, description="buried items lie uniformly between the surface and this depth, m (assumption)"
    )
    map_date: date | None = Field(None, description="date of the risk map; default: clearance.start, else time.end")
    compare_policies: bool = Field(True, description="with clearance: compare every work-order policy (policies.csv)")
    qa: QualityAssurance = Field(QualityAssurance(), description="quality-assurance sampling of released land")

    @model_validator(mode="after")
    def _people_given(self) -> Risk:
        for key, e in self.classes.items():
            if e.people is None and self.population is None:
                raise LocatedError(("classes", key, "people"), None,
                                   "give the people who use this class's land, or risk.population (people per cell)",
                                   problem="is missing;")
        return self

    def check_classes(self, known: dict) -> None:
        """LocatedError (relative to the scenario) unless every exposure class is a land-use class."""
        for key in self.classes:
            if key not in known:
                raise LocatedError(("risk", "classes", key), None, f"use a land-use class: {', '.join(known)}",
                                   problem="is not a land-use class;")

    def contact_probability(self, class_keys: tuple[str, ...], class_area_m2: np.ndarray,
                            class_people: np.ndarray | None = None) -> np.ndarray:
        """Per class, the yearly probability that an item is contacted:
        ``min(1, people x days x m2 per person-day / class area) x share of items within reach``;
        people from ``class_people`` (per class, from ``population``) when given, else each class's ``people``."""
        q = np.zeros(len(class_keys))
        for c, key in enumerate(class_keys):
            e = self.classes.get(key)
            if e is None or class_area_m2[c] <= 0:
                continue
            people = e.people if class_people is None else class_people[c]
            disturbed = min(1.0, people * e.days_per_year * e.disturbed_m2_per_person_day / class_area_m2[c])
            surface = self.surface_share if e.surface_share is None else e.surface_share
            reach = surface + (1.0 - surface) * min(1.0, e.disturbance_depth_m / self.burial_depth_m)
            q[c] = disturbed * reach
        return q

    def per_class(self, class_keys: tuple[str, ...], name: str) -> np.ndarray:
        """An exposure field per class (0 for classes nobody uses)."""
        return np.array([getattr(self.classes[k], name) if k in self.classes else 0.0 for k in class_keys])
