"""Strike records: the schema of a file of strikes, and of the settings applied to its rows."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from simulator.config.base import Model, ScenarioPath
from simulator.errors import LocatedError


class RecordOverride(Model):
    """A setting applied to every matching strike record as the file is read: what ``--set`` and
    studies write for a ``strikes[...]`` path when the strikes come from a file."""

    path: str = Field(description="key path of the strikes to change, e.g. strikes[id=R1].carriers or "
                      "strikes[*].dud_rate.mean")
    value: Any = Field(description="the new value, or the factor when scale is true")
    scale: bool = Field(False, description="multiply each matching record's value by value")
    adjust: bool = Field(False, description="round values set on whole numbers and cap a dud-rate spread the new "
                         "mean makes infeasible, as sweeps do")


class StrikeRecords(Model):
    """A file of strike records, one row per strike (see docs/scenario-reference.md for its columns)."""

    path: ScenarioPath = Field(
        description="CSV (.csv or .csv.gz) or vector file with columns date, profile, carriers, x and y "
        "(or easting and northing; or lon and lat, also long, lng, longitude, latitude; or point geometries); optional id, "
        "azimuth_deg, dud_mean, dud_spread, function_altitude_m. Names ignore case; other columns are ignored with a "
        "warning, misspelt ones refused; every row is checked as a [[strikes]] table"
    )
    layer: str | None = Field(None, description="layer of a vector file")
    crs: str | None = Field(None, description="CRS of the x and y columns; default: the file's, else the study area's")
    date_format: str | None = Field(
        None, description="strptime format of the date column, e.g. '%m/%d/%Y' for 4/16/1999; default: YYYY-MM-DD"
    )
    overrides: list[RecordOverride] = Field(
        default_factory=list, description="settings applied in order to the rows as they are read, before each row "
        "is checked (written by --set and studies for strikes[...] paths)"
    )

    @field_validator("date_format")
    @classmethod
    def _a_format(cls, value):
        if value is not None and not any(code in value for code in ("%Y", "%y")):
            raise LocatedError((), value, "give a strptime format with a year, e.g. '%d/%m/%Y' or '%m/%d/%Y'",
                               problem="has no year (%Y or %y);")
        return value
