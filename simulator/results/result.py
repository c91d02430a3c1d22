"""The result of a run: the ensemble over the prepared scenario, and what derives from it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property, partial

import geopandas as gpd
import numpy as np
import pandas as pd

from simulator.engine.ensemble import Ensemble
from simulator.engine.layout import SCORED, TILE_CELLS, root_key
from simulator.engine.prepare import Setup
from simulator.engine.scatter import scatter
from simulator.engine.tiles import strike_reach_m
from simulator.kernels import strike_table as T
from simulator.release.cmrs import CmrsSurvey
from simulator.release.land_release import NO_DISC, LandRelease
from simulator.release.zone_items import Extra, items_per_zone, zone_digest
from simulator.results.cmrs_tables import cmrs_summary
from simulator.results.evidence import EvidenceOutcome
from simulator.results.polygons import hazard_polygons, item_zones, polygon_ids
from simulator.results.precision import precision_note
from simulator.results.release_tables import completion_table, land_release_table, release_summary
from simulator.results.risk import RiskOverTime, UnitStates, risk_summary
from simulator.results.tables import M2_PER_HA, hazardous_area_table, summary

FOOTPRINT_SD = 3.0
"""A strike contributes to a polygon its footprint (pattern, stick and delivery errors to this many
standard deviations) comes within the reference distance of."""


@dataclass
class Result:
    """Rasters (arrays of ``grid.shape``), hazard polygons and tables of one run."""

    setup: Setup
    ensemble: Ensemble
    timings_s: dict[str, float] = field(default_factory=dict)
    land_release: LandRelease | None = None
    evidence: EvidenceOutcome | None = None
    cmrs: CmrsSurvey | None = None

    @property
    def grid(self):
        return self.setup.grid

    @cached_property
    def mean_count(self) -> np.ndarray:
        """Expected remnants per cell at the end of the time axis."""
        return self.ensemble.mean_count().reshape(self.grid.shape).astype(np.float32)

    @cached_property
    def density_per_ha(self) -> np.ndarray:
        """Expected remnants per hectare."""
        return self.mean_count * np.float32(M2_PER_HA / self.grid.cell_area_m2)

    @cached_property
    def p_contaminated(self) -> np.ndarray:
        """Probability that a cell is contaminated (within the reference distance of a remnant) at the
        end of the time axis (float64: exactly what ``p_contaminated.tif`` holds)."""
        return self.ensemble.p_after(-1).reshape(self.grid.shape)

    @property
    def draw(self):
        """The scatter call of this run's realizations (the posterior's, on the whole grid, with evidence)."""
        return scatter if self.evidence is None else self.evidence.posterior.draw

    @property
    def tile_cells(self) -> int:
        """Tile side (cells) for ``draw``: the posterior draws the whole grid in one window."""
        return TILE_CELLS if self.evidence is None else max(self.grid.nx, self.grid.ny)

    @cached_property
    def hazard_areas(self) -> gpd.GeoDataFrame:
        """CHA polygons (``simulator.results.polygons``) where ``p_contaminated`` reaches the threshold."""
        setup, hazard = self.setup, self.setup.scenario.hazard
        kernel = setup.kernel
        reach = np.empty(len(kernel.ti))
        reach[kernel.ti[:, T.STREAM]] = strike_reach_m(kernel.f, kernel.ti, FOOTPRINT_SD)
        strikes = (setup.strikes.id, setup.strikes.x, setup.strikes.y, reach)
        return hazard_polygons(
            self.grid, self.p_contaminated, self.mean_count, setup.landuse_codes, setup.class_keys, hazard.threshold,
            hazard.reference_distance_m, hazard.min_area_m2, strikes, self._items_per_zone,
        )

    def _items_per_zone(self, zone: np.ndarray, n_zones: int) -> np.ndarray:
        """Remnants per realization in each zone of ``zone`` (per cell), over realizations drawn
        independently of the hazard map's (the scored ones, the posterior's with evidence), as many as the map has:
        those the land-release pass counted for this map in the same draws (``polygon_extra``), else scattered again."""
        n = self.ensemble.realizations
        counts = None if self.land_release is None else self.land_release.zone_counts
        if (counts is not None and len(counts.items) >= n and self.land_release.draw == self.draw
                and counts.digest == zone_digest(zone, n_zones)):
            return counts.items[:n]
        seed = self.setup.scenario.simulation.seed
        inputs = replace(self.setup.kernel, zone=zone, n_zones=n_zones, disc=NO_DISC, key=root_key(seed, SCORED))
        return items_per_zone(inputs, n, batch_size=self.setup.scenario.simulation.batch_size,
                              tile_cells=self.tile_cells, draw=self.draw)

    @cached_property
    def hazardous_area(self) -> pd.DataFrame:
        """Per reporting step and class: contaminated (bands) and hazardous area (ha), remnants."""
        return hazardous_area_table(self.setup, self.ensemble)

    @cached_property
    def land_release_table(self) -> pd.DataFrame | None:
        """Per step and class: remaining and released area by route, items found and left (bands)."""
        return None if self.land_release is None else land_release_table(self.setup, self.land_release)

    @cached_property
    def completion(self) -> pd.DataFrame | None:
        """Per reporting date: the share of realizations with all hazardous land released."""
        return None if self.land_release is None else completion_table(self.setup, self.land_release)

    @cached_property
    def area_by_class(self) -> pd.DataFrame:
        """Per land-use class at the end of the time axis: class area, contaminated (bands), SHA and CHA hectares."""
        table = self.hazardous_area
        final = table[(table["step"] == table["step"].max()) & table["class"].isin(self.setup.class_keys)]
        classes = self.setup.scenario.land_use.classes
        cells = self.setup.class_cells
        return pd.DataFrame({
            "class": final["class"].to_numpy(),
            "name": [classes[k].name for k in final["class"]],
            "area_ha": cells * self.grid.cell_area_m2 / M2_PER_HA,
            "contaminated_ha_p5": final["contaminated_ha_p5"].to_numpy(),
            "contaminated_ha_p50": final["contaminated_ha_p50"].to_numpy(),
            "contaminated_ha_p95": final["contaminated_ha_p95"].to_numpy(),
            "suspected_ha": final["suspected_ha"].to_numpy(),
            "hazardous_ha": final["hazardous_ha"].to_numpy(),
            "expected_remnants": final["remnants_mean"].to_numpy(),
        })

    @cached_property
    def risk(self) -> RiskOverTime | None:
        """Expected detonations and casualties per realization, step and class (None without a [risk] table)."""
        if self.setup.scenario.risk is None:
            return None
        if self.land_release is None:
            return RiskOverTime.of(self.setup, self.ensemble, None)
        per_unit = partial(UnitStates.of, self.setup, self.land_release,
                           tile_cells=self.tile_cells)  # for the risk map and QA per work unit
        return RiskOverTime.of(self.setup, self.ensemble, self.land_release.state, per_unit)

    @cached_property
    def summary(self) -> dict:
        """Headline figures (JSON-ready)."""
        figures = summary(self.setup, self.ensemble, self.hazardous_area)
        if self.land_release is not None:
            figures["land_release"] = release_summary(self.setup, self.land_release)
        if self.cmrs is not None:
            figures["cmrs"] = cmrs_summary(self.cmrs)
        if self.risk is not None:
            figures["risk"] = risk_summary(self.setup, self.risk)
        if self.evidence is not None:
            figures |= self.evidence.errors(self.ensemble)  # posterior realizations are not independent
            final = None if self.land_release is None else self.land_release.final
            figures["evidence"] = self.evidence.summary(figures, self.ensemble, final)
        target = self.setup.scenario.simulation.target
        if target is not None:
            figures["precision"] = {"target": target.model_dump(exclude_none=True)} | precision_note(target, figures)
        return figures


def polygon_extra(setup: Setup, ensemble: Ensemble) -> Extra:
    """The zone map whose remnants per realization ``Result.hazard_areas`` reads (its CHA polygons, from
    ``ensemble``), for the land-release pass to count in the same draws."""
    hazard = setup.scenario.hazard
    p = ensemble.p_after(-1).reshape(setup.grid.shape)  # as Result.p_contaminated
    ids, n = polygon_ids(setup.grid, p, setup.landuse_codes, len(setup.class_keys), hazard.threshold,
                         hazard.reference_distance_m, hazard.min_area_m2)
    return Extra(item_zones(ids, n), n + 1)
