"""The clearance part of a scenario: survey and clearance capacity, productivity, policy.

Defaults are labelled assumptions; the public reference figures are in
``docs/model.md`` (about 41 ha per team per year in Lao PDR; UXO Lao's 106 m2 per
clearer per day and US$0.18-0.25 per m2).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, NonNegativeFloat, PositiveFloat, field_validator, model_validator

from simulator.config.base import Model
from simulator.config.cmrs import Cmrs
from simulator.errors import LocatedError

METHODS = ("nts", "ts", "bac")
"""Non-technical survey, technical survey, battle area clearance."""

Method = Literal["nts", "ts", "bac"]


class MultiRoleTeams(Model):
    """Teams that each do several methods: every step they work for the first unit, in work
    order, that waits for one of their roles (docs/model.md, "Teams with several roles")."""

    roles: list[Method] = Field(min_length=1, description="methods each team does: nts, ts, bac")
    count: NonNegativeFloat = Field(description="number of such teams")

    @field_validator("roles")
    @classmethod
    def _distinct(cls, roles: list[str]) -> list[str]:
        if len(set(roles)) != len(roles):
            raise LocatedError((), roles, "name each role once", problem="repeats a role;")
        return roles


class Teams(Model):
    """Teams working per method, and teams that do several methods."""

    nts: NonNegativeFloat = Field(0.0, description="non-technical survey teams")
    ts: NonNegativeFloat = Field(0.0, description="technical survey teams")
    bac: NonNegativeFloat = Field(0.0, description="battle area clearance teams")
    multi_role: list[MultiRoleTeams] = Field(
        default_factory=list,
        description='teams doing several methods, e.g. [{ roles = ["nts", "ts", "bac"], count = 2 }]',
    )

    def by_roles(self) -> dict[tuple[str, ...], float]:
        """Number of teams per set of roles (roles in ``METHODS`` order); single-role teams included."""
        crews = {(m,): getattr(self, m) for m in METHODS}
        for group in self.multi_role:
            roles = tuple(m for m in METHODS if m in group.roles)
            crews[roles] = crews.get(roles, 0.0) + group.count
        return crews

    def can(self, method: str) -> bool:
        """Whether any team does ``method``."""
        return any(n > 0 and method in roles for roles, n in self.by_roles().items())


class TeamChange(Model):
    """From ``date`` on, this many teams work."""

    date: date
    teams: Teams


class Productivity(Model):
    """Area one team processes in one working day (m2)."""

    nts: PositiveFloat | None = Field(None, description="m2 per team-day of non-technical survey")
    ts: PositiveFloat | None = Field(None, description="m2 per team-day of technical survey (area searched)")
    bac: PositiveFloat | None = Field(None, description="m2 per team-day of battle area clearance")


class CostPerM2(Model):
    """Cost of processing one square metre, in the scenario's currency (US$ by default)."""

    nts: NonNegativeFloat = Field(0.002, description="assumption")
    ts: NonNegativeFloat = Field(0.10, description="assumption")
    bac: NonNegativeFloat = Field(0.22, description="UXO Lao US$0.18-0.25 per m2 (press 2011, secondary)")


DEFAULT_PRODUCTIVITY = Productivity(nts=100_000.0, ts=2_500.0, bac=1_000.0)
"""Assumptions: BAC about 1,000 m2 per team-day (UXO Lao site example: about 106 m2 per
clearer per day, teams of about 9-10; Lao national teams about 41 ha per team-year);
TS and NTS set well above BAC, as survey searches less intensively."""


POLICY_NAMES = (
    "land-use-priority", "item-density", "items-per-cost", "distance-to-residential", "risk-per-cost",
)
"""The work-order policies a scenario may name; ``simulator.release.policies.POLICIES`` holds one
function for each."""


