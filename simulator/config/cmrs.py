"""Cluster munition remnant survey (CMRS): the ``[clearance.cmrs]`` table.

Non-technical survey (NTS) records evidence points where it sees items; technical survey then
searches square boxes outward from each evidence point until a run of empty boxes (the
fade-out), and the confirmed hazardous area (CHA) is what that search bounds (docs/model.md,
"Cluster munition remnant survey (CMRS)"). Box size and fade-out are set by national standards
and no public number was found (NPA; HALO/MAG/NPA best practice for CMRS in South-East Asia,
2019): the defaults are labelled assumptions.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PositiveFloat

from simulator.config.base import Count, Model
from simulator.errors import LocatedError

DEFAULT_BOX_M = 50.0
"""Assumption: the 50 m CMRS box (the demo's reference distance is one such box around each item)."""
DEFAULT_FADE_OUT_BOXES = 2
"""Assumption: search stops two empty boxes beyond the last box that held a find, in every direction."""
DEFAULT_NTS_DETECTION = 0.3
"""Assumption: the share of items NTS sees (on the surface and reported) and records as evidence points."""
DEFAULT_POD_TS = 0.6
"""Field trials: about 70 % for new operators, 50-65 % for experienced deminers (ITEP, Journal of Mine Action 8.2)."""
DEFAULT_POD_BAC = 0.95
"""Assumption, as ``clearance.detection_probability``'s default."""
BOX_CELL_TOLERANCE = 1e-6
"""How far (in cells) ``box_m`` may be from a whole number of grid cells."""

Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class SearchPod(Model):
    """Probability that searching a box finds an item in it, per search method."""

    ts: float = Field(DEFAULT_POD_TS, ge=0.0, le=1.0, description="technical survey (ITEP field trials: 0.5-0.7)")
    bac: float = Field(DEFAULT_POD_BAC, ge=0.0, le=1.0, description="battle area clearance (assumption)")


class SearchPodOverride(Model):
    """Per land-use class overrides of ``SearchPod`` (unset: the scenario-wide value)."""

    ts: float | None = Field(None, ge=0.0, le=1.0, description="technical survey")
    bac: float | None = Field(None, ge=0.0, le=1.0, description="battle area clearance")


class Cmrs(Model):
    """Evidence-based survey of each scored realization: NTS evidence points, then boxes searched
    outward from each until ``fade_out_boxes`` empty boxes in every direction; the CHA is the
    boxes that held a find, with the gaps between them in a row or column filled."""

    box_m: PositiveFloat = Field(
        DEFAULT_BOX_M, description="side of a survey box (m), a whole number of grid cells (assumption: 50 m)"
    )
    fade_out_boxes: Count = Field(
        DEFAULT_FADE_OUT_BOXES,
        description="empty boxes searched beyond the last box with a find, in every direction (assumption: 2)",
    )
    method: Literal["ts", "bac"] = Field("ts", description="how boxes are searched: ts (technical survey) or bac")
    nts_detection: float = Field(
        DEFAULT_NTS_DETECTION, ge=0.0, le=1.0,
        description="probability NTS sees an item and records an evidence point (assumption: 0.3)",
    )
    nts_detection_by_class: dict[str, Probability] = Field(
        default_factory=dict, description="per land-use class overrides of nts_detection, e.g. { forest = 0.1 }"
    )
    pod: SearchPod = Field(SearchPod(), description="probability a box search finds an item, per method")
    pod_by_class: dict[str, SearchPodOverride] = Field(
        default_factory=dict, description="per land-use class overrides of pod, e.g. { forest = { ts = 0.5 } }"
    )

    def check(self, classes: dict, cell_size_m: float) -> None:
        """Raise ``LocatedError`` (located from the scenario's root) for a class that is not a land-use
        class or a box that is not a whole number of grid cells."""
        known = ", ".join(classes)
        for field in ("nts_detection_by_class", "pod_by_class"):
            for key in getattr(self, field):
                if key not in classes:
                    raise LocatedError(("clearance", "cmrs", field, key), None, f"use a land-use class: {known}",
                                       problem="is not a land-use class;")
        cells = self.box_m / cell_size_m
        if abs(cells - round(cells)) > BOX_CELL_TOLERANCE or round(cells) < 1:
            fit = max(1, round(cells)) * cell_size_m
            raise LocatedError(("clearance", "cmrs", "box_m"), self.box_m,
                               f"use a whole number of study_area.cell_size_m = {cell_size_m:g} m, e.g. {fit:g}",
                               problem="is not a whole number of grid cells;")

    def box_cells(self, cell_size_m: float) -> int:
        """Grid cells along a box side."""
        return max(1, round(self.box_m / cell_size_m))

    def per_class(self, class_keys: tuple[str, ...]) -> tuple[list[float], list[float]]:
        """Per class (in ``class_keys`` order): NTS detection probability and POD of the search method."""
        nts = [float(self.nts_detection_by_class.get(k, self.nts_detection)) for k in class_keys]
        pod = []
        for k in class_keys:
            override = self.pod_by_class.get(k)
            value = getattr(override, self.method) if override is not None else None
            pod.append(float(getattr(self.pod, self.method) if value is None else value))
        return nts, pod
