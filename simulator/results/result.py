"""The result of a run: the ensemble over the prepared scenario, and what derives from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd

from simulator.engine.ensemble import Ensemble
from simulator.results.polygons import hazard_polygons
from simulator.release.land_release import LandRelease
from simulator.results.release_tables import completion_table, land_release_table, release_summary
from simulator.results.risk import RiskOverTime, risk_summary
from simulator.inputs.prepare import Setup
from simulator.results.tables import M2_PER_HA, hazardous_area_table, summary


@dataclass
class Result:
    """Rasters (arrays of ``grid.shape``), hazard polygons and tables of one run."""

    setup: Setup
    ensemble: Ensemble
    timings_s: dict[str, float] = field(default_factory=dict)
    land_release: LandRelease | None = None

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
        """Probability of at least one remnant per cell at the end of the time axis."""
        return self.ensemble.p_after(-1).reshape(self.grid.shape)

    @cached_property
    def hazard_areas(self) -> gpd.GeoDataFrame:
        """CHA-like polygons where ``p_contaminated`` reaches the scenario's threshold."""
        return hazard_polygons(
            self.grid, self.p_contaminated, self.mean_count, self.setup.landuse_codes, self.setup.class_keys,
            self.setup.scenario.hazard.threshold, self.setup.scenario.hazard.fade_out_m,
        )

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
        """Per land-use class at the end of the time axis: class area, contaminated (P50) and hazardous hectares."""
        final = self.hazardous_area[self.hazardous_area["step"] == self.hazardous_area["step"].max()]
        classes = self.setup.scenario.land_use.classes
        cells = np.bincount(self.setup.landuse_codes.ravel(), minlength=len(self.setup.class_keys))
        return pd.DataFrame({
            "class": final["class"].to_numpy(),
            "name": [classes[k].name for k in final["class"]],
            "area_ha": cells * self.grid.cell_area_m2 / M2_PER_HA,
            "contaminated_ha_p5": final["contaminated_ha_p5"].to_numpy(),
            "contaminated_ha_p50": final["contaminated_ha_p50"].to_numpy(),
            "contaminated_ha_p95": final["contaminated_ha_p95"].to_numpy(),
            "hazardous_ha": final["hazardous_ha"].to_numpy(),
            "expected_remnants": final["remnants_mean"].to_numpy(),
        })

    @cached_property
    def risk(self) -> RiskOverTime | None:
        """Expected detonations and casualties per realization, step and class (None without a [risk] table)."""
        state = None if self.land_release is None else self.land_release.state
        return None if self.setup.scenario.risk is None else RiskOverTime.of(self.setup, self.ensemble, state)

    @cached_property
    def summary(self) -> dict:
        """Headline figures (JSON-ready)."""
        figures = summary(self.setup, self.ensemble, self.hazardous_area)
        if self.land_release is not None:
            figures["land_release"] = release_summary(self.setup, self.land_release)
        if self.risk is not None:
            figures["risk"] = risk_summary(self.setup, self.risk)
        return figures