class Clearance(Model):
    """Land release: non-technical survey, technical survey and clearance of work units."""

    start: date = Field(description="date survey and clearance begin")
    deadline: date | None = Field(None, description="Article 4 style deadline to release all hazardous land")
    policy: str = Field("land-use-priority", description="work order; see docs/model.md for the registry")
    near_class: str | None = Field(None, description="policy distance-to-residential: the class to be near")
    work_unit_m: PositiveFloat = Field(100.0, description="side of the square blocks work units are cut into (m)")
    ts_sample_fraction: float = Field(0.2, ge=0.0, le=1.0, description="share of a unit's confirmed area technical survey searches")
    ts_max_expected_items: NonNegativeFloat = Field(
        1.0, description="units the hazard map expects at most this many items in get technical survey first; others go straight to clearance"
    )
    nts_evidence_probability: float = Field(
        0.3, ge=0.0, le=1.0,
        description="probability non-technical survey sees evidence of an item (assumption); evidence stops cancellation",
    )
    detection_probability: float = Field(0.95, ge=0.0, le=1.0, description="probability a search finds an item (assumption)")
    productivity_spread: float = Field(
        0.2, ge=0.0, le=2.0,
        description="uncertainty of the productivity figures: in each realization every team's productivity is "
        "scaled by one lognormal factor of mean 1 and this log-scale standard deviation (assumption: about 20 %; "
        "0 makes productivity certain)",
    )
    working_days_per_year: PositiveFloat = Field(220.0, le=366.0, description="working days per team and year (assumption)")
    teams: Teams = Field(description="teams working from start")
    team_changes: list[TeamChange] = Field(default_factory=list, description="later changes in teams")
    productivity_m2_per_team_day: Productivity = Field(DEFAULT_PRODUCTIVITY, description="per method")
    productivity_by_class: dict[str, Productivity] = Field(
        default_factory=dict, description="per land-use class overrides, e.g. slower clearance in forest"
    )
    cost_per_m2: CostPerM2 = CostPerM2()
    cmrs: Cmrs | None = Field(None, description="cluster munition remnant survey of each scored realization (docs/model.md)")

    @model_validator(mode="after")
    def _ordered(self) -> Clearance:
        previous = self.start
        for i, change in enumerate(self.team_changes):
            if change.date < previous:
                after = f"clearance.start {self.start}" if i == 0 else f"team_changes[{i - 1}] on {previous}"
                raise LocatedError(("team_changes", i, "date"), change.date,
                                   f"list team changes in date order, each on or after {after}",
                                   problem=f"is before {after};")
            previous = change.date
        if self.deadline is not None and self.deadline <= self.start:
            raise LocatedError(("deadline",), self.deadline, f"set it after clearance.start {self.start}",
                               problem="is not after the start of clearance;")
        return self

    def productivity(self, class_key: str, method: str) -> float:
        """m2 per team-day of ``method`` in ``class_key``."""
        override = self.productivity_by_class.get(class_key)
        value = getattr(override, method) if override is not None else None
        if value is None:
            value = getattr(self.productivity_m2_per_team_day, method)
        return value if value is not None else getattr(DEFAULT_PRODUCTIVITY, method)

    def plan_gaps(self, until: date) -> list[tuple[str, str]]:
        """Why this plan can never finish by ``until`` (problem, fix), whatever the hazard map:
        a method the model needs that no team does, or no team at all after a change."""
        teams = [self.teams] + [c.teams for c in self.team_changes if c.date <= until]
        can = {m: any(t.can(m) for t in teams) for m in METHODS}
        gaps = []
        roles = 'give teams several roles, e.g. teams = { multi_role = [{ roles = ["nts", "ts", "bac"], count = 3 }] }'
        if not can["nts"]:
            gaps.append(("no team does non-technical survey (nts), and every work unit starts with it, "
                         "so no land is ever released", f"add nts teams to clearance.teams, or {roles}"))
        if not can["ts"] and self.ts_sample_fraction > 0:
            gaps.append(("no team does technical survey (ts): units the hazard map expects at most "
                         f"ts_max_expected_items = {self.ts_max_expected_items:g} items in wait for it forever",
                         f"add ts teams, {roles}, or set clearance.ts_sample_fraction = 0 to clear them instead"))
        if not can["bac"]:
            gaps.append(("no team does battle area clearance (bac): confirmed land with items in it is never cleared",
                         f"add bac teams to clearance.teams, or {roles}"))
        last = self.team_changes[-1] if self.team_changes else None
        if last is not None and last.date <= until and not any(n > 0 for n in last.teams.by_roles().values()):
            gaps.append((f"from {last.date} no team works (team_changes), so land not released by then stays hazardous",
                         "give that team change teams, or remove it"))
        return gaps

    def teams_on(self, day: date) -> Teams:
        """The teams working on ``day``."""
        current = self.teams
        for change in self.team_changes:
            if change.date <= day:
                current = change.teams
        return current
