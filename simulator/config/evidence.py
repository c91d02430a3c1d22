"""The ``[evidence]`` table: survey finds, searched and cleared land, and witness strike reports.

Each kind is a list of files; each file maps the columns it has to the names read here
(``columns``), and gives defaults for what its rows leave out. Distances are in metres,
probabilities in [0, 1]. How the evidence weighs the realizations is in docs/model.md,
"Evidence and the posterior".
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field, PositiveFloat, ValidationInfo, field_validator

from simulator.config.base import Model, PositiveCount
from simulator.errors import LocatedError

Probability = Annotated[float, Field(ge=0.0, le=1.0)]


def _relative(path: Path, info: ValidationInfo) -> Path:
    """``path`` relative to the scenario file (as every scenario path is)."""
    if "\x00" in str(path):
        raise ValueError("a path cannot hold a NUL character; give a file path")
    base = (info.context or {}).get("base_dir")
    return path if path.is_absolute() or base is None else Path(base) / path


EvidencePath = Annotated[Path, AfterValidator(_relative)]

POSITION = ("x", "y", "lon", "lat")
"""Point columns every point file may have: x/y in the file's CRS, or lon/lat (WGS 84)."""


class EvidenceFile(Model):
    """One file of evidence, read like strike records (CSV with x/y or lon/lat, or a vector file)."""

    COLUMNS: ClassVar[tuple[str, ...]] = ()

    path: EvidencePath = Field(description="CSV (.csv) or vector file (GeoPackage, GeoJSON, Shapefile)")
    layer: str | None = Field(None, description="layer of a vector file")
    crs: str | None = Field(None, description="CRS of x and y; default: the file's, else the study area's")
    date_format: str | None = Field(None, description="strptime format of the date column; default: YYYY-MM-DD")
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="the file's column for each name read here, e.g. { date = 'found_on', count = 'n' }; "
        "default: the name itself (any case)",
    )

    @field_validator("columns")
    @classmethod
    def _known(cls, columns: dict[str, str]) -> dict[str, str]:
        for key in columns:
            if key not in cls.COLUMNS:
                raise LocatedError((key,), None, f"map one of: {', '.join(cls.COLUMNS)}",
                                   problem="is not a column this evidence has;")
        return columns


class Finds(EvidenceFile):
    """Points where items were found (non-technical survey, community reports); each is removed
    from the ground from its date."""

    COLUMNS: ClassVar[tuple[str, ...]] = (*POSITION, "date", "count", "item_type", "position_error_m")

    position_error_m: PositiveFloat = Field(
        10.0, le=10_000.0, description="standard deviation (m) of a find's recorded position about the item's "
        "(assumption: handheld GPS and sketch maps); a position_error_m column overrides it per row",
    )
    detection_probability: Probability = Field(
        0.05, description="probability that survey reported any one item of the study area up to the find dates "
        "(assumption; sets how much the number of finds weighs)",
    )


class Searched(EvidenceFile):
    """Land searched: polygons, or tracks (lines) searched a swath wide, with what was found there."""

    COLUMNS: ClassVar[tuple[str, ...]] = ("date", "method", "pod", "found", "swath_m")

    pod: Probability = Field(
        0.6, description="probability of detection of an item in the searched land (assumption: field trials "
        "report 0.5-0.7 for deminers, ITEP, Journal of Mine Action 8.2); a pod column overrides it per row",
    )
    swath_m: PositiveFloat = Field(2.0, le=1_000.0, description="width (m) a track is searched over (assumption)")


class Cleared(EvidenceFile):
    """Land cleared, with the items removed; nothing is left in it from its date (assumption)."""

    COLUMNS: ClassVar[tuple[str, ...]] = ("date", "found")

    pod: Probability = Field(0.95, description="probability clearance found each item it removed (assumption)")


class StrikeReports(EvidenceFile):
    """Witness accounts of where a strike fell: points with a position uncertainty."""

    COLUMNS: ClassVar[tuple[str, ...]] = (*POSITION, "date", "profile", "position_error_m")

    position_error_m: PositiveFloat = Field(
        300.0, le=100_000.0, description="standard deviation (m) of a report's position about the strike's aim "
        "point (assumption); a position_error_m column overrides it per row",
    )


class Evidence(Model):
    """What survey and witnesses found: it weighs the realizations (docs/model.md)."""

    finds: list[Finds] = Field(default_factory=list, description="files of finds")
    searched: list[Searched] = Field(default_factory=list, description="files of searched land")
    cleared: list[Cleared] = Field(default_factory=list, description="files of cleared land")
    strike_reports: list[StrikeReports] = Field(default_factory=list, description="files of strike reports")
    particles: Literal[32, 64, 160, 320] = Field(
        64, description="particles of each independent resample-move block (32 times a divisor of 10, so that a "
        "block is whole jackknife groups); the spread between blocks gives the posterior's Monte Carlo errors",
    )
    moves: int = Field(
        2, ge=0, le=100, description="Metropolis-Hastings sweeps over the strikes after each resampling (each sweep "
        "moves every strike's aim point, carrier errors and dud rates, then redraws its other draws)",
    )
    ess_fraction: float = Field(
        0.5, gt=0.0, lt=1.0, description="each tempering step raises the likelihood's power as far as keeps the "
        "effective sample size of its weights at this share of the particles",
    )
    max_stages: PositiveCount = Field(
        200, le=10_000, description="tempering steps at most; the last one goes to the posterior at once (the "
        "summary then says so)",
    )
    target_ess: PositiveCount = Field(
        100, le=1_000_000, description="independent posterior draws wanted (effective, from the batch means of the "
        "items left); the summary says when the run has fewer",
    )
    background_items_per_km2: float = Field(
        1.0, gt=0.0, description="items per km2 no recorded strike accounts for, which a find may be "
        "(assumption; keeps a find far from every modelled item from ruling realizations out)",
    )
    unrecorded_strike_share: Probability = Field(
        0.1, description="probability that a strike report is of no recorded strike (assumption)",
    )

    def files(self) -> list[Path]:
        """Every evidence file, in the order above."""
        return [f.path for group in (self.finds, self.searched, self.cleared, self.strike_reports) for f in group]
